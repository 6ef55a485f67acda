// Kernels of the reference interpreter: one function per primitive op, on concrete host
// tensors and concrete arguments (the driver in interp.ts evaluates symbolic dims first).
// Floats are computed in float64 and written for obviousness, not speed; these kernels do not
// round float results to their dtype (the driver does, in its default precision 'dtype').
// Integer and bool results are wrapped to their dtype with roundTo; i64 is computed exactly
// in bigint on the tensors' `exact` values (HostTensor.exact) and wraps at 2^63 as C does.

import { type Dtype, isFloat, isInt } from './dtype.js';
import { type BinaryFn, type UnaryFn, isCompare } from './ops.js';
import { type HostTensor, I64_MAX, I64_MIN, i64FromNumber, i64Of, i64Tensor, roundTo, shapeSize } from './value.js';

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

/**
 * A tensor; integer and bool elements are wrapped to the dtype, float ones kept as computed.
 * An i64 one gets exact values from its doubles (which must be exact: small integers).
 */
export function result(dtype: Dtype, shape: readonly number[], data: Float64Array): HostTensor {
  if (!isFloat(dtype)) for (let i = 0; i < data.length; i++) data[i] = roundTo(dtype, data[i]!);
  const t = { dtype, shape: [...shape], data };
  return dtype === 'i64' ? i64Tensor(shape, i64Of(t)) : t;
}

/** `t`'s values moved as `src` says: out[i] = t[src[i]], or `fill` where src[i] < 0. Carries i64 exact values. */
function moved(t: HostTensor, shape: readonly number[], src: Int32Array | Float64Array, fill = 0): HostTensor {
  const n = src.length;
  if (t.dtype === 'i64') {
    const [e, out, f] = [i64Of(t), new BigInt64Array(n), i64FromNumber(fill)];
    for (let i = 0; i < n; i++) out[i] = src[i]! < 0 ? f : e[src[i]!]!;
    return i64Tensor(shape, out);
  }
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = src[i]! < 0 ? fill : t.data[src[i]!]!;
  return { dtype: t.dtype, shape: [...shape], data };
}

/** How far `t`'s flat position moves per step along each axis of a rank-`rank` shape it broadcasts to (NumPy: aligned right, size-1 dims repeat: 0). */
function broadcastSteps(t: HostTensor, rank: number): number[] {
  const st = strides(t.shape);
  const off = rank - t.shape.length;
  const out = new Array<number>(rank).fill(0);
  for (let i = 0; i < t.shape.length; i++) if (t.shape[i] !== 1) out[off + i] = st[i]!;
  return out;
}

/**
 * Calls `row(flat, len, at, step)` for each run of the output's last axis: `len` elements from
 * output position `flat`, input k read from position at[k] moving by step[k] (0 where it
 * broadcasts). Inputs of the output's own size (or scalars) make one run of all of it.
 */
