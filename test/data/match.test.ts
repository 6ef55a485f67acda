// Matching model inputs to dataset fields (names, dtypes, per-sample shapes, symbolic dims bound
// consistently) and the NaN/Inf scan naming the sample.

import { describe, expect, it } from 'vitest';
import { ColumnDataset } from '../../src/data/dataset.js';
import { checkFinite, matchInputs, type ModelInput } from '../../src/data/match.js';

const ds = new ColumnDataset(
  'lm.safetensors',
  [
    { name: 'tokens', dtype: 'i32', shape: [4], data: new Float64Array(8) },
    { name: 'targets', dtype: 'i32', shape: [4], data: new Float64Array(8) },
    { name: 'img', dtype: 'f32', shape: [2, 3], data: new Float64Array(12) },
  ],
  2,
  [],
);
const input = (name: string, dtype: ModelInput['dtype'], shape: (number | string)[]): ModelInput => ({
  name,
  dtype,
  shape,
});

describe('matchInputs', () => {
  it('binds symbolic dims to the field sizes and the batch dim to the batch size', () => {
    const dims = matchInputs(
      ds,
      [input('tokens', 'i32', ['B', 'T']), input('targets', 'i32', ['B', 'T']), input('img', 'f32', ['B', 2, 'W'])],
      16,
    );
    expect(Object.fromEntries(dims)).toEqual({ B: 16, T: 4, W: 3 });
    expect(Object.fromEntries(matchInputs(ds, [input('tokens', 'i32', ['B', 4])]))).toEqual({});
  });

  it.each([
    [
      [input('x', 'f32', ['B'])],
      'lm.safetensors: field "x": the model\'s input has no field of this name in the dataset (fields: "tokens", "targets", "img")',
    ],
    [
      [input('tokens', 'i64', ['B', 'T'])],
      'field "tokens": is i32[4] per sample, but the model\'s input is i64[B, T]: dtypes differ',
    ],
    [
      [input('img', 'f32', ['B', 6])],
      'field "img": is f32[2, 3] per sample, but the model\'s input is f32[B, 6]: it needs 1 per-sample dims',
    ],
    [
      [input('img', 'f32', ['B', 2, 4])],
      'field "img": is f32[2, 3] per sample, but the model\'s input is f32[B, 2, 4]: dim 2 is 4, not 3',
    ],
    [
      [input('img', 'f32', ['B', 'T', 'T'])],
      'field "img": is f32[2, 3] per sample, but the model\'s input is f32[B, T, T]: T is 3 here but 2 in field "img"',
    ],
    [
      [input('tokens', 'i32', ['B', 'T']), input('img', 'f32', ['B', 'T', 3])],
      'field "img": is f32[2, 3] per sample, but the model\'s input is f32[B, T, 3]: T is 2 here but 4 in field "tokens"',
    ],
    [
      [input('tokens', 'i32', [8, 'T'])],
      'field "tokens": is i32[4] per sample, but the model\'s input is i32[8, T]: the batch dim is 8, not 16',
    ],
    [
      [input('tokens', 'i32', ['B', 'T/2'])],
      'field "tokens": the model\'s input is i32[B, T/2]: dim "T/2" is not a dim name',
    ],
  ])('rejects a mismatch (%#)', (inputs, message) => {
    expect(() => matchInputs(ds, inputs, 16)).toThrow(message);
  });
});

describe('checkFinite', () => {
  const batch = (v: number) =>
    new Map([
      ['ids', { dtype: 'i32' as const, shape: [2], data: Float64Array.from([0, 1]) }],
      ['x', { dtype: 'f32' as const, shape: [2, 3], data: Float64Array.from([0, 1, 2, 3, v, 5]) }],
    ]);

  it('passes finite batches and names the field, sample and element of a NaN or Inf', () => {
    expect(() => checkFinite('d.safetensors', batch(4))).not.toThrow();
    expect(() => checkFinite('d.safetensors', batch(NaN), [17, 42])).toThrow(
      'd.safetensors: field "x": sample 42 (batch row 1), element 1 is NaN',
    );
    expect(() => checkFinite('d.safetensors', batch(-Infinity))).toThrow(
      'field "x": batch row 1, element 1 is -Infinity',
    );
  });
});
