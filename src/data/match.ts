// Does a dataset feed a model? A model's loss inputs, described without compiler types, are
// matched by name to the dataset's fields: same dtype, the input's first dim is the batch dim and
// its other dims are the field's per-sample shape, where a symbolic dim (a name such as `T`) binds
// to the field's size and must bind to the same size everywhere. And a scan of float batches for
// NaN and ±Inf, naming the sample.

import { isFloat, type Dtype } from '../ir/dtype.js';
import { type HostTensor, showShape } from '../ir/value.js';
import { DataError, type Dataset, list, quote } from './dataset.js';

/** One input of the model's loss function: `y: i32[B]` is {name: 'y', dtype: 'i32', shape: ['B']}. */
export interface ModelInput {
  readonly name: string;
  readonly dtype: Dtype;
  /** Dims: a size, or the name of a symbolic dim. The first is the batch dim. */
  readonly shape: readonly (number | string)[];
}

const DIM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks that `dataset` feeds every input and returns the symbolic dims it binds (`T` → 64; the
 * batch dim's name → `batchSize` when given). Fields no input uses are allowed. Throws a DataError
 * naming the dataset and the field (or the missing one).
 */
export function matchInputs(dataset: Dataset, inputs: readonly ModelInput[], batchSize?: number): Map<string, number> {
  const dims = new Map<string, number>();
  const boundBy = new Map<string, string>();
  const fields = new Map(dataset.fields.map((f) => [f.name, f]));
  for (const input of inputs) {
    const bad = (detail: string): DataError => new DataError(dataset.where, detail, input.name);
    const field = fields.get(input.name);
    if (field === undefined) {
      throw bad(`the model's input has no field of this name in the dataset (fields: ${list(fields.keys())})`);
    }
    const want = `${input.dtype}[${input.shape.join(', ')}]`;
    const have = `${showShape(field.dtype, field.shape)} per sample`;
    if (field.dtype !== input.dtype) throw bad(`is ${have}, but the model's input is ${want}: dtypes differ`);
    if (input.shape.length !== field.shape.length + 1) {
      throw bad(
        `is ${have}, but the model's input is ${want}: it needs ${input.shape.length - 1} per-sample dims after the batch dim`,
      );
    }
    input.shape.forEach((dim, axis) => {
      const size = axis === 0 ? batchSize : field.shape[axis - 1]!;
      const what = axis === 0 ? 'the batch dim' : `dim ${axis}`;
      if (typeof dim === 'number') {
        if (size !== undefined && dim !== size) {
          throw bad(`is ${have}, but the model's input is ${want}: ${what} is ${dim}, not ${size}`);
        }
        return;
      }
      if (!DIM_NAME.test(dim)) throw bad(`the model's input is ${want}: dim ${quote(dim)} is not a dim name`);
      if (size === undefined) return;
      const bound = dims.get(dim);
      if (bound !== undefined && bound !== size) {
        throw bad(
          `is ${have}, but the model's input is ${want}: ${dim} is ${size} here but ${bound} in ${boundBy.get(dim)}`,
        );
      }
      dims.set(dim, size);
      boundBy.set(dim, `field ${quote(input.name)}`);
    });
  }
  return dims;
}

/**
 * Throws a DataError on the first NaN or ±Inf in a float tensor of `batch`, naming the field and the
 * sample: `indices[b]` when given (the dataset index of batch row b), else the batch row.
 */
export function checkFinite(where: string, batch: ReadonlyMap<string, HostTensor>, indices?: readonly number[]): void {
  for (const [name, t] of batch) {
    if (!isFloat(t.dtype) || t.shape.length === 0) continue;
    const per = t.data.length / t.shape[0]!;
    for (let i = 0; i < t.data.length; i++) {
      if (Number.isFinite(t.data[i]!)) continue;
      const row = Math.floor(i / per);
      const sample = indices === undefined ? `batch row ${row}` : `sample ${indices[row]} (batch row ${row})`;
      throw new DataError(where, `${sample}, element ${i - row * per} is ${t.data[i]}`, name);
    }
  }
}
