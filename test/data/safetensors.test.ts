// The safetensors dataset format: tensors become fields split on their leading axis; a broken
// file, tensors of different lengths, scalars and empty datasets are DataErrors naming the file
// and the tensor.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/dataset.js';
import { readSafetensorsDataset } from '../../src/data/safetensors.js';
import type { HostTensor } from '../../src/ir/value.js';
import { writeSafetensors, writeSafetensorsFile } from '../../src/runtime/safetensors.js';
import { tempFiles } from './helpers.js';

const tmp = tempFiles();
const t = (dtype: HostTensor['dtype'], shape: number[], data: number[]): HostTensor => ({
  dtype,
  shape,
  data: Float64Array.from(data),
});
const write = (name: string, tensors: Record<string, HostTensor>): string => {
  const p = `${tmp.dir}/${name}`;
  writeSafetensorsFile(p, Object.entries(tensors));
  return p;
};

describe('readSafetensorsDataset', () => {
  it('reads every tensor as a field split on its leading axis', () => {
    const p = write('ok.safetensors', {
      x: t('f32', [3, 2, 2], [...Array(12).keys()]),
      y: t('i32', [3], [4, 5, 6]),
    });
    const ds = readSafetensorsDataset(p);
    expect(ds.size).toBe(3);
    expect(ds.where).toBe(p);
    expect(ds.fields).toEqual([
      { name: 'x', dtype: 'f32', shape: [2, 2] },
      { name: 'y', dtype: 'i32', shape: [] },
    ]);
    const b = ds.batch([1, 2]);
    expect(b.get('x')).toEqual(t('f32', [2, 2, 2], [4, 5, 6, 7, 8, 9, 10, 11]));
    expect(b.get('y')).toEqual(t('i32', [2], [5, 6]));
    expect(ds.sources).toHaveLength(1);
    expect(ds.sources[0]!.bytes).toBe(readFileSync(p).length);
    expect(ds.sources[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects tensors with different leading sizes, naming both', () => {
    const p = write('ragged.safetensors', { a: t('f32', [3, 1], [1, 2, 3]), b: t('i32', [2], [1, 2]) });
    expect(() => readSafetensorsDataset(p)).toThrow(
      `${p}: field "b": has 2 samples (shape [2]) but tensor "a" has 3: every tensor must have the same leading sample axis`,
    );
  });

  it('rejects zero samples, a scalar tensor and a file with no tensors', () => {
    const empty = write('empty.safetensors', { x: t('f32', [0, 4], []) });
    expect(() => readSafetensorsDataset(empty)).toThrow(`${empty}: field "x": has 0 samples (its leading axis is 0)`);
    const scalar = write('scalar.safetensors', { s: t('f32', [], [1]), x: t('f32', [2], [1, 2]) });
    expect(() => readSafetensorsDataset(scalar)).toThrow(`${scalar}: field "s": is a scalar`);
    const none = write('none.safetensors', {});
    expect(() => readSafetensorsDataset(none)).toThrow(`${none}: holds no tensors`);
  });

  it('turns a truncated or malformed file into a DataError naming the file and the tensor', () => {
    const whole = writeSafetensors([['w', t('f32', [4], [1, 2, 3, 4])]]);
    const cut = tmp.file('cut.safetensors', whole.subarray(0, whole.length - 3));
    const err = (() => {
      try {
        readSafetensorsDataset(cut);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toMatch(
      new RegExp(`^${cut}: safetensors: tensor "w": data_offsets .* run past the end`),
    );
    const junk = tmp.file('junk.safetensors', 'not a safetensors file at all');
    expect(() => readSafetensorsDataset(junk)).toThrow(new RegExp(`^${junk}: safetensors: header size`));
    const tiny = tmp.file('tiny.safetensors', 'abc');
    expect(() => readSafetensorsDataset(tiny)).toThrow(`${tiny}: safetensors: file is 3 bytes`);
  });

  it('names a missing file', () => {
    expect(() => readSafetensorsDataset(`${tmp.dir}/nope.safetensors`)).toThrow(
      /nope\.safetensors: cannot read the file/,
    );
  });
});
