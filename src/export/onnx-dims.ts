// Symbolic dims as run-time ONNX int64 arithmetic, so an exported model runs at any binding
// of its dims. A symbol is read from the `Shape` of a graph input (or initializer) that has
// it alone as a dim, or solved from a linear dim like `2*T + 1`. A dim, a Laurent polynomial
// with rational coefficients, is evaluated over a common denominator: the numerator terms
// are integer multiples of products of non-negative powers, summed, then divided exactly by
// the denominator (an integer times a product of symbols or atoms). `floor(a/b)` atoms are
// exact for every sign ((a - Mod(a, b)) / b, Mod with fmod=0 rounding toward -inf) and
// `a % b` is Mod with fmod=1 (C semantics, as the dim algebra defines it). Everything is
// hash-consed by the emitter, so equal shape computations are shared within a graph.

import {
  type Dim,
  type DimFactor,
  dimConst,
  dimConstFrac,
  dimDiv,
  dimEquals,
  dimMul,
  dimSub,
  dimSym,
  dimSymbols,
  dimToString,
} from '../ir/dims.js';
import { attrInt, type Emitter } from './onnx-emit.js';

/** A dim that cannot be computed at run time (the exporter adds the op and its path). */
export class DimError extends Error {}

/** A tensor whose run-time shape binds symbols: an ONNX value name with its IR shape. */
export interface ShapeSource {
  readonly value: string;
  readonly shape: readonly Dim[];
}

const bigAbs = (x: bigint): bigint => (x < 0n ? -x : x);
const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? bigAbs(a) : gcd(b, a % b));

/** A base of a monomial: a symbol, a floor/mod atom, or the polynomial under an `inv` atom. */
interface Base {
  readonly key: string;
  readonly eval: () => string;
}

export class DimCompiler {
  private readonly values = new Map<string, string>();

  constructor(
    private readonly em: Emitter,
    private readonly sources: readonly ShapeSource[],
  ) {}

  /** The dim as an int64 tensor of shape [1]. */
  vec1(d: Dim): string {
    const found = this.values.get(d.key);
    if (found) return found;
    const v = this.compile(d);
    this.values.set(d.key, v);
    return v;
  }

  /** The dim as an int64 scalar (rank 0). */
  scalar(d: Dim): string {
    const c = constInt(d);
    return c !== undefined ? this.em.i64Scalar(c) : this.em.op('Squeeze', [this.vec1(d)]);
  }

  /** The dims as an int64 vector (a shape, or pads/starts/ends). */
  shape(ds: readonly Dim[]): string {
    const consts = ds.map(constInt);
    if (consts.every((c) => c !== undefined)) return this.em.i64(consts as number[]);
    const parts: string[] = [];
    let run: number[] = []; // consecutive constants share one initializer
    ds.forEach((d, i) => {
      const c = consts[i];
      if (c !== undefined) return void run.push(c);
      if (run.length > 0) parts.push(this.em.i64(run));
      run = [];
      parts.push(this.vec1(d));
    });
    if (run.length > 0) parts.push(this.em.i64(run));
    return parts.length === 1 ? parts[0]! : this.em.op('Concat', parts, [attrInt('axis', 0)]);
  }

  private compile(d: Dim): string {
    const em = this.em;
    const c = constInt(d);
    if (c !== undefined) return em.i64([c]);
    // Exponents per base in each term; a base's largest negative power goes to the denominator.
    const bases = new Map<string, Base>();
    const terms = d.terms.map((t) => {
      const exps = new Map<string, number>();
      for (const f of t.factors) {
        const b = this.base(f);
        bases.set(b.key, b);
        const e = f.atom?.kind === 'inv' ? -f.exp : f.exp;
        exps.set(b.key, (exps.get(b.key) ?? 0) + e);
      }
      return { coef: t.coef, exps };
    });
    let constDen = 1n;
    for (const t of terms) constDen = (constDen * t.coef.d) / gcd(constDen, t.coef.d);
    const denPow = new Map<string, number>();
    for (const t of terms) for (const [k, e] of t.exps) if (e < 0) denPow.set(k, Math.max(denPow.get(k) ?? 0, -e));
    const sortedKeys = [...bases.keys()].sort();
    const power = (key: string, e: number): string[] => (e > 0 ? Array<string>(e).fill(bases.get(key)!.eval()) : []);
    let num: string | undefined;
    for (const t of terms) {
      const coef = (t.coef.n * constDen) / t.coef.d;
      const factors = sortedKeys.flatMap((k) => power(k, (t.exps.get(k) ?? 0) + (denPow.get(k) ?? 0)));
      const mag = bigAbs(coef);
      if (mag !== 1n || factors.length === 0) factors.unshift(em.i64([toNumber(mag)]));
      const mono = factors.reduce((a, b) => em.op('Mul', [a, b]));
      num =
        num === undefined ? (coef < 0n ? em.op('Neg', [mono]) : mono) : em.op(coef < 0n ? 'Sub' : 'Add', [num, mono]);
    }
    const denFactors = sortedKeys.flatMap((k) => power(k, denPow.get(k) ?? 0));
    if (constDen !== 1n) denFactors.unshift(em.i64([toNumber(constDen)]));
    if (denFactors.length === 0) return num!;
    return em.op('Div', [num!, denFactors.reduce((a, b) => em.op('Mul', [a, b]))]);
  }

