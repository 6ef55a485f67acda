// The Tensor of the TypeScript API, shaped like onnxruntime-common's: `dtype`, `dims`,
// `data` (a typed array of the dtype's storage), `size`, and `dispose()` /
// `Symbol.dispose` to let go of the data early. f16 and bf16 hold raw bits (Uint16Array),
// i4 one value per byte (Int8Array), bool 0/1 (Uint8Array), i64 a BigInt64Array.

import type { Dtype } from '../ir/dtype.js';
import { DTYPES, isFloat } from '../ir/dtype.js';
import { ST_ELEMENT_BYTES } from './safetensors-codec.js';
import { type HostTensor, bf16Bits, bitsToBf16, bitsToF16, f16Bits, roundTo, shapeSize } from '../ir/value.js';

export interface DataTypes {
  f32: Float32Array;
  f16: Uint16Array;
  bf16: Uint16Array;
  i8: Int8Array;
  i4: Int8Array;
  i32: Int32Array;
  i64: BigInt64Array;
  bool: Uint8Array;
}
export type TensorData = DataTypes[Dtype];

type Ctor = { new (n: number): TensorData; new (b: ArrayBuffer, off: number, n: number): TensorData };
const CTORS: Record<Dtype, Ctor> = {
  f32: Float32Array,
  f16: Uint16Array,
  bf16: Uint16Array,
  i8: Int8Array,
  i4: Int8Array,
  i32: Int32Array,
  i64: BigInt64Array,
  bool: Uint8Array,
} as unknown as Record<Dtype, Ctor>;

/** Bytes per element in memory: the same as in a safetensors file (i4 unpacked, one per byte). */
export const ELEMENT_BYTES = ST_ELEMENT_BYTES;

/** A typed array of `dtype` over `bytes` (a fresh zeroed one when no buffer is given). */
export function typedArray<D extends Dtype>(dtype: D, count: number, buffer?: ArrayBuffer, offset = 0): DataTypes[D] {
  const C = CTORS[dtype];
  return (buffer ? new C(buffer, offset, count) : new C(count)) as DataTypes[D];
}

export class TensorError extends Error {
  override name = 'TensorError';
}

/**
 * `S` is the shape as a type: the `const` modifier makes `new Tensor('f32', data, [1, 784])` a
 * `Tensor<'f32', readonly [1, 784]>`, which the typed modules `fmc compile` writes check
 * against each input's shape (`readonly [number, 784]` for `f32[B, 784]`).
 */
export class Tensor<D extends Dtype = Dtype, const S extends readonly number[] = readonly number[]> {
  readonly dtype: D;
  readonly dims: S;
  private storage: DataTypes[D] | undefined;

  constructor(dtype: D, data: DataTypes[D], dims: S) {
    if (!(DTYPES as readonly string[]).includes(dtype)) throw new TensorError(`unknown dtype '${String(dtype)}'`);
    if (!Array.isArray(dims) || dims.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw new TensorError(`dims must be non-negative integers, got [${String(dims)}]`);
    if (!(data instanceof CTORS[dtype]))
      throw new TensorError(`a ${dtype} tensor needs a ${CTORS[dtype].name}, got ${describe(data)}`);
    if (data.length !== shapeSize(dims))
      throw new TensorError(`data has ${data.length} elements, dims [${dims.join(', ')}] need ${shapeSize(dims)}`);
    this.dtype = dtype;
    // A frozen copy: the caller's array may change later, the tensor's shape may not.
    this.dims = Object.freeze([...dims]) as unknown as S;
    this.storage = data;
  }

  get data(): DataTypes[D] {
    if (!this.storage) throw new TensorError('tensor was disposed');
    return this.storage;
  }

  get size(): number {
    return shapeSize(this.dims);
  }

  /** Drops the reference to the data (memory is freed when nothing else holds it). */
  dispose(): void {
    this.storage = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

function describe(x: unknown): string {
  if (x === null || typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}

/** A Tensor from a host tensor (float64 values), stored in its dtype. */
export function fromHost(t: HostTensor): Tensor {
  const n = t.data.length;
  const out = typedArray(t.dtype, n);
  if (t.dtype === 'i64') for (let i = 0; i < n; i++) (out as BigInt64Array)[i] = BigInt(t.data[i]!);
  else if (t.dtype === 'f16') for (let i = 0; i < n; i++) out[i] = f16Bits(t.data[i]!);
  else if (t.dtype === 'bf16') for (let i = 0; i < n; i++) out[i] = bf16Bits(t.data[i]!);
  else if (isFloat(t.dtype)) (out as Float32Array).set(t.data);
  else for (let i = 0; i < n; i++) out[i] = roundTo(t.dtype, t.data[i]!);
  return new Tensor(t.dtype, out, t.shape);
}

/** The host (float64) view of a Tensor, as the interpreter and the safetensors writer take it. */
export function toHost(t: Tensor): HostTensor {
  const d = t.data;
  const n = d.length;
  const data = new Float64Array(n);
  if (t.dtype === 'i64') for (let i = 0; i < n; i++) data[i] = Number((d as BigInt64Array)[i]!);
  else if (t.dtype === 'f16') for (let i = 0; i < n; i++) data[i] = bitsToF16((d as Uint16Array)[i]!);
  else if (t.dtype === 'bf16') for (let i = 0; i < n; i++) data[i] = bitsToBf16((d as Uint16Array)[i]!);
  else data.set(d as Float32Array);
  return { dtype: t.dtype, shape: [...t.dims], data };
}
