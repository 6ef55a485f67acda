/**
 * Symbolic dimension algebra for the shape checker.
 *
 * A `Dim` is an immutable, normalized Laurent polynomial with exact rational
 * coefficients (bigint numerator/denominator, so nothing ever rounds). Its
 * "variables" are named symbols (`T`, `d`, `heads`) and opaque atoms for what
 * cannot be normalized: `floor(a/b)`, `a % b`, and `1/(p)` for division by a
 * polynomial that is not a monomial (printed as `x/(T + 1)`).
 *
 * `/` is exact division: dividing by a monomial multiplies by the symbols with
 * negative exponents, so `heads * (d / heads)` is `d`. Normal forms are
 * canonical for polynomials; opaque atoms compare by their normalized operands
 * (so `floor((T - 1)/2) + 1` and `floor((T + 1)/2)` are not known to be equal).
 * Symbols stand for integers; a divisor that is the constant 0 throws RangeError.
 */

// ---------- exact rationals ----------

/** n/d with d > 0 and gcd(|n|, d) = 1. */
type Q = { readonly n: bigint; readonly d: bigint };

const abs = (x: bigint): bigint => (x < 0n ? -x : x);
const I64_MAX = (1n << 63n) - 1n;
const qStr = (a: Q): string => (a.d === 1n ? `${a.n}` : `${a.n}/${a.d}`);

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? abs(a) : gcd(b, a % b));
function q(n: bigint, d = 1n): Q {
  if (d === 0n) throw new RangeError('dim division by zero');
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d);
  return { n: n / g, d: d / g };
}
const qAdd = (a: Q, b: Q): Q => q(a.n * b.d + b.n * a.d, a.d * b.d);
const qMul = (a: Q, b: Q): Q => q(a.n * b.n, a.d * b.d);
const qDiv = (a: Q, b: Q): Q => q(a.n * b.d, a.d * b.n);
const qTrunc = (a: Q): bigint => a.n / a.d; // bigint division truncates
const qFloor = (a: Q): bigint => qTrunc(a) - (a.n < 0n && a.n % a.d !== 0n ? 1n : 0n);

// ---------- representation ----------

/** An opaque atom: floor(a/b), a % b (C semantics), or 1/a (a not a monomial). */
export type DimAtom =
  | { readonly kind: 'floor' | 'mod'; readonly args: readonly [Dim, Dim] }
  | { readonly kind: 'inv'; readonly args: readonly [Dim] };
/** `base^exp`; the base is the symbol named `key`, or `atom` when present. */
export type DimFactor = { readonly key: string; readonly exp: number; readonly atom?: DimAtom };
type Fs = readonly DimFactor[];
/** coef * product of factors (sorted by key, nonzero exponents); `mkey` names the monomial. */
export type DimTerm = { readonly coef: Q; readonly factors: Fs; readonly mkey: string };
/**
 * A normalized dimension expression; treat as opaque and compare with dimEquals.
 * Terms are sorted by cmpMono, with distinct monomials and nonzero coefficients.
 */
export type Dim = { readonly terms: readonly DimTerm[]; readonly key: string };

const byKey = (x: DimFactor, y: DimFactor): number => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);
/** The most terms a dim expression may have; beyond it an expression is rejected. */
export const MAX_DIM_TERMS = 256;

/** Thrown for an expression whose expansion would exceed MAX_DIM_TERMS terms. */
export class DimTooComplex extends Error {
  constructor() {
    super(`dimension expression has more than ${MAX_DIM_TERMS} terms`);
  }
}

function mkTerm(coef: Q, factors: Fs): DimTerm {
  return { coef, factors, mkey: factors.map((f) => (f.exp === 1 ? f.key : `${f.key}^${f.exp}`)).join('*') };
}
const invert = (fs: Fs): Fs => fs.map((f) => ({ ...f, exp: -f.exp }));
const isInv = (f: DimFactor): boolean => f.atom?.kind === 'inv';
const degree = (t: DimTerm): number => t.factors.reduce((s, f) => s + f.exp, 0);

