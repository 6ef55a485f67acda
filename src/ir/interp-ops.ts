// Kernels of the reference interpreter: one function per primitive op, on concrete host
// tensors and concrete arguments (the driver in interp.ts evaluates symbolic dims first).
// Everything is computed in float64 and written for obviousness, not speed. Float results
// are not rounded to their dtype (the interpreter is the high-precision oracle); integer
// and bool results are wrapped to their dtype with roundTo.

import { type Dtype, isFloat, isInt } from './dtype.js';
import { type BinaryFn, type UnaryFn, isCompare } from './ops.js';
import { type HostTensor, roundTo, shapeSize } from './value.js';

/** A user-facing evaluation error: a missing or mis-shaped input or param, an unbound dim. */
export class EvalError extends Error {
  override name = 'EvalError';
}

// ---------- indexing ----------

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export const flatAt = (st: readonly number[], idx: readonly number[]): number =>
  idx.reduce((a, i, k) => a + i * st[k]!, 0);

/** Calls `f` with every multi-index of `shape` in row-major order and its flat position (the index array is reused). */
export function forEachIndex(shape: readonly number[], f: (idx: readonly number[], flat: number) => void): void {
  const n = shapeSize(shape);
  const idx: number[] = shape.map(() => 0);
  for (let flat = 0; flat < n; flat++) {
    f(idx, flat);
    for (let i = shape.length - 1; i >= 0; i--) {
      idx[i] = idx[i]! + 1;
      if (idx[i]! < shape[i]!) break;
      idx[i] = 0;
    }
  }
}

/** A tensor; integer and bool elements are wrapped to the dtype, float ones kept as computed. */
export function result(dtype: Dtype, shape: readonly number[], data: Float64Array): HostTensor {
  if (!isFloat(dtype)) for (let i = 0; i < data.length; i++) data[i] = roundTo(dtype, data[i]!);
  return { dtype, shape: [...shape], data };
}

/** Reads `t` at an index of a shape it broadcasts to (NumPy: aligned right, size-1 dims repeat). */
function broadcastReader(t: HostTensor, rank: number): (idx: readonly number[]) => number {
  const st = strides(t.shape);
  const off = rank - t.shape.length;
  return (idx) => {
    let f = 0;
    for (let i = 0; i < t.shape.length; i++) if (t.shape[i] !== 1) f += idx[off + i]! * st[i]!;
    return t.data[f]!;
  };
}

function elementwise(dtype: Dtype, shape: readonly number[], ins: readonly HostTensor[], f: (v: number[]) => number) {
  const data = new Float64Array(shapeSize(shape));
  const n = shapeSize(shape);
  // Inputs of the output's own size (or scalars) are read by flat position; others broadcast.
  const direct = ins.every((t) => t.data.length === n || t.data.length === 1);
  if (direct) {
    const v: number[] = ins.map(() => 0);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < ins.length; k++) v[k] = ins[k]!.data.length === 1 ? ins[k]!.data[0]! : ins[k]!.data[i]!;
      data[i] = f(v);
    }
    return result(dtype, shape, data);
  }
  const readers = ins.map((t) => broadcastReader(t, shape.length));
  forEachIndex(shape, (idx, flat) => (data[flat] = f(readers.map((r) => r(idx)))));
  return result(dtype, shape, data);
}

/**
 * A layout op: out[o] = x[at(o)] for every index o of `shape`, or `fill` where `at` gives
 * undefined (padding). Permute, expand, pad, slice and window are all this with their own `at`.
 */
export function remap(
  x: HostTensor,
  shape: readonly number[],
  at: (o: readonly number[]) => readonly number[] | undefined,
  fill = 0,
): HostTensor {
  const st = strides(x.shape);
  const data = new Float64Array(shapeSize(shape));
  forEachIndex(shape, (o, flat) => {
    const i = at(o);
    data[flat] = i === undefined ? fill : x.data[flatAt(st, i)]!;
  });
  return { dtype: x.dtype, shape: [...shape], data };
}

/** Concatenation along `axis`. */
export function concat(xs: readonly HostTensor[], axis: number, shape: readonly number[]): HostTensor {
  const ost = strides(shape);
  const data = new Float64Array(shapeSize(shape));
  let offset = 0;
  for (const x of xs) {
    forEachIndex(x.shape, (i, flat) => {
      data[
        flatAt(
          ost,
          i.map((v, k) => (k === axis ? v + offset : v)),
        )
      ] = x.data[flat]!;
    });
    offset += x.shape[axis]!;
  }
  return { dtype: xs[0]!.dtype, shape: [...shape], data };
}

