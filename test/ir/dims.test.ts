import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  type Dim,
  dimAdd,
  dimConst,
  dimConstFrac,
  dimConstValue,
  dimDiv,
  dimEquals,
  dimFloorDiv,
  dimFrac,
  dimIsConst,
  dimIsInteger,
  dimKey,
  dimMod,
  dimMul,
  dimNeg,
  dimSolveLinear,
  dimSub,
  dimSubst,
  dimSymbols,
  dimSym,
  dimToString,
} from '../../src/ir/dims.js';

const c = dimConst;
const T = dimSym('T');
const B = dimSym('B');
const d = dimSym('d');
const heads = dimSym('heads');
const str = dimToString;
const env = (o: Record<string, number>) => new Map(Object.entries(o).map(([k, v]) => [k, c(v)] as const));

describe('normal forms', () => {
  it('simplifies the documented examples', () => {
    expect(str(dimDiv(dimMul(c(2), T), c(2)))).toBe('T');
    expect(str(dimMul(heads, dimDiv(d, heads)))).toBe('d');
    const e = dimSub(dimSub(dimAdd(T, c(30)), c(30)), c(1));
    expect(str(dimAdd(dimDiv(e, c(1)), c(1)))).toBe('T');
    expect(dimEquals(dimDiv(dimMul(d, c(4)), c(4)), d)).toBe(true);
    const half = dimDiv(T, c(2));
    expect(str(half)).toBe('T/2');
    expect(dimEquals(dimAdd(half, half), T)).toBe(true);
  });

  it('divides exactly by monomials and polynomials', () => {
    expect(str(dimDiv(dimMul(B, T), T))).toBe('B');
    expect(str(dimDiv(c(1), dimMul(T, T)))).toBe('1/T**2');
    const tm1 = dimSub(T, c(1));
    const sq = dimSub(dimMul(T, T), c(1));
    expect(str(dimDiv(sq, tm1))).toBe('T + 1'); // long division
    const x = dimDiv(d, dimAdd(T, c(1)));
    expect(str(x)).toBe('d/(T + 1)');
    expect(str(dimDiv(d, dimAdd(dimMul(c(2), T), c(2))))).toBe('d/(2*(T + 1))');
    expect(str(dimDiv(x, dimDiv(c(1), dimAdd(T, c(1)))))).toBe('d');
    expect(dimEquals(dimDiv(T, T), c(1))).toBe(true);
    expect(() => dimDiv(T, c(0))).toThrow(RangeError);
    expect(() => dimDiv(T, dimSub(T, T))).toThrow(RangeError);
  });

  it('keeps big numbers exact', () => {
    const max = c(Number.MAX_SAFE_INTEGER);
    const big = dimMul(max, max);
    expect(dimConstValue(big)).toBeUndefined();
    expect(dimConstFrac(big)).toEqual({
      num: BigInt(Number.MAX_SAFE_INTEGER) ** 2n,
      den: 1n,
    });
    expect(dimConstValue(dimDiv(big, max))).toBe(Number.MAX_SAFE_INTEGER);
    expect(dimConstValue(dimSub(dimAdd(max, c(2)), c(2)))).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => c(2 ** 53)).toThrow(RangeError);
    expect(() => c(0.5)).toThrow(RangeError);
  });
});