/** Graded lexicographic monomial order, largest first (a group order, so usable for division). */
function cmpMono(a: DimTerm, b: DimTerm): number {
  const da = degree(a);
  const db = degree(b);
  if (da !== db) return db - da;
  const fa = a.factors;
  const fb = b.factors;
  for (let i = 0, j = 0; i < fa.length || j < fb.length;) {
    const x = fa[i];
    const y = fb[j];
    // A factor missing from one side has exponent 0 there; the larger exponent sorts first.
    const kx = x ? x.key : undefined;
    const ky = y ? y.key : undefined;
    const key = kx === undefined ? ky : ky === undefined || kx < ky ? kx : ky;
    const ex = x && x.key === key ? (i++, x.exp) : 0;
    const ey = y && y.key === key ? (j++, y.exp) : 0;
    if (ex !== ey) return ey - ex;
  }
  return 0;
}

/** Combines like terms, drops zeros, sorts: the one constructor of every Dim. */
function mkDim(terms: readonly DimTerm[]): Dim {
  const by = new Map<string, DimTerm>();
  for (const t of terms) {
    const o = by.get(t.mkey);
    by.set(t.mkey, o ? mkTerm(qAdd(o.coef, t.coef), o.factors) : t);
  }
  const out = [...by.values()].filter((t) => t.coef.n !== 0n).sort(cmpMono);
  if (out.length > MAX_DIM_TERMS) throw new DimTooComplex();
  const key = out.map((t) => `${qStr(t.coef)}:${t.mkey}`).join(' ');
  return { terms: out, key: key || '0' };
}

function mulFactors(a: Fs, b: Fs): Fs {
  const m = new Map<string, DimFactor>();
  for (const f of [...a, ...b]) {
    const o = m.get(f.key);
    m.set(f.key, o ? { ...o, exp: o.exp + f.exp } : f);
  }
  return [...m.values()].filter((f) => f.exp !== 0).sort(byKey);
}

const constQ = (c: Q): Dim => mkDim([mkTerm(c, [])]);
const ZERO = mkDim([]);
const ONE = constQ(q(1n));
const scale = (a: Dim, c: Q): Dim => mkDim(a.terms.map((t) => mkTerm(qMul(t.coef, c), t.factors)));

function atomDim(atom: DimAtom): Dim {
  const key = `~${atom.kind}(${atom.args.map((a) => a.key).join('|')})`;
  return mkDim([mkTerm(q(1n), [{ key, exp: 1, atom }])]);
}

/** The constant value, or undefined when symbolic. */
function constOf(a: Dim): Q | undefined {
  if (a.terms.length === 0) return q(0n);
  const t = a.terms[0];
  return a.terms.length === 1 && t?.factors.length === 0 ? t.coef : undefined;
}

// ---------- construction and arithmetic ----------

/** An integer constant; throws RangeError unless `n` is a safe integer. */
export function dimConst(n: number): Dim {
  if (!Number.isSafeInteger(n)) throw new RangeError(`dim constant ${n} is not a safe integer`);
  return constQ(q(BigInt(n)));
}
/** The exact fraction num/den (both safe integers, den nonzero). */
export function dimFrac(num: number, den: number): Dim {
  return dimDiv(dimConst(num), dimConst(den));
}
/** A symbol; names are identifiers (letters, digits, `_`, `.`). */
export function dimSym(name: string): Dim {
  if (!/^[A-Za-z_][\w.]*$/.test(name)) throw new RangeError(`bad dim symbol name '${name}'`);
  return mkDim([mkTerm(q(1n), [{ key: name, exp: 1 }])]);
}

export const dimAdd = (a: Dim, b: Dim): Dim => mkDim([...a.terms, ...b.terms]);
export const dimNeg = (a: Dim): Dim => scale(a, q(-1n));
export const dimSub = (a: Dim, b: Dim): Dim => dimAdd(a, dimNeg(b));
export function dimMul(a: Dim, b: Dim): Dim {
  if (a.terms.length * b.terms.length > MAX_DIM_TERMS * 4) throw new DimTooComplex();
  const out: DimTerm[] = [];
  for (const s of a.terms)
    for (const t of b.terms) out.push(mkTerm(qMul(s.coef, t.coef), mulFactors(s.factors, t.factors)));
  return mkDim(out);
}
function dimPow(a: Dim, e: number): Dim {
  if (e < 0) return dimDiv(ONE, dimPow(a, -e));
  let r = ONE;
  for (let i = 0; i < e; i++) r = dimMul(r, a);
  return r;
}

