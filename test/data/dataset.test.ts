// The Dataset core: column batches stack samples on a leading axis, provenance hashes the bytes
// read, renames keep the samples, and DataErrors name the file and the field.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ColumnDataset, DataError, readSource, renameFields } from '../../src/data/dataset.js';
import { tempFiles } from './helpers.js';

const tmp = tempFiles();

const ds = (): ColumnDataset =>
  new ColumnDataset(
    'mem',
    [
      { name: 'x', dtype: 'f32', shape: [2], data: Float64Array.from([0, 1, 10, 11, 20, 21]) },
      { name: 'y', dtype: 'i32', shape: [], data: Float64Array.from([7, 8, 9]) },
    ],
    3,
    [],
  );

describe('ColumnDataset', () => {
  it('stacks the chosen samples, in order and with repeats, on a leading batch axis', () => {
    const b = ds().batch([2, 0, 2]);
    expect(b.get('x')).toEqual({ dtype: 'f32', shape: [3, 2], data: Float64Array.from([20, 21, 0, 1, 20, 21]) });
    expect(b.get('y')).toEqual({ dtype: 'i32', shape: [3], data: Float64Array.from([9, 7, 9]) });
    expect([...b.keys()]).toEqual(['x', 'y']);
  });

  it('rejects indices outside the dataset, naming it', () => {
    expect(() => ds().batch([3])).toThrow('mem: sample index 3 is outside [0, 3)');
    expect(() => ds().batch([0.5])).toThrow(DataError);
  });

  it('rejects a column whose length is not size × its shape, naming the field', () => {
    const bad = () =>
      new ColumnDataset('f.bin', [{ name: 'x', dtype: 'f32', shape: [2], data: new Float64Array(5) }], 3, []);
    expect(bad).toThrow('f.bin: field "x": holds 5 values, not 3 samples of [2]');
  });
});

describe('renameFields', () => {
  it('renames fields in the specs and in every batch', () => {
    const r = renameFields(ds(), { x: 'features' });
    expect(r.fields.map((f) => f.name)).toEqual(['features', 'y']);
    expect([...r.batch([1]).keys()]).toEqual(['features', 'y']);
    expect(r.batch([1]).get('features')!.data).toEqual(Float64Array.from([10, 11]));
  });

  it('rejects a missing field and a name clash', () => {
    expect(() => renameFields(ds(), { z: 'w' })).toThrow(
      'mem: field "z": cannot rename: no such field (fields: "x", "y")',
    );
    expect(() => renameFields(ds(), { x: 'y' })).toThrow('field "y": renaming gives two fields this name');
  });
});

describe('readSource', () => {
  it('records the path, byte size and sha256 of the bytes read', () => {
    const p = tmp.file('a.bin', 'hello');
    const { bytes, source } = readSource(p);
    expect(bytes.toString()).toBe('hello');
    expect(source).toEqual({ path: p, bytes: 5, sha256: createHash('sha256').update('hello').digest('hex') });
    expect(source.sha256).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  });

  it('names the file it cannot read, and refuses what is not a regular file', () => {
    expect(() => readSource(`${tmp.dir}/missing.bin`)).toThrow(/missing\.bin: cannot read the file: ENOENT/);
    expect(() => readSource(tmp.dir)).toThrow(`${tmp.dir}: not a regular file`);
  });
});