describe('floor division and remainder', () => {
  it('folds constants (floor; remainder with the sign of the dividend)', () => {
    expect(dimConstValue(dimFloorDiv(c(7), c(2)))).toBe(3);
    expect(dimConstValue(dimFloorDiv(c(-7), c(2)))).toBe(-4);
    expect(dimConstValue(dimMod(c(7), c(3)))).toBe(1);
    expect(dimConstValue(dimMod(c(-7), c(3)))).toBe(-1);
    expect(dimConstValue(dimMod(c(7), c(-3)))).toBe(1);
    expect(() => dimFloorDiv(T, c(0))).toThrow(RangeError);
    expect(() => dimMod(T, c(0))).toThrow(RangeError);
  });

  it('normalizes exact cases and keeps the rest opaque', () => {
    expect(str(dimFloorDiv(dimMul(c(2), T), c(2)))).toBe('T');
    expect(str(dimFloorDiv(dimMul(c(2), T), T))).toBe('2');
    expect(str(dimFloorDiv(dimAdd(dimMul(c(2), T), c(1)), c(2)))).toBe('T');
    expect(str(dimFloorDiv(dimSub(dimMul(c(2), T), c(1)), c(2)))).toBe('T - 1');
    expect(str(dimFloorDiv(d, heads))).toBe('floor(d/heads)');
    expect(str(dimFloorDiv(dimAdd(dimMul(c(3), T), c(1)), c(2)))).toBe('T + floor((T + 1)/2)');
    expect(str(dimMod(dimMul(c(4), d), c(4)))).toBe('0');
    expect(str(dimMod(dimMul(heads, d), heads))).toBe('0');
    expect(str(dimMod(T, c(4)))).toBe('T % 4');
    expect(str(dimMod(T, c(-4)))).toBe('T % 4');
    expect(str(dimMul(c(2), dimMod(T, c(4))))).toBe('2*(T % 4)');
    expect(str(dimMod(dimSub(T, c(1)), c(4)))).toBe('(T - 1) % 4');
  });

  it('re-normalizes opaque atoms on substitution', () => {
    const conv = dimAdd(dimFloorDiv(dimSub(T, c(1)), c(2)), c(1));
    expect(str(conv)).toBe('floor((T - 1)/2) + 1');
    expect(dimSymbols(conv)).toEqual(['T']);
    const atom = dimFloorDiv(dimSub(T, c(1)), c(2));
    expect(dimConstValue(dimSubst(atom, env({ T: 33 })))).toBe(16);
    expect(dimConstValue(dimSubst(conv, env({ T: 33 })))).toBe(17);
    expect(str(dimSubst(conv, new Map([['T', dimMul(c(2), B)]])))).toBe('B');
    const m = dimMod(T, heads);
    expect(dimConstValue(dimSubst(m, env({ T: 10, heads: 4 })))).toBe(2);
    expect(str(dimSubst(m, env({ heads: 4 })))).toBe('T % 4');
  });
});

describe('queries', () => {
  it('dimIsConst / dimConstValue / dimConstFrac', () => {
    expect(dimIsConst(c(3))).toBe(true);
    expect(dimIsConst(dimSub(T, T))).toBe(true);
    expect(dimIsConst(T)).toBe(false);
    expect(dimConstValue(dimSub(T, T))).toBe(0);
    expect(dimConstValue(T)).toBeUndefined();
    expect(dimConstValue(dimFrac(3, 2))).toBe(1.5);
    expect(dimConstFrac(dimFrac(6, -4))).toEqual({ num: -3n, den: 2n });
    expect(dimConstFrac(T)).toBeUndefined();
  });

  it('dimIsInteger', () => {
    expect(dimIsInteger(c(4))).toBe(true);
    expect(dimIsInteger(dimFrac(1, 2))).toBe(false);
    expect(dimIsInteger(dimAdd(dimMul(c(3), dimMul(B, T)), c(1)))).toBe(true);
    expect(dimIsInteger(dimDiv(T, c(2)))).toBeUndefined();
    expect(dimIsInteger(dimDiv(d, heads))).toBeUndefined();
    expect(dimIsInteger(dimFloorDiv(d, heads))).toBe(true);
    expect(dimIsInteger(dimMod(T, c(3)))).toBe(true);
  });

  it('dimSymbols includes symbols inside atoms, sorted', () => {
    const e = dimAdd(dimMul(T, B), dimFloorDiv(d, heads));
    expect(dimSymbols(e)).toEqual(['B', 'T', 'd', 'heads']);
    expect(dimSymbols(c(1))).toEqual([]);
  });

  it('dimEquals / dimKey', () => {
    const a = dimAdd(dimMul(B, T), c(1));
    const b = dimAdd(c(1), dimMul(T, B));
    expect(dimEquals(a, b)).toBe(true);
    expect(dimKey(a)).toBe(dimKey(b));
    expect(dimEquals(a, dimMul(B, T))).toBe(false);
    expect(dimKey(T)).not.toBe(dimKey(dimMul(c(2), T)));
    expect(dimEquals(dimFloorDiv(d, heads), dimFloorDiv(d, heads))).toBe(true);
  });

  it('rejects bad symbol names', () => {
    expect(() => dimSym('')).toThrow(RangeError);
    expect(() => dimSym('a b')).toThrow(RangeError);
    expect(str(dimSym('d_head'))).toBe('d_head');
  });
});

