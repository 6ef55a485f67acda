// Host tensors as onnxruntime-node tensors, for everything that runs an exported model in
// ONNX Runtime next to fmc (the bench, the model tests). The module is passed in, so only
// callers that use ONNX Runtime load it.

import type * as Ort from 'onnxruntime-node';
import type { HostTensor } from '../ir/value.js';
import { ExportError } from './onnx.js';

const ORT_TYPE: Readonly<Record<string, Ort.Tensor.Type>> = {
  f32: 'float32',
  i32: 'int32',
  i64: 'int64',
  i8: 'int8',
  bool: 'bool',
};

/** `t` as an ORT tensor of its dtype (f32, i32, i64, i8, bool). */
export function toOrt(ort: typeof Ort, t: HostTensor): Ort.Tensor {
  const shape = [...t.shape];
  switch (ORT_TYPE[t.dtype]) {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(t.data), shape);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(t.data), shape);
    case 'int64':
      return new ort.Tensor(
        'int64',
        BigInt64Array.from(t.data, (x) => BigInt(x)),
        shape,
      );
    case 'int8':
      return new ort.Tensor('int8', Int8Array.from(t.data), shape);
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(t.data), shape);
    default:
      throw new ExportError(`a ${t.dtype} input has no ONNX Runtime tensor type here`);
  }
}