// ---------- elementwise math ----------

/**
 * erf to about 1e-15: erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n x (2x^2)^n / (1*3*...*(2n+1)), a
 * series of positive terms (no cancellation) that converges for every x; beyond |x| = 6,
 * 1 - |erf(x)| < 2^-54 and the result is ±1.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) >= 6) return Math.sign(x);
  const y = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= y / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/** The unary functions on one float64 (the checker folds compile-time constants with them too). */
export const UNARY: Readonly<Record<UnaryFn, (x: number) => number>> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  erf,
  abs: Math.abs,
  recip: (x) => 1 / x,
  floor: Math.floor,
  not: (x) => (x === 0 ? 1 : 0),
};

export function unary(fn: UnaryFn, x: HostTensor): HostTensor {
  return result(x.dtype, x.shape, x.data.map(UNARY[fn]));
}

const b01 = (c: boolean): number => (c ? 1 : 0);
/** Float (and bool) semantics: IEEE; Math.max/min propagate NaN; `%` is fmod (sign of the dividend). */
const FLOAT_BINARY: Readonly<Record<BinaryFn, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  mod: (a, b) => a % b,
  pow: Math.pow,
  max: Math.max,
  min: Math.min,
  eq: (a, b) => b01(a === b),
  ne: (a, b) => b01(a !== b),
  lt: (a, b) => b01(a < b),
  le: (a, b) => b01(a <= b),
  gt: (a, b) => b01(a > b),
  ge: (a, b) => b01(a >= b),
  and: (a, b) => b01(a !== 0 && b !== 0),
  or: (a, b) => b01(a !== 0 || b !== 0),
};

const INT_BITS: Partial<Record<Dtype, number>> = { i4: 4, i8: 8, i32: 32, i64: 64 };

/** x^y wrapped to `bits`; a negative exponent gives trunc(1 / x^|y|): ±1 for x = ±1, else 0. */
function intPow(x: bigint, y: bigint, bits: number): bigint {
  if (y < 0n) return x === 1n ? 1n : x === -1n ? (y % 2n === 0n ? 1n : -1n) : 0n;
  let [r, base, e] = [1n, BigInt.asIntN(bits, x), y];
  for (; e > 0n; e >>= 1n) {
    if (e & 1n) r = BigInt.asIntN(bits, r * base);
    base = BigInt.asIntN(bits, base * base);
  }
  return r;
}

const INT_ARITH: Partial<Record<BinaryFn, (x: bigint, y: bigint, bits: number) => bigint>> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => (y === 0n ? 0n : x / y), // bigint division truncates toward zero
  mod: (x, y) => (y === 0n ? 0n : x % y), // with the sign of the dividend
  pow: intPow,
};

/**
 * Integer add/sub/mul/div/mod/pow, exact in bigint and wrapped to the dtype's width (two's
 * complement). `/` truncates toward zero and `%` has the sign of the dividend (C); dividing
 * by zero (`/` or `%`) gives 0. Other functions use the float semantics (exact on integers).
 */
export function intBinary(fn: BinaryFn, dtype: Dtype, a: number, b: number): number {
  const f = INT_ARITH[fn];
  if (!f) return FLOAT_BINARY[fn](a, b);
  const bits = INT_BITS[dtype]!;
  return Number(BigInt.asIntN(bits, f(BigInt(a), BigInt(b), bits)));
}

export function binary(fn: BinaryFn, a: HostTensor, b: HostTensor, shape: readonly number[]): HostTensor {
  const dtype = isCompare(fn) ? 'bool' : a.dtype;
  const f = isInt(a.dtype) ? (x: number, y: number) => intBinary(fn, a.dtype, x, y) : FLOAT_BINARY[fn];
  return elementwise(dtype, shape, [a, b], ([x, y]) => f(x!, y!));
}

export function where(c: HostTensor, a: HostTensor, b: HostTensor, shape: readonly number[]): HostTensor {
  return elementwise(a.dtype, shape, [c, a, b], ([k, x, y]) => (k !== 0 ? x! : y!));
}

