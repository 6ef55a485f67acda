// The parts of safetensors.ts shared by its reader and writer: the error class, dtypes and their
// little-endian element encodings, and message helpers.

import type { Dtype } from '../ir/dtype.js';
import {
  type HostTensor,
  STORED_BYTES,
  bf16Bits,
  bitsToBf16,
  bitsToF16,
  f16Bits,
  roundTo,
  shapeSize,
  storedBytes,
} from '../ir/value.js';

/** The format's own limit on the header's size. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/**
 * A malformed file, or tensors that cannot be written. `message` is one line:
 * `<file>: safetensors: <detail>` when the file is known, else `safetensors: <detail>`.
 */
export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
  /** The message without the file prefix. */
  readonly detail: string;
  readonly file: string | undefined;
  constructor(detail: string, file?: string, options?: ErrorOptions) {
    super(file === undefined ? detail : `${file}: ${detail}`, options);
    this.detail = detail;
    this.file = file;
  }
}

/** A name in a message: quoted, escaped, at most ~80 characters. */
export const quote = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);

/** Matches strings that are not well-formed Unicode (the reference implementation rejects them). */
export const LONE_SURROGATE = /\p{Cs}/u;

/** safetensors dtype names fmc reads, and the fmc dtype each becomes. */
export const DTYPE_FROM_ST: ReadonlyMap<string, Dtype> = new Map<string, Dtype>([
  ['F32', 'f32'],
  ['F16', 'f16'],
  ['BF16', 'bf16'],
  ['I8', 'i8'],
  ['I32', 'i32'],
  ['I64', 'i64'],
  ['BOOL', 'bool'],
]);

/** The safetensors dtype fmc writes for each dtype: `i4` has none and is written as I8, one value a byte. */
export const DTYPE_TO_ST: Readonly<Record<Dtype, string>> = {
  f32: 'F32',
  f16: 'F16',
  bf16: 'BF16',
  i8: 'I8',
  i4: 'I8',
  i32: 'I32',
  i64: 'I64',
  bool: 'BOOL',
};

/** Other dtypes the safetensors format defines, which fmc does not read. */
export const UNSUPPORTED_ST_DTYPES: ReadonlySet<string> = new Set([
  'F64',
  'U8',
  'I16',
  'U16',
  'U32',
  'U64',
  'C64',
  'F8_E4M3',
  'F8_E5M2',
  'F8_E8M0',
  'F6_E2M3',
  'F6_E3M2',
  'F4',
]);

const I64_MAX = (1n << 63n) - 1n;

/** Bytes per element in a file (`i4` as I8). */
export const ST_ELEMENT_BYTES: Readonly<Record<Dtype, number>> = {
  f32: 4,
  f16: 2,
  bf16: 2,
  i8: 1,
  i4: 1,
  i32: 4,
  i64: 8,
  bool: 1,
};

/**
 * Decodes `out.length` elements of `dtype` from `view` at byte `at`. Returns the index of
 * the first BOOL byte that is neither 0 nor 1, or -1. I64 values beyond ±2^53 are rounded
 * to the nearest float64.
 */
export function decodeInto(view: DataView, at: number, dtype: Dtype, out: Float64Array): number {
  const n = out.length;
  switch (dtype) {
    case 'f32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, true);
      break;
    case 'f16':
      for (let i = 0; i < n; i++) out[i] = bitsToF16(view.getUint16(at + 2 * i, true));
      break;
    case 'bf16':
      for (let i = 0; i < n; i++) out[i] = bitsToBf16(view.getUint16(at + 2 * i, true));
      break;
    case 'i8':
    case 'i4':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(at + i);
      break;
    case 'i32':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(at + 4 * i, true);
      break;
    case 'i64':
      for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(at + 8 * i, true));
      break;
    case 'bool':
      for (let i = 0; i < n; i++) {
        const b = view.getUint8(at + i);
        if (b > 1) return i;
        out[i] = b;
      }
      break;
  }
  return -1;
}

/**
 * Encodes `data` as `dtype` into `view` at byte `at`, each value first rounded as `roundTo`
 * does (integers truncate and wrap), except that I64 saturates beyond its range.
 */