  private base(f: DimFactor): Base {
    const at = f.atom;
    if (!at) return { key: f.key, eval: () => this.symbol(f.key) };
    if (at.kind === 'inv') return { key: `inv ${at.args[0].key}`, eval: () => this.vec1(at.args[0]) };
    const [a, b] = at.args;
    const em = this.em;
    if (at.kind === 'mod')
      return { key: f.key, eval: () => em.op('Mod', [this.vec1(a), this.vec1(b)], [attrInt('fmod', 1)]) };
    return {
      key: f.key,
      eval: () => {
        const [x, y] = [this.vec1(a), this.vec1(b)];
        const rem = em.op('Mod', [x, y], [attrInt('fmod', 0)]); // the sign of the divisor: floors
        return em.op('Div', [em.op('Sub', [x, rem]), y]);
      },
    };
  }

  /** The run-time value of a symbol, from the shape of an input that holds it. */
  private symbol(name: string): string {
    const found = this.values.get(`sym ${name}`);
    if (found) return found;
    const v = this.bind(name);
    this.values.set(`sym ${name}`, v);
    return v;
  }

  /** Where a symbol is read from: an axis holding it alone, or a linear dim solved for it. */
  private locate(name: string, visiting: ReadonlySet<string>): { s: number; i: number; sol?: Dim } | undefined {
    const sym = dimSym(name);
    for (const [s, src] of this.sources.entries()) {
      const i = src.shape.findIndex((d) => dimEquals(d, sym));
      if (i >= 0) return { s, i };
    }
    const inner = new Set([...visiting, name]);
    for (const [s, src] of this.sources.entries())
      for (const [i, d] of src.shape.entries()) {
        const actual = `__shape${s}_${i}`;
        const sol = solveLinear(d, name, actual);
        const others = sol && dimSymbols(sol).filter((x) => x !== actual);
        if (others && others.every((x) => !inner.has(x) && this.locate(x, inner))) return { s, i, sol };
      }
    return undefined;
  }

  private bind(name: string): string {
    const at = this.locate(name, new Set());
    if (!at) throw new DimError(`dim ${name} is not the size of any input axis, so it cannot be computed at run time`);
    const v = this.em.op('Shape', [this.sources[at.s]!.value], [attrInt('start', at.i), attrInt('end', at.i + 1)]);
    if (!at.sol) return v;
    this.values.set(`sym __shape${at.s}_${at.i}`, v);
    return this.vec1(at.sol);
  }
}

/** The integer value of a constant dim; undefined when symbolic. */
function constInt(d: Dim): number | undefined {
  const c = dimConstFrac(d);
  if (!c) return undefined;
  if (c.den !== 1n) throw new DimError(`dim ${dimToString(d)} is not an integer`);
  return toNumber(c.num);
}

function toNumber(x: bigint): number {
  const n = Number(x);
  if (!Number.isSafeInteger(n)) throw new DimError(`dim constant ${x} is too large`);
  return n;
}

/**
 * Solves `pattern == actual` for `unknown` when the pattern is `c*unknown + rest` with a
 * constant c and the unknown nowhere in `rest`: `(actual - rest) / c`, a dim in the symbol
 * `actual` and the symbols of `rest`.
 */
function solveLinear(pattern: Dim, unknown: string, actual: string): Dim | undefined {
  const t = pattern.terms.find((t) => {
    const f = t.factors[0];
    return t.factors.length === 1 && f && !f.atom && f.key === unknown && f.exp === 1;
  });
  if (!t) return undefined;
  const c = dimDiv(dimConst(toNumber(t.coef.n)), dimConst(toNumber(t.coef.d)));
  const rest = dimSub(pattern, dimMul(c, dimSym(unknown)));
  if (dimSymbols(rest).includes(unknown)) return undefined;
  return dimDiv(dimSub(dimSym(actual), rest), c);
}