/** The range of an integer dtype (i64's bounds as the nearest doubles). */
function intRange(d: Dtype): [number, number] {
  const bits = INT_BITS[d]!;
  return [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
}

/**
 * One element of `cast`: to bool is x != 0 (so NaN is true); float to int truncates toward
 * zero, NaN gives 0 and out-of-range values saturate; int to int wraps; to a float rounds to
 * nearest even.
 */
export function castValue(from: Dtype, to: Dtype, x: number): number {
  if (to === 'bool') return b01(x !== 0);
  if (isFloat(from) && isInt(to)) {
    if (Number.isNaN(x)) return 0;
    const [lo, hi] = intRange(to);
    return roundTo(to, Math.min(hi, Math.max(lo, Math.trunc(x))));
  }
  return roundTo(to, x);
}

export function cast(x: HostTensor, to: Dtype): HostTensor {
  return { dtype: to, shape: [...x.shape], data: x.data.map((v) => castValue(x.dtype, to, v)) };
}

// ---------- reductions, selection ----------

/**
 * Sum or max over `axes`. An empty sum is 0; an empty max is -inf for floats and the
 * dtype's smallest value for integers and bool. Max propagates NaN.
 */
export function reduce(
  x: HostTensor,
  fn: 'sum' | 'max',
  axes: readonly number[],
  keepdim: boolean,
  shape: readonly number[],
): HostTensor {
  const lowest = isFloat(x.dtype) ? -Infinity : x.dtype === 'bool' ? 0 : intRange(x.dtype)[0];
  const data = new Float64Array(shapeSize(shape)).fill(fn === 'sum' ? 0 : lowest);
  const ost = strides(shape);
  forEachIndex(x.shape, (idx, flat) => {
    const o = keepdim ? idx.map((v, i) => (axes.includes(i) ? 0 : v)) : idx.filter((_, i) => !axes.includes(i));
    const at = flatAt(ost, o);
    const v = x.data[flat]!;
    data[at] = fn === 'sum' ? data[at]! + v : Math.max(data[at]!, v);
  });
  return result(x.dtype, shape, data);
}

/** Descending order with NaN above everything (as PyTorch's topk); 0 for ties. */
const desc = (a: number, b: number): number =>
  Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a > b ? -1 : a < b ? 1 : 0;

/** The k largest along `axis`, sorted descending, ties by lower index; indices as i32. */
export function topk(x: HostTensor, k: number, axis: number, output: 'values' | 'indices', shape: readonly number[]) {
  const n = x.shape[axis]!;
  if (k > n) throw new EvalError(`topk: k = ${k} is larger than the axis (${n})`);
  const [st, ost] = [strides(x.shape), strides(shape)];
  const data = new Float64Array(shapeSize(shape));
  forEachIndex(
    x.shape.map((d, i) => (i === axis ? 1 : d)),
    (idx) => {
      const [base, obase] = [flatAt(st, idx), flatAt(ost, idx)];
      const v = (i: number): number => x.data[base + i * st[axis]!]!;
      const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => desc(v(i), v(j)) || i - j);
      for (let r = 0; r < k; r++) data[obase + r * ost[axis]!] = output === 'values' ? v(order[r]!) : order[r]!;
    },
  );
  return result(output === 'values' ? x.dtype : 'i32', shape, data);
}

/** NumPy take along `axis`; indices are clamped to [0, n - 1]. */
export function gather(x: HostTensor, idx: HostTensor, axis: number, shape: readonly number[]): HostTensor {
  const n = x.shape[axis]!;
  const data = new Float64Array(shapeSize(shape));
  if (data.length > 0 && n === 0) throw new EvalError('gather: indexing an empty axis');
  const [st, ist, r] = [strides(x.shape), strides(idx.shape), idx.shape.length];
  forEachIndex(shape, (o, flat) => {
    const t = Math.min(n - 1, Math.max(0, idx.data[flatAt(ist, o.slice(axis, axis + r))]!));
    data[flat] = x.data[flatAt(st, [...o.slice(0, axis), t, ...o.slice(axis + r)])]!;
  });
  return result(x.dtype, shape, data);
}

/** out = x, then out[i.., idx[j..], k..] += src[i.., j.., k..]; out-of-range indices are dropped. */
export function scatterAdd(x: HostTensor, idx: HostTensor, src: HostTensor, axis: number): HostTensor {
  const n = x.shape[axis]!;
  const data = x.data.slice();
  const [st, ist, r] = [strides(x.shape), strides(idx.shape), idx.shape.length];
  forEachIndex(src.shape, (s, flat) => {
    const t = idx.data[flatAt(ist, s.slice(axis, axis + r))]!;
    if (t < 0 || t >= n) return;
    const at = flatAt(st, [...s.slice(0, axis), t, ...s.slice(axis + r)]);
    data[at] = isInt(x.dtype) ? intBinary('add', x.dtype, data[at]!, src.data[flat]!) : data[at]! + src.data[flat]!;
  });
  return result(x.dtype, x.shape, data);
}