describe('printing', () => {
  it('is canonical and readable', () => {
    expect(str(T)).toBe('T');
    expect(str(c(0))).toBe('0');
    expect(str(c(-3))).toBe('-3');
    expect(str(dimFrac(-3, 2))).toBe('-3/2');
    expect(str(dimAdd(dimMul(c(2), T), c(1)))).toBe('2*T + 1');
    expect(str(dimAdd(c(1), dimMul(c(2), T)))).toBe('2*T + 1');
    expect(str(dimDiv(d, heads))).toBe('d/heads');
    expect(str(dimMul(T, B))).toBe('B*T');
    expect(str(dimSub(c(4), T))).toBe('-T + 4');
    expect(str(dimNeg(dimDiv(T, c(2))))).toBe('-T/2');
    expect(str(dimDiv(dimMul(c(3), T), c(2)))).toBe('3*T/2');
    expect(str(dimAdd(T, dimFrac(1, 2)))).toBe('T + 1/2');
    expect(str(dimAdd(dimAdd(T, B), dimMul(B, T)))).toBe('B*T + B + T');
    expect(str(dimMul(dimAdd(T, d), dimAdd(T, d)))).toBe('T**2 + 2*T*d + d**2');
    expect(str(dimDiv(dimMul(B, T), dimMul(c(2), heads)))).toBe('B*T/(2*heads)');
    expect(str(dimAdd(dimDiv(c(1), T), c(1)))).toBe('1/T + 1');
    expect(str(dimDiv(dimMod(T, c(4)), c(2)))).toBe('(T % 4)/2');
  });
});

describe('dimSolveLinear', () => {
  it('solves linear patterns', () => {
    const twoT = dimMul(c(2), T);
    expect(str(dimSolveLinear(twoT, c(16), 'T')!)).toBe('8');
    expect(dimSolveLinear(twoT, c(7), 'T')).toBeUndefined();
    expect(str(dimSolveLinear(dimAdd(T, c(1)), dimSym('S'), 'T')!)).toBe('S - 1');
    expect(str(dimSolveLinear(dimMul(heads, T), dimMul(heads, d), 'T')!)).toBe('d');
    expect(dimSolveLinear(dimMul(heads, T), d, 'T')).toBeUndefined();
    expect(dimSolveLinear(twoT, dimSym('S'), 'T')).toBeUndefined();
  });

  it('refuses non-linear patterns', () => {
    expect(dimSolveLinear(dimMul(T, T), c(16), 'T')).toBeUndefined();
    expect(dimSolveLinear(c(3), c(3), 'T')).toBeUndefined();
    expect(dimSolveLinear(B, c(3), 'T')).toBeUndefined();
    const inAtom = dimAdd(T, dimFloorDiv(T, c(2)));
    expect(dimSolveLinear(inAtom, c(3), 'T')).toBeUndefined();
  });
});

// ---------- properties ----------

/** Exact rationals for the reference evaluator. */
type R = { n: bigint; d: bigint };
const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? (a < 0n ? -a : a) : gcd(b, a % b));
function r(n: bigint, den = 1n): R {
  if (den === 0n) throw new Error('zero divisor');
  if (den < 0n) [n, den] = [-n, -den];
  const g = gcd(n, den) || 1n;
  return { n: n / g, d: den / g };
}
const trunc = (a: R): bigint => a.n / a.d;
const floor = (a: R): bigint => trunc(a) - (a.n < 0n && a.n % a.d !== 0n ? 1n : 0n);

type Expr =
  { k: 'num'; v: number } | { k: 'sym'; n: string } | { k: '+' | '-' | '*' | '/' | 'floor' | '%'; a: Expr; b: Expr };

const SYMS = ['B', 'T', 'd'];

function evalExpr(e: Expr, vals: Record<string, number>): R {
  if (e.k === 'num') return r(BigInt(e.v));
  if (e.k === 'sym') return r(BigInt(vals[e.n]!));
  const a = evalExpr(e.a, vals);
  const b = evalExpr(e.b, vals);
  switch (e.k) {
    case '+':
      return r(a.n * b.d + b.n * a.d, a.d * b.d);
    case '-':
      return r(a.n * b.d - b.n * a.d, a.d * b.d);
    case '*':
      return r(a.n * b.n, a.d * b.d);
    case '/':
      return r(a.n * b.d, a.d * b.n);
    case 'floor':
      return r(floor(r(a.n * b.d, a.d * b.n)));
    case '%': {
      const t = trunc(r(a.n * b.d, a.d * b.n));
      return r(a.n * b.d - t * b.n * a.d, a.d * b.d);
    }
  }
}

function toDim(e: Expr): Dim {
  if (e.k === 'num') return c(e.v);
  if (e.k === 'sym') return dimSym(e.n);
  const a = toDim(e.a);
  const b = toDim(e.b);
  const ops = {
    '+': dimAdd,
    '-': dimSub,
    '*': dimMul,
    '/': dimDiv,
    floor: dimFloorDiv,
    '%': dimMod,
  };
  return ops[e.k](a, b);
}

