// The safetensors dataset format: one .safetensors file whose tensors are the fields, every
// tensor's first axis the sample axis, all of one length (docs/data.md). Tensor `x` of shape
// [N, 28, 28] is field `x` with per-sample shape [28, 28]; N is the dataset's size. The file
// itself is read and checked by src/runtime/safetensors.ts; `__metadata__` is allowed and ignored.

import { readSafetensors, SafetensorsError } from '../runtime/safetensors.js';
import { showDims } from '../ir/value.js';
import { type Column, ColumnDataset, DataError, type Dataset, quote, readSource } from './dataset.js';

/** Reads a safetensors dataset. Errors are DataErrors naming `path` and the tensor at fault. */
export function readSafetensorsDataset(path: string): Dataset {
  const { bytes, source } = readSource(path);
  let tensors;
  try {
    tensors = readSafetensors(bytes, path).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError) throw new DataError(path, e.detail, undefined, { cause: e });
    throw e;
  }
  if (tensors.size === 0) throw new DataError(path, 'holds no tensors (a dataset needs at least one field)');
  let first: [string, number] | undefined;
  const columns: Column[] = [];
  for (const [name, t] of tensors) {
    if (t.shape.length === 0) {
      throw new DataError(path, `is a scalar; a dataset tensor needs a leading sample axis`, name);
    }
    const n = t.shape[0]!;
    if (first === undefined) first = [name, n];
    else if (n !== first[1]) {
      throw new DataError(
        path,
        `has ${n} samples (shape ${showDims(t.shape)}) but tensor ${quote(first[0])} has ${first[1]}: ` +
          'every tensor must have the same leading sample axis',
        name,
      );
    }
    columns.push({ name, dtype: t.dtype, shape: t.shape.slice(1), data: t.data });
  }
  if (first![1] === 0) throw new DataError(path, 'has 0 samples (its leading axis is 0)', first![0]);
  return new ColumnDataset(path, columns, first![1], [source]);
}
