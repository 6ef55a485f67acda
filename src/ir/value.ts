// Host tensors as the reference interpreter, initializers and weight files see them: every
// element as a float64, always holding a value representable in the tensor's dtype. An i64
// tensor may also carry its exact values (`exact`), since a float64 holds integers exactly
// only within ±2^53; its `data` then holds the nearest float64 of each.

import type { Dtype } from './dtype.js';

/** `[2, 3]` in a message, a long shape cut short: `[1, 1, 1, 1, 1, 1, 1, 1, … (100001 dims)]`. */
export function showDims(shape: readonly number[]): string {
  const dims = shape.length > 8 ? [...shape.slice(0, 8), `… (${shape.length} dims)`] : shape;
  return `[${dims.join(', ')}]`;
}

/** `f32[2, 3]` in a message, a long shape cut short (showDims). */
export const showShape = (dtype: Dtype, shape: readonly number[]): string => `${dtype}${showDims(shape)}`;

export interface HostTensor {
  readonly dtype: Dtype;
  /** Concrete dims, row-major. */
  readonly shape: readonly number[];
  /** Elements in row-major order; each one is exactly representable in `dtype`. */
  readonly data: Float64Array;
  /**
   * i64 only, optional: the exact values, of which `data` holds the nearest float64s. Without
   * it an i64 tensor's values are its `data`'s (see i64Of). The interpreter sets it on every
   * i64 value it computes; the safetensors reader on every I64 tensor it reads.
   */
  readonly exact?: BigInt64Array;
}

/**
 * The stored bytes of host tensors whose values nobody has read yet (runtime/safetensors-codec.ts's
 * storedTensor, which sets and clears them): little-endian elements in the safetensors width of
 * their dtype (i4 one value a byte). The runtime's weight buffers and the ONNX export take them
 * as they are instead of decoding them to float64s.
 */
export const STORED_BYTES = new WeakMap<HostTensor, Uint8Array>();

/** `t`'s stored bytes while nobody has read its values, else undefined (STORED_BYTES). */
export const storedBytes = (t: HostTensor): Uint8Array | undefined => STORED_BYTES.get(t);

export const I64_MIN = -(1n << 63n);
export const I64_MAX = (1n << 63n) - 1n;

/** The i64 a float64 stands for: truncated toward zero, saturated (2^63 is INT64_MAX's nearest float64), NaN and ±Inf as 0. */
export function i64FromNumber(x: number): bigint {
  if (!Number.isFinite(x)) return 0n;
  if (x >= 2 ** 63) return I64_MAX;
  if (x <= -(2 ** 63)) return I64_MIN;
  return BigInt(Math.trunc(x));
}

/** The exact values of an i64 tensor: its `exact` when present, else its float64 values as i64s. */
export function i64Of(t: HostTensor): BigInt64Array {
  if (t.exact && t.exact.length === t.data.length) return t.exact;
  const out = new BigInt64Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = i64FromNumber(t.data[i]!);
  return out;
}

/** An i64 host tensor of exact values (`data` holds their nearest float64s). */
export function i64Tensor(shape: readonly number[], exact: BigInt64Array): HostTensor {
  const data = new Float64Array(exact.length);
  for (let i = 0; i < data.length; i++) data[i] = Number(exact[i]!);
  return { dtype: 'i64', shape: [...shape], data, exact };
}

export const shapeSize = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function hostTensor(
  dtype: Dtype,
  shape: readonly number[],
  data?: Float64Array | readonly number[],
): HostTensor {
  const n = shapeSize(shape);
  const d = data === undefined ? new Float64Array(n) : Float64Array.from(data);
  if (d.length !== n) throw new RangeError(`${d.length} values for shape ${showDims(shape)}`);
  for (let i = 0; i < n; i++) d[i] = roundTo(dtype, d[i]!);
  return { dtype, shape: [...shape], data: d };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bits of the f32 nearest to x. */
export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0]!;
}
export function bitsToF32(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0]!;
}

/** bf16 bits of x, rounded to nearest even (NaN stays a quiet NaN). */
export function bf16Bits(x: number): number {
  const b = f32Bits(x);
  if (Number.isNaN(x)) return ((b >>> 16) | 0x40) & 0xffff;
  const lsb = (b >>> 16) & 1;
  return ((b + 0x7fff + lsb) >>> 16) & 0xffff;
}
export const bitsToBf16 = (bits: number): number => bitsToF32((bits & 0xffff) << 16);

/** IEEE binary16 bits of x, rounded to nearest even, with subnormals and overflow to ±Inf. */
export function f16Bits(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (Number.isNaN(x)) return 0x7e00;
  if (a >= 65520) return sign | 0x7c00; // rounds to Inf
  if (a < 2 ** -24 * 0.5) return sign; // rounds to zero (ties to even: exactly half goes to 0)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--; // guard log2 rounding
  if (2 ** (e + 1) <= a) e++;
  if (e < -14) {
    // subnormal: units of 2^-24
    const m = roundEven(a / 2 ** -24);
    return sign | m; // m may reach 1024, which is the smallest normal: still correct bits
  }
  let m = roundEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}
export function bitsToF16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

function roundEven(x: number): number {
  const f = Math.floor(x);
  const r = x - f;
  if (r > 0.5) return f + 1;
  if (r < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

const INT_RANGE: Partial<Record<Dtype, number>> = { i4: 4, i8: 8, i32: 32 };

/**
 * x as the dtype stores it: floats rounded to nearest even; integers truncated toward zero
 * and wrapped to their width (two's complement), except i64, which as a float64 is only
 * saturated to ±2^63 (exact i64 arithmetic is in bigint: see HostTensor.exact); bool is 0 or
 * 1. NaN becomes 0 for integers.
 */
export function roundTo(dtype: Dtype, x: number): number {
  switch (dtype) {
    case 'f32':
      return Math.fround(x);
    case 'f16':
      return bitsToF16(f16Bits(x));
    case 'bf16':
      return bitsToBf16(bf16Bits(x));
    case 'bool':
      return x !== 0 && !Number.isNaN(x) ? 1 : 0;
    case 'i64':
      return Number.isFinite(x) ? Math.min(2 ** 63, Math.max(-(2 ** 63), Math.trunc(x))) + 0 : 0;
    default: {
      if (!Number.isFinite(x)) return 0;
      const bits = INT_RANGE[dtype]!;
      const m = 2 ** bits;
      let v = Math.trunc(x) % m;
      if (v < 0) v += m;
      return (v >= m / 2 ? v - m : v) + 0;
    }
  }
}