const leaf: fc.Arbitrary<Expr> = fc.oneof(
  fc.integer({ min: -6, max: 6 }).map((v): Expr => ({ k: 'num', v })),
  fc.constantFrom(...SYMS).map((n): Expr => ({ k: 'sym', n })),
);
const nonzero = fc
  .integer({ min: -5, max: 5 })
  .filter((v) => v !== 0)
  .map((v): Expr => ({ k: 'num', v }));

/** + - * and exact division by nonzero constants. */
const polyExpr: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.tuple(fc.constantFrom('+', '-', '*'), tie('e'), tie('e')).map(([k, a, b]): Expr => ({ k, a, b })),
    fc.tuple(tie('e'), nonzero).map(([a, b]): Expr => ({ k: '/', a, b })),
  ),
})).e;

/** Also floor division, remainder and division by arbitrary subexpressions. */
const anyExpr: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .tuple(fc.constantFrom('+', '-', '*', '/', 'floor', '%'), tie('e'), tie('e'))
      .map(([k, a, b]): Expr => ({ k, a, b })),
    fc.tuple(fc.constantFrom('/', 'floor', '%'), tie('e'), nonzero).map(([k, a, b]): Expr => ({ k, a, b })),
  ),
})).e;

const values = (min: number, max: number) =>
  fc.record({
    B: fc.integer({ min, max }),
    T: fc.integer({ min, max }),
    d: fc.integer({ min, max }),
  });

function substValue(dim: Dim, vals: Record<string, number>): R {
  const f = dimConstFrac(dimSubst(dim, env(vals)));
  expect(f).toBeDefined();
  return { n: f!.num, d: f!.den };
}

describe('properties', () => {
  it('normalize-then-substitute equals direct rational evaluation', () => {
    fc.assert(
      fc.property(polyExpr, values(1, 40), (e, vals) => {
        expect(substValue(toDim(e), vals)).toEqual(evalExpr(e, vals));
      }),
      { numRuns: 500 },
    );
  });

  it('the same holds with floor, % and symbolic divisors', () => {
    fc.assert(
      fc.property(anyExpr, values(-9, 9), (e, vals) => {
        let want: R;
        try {
          want = evalExpr(e, vals);
        } catch {
          return; // the expression divides by zero at this point
        }
        let dim: Dim;
        try {
          dim = toDim(e);
        } catch {
          return; // divides by a constant zero
        }
        expect(substValue(dim, vals)).toEqual(want);
      }),
      { numRuns: 1000 },
    );
  });

  it('dimEquals is reflexive; add and mul commute and associate', () => {
    fc.assert(
      fc.property(polyExpr, polyExpr, polyExpr, (x, y, z) => {
        const [a, b, e] = [toDim(x), toDim(y), toDim(z)];
        expect(dimEquals(a, a)).toBe(true);
        expect(dimEquals(a, toDim(x))).toBe(true);
        expect(str(a)).toBe(str(toDim(x)));
        expect(dimEquals(dimAdd(a, b), dimAdd(b, a))).toBe(true);
        expect(dimEquals(dimMul(a, b), dimMul(b, a))).toBe(true);
        const add1 = dimAdd(dimAdd(a, b), e);
        expect(dimEquals(add1, dimAdd(a, dimAdd(b, e)))).toBe(true);
        const mul1 = dimMul(dimMul(a, b), e);
        expect(dimEquals(mul1, dimMul(a, dimMul(b, e)))).toBe(true);
        const dist = dimAdd(dimMul(a, b), dimMul(a, e));
        expect(dimEquals(dimMul(a, dimAdd(b, e)), dist)).toBe(true);
        expect(dimKey(dimSub(a, a))).toBe(dimKey(c(0)));
      }),
      { numRuns: 300 },
    );
  });

  it('dimSolveLinear inverts a*X + b', () => {
    const nz = fc.integer({ min: -50, max: 50 }).filter((v) => v !== 0);
    const int = fc.integer({ min: -1000, max: 1000 });
    fc.assert(
      fc.property(nz, int, int, (a, b, v) => {
        const X = dimSym('X');
        const pattern = dimAdd(dimMul(c(a), X), c(b));
        const actual = dimSubst(pattern, env({ X: v }));
        const sol = dimSolveLinear(pattern, actual, 'X');
        expect(sol && dimEquals(sol, c(v))).toBe(true);
        // with a symbolic actual: X = T + v
        const sym = dimSubst(pattern, new Map([['X', dimAdd(T, c(v))]]));
        const sol2 = dimSolveLinear(pattern, sym, 'X');
        expect(sol2 && str(sol2)).toBe(str(dimAdd(T, c(v))));
      }),
    );
  });
});
