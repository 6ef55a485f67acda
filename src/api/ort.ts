// fmc Tensors to and from onnxruntime-common Tensors (onnxruntime-node, onnxruntime-web), so
// a program can feed one model's outputs to the other. Nothing here imports ONNX Runtime:
// `fromOrt` reads any object shaped like its Tensor (`type`, `data`, `dims`), and `toOrt`
// takes the caller's Tensor class. The data is shared, never copied, where the typed arrays
// agree; ORT has no bfloat16 tensor, and its int4 packs two values per byte, so those two
// are refused with a TensorError rather than converted with a silent change of meaning.

import type { Dtype } from '../ir/dtype.js';
import { type DataTypes, Tensor, TensorError } from '../runtime/tensor.js';

/** ORT's element type of each fmc dtype that has one. */
const TO_ORT: Readonly<Partial<Record<Dtype, string>>> = {
  f32: 'float32',
  f16: 'float16',
  i8: 'int8',
  i32: 'int32',
  i64: 'int64',
  bool: 'bool',
};
const FROM_ORT: Readonly<Record<string, Dtype>> = Object.fromEntries(
  Object.entries(TO_ORT).map(([d, o]) => [o, d as Dtype]),
);

/** What fromOrt reads of an onnxruntime-common Tensor. */
export interface OrtTensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** The constructor of onnxruntime-common's Tensor (`ort.Tensor`). */
export type OrtTensorClass<T> = new (type: never, data: never, dims: readonly number[]) => T;

/** An fmc Tensor on the same memory as an ORT tensor (float32, float16, int8, int32, int64, bool). */
export function fromOrt(t: OrtTensorLike): Tensor {
  const dtype = FROM_ORT[t.type];
  if (!dtype) {
    const known = Object.keys(FROM_ORT).join(', ');
    throw new TensorError(`an ONNX Runtime '${t.type}' tensor has no fmc dtype (fmc takes ${known})`);
  }
  // float16 data may be a Float16Array where the engine has one: fmc holds the raw bits.
  const data =
    dtype === 'f16' && !(t.data instanceof Uint16Array) && ArrayBuffer.isView(t.data)
      ? new Uint16Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 2)
      : t.data;
  return new Tensor(dtype, data as DataTypes[typeof dtype], [...t.dims]);
}

/** `t` as an ORT tensor made by `TensorClass` (`ort.Tensor`), on the same memory. */
export function toOrt<T>(t: Tensor, TensorClass: OrtTensorClass<T>): T {
  const type = TO_ORT[t.dtype];
  if (!type) {
    const why = t.dtype === 'bf16' ? 'ONNX Runtime has no bfloat16 tensor' : 'ONNX Runtime packs int4 two per byte';
    throw new TensorError(`a ${t.dtype} tensor has no ONNX Runtime tensor type (${why}); cast it first`);
  }
  return new TensorClass(type as never, t.data as never, [...t.dims]);
}