export function encodeInto(view: DataView, at: number, dtype: Dtype, data: ArrayLike<number>): void {
  const n = data.length;
  switch (dtype) {
    case 'f32':
      for (let i = 0; i < n; i++) view.setFloat32(at + 4 * i, data[i]!, true);
      break;
    case 'f16':
      for (let i = 0; i < n; i++) view.setUint16(at + 2 * i, f16Bits(data[i]!), true);
      break;
    case 'bf16':
      for (let i = 0; i < n; i++) view.setUint16(at + 2 * i, bf16Bits(data[i]!), true);
      break;
    case 'i8':
    case 'i4':
      for (let i = 0; i < n; i++) view.setInt8(at + i, roundTo(dtype, data[i]!));
      break;
    case 'i32':
      for (let i = 0; i < n; i++) view.setInt32(at + 4 * i, roundTo('i32', data[i]!), true);
      break;
    case 'i64':
      for (let i = 0; i < n; i++) {
        // Saturate rather than wrap: INT64_MAX reads as 2^63, which must write back as INT64_MAX.
        const v = BigInt(roundTo('i64', data[i]!));
        view.setBigInt64(at + 8 * i, v > I64_MAX ? I64_MAX : v < -I64_MAX - 1n ? -I64_MAX - 1n : v, true);
      }
      break;
    case 'bool':
      for (let i = 0; i < n; i++) view.setUint8(at + i, roundTo('bool', data[i]!));
      break;
  }
}

/**
 * A host tensor over `bytes`, its elements in the safetensors encoding of `dtype` (little-endian;
 * i4 one value a byte, as the runtime's Tensor stores them too), which must hold valid values
 * (BOOL bytes 0 or 1). `data` (and an i64 tensor's `exact`) are decoded on first use, so a
 * tensor that only goes on to the runtime's weight buffers never takes 8 bytes an element.
 */
export function storedTensor(dtype: Dtype, shape: readonly number[], bytes: Uint8Array): HostTensor {
  const count = bytes.length / ST_ELEMENT_BYTES[dtype];
  let data: Float64Array | undefined;
  let exact: BigInt64Array | undefined;
  const view = (): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const t = {} as HostTensor;
  const values = (): Float64Array => {
    if (!data) {
      // Whoever reads the values may change them: from now on they, not the bytes, are the tensor.
      STORED_BYTES.delete(t);
      data = new Float64Array(count);
      decodeInto(view(), 0, dtype, data);
    }
    return data;
  };
  Object.defineProperties(t, {
    dtype: { value: dtype, enumerable: true },
    shape: { value: [...shape], enumerable: true },
    data: { get: values, enumerable: true },
  });
  if (dtype === 'i64')
    Object.defineProperty(t, 'exact', {
      enumerable: true,
      get: (): BigInt64Array => {
        if (!exact) {
          values();
          exact = new BigInt64Array(count);
          const v = view();
          for (let i = 0; i < count; i++) exact[i] = v.getBigInt64(8 * i, true);
        }
        return exact;
      },
    });
  STORED_BYTES.set(t, bytes);
  return t;
}

/** The bytes of a storedTensor while nobody has read its values (ir/value.ts). */
export { storedBytes };

/**
 * Writes `t`'s elements into `out` in the safetensors encoding of its dtype (which is also the
 * runtime's storage): a storedTensor's bytes as they are, an i64 tensor's `exact` values when
 * it has them, else its float64s as encodeInto converts them. `out` holds exactly the tensor.
 */
export function storeInto(t: HostTensor, out: Uint8Array): void {
  const stored = storedBytes(t);
  if (stored) return out.set(stored);
  const n = shapeSize(t.shape);
  if (t.dtype === 'f32' && out.byteOffset % 4 === 0) return new Float32Array(out.buffer, out.byteOffset, n).set(t.data);
  if (t.dtype === 'i64' && t.exact instanceof BigInt64Array && t.exact.length === n && out.byteOffset % 8 === 0)
    return new BigInt64Array(out.buffer, out.byteOffset, n).set(t.exact);
  encodeInto(new DataView(out.buffer, out.byteOffset, out.byteLength), 0, t.dtype, t.data);
}

/**
 * `t` held as a storedTensor: its values in its dtype's storage (4 bytes an f32 rather than 8),
 * decoded again if they are read. For weights on their way to the runtime's buffers.
 */
export function toStored(t: HostTensor): HostTensor {
  if (storedBytes(t)) return t;
  const bytes = new Uint8Array(shapeSize(t.shape) * ST_ELEMENT_BYTES[t.dtype]);
  storeInto(t, bytes);
  return storedTensor(t.dtype, t.shape, bytes);
}