/** Replaces every `inv(p)^-k` factor (a division that undid a division) by `p^k`. */
function fixInv(a: Dim): Dim {
  const neg = (f: DimFactor): boolean => isInv(f) && f.exp < 0;
  if (!a.terms.some((t) => t.factors.some(neg))) return a;
  let out = ZERO;
  for (const t of a.terms) {
    const kept = t.factors.filter((f) => !neg(f));
    let v = mkDim([mkTerm(t.coef, kept)]);
    for (const f of t.factors.filter(neg)) {
      v = dimMul(v, dimPow(f.atom!.args[0], -f.exp));
    }
    out = dimAdd(out, v);
  }
  return out;
}

/** Polynomial long division; the quotient when `b` divides `a` exactly (found within a bound). */
function longDivide(a: Dim, b: Dim): Dim | undefined {
  const lead = b.terms[0];
  const aLow = a.terms[a.terms.length - 1];
  const bLow = b.terms[b.terms.length - 1];
  if (!lead || !aLow || !bLow) return a.terms.length === 0 ? ZERO : undefined;
  // In an exact division every quotient term is >= low(a)/low(b).
  const low = mkTerm(q(1n), mulFactors(aLow.factors, invert(bLow.factors)));
  const quot: DimTerm[] = [];
  let r = a;
  for (let i = 0; i < 256; i++) {
    const t = r.terms[0];
    if (!t) return mkDim(quot);
    const fs = mulFactors(t.factors, invert(lead.factors));
    const qt = mkTerm(qDiv(t.coef, lead.coef), fs);
    if (cmpMono(qt, low) > 0 || fs.some((f) => isInv(f) && f.exp < 0)) {
      return undefined; // not a polynomial quotient
    }
    quot.push(qt);
    r = dimSub(r, dimMul(mkDim([qt]), b));
  }
  return undefined;
}

/** Exact division: by a constant or monomial it normalizes; by another polynomial it is opaque. */
export function dimDiv(a: Dim, b: Dim): Dim {
  const lead = b.terms[0];
  if (!lead) throw new RangeError('dim division by zero');
  const inv = qDiv(q(1n), lead.coef);
  if (b.terms.length === 1) {
    return fixInv(dimMul(a, mkDim([mkTerm(inv, invert(lead.factors))])));
  }
  const exact = longDivide(a, b);
  if (exact) return exact;
  // Opaque: a/lc * 1/(b/lc), with lc the divisor's leading coefficient.
  return dimMul(scale(a, inv), atomDim({ kind: 'inv', args: [scale(b, inv)] }));
}

/** True when every term is an integer times a product of integer-valued bases. */
function isIntPoly(a: Dim): boolean {
  return a.terms.every((t) => t.coef.d === 1n && monoIsInt(t));
}
function monoIsInt(t: DimTerm): boolean {
  return t.factors.every((f) => {
    if (f.exp < 0) return false;
    if (!f.atom || f.atom.kind === 'floor') return true;
    return f.atom.kind === 'mod' && f.atom.args.every(isIntPoly);
  });
}

/** floor(a / b). Integer parts of the quotient are pulled out of the floor when b is constant. */
export function dimFloorDiv(a: Dim, b: Dim): Dim {
  const quot = dimDiv(a, b);
  const c = constOf(quot);
  if (c) return constQ(q(qFloor(c)));
  if (isIntPoly(quot)) return quot;
  if (!constOf(b)) return atomDim({ kind: 'floor', args: [a, b] });
  // floor(P + r) = P + floor(r) for integer-valued P: split off truncated coefficients.
  const whole: DimTerm[] = [];
  const frac: DimTerm[] = [];
  for (const t of quot.terms) {
    if (t.factors.length > 0 && monoIsInt(t)) {
      const w = q(qTrunc(t.coef));
      whole.push(mkTerm(w, t.factors));
      frac.push(mkTerm(qAdd(t.coef, qMul(w, q(-1n))), t.factors));
    } else frac.push(t);
  }
  const rest = mkDim(frac);
  const rc = constOf(rest);
  if (rc) return dimAdd(mkDim(whole), constQ(q(qFloor(rc))));
  let den = 1n; // smallest integer denominator making the numerator integral
  for (const t of rest.terms) den = (den * t.coef.d) / gcd(den, t.coef.d);
  const args = [scale(rest, q(den)), constQ(q(den))] as const;
  return dimAdd(mkDim(whole), atomDim({ kind: 'floor', args }));
}