function forEachRow(
  shape: readonly number[],
  ins: readonly HostTensor[],
  row: (flat: number, len: number, at: readonly number[], step: readonly number[]) => void,
): void {
  const n = shapeSize(shape);
  if (n === 0) return;
  const at: number[] = ins.map(() => 0);
  if (ins.every((t) => t.data.length === n || t.data.length === 1))
    return row(
      0,
      n,
      at,
      ins.map((t) => (t.data.length === 1 ? 0 : 1)),
    );
  const rank = shape.length;
  const last = rank - 1;
  const steps = ins.map((t) => broadcastSteps(t, rank));
  const inner = steps.map((s) => s[last]!);
  const idx = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < n; flat += shape[last]!) {
    row(flat, shape[last]!, at, inner);
    for (let d = last - 1; d >= 0; d--) {
      idx[d]!++;
      for (let k = 0; k < ins.length; k++) at[k]! += steps[k]![d]!;
      if (idx[d]! < shape[d]!) break;
      for (let k = 0; k < ins.length; k++) at[k]! -= steps[k]![d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** f(a, b) of each (broadcast) pair of elements, as a tensor of `shape` and `dtype`. */
function map2(
  dtype: Dtype,
  shape: readonly number[],
  a: HostTensor,
  b: HostTensor,
  f: (x: number, y: number) => number,
) {
  const data = new Float64Array(shapeSize(shape));
  const [A, B] = [a.data, b.data];
  forEachRow(shape, [a, b], (flat, len, at, step) => {
    const [si, sj] = [step[0]!, step[1]!];
    for (let e = flat, i = at[0]!, j = at[1]!; e < flat + len; e++, i += si, j += sj) data[e] = f(A[i]!, B[j]!);
  });
  return result(dtype, shape, data);
}

/** c ? a : b of each (broadcast) triple of elements. */
function select(dtype: Dtype, shape: readonly number[], c: HostTensor, a: HostTensor, b: HostTensor) {
  const data = new Float64Array(shapeSize(shape));
  const [C, A, B] = [c.data, a.data, b.data];
  forEachRow(shape, [c, a, b], (flat, len, at, step) => {
    const [sk, si, sj] = [step[0]!, step[1]!, step[2]!];
    for (let e = flat, k = at[0]!, i = at[1]!, j = at[2]!; e < flat + len; e++, k += sk, i += si, j += sj)
      data[e] = C[k] !== 0 ? A[i]! : B[j]!;
  });
  return result(dtype, shape, data);
}

/** elementwise on the exact values of i64 operands; `f` gives a bigint (an i64 result, wrapped) or a number (bool). */
function elementwiseI64(
  dtype: Dtype,
  shape: readonly number[],
  ins: readonly HostTensor[],
  f: (v: bigint[]) => bigint | number,
): HostTensor {
  const n = shapeSize(shape);
  const exact = ins.map((t) => (t.dtype === 'i64' ? i64Of(t) : BigInt64Array.from(t.data, i64FromNumber)));
  const [big, data] = [new BigInt64Array(dtype === 'i64' ? n : 0), new Float64Array(dtype === 'i64' ? 0 : n)];
  const v: bigint[] = ins.map(() => 0n);
  forEachRow(shape, ins, (flat, len, at, step) => {
    const pos = [...at];
    for (let e = flat; e < flat + len; e++) {
      for (let k = 0; k < ins.length; k++) {
        v[k] = exact[k]![pos[k]!]!;
        pos[k]! += step[k]!;
      }
      const r = f(v);
      if (dtype === 'i64') big[e] = BigInt.asIntN(64, r as bigint);
      else data[e] = Number(r);
    }
  });
  return dtype === 'i64' ? i64Tensor(shape, big) : result(dtype, shape, data);
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
  const src = new Float64Array(shapeSize(shape));
  forEachIndex(shape, (o, flat) => {
    const i = at(o);
    src[flat] = i === undefined ? -1 : flatAt(st, i);
  });
  return moved(x, shape, src, fill);
}

/**
 * The source positions of an affine layout: base + Σ_j o[j]·step[j] for every index o of
 * `shape` in row-major order, carried along as o counts up (no index array per element).
 * Int32 when every position of a source of `sourceLength` elements fits.
 */
export function affinePositions(
  shape: readonly number[],
  base: number,
  step: readonly number[],
  sourceLength: number,
): Int32Array | Float64Array {
  const n = shapeSize(shape);
  const rank = shape.length;
  const src = sourceLength < 2 ** 31 ? new Int32Array(n) : new Float64Array(n);
  const idx = new Array<number>(rank).fill(0);
  let p = base;
  for (let flat = 0; flat < n; flat++) {
    src[flat] = p;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      p += step[d]!;
      if (idx[d]! < shape[d]!) break;
      p -= step[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return src;
}

/** An affine layout op, out[o] = x[base + Σ_j o[j]·step[j]]: permute, expand, slice and window. */
export function remapAffine(
  x: HostTensor,
  shape: readonly number[],
  base: number,
  step: readonly number[],
): HostTensor {
  return moved(x, shape, affinePositions(shape, base, step, x.data.length));
}

/** Concatenation along `axis`. */
export function concat(xs: readonly HostTensor[], axis: number, shape: readonly number[]): HostTensor {
  const ost = strides(shape);
  // Positions in the operands laid end to end, then moved as one tensor.
  const src = new Float64Array(shapeSize(shape));
  let [offset, base] = [0, 0];
  for (const x of xs) {
    forEachIndex(x.shape, (i, flat) => {
      src[
        flatAt(
          ost,
          i.map((v, k) => (k === axis ? v + offset : v)),
        )
      ] = base + flat;
    });
    offset += x.shape[axis]!;
    base += x.data.length;
  }
  const dtype = xs[0]!.dtype;
  const all: HostTensor =
    dtype === 'i64'
      ? i64Tensor(
          [base],
          concatArrays(xs.map(i64Of), (n) => new BigInt64Array(n)),
        )
      : {
          dtype,
          shape: [base],
          data: concatArrays(
            xs.map((x) => x.data),
            (n) => new Float64Array(n),
          ),
        };
  return moved(all, shape, src);
}

function concatArrays<A extends Float64Array | BigInt64Array>(parts: readonly A[], make: (n: number) => A): A {
  const out = make(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    (out as Float64Array).set(p as Float64Array, at);
    at += p.length;
  }
  return out;
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

/** neg and abs on i64, wrapping (-INT64_MIN = INT64_MIN); the other functions do not apply to integers. */
const I64_UNARY: Partial<Record<UnaryFn, (x: bigint) => bigint>> = {
  neg: (x) => -x,
  abs: (x) => (x < 0n ? -x : x),
  floor: (x) => x,
};

export function unary(fn: UnaryFn, x: HostTensor): HostTensor {
  const big = I64_UNARY[fn];
  if (x.dtype === 'i64' && big) return elementwiseI64('i64', x.shape, [x], ([v]) => big(v!));
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

/** Every binary function on exact i64 values: arithmetic wrapped to 64 bits, comparisons as 0/1. */
export function i64Binary(fn: BinaryFn, a: bigint, b: bigint): bigint {
  const f = INT_ARITH[fn];
  if (f) return BigInt.asIntN(64, f(a, b, 64));
  const c = (x: boolean): bigint => (x ? 1n : 0n);
  switch (fn) {
    case 'max':
      return a > b ? a : b;
    case 'min':
      return a < b ? a : b;
    case 'eq':
      return c(a === b);
    case 'ne':
      return c(a !== b);
    case 'lt':
      return c(a < b);
    case 'le':
      return c(a <= b);
    case 'gt':
      return c(a > b);
    case 'ge':
      return c(a >= b);
    case 'and':
      return c(a !== 0n && b !== 0n);
    case 'or':
      return c(a !== 0n || b !== 0n);
    default:
      throw new Error(`no i64 '${fn}'`);
  }
}

export function binary(fn: BinaryFn, a: HostTensor, b: HostTensor, shape: readonly number[]): HostTensor {
  const dtype = isCompare(fn) ? 'bool' : a.dtype;
  if (a.dtype === 'i64') return elementwiseI64(dtype, shape, [a, b], ([x, y]) => i64Binary(fn, x!, y!));
  const f = isInt(a.dtype) ? (x: number, y: number) => intBinary(fn, a.dtype, x, y) : FLOAT_BINARY[fn];
  return map2(dtype, shape, a, b, f);
}

export function where(c: HostTensor, a: HostTensor, b: HostTensor, shape: readonly number[]): HostTensor {
  if (a.dtype === 'i64') return elementwiseI64('i64', shape, [c, a, b], ([k, x, y]) => (k !== 0n ? x! : y!));
  return select(a.dtype, shape, c, a, b);
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

/** castValue from an exact i64: to a float rounds once (as C's conversion does), to a narrower int wraps. */
export function castFromI64(to: Dtype, v: bigint): number {
  if (to === 'bool') return b01(v !== 0n);
  if (isInt(to)) return Number(BigInt.asIntN(INT_BITS[to]!, v));
  return roundTo(to, roundToOdd(v));
}

/**
 * v as a float64 rounded to odd (toward zero, the last bit set when inexact): rounding that to
 * a float of at most 51 bits of significand is the correctly rounded v, with no double rounding.
 */
function roundToOdd(v: bigint): number {
  const d = Number(v);
  if (BigInt(d) === v) return d;
  const b = new Float64Array([d]);
  const bits = new BigUint64Array(b.buffer);
  // One step toward zero when Number rounded away from it (|d| > |v|; v is not 0 here).
  if (v < 0n ? BigInt(d) < v : BigInt(d) > v) bits[0] = bits[0]! - 1n;
  bits[0] = bits[0]! | 1n;
  return b[0]!;
}

/** castValue into i64: floats truncate and saturate, NaN gives 0; integers and bool as they are. */
const castToI64 = (x: number): bigint =>
  Number.isNaN(x) ? 0n : x >= 2 ** 63 ? I64_MAX : x <= -(2 ** 63) ? I64_MIN : BigInt(Math.trunc(x));

export function cast(x: HostTensor, to: Dtype): HostTensor {
  if (x.dtype === 'i64') {
    const e = i64Of(x);
    if (to === 'i64') return i64Tensor(x.shape, e.slice());
    return { dtype: to, shape: [...x.shape], data: Float64Array.from(e, (v) => castFromI64(to, v)) };
  }
  if (to === 'i64') return i64Tensor(x.shape, BigInt64Array.from(x.data, castToI64));
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
  const ost = strides(shape);
  const outAt = (idx: readonly number[]): number =>
    flatAt(ost, keepdim ? idx.map((v, i) => (axes.includes(i) ? 0 : v)) : idx.filter((_, i) => !axes.includes(i)));
  if (x.dtype === 'i64') {
    const [e, acc] = [i64Of(x), new BigInt64Array(shapeSize(shape)).fill(fn === 'sum' ? 0n : I64_MIN)];
    forEachIndex(x.shape, (idx, flat) => {
      const [at, v] = [outAt(idx), e[flat]!];
      acc[at] = fn === 'sum' ? BigInt.asIntN(64, acc[at]! + v) : acc[at]! > v ? acc[at]! : v;
    });
    return i64Tensor(shape, acc);
  }
  const data = new Float64Array(shapeSize(shape)).fill(fn === 'sum' ? 0 : lowest);
  forEachIndex(x.shape, (idx, flat) => {
    const at = outAt(idx);
    const v = x.data[flat]!;
    data[at] = fn === 'sum' ? data[at]! + v : Math.max(data[at]!, v);
  });
  return result(x.dtype, shape, data);
}

/**
 * Prefix sums along `axis`: out[i] = x[0] + ... + x[i], or up to x[i - 1] (`exclusive`, 0
 * first), or from the end (`reverse`). With `rounded`, each float partial sum is rounded to
 * f32 before the next add (floats accumulate in f32, as C and ONNX Runtime do; the driver
 * rounds the outputs to their dtype); integer sums wrap, i64 ones exactly.
 */
export function cumsum(x: HostTensor, axis: number, exclusive: boolean, reverse: boolean, rounded = false) {
  const [n, st] = [x.shape[axis]!, strides(x.shape)];
  const exact = x.dtype === 'i64' ? [i64Of(x), new BigInt64Array(x.data.length)] : undefined;
  const data = new Float64Array(x.data.length);
  const add = isInt(x.dtype)
    ? (a: number, b: number) => intBinary('add', x.dtype, a, b)
    : (a: number, b: number) => (rounded ? Math.fround(a + b) : a + b);
  forEachIndex(
    x.shape.map((d, i) => (i === axis ? 1 : d)),
    (idx) => {
      const base = flatAt(st, idx);
      let [acc, big] = [0, 0n];
      for (let j = 0; j < n; j++) {
        const at = base + (reverse ? n - 1 - j : j) * st[axis]!;
        if (exact) {
          const next = BigInt.asIntN(64, big + exact[0]![at]!);
          exact[1]![at] = exclusive ? big : next;
          big = next;
        } else {
          const next = add(acc, x.data[at]!);
          data[at] = exclusive ? acc : next;
          acc = next;
        }
      }
    },
  );
  return exact ? i64Tensor(x.shape, exact[1]!) : result(x.dtype, x.shape, data);
}

/** Descending order with NaN above everything (as PyTorch's topk); 0 for ties. */
const desc = (a: number, b: number): number =>
  Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a > b ? -1 : a < b ? 1 : 0;

/** The k largest along `axis`, sorted descending, ties by lower index; indices as i32. */
export function topk(x: HostTensor, k: number, axis: number, output: 'values' | 'indices', shape: readonly number[]) {
  const n = x.shape[axis]!;
  if (k > n) throw new EvalError(`topk: k = ${k} is larger than the axis (${n})`);
  const [st, ost] = [strides(x.shape), strides(shape)];
  // Positions in x of the chosen elements; the values are then moved (i64 ones exactly).
  const src = new Float64Array(shapeSize(shape));
  const exact = x.dtype === 'i64' ? i64Of(x) : undefined;
  forEachIndex(
    x.shape.map((d, i) => (i === axis ? 1 : d)),
    (idx) => {
      const [base, obase] = [flatAt(st, idx), flatAt(ost, idx)];
      const at = (i: number): number => base + i * st[axis]!;
      const cmp = exact
        ? (i: number, j: number) => (exact[at(i)]! > exact[at(j)]! ? -1 : exact[at(i)]! < exact[at(j)]! ? 1 : 0)
        : (i: number, j: number) => desc(x.data[at(i)]!, x.data[at(j)]!);
      const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => cmp(i, j) || i - j);
      for (let r = 0; r < k; r++) src[obase + r * ost[axis]!] = output === 'values' ? at(order[r]!) : order[r]!;
    },
  );
  return output === 'values' ? moved(x, shape, src) : result('i32', shape, src);
}

/** NumPy take along `axis`; indices are clamped to [0, n - 1]. */
export function gather(x: HostTensor, idx: HostTensor, axis: number, shape: readonly number[]): HostTensor {
  const n = x.shape[axis]!;
  const src = new Float64Array(shapeSize(shape));
  if (src.length > 0 && n === 0) throw new EvalError('gather: indexing an empty axis');
  const [st, ist, r] = [strides(x.shape), strides(idx.shape), idx.shape.length];
  forEachIndex(shape, (o, flat) => {
    const t = Math.min(n - 1, Math.max(0, idx.data[flatAt(ist, o.slice(axis, axis + r))]!));
    src[flat] = flatAt(st, [...o.slice(0, axis), t, ...o.slice(axis + r)]);
  });
  return moved(x, shape, src);
}

/**
 * out = x, then out[i.., idx[j..], k..] += src[i.., j.., k..] in row-major order of src;
 * out-of-range indices are dropped. With `rounded`, each float add is rounded to the dtype
 * (as C stores between adds); i64 adds are exact and wrap.
 */
export function scatterAdd(x: HostTensor, idx: HostTensor, src: HostTensor, axis: number, rounded = false): HostTensor {
  const n = x.shape[axis]!;
  const [st, ist, r] = [strides(x.shape), strides(idx.shape), idx.shape.length];
  const each = (add: (at: number, flat: number) => void): void =>
    forEachIndex(src.shape, (s, flat) => {
      const t = idx.data[flatAt(ist, s.slice(axis, axis + r))]!;
      if (t >= 0 && t < n) add(flatAt(st, [...s.slice(0, axis), t, ...s.slice(axis + r)]), flat);
    });
  if (x.dtype === 'i64') {
    const [out, e] = [i64Of(x).slice(), i64Of(src)];
    each((at, flat) => (out[at] = BigInt.asIntN(64, out[at]! + e[flat]!)));
    return i64Tensor(x.shape, out);
  }
  const data = x.data.slice();
  const add = isInt(x.dtype)
    ? (a: number, b: number) => intBinary('add', x.dtype, a, b)
    : rounded
      ? (a: number, b: number) => roundTo(x.dtype, a + b)
      : (a: number, b: number) => a + b;
  each((at, flat) => (data[at] = add(data[at]!, src.data[flat]!)));
  return result(x.dtype, x.shape, data);
}
