// docs/data.md is true: its example's `// →` results, the text windows and the vocabulary file
// it shows are what the code gives.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Batches,
  ColumnDataset,
  buildVocabulary,
  decodeTokens,
  matchInputs,
  readTextDataset,
} from '../../src/data/index.js';
import { tempFiles } from './helpers.js';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'data.md'), 'utf8');
const tmp = tempFiles();

/** The `// → …` results of the doc's example, in order. */
const results = [...doc.matchAll(/\/\/ → (\S+)/g)].map((m) => m[1]!);

describe('docs/data.md', () => {
  it('states the results its example gives', () => {
    const ds = readTextDataset(tmp.file('hello.txt', 'hello world\n'), { context: 4 });
    const ten = new ColumnDataset('ten', [{ name: 'i', dtype: 'i32', shape: [], data: new Float64Array(10) }], 10, []);
    const b = new Batches(ten, { batchSize: 3, seed: 0, validation: { count: 2 } });
    const dims = matchInputs(
      ds,
      [
        { name: 'tokens', dtype: 'i32', shape: ['B', 'T'] },
        { name: 'targets', dtype: 'i32', shape: ['B', 'T'] },
      ],
      8,
    );
    const actual = [
      ds.size,
      [...ds.batch([0, 1]).get('tokens')!.data],
      Object.fromEntries(dims),
      b.validation,
      b.next().indices,
      b.next().indices,
      b.next().indices,
      b.position,
    ].map((v) => JSON.stringify(v));
    expect(results).toEqual(actual);
  });

  it('shows the windows and the vocabulary of its text example', () => {
    const ds = readTextDataset(tmp.file('hello2.txt', 'hello world\n'), { context: 4 });
    for (const i of [0, 1]) {
      const batch = ds.batch([i]);
      const [x, y] = ['tokens', 'targets'].map((f) => decodeTokens(batch.get(f)!.data, 'bytes'));
      expect(doc).toContain(`sample ${i}   tokens "${x}"  targets "${y}"`);
    }
    const shown = /```json\n([^`]*)```/.exec(doc)![1]!;
    expect(JSON.parse(shown)).toEqual(buildVocabulary('hello world\n').chars);
  });
});