/** a % b with the sign of the dividend (C semantics); opaque unless constant or provably 0. */
export function dimMod(a: Dim, b: Dim): Dim {
  const ac = constOf(a);
  const bc = constOf(b);
  if (bc && bc.n === 0n) throw new RangeError('dim division by zero');
  if (ac && bc) return constQ(qAdd(ac, qMul(bc, q(-qTrunc(qDiv(ac, bc))))));
  if (isIntPoly(dimDiv(a, b))) return ZERO;
  return atomDim({ kind: 'mod', args: [a, bc && bc.n < 0n ? dimNeg(b) : b] });
}

// ---------- queries ----------

export const dimEquals = (a: Dim, b: Dim): boolean => a.key === b.key;
/** A canonical string key (equal iff dimEquals). */
export const dimKey = (a: Dim): string => a.key;
export const dimIsConst = (a: Dim): boolean => constOf(a) !== undefined;

/**
 * The constant's value; undefined when symbolic or an integer beyond ±(2^53 - 1) (use
 * dimConstFrac for the exact value). A fraction is returned as the nearest double.
 */
export function dimConstValue(a: Dim): number | undefined {
  const c = constOf(a);
  if (!c) return undefined;
  if (c.d !== 1n) return Number(c.n) / Number(c.d);
  const v = Number(c.n);
  return Number.isSafeInteger(v) ? v : undefined;
}
/** The exact constant as num/den (den > 0), or undefined when symbolic. */
export function dimConstFrac(a: Dim): { num: bigint; den: bigint } | undefined {
  const c = constOf(a);
  return c && { num: c.n, den: c.d };
}

/**
 * Whether `a` is negative for every value of its symbols that a size can take (each ≥ 0): a
 * negative constant term and no positive coefficient on any monomial of plain symbols with
 * positive exponents. false also means "not known" (opaque atoms, negative exponents).
 */
export function dimAlwaysNegative(a: Dim): boolean {
  let constant = false;
  for (const t of a.terms) {
    if (t.factors.length === 0) {
      if (t.coef.n >= 0n) return false;
      constant = true;
    } else if (t.coef.n > 0n || t.factors.some((f) => f.atom !== undefined || f.exp < 0)) return false;
  }
  return constant;
}

/** true: integer-valued for all integer symbols; false: a non-integer constant; undefined: unknown. */
export function dimIsInteger(a: Dim): boolean | undefined {
  const c = constOf(a);
  if (c) return c.d === 1n;
  return isIntPoly(a) ? true : undefined;
}

/**
 * The first constant or coefficient (numerator or denominator, inside atoms too) beyond
 * the 64-bit integers, as text; undefined when all fit. The algebra itself is exact at any
 * size; the checker bounds compile-time values with this, as the targets compute in int64.
 */
export function dimBeyondI64(a: Dim): string | undefined {
  for (const t of a.terms) {
    const { n, d } = t.coef;
    if (n > I64_MAX || n < -I64_MAX - 1n || d > I64_MAX) return qStr(t.coef);
    for (const f of t.factors) {
      for (const x of f.atom?.args ?? []) {
        const r = dimBeyondI64(x);
        if (r !== undefined) return r;
      }
    }
  }
  return undefined;
}

/** All symbol names, sorted, including those inside opaque atoms. */
export function dimSymbols(a: Dim): string[] {
  const out = new Set<string>();
  const walk = (d: Dim): void => {
    for (const t of d.terms)
      for (const f of t.factors) {
        if (f.atom) f.atom.args.forEach(walk);
        else out.add(f.key);
      }
  };
  walk(a);
  return [...out].sort();
}

/** Substitutes symbols and re-normalizes, opaque atoms included. */
export function dimSubst(a: Dim, env: ReadonlyMap<string, Dim>): Dim {
  const base = (f: DimFactor): Dim => {
    const at = f.atom;
    if (!at) return env.get(f.key) ?? dimSym(f.key);
    if (at.kind === 'inv') return dimDiv(ONE, dimSubst(at.args[0], env));
    const [x, y] = [dimSubst(at.args[0], env), dimSubst(at.args[1], env)];
    return at.kind === 'floor' ? dimFloorDiv(x, y) : dimMod(x, y);
  };
  let out = ZERO;
  for (const t of a.terms) {
    let v = constQ(t.coef);
    for (const f of t.factors) v = dimMul(v, dimPow(base(f), f.exp));
    out = dimAdd(out, v);
  }
  return out;
}

/**
 * Solves `pattern == actual` for `unknown` when the pattern is c*unknown + rest, with
 * `unknown` of degree 1 and not inside an atom; the solution must be integer-valued.
 */
export function dimSolveLinear(pattern: Dim, actual: Dim, unknown: string): Dim | undefined {
  const coef: DimTerm[] = [];
  const rest: DimTerm[] = [];
  const inAtom = (f: DimFactor) => f.atom?.args.some((a) => dimSymbols(a).includes(unknown));
  for (const t of pattern.terms) {
    if (t.factors.some(inAtom)) return undefined;
    const x = t.factors.find((f) => !f.atom && f.key === unknown);
    if (x && x.exp !== 1) return undefined;
    const others = t.factors.filter((f) => f !== x);
    if (x) coef.push(mkTerm(t.coef, others));
    else rest.push(t);
  }
  if (coef.length === 0) return undefined;
  const sol = dimDiv(dimSub(actual, mkDim(rest)), mkDim(coef));
  return dimIsInteger(sol) === true ? sol : undefined;
}

// ---------- printing ----------

/** `atomic`: safe as an operand of `*`, `/` and `**` without parentheses. */
type Part = { readonly s: string; readonly atomic: boolean };
const wrap = (p: Part): string => (p.atomic ? p.s : `(${p.s})`);
/** An operand inside floor(.../...) or % : parenthesized unless it matches `simple`. */
function operand(a: Dim, simple: RegExp): string {
  const s = dimToString(a);
  return simple.test(s) ? s : `(${s})`;
}

function baseString(f: DimFactor): Part {
  const at = f.atom;
  if (!at) return { s: f.key, atomic: true };
  const [x, y] = at.args;
  if (at.kind === 'inv') return { s: `(${dimToString(x)})`, atomic: true };
  const rhs = operand(y!, /^[\w.]+$/);
  if (at.kind === 'mod') return { s: `${operand(x, /^[\w.]+$/)} % ${rhs}`, atomic: false };
  return { s: `floor(${operand(x, /^[\w.*]+$/)}/${rhs})`, atomic: true };
}

/** A term with a positive coefficient, e.g. `2*B*T`, `d/heads`, `3*T/2`, `x/(T + 1)`. */
function termString(c: Q, fs: readonly DimFactor[]): string {
  const num: Part[] = c.n !== 1n ? [{ s: `${c.n}`, atomic: true }] : [];
  const den: Part[] = c.d !== 1n ? [{ s: `${c.d}`, atomic: true }] : [];
  for (const f of fs) {
    const b = baseString(f);
    const e = Math.abs(f.exp);
    const p = e === 1 ? b : { s: `${wrap(b)}**${e}`, atomic: true };
    (f.atom?.kind === 'inv' || f.exp < 0 ? den : num).push(p);
  }
  const [n0, d0] = [num[0], den[0]];
  const top = !n0 ? '1' : num.length === 1 && !d0 ? n0.s : num.map(wrap).join('*');
  if (!d0) return top;
  return `${top}/${den.length === 1 && d0.atomic ? d0.s : `(${den.map(wrap).join('*')})`}`;
}

/** Canonical human-readable form: terms by degree then name, constant last (`2*T + 1`, `-T + 4`). */
export function dimToString(a: Dim): string {
  if (a.terms.length === 0) return '0';
  const isC = (t: DimTerm) => t.factors.length === 0;
  return [...a.terms.filter((t) => !isC(t)), ...a.terms.filter(isC)]
    .map((t, i) => {
      const neg = t.coef.n < 0n;
      const body = termString(q(abs(t.coef.n), t.coef.d), t.factors);
      return (i === 0 ? (neg ? '-' : '') : neg ? ' - ' : ' + ') + body;
    })
    .join('');
}
