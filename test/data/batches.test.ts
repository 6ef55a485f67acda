// Batching: the Philox Fisher–Yates shuffle is deterministic and a permutation, the validation
// split is disjoint and seeded, epochs reshuffle, the last partial batch is dropped, and seek()
// resumes with exactly the batches of an uninterrupted run.

import { describe, expect, it } from 'vitest';
import { Batches } from '../../src/data/batches.js';
import { ColumnDataset } from '../../src/data/dataset.js';
import { shuffled, WordStream } from '../../src/data/shuffle.js';
import { uniformStream } from '../../src/ir/philox.js';

/** n samples whose field `i` holds the sample's own index. */
const indexed = (n: number): ColumnDataset =>
  new ColumnDataset(
    'idx',
    [{ name: 'i', dtype: 'i32', shape: [], data: Float64Array.from({ length: n }, (_, k) => k) }],
    n,
    [],
  );
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('shuffle', () => {
  it('draws the words behind uniformStream', () => {
    const w = new WordStream(7, 'k');
    const u = uniformStream(7, 'k', 9);
    for (let i = 0; i < 9; i++) expect((w.next() >>> 8) / 2 ** 24).toBe(u[i]);
  });

  it('is a permutation, the same for the same (seed, key) and different otherwise', () => {
    const a = shuffled(range(100), 1, 'epoch 0');
    expect([...a].sort((x, y) => x - y)).toEqual(range(100));
    expect(shuffled(range(100), 1, 'epoch 0')).toEqual(a);
    expect(shuffled(range(100), 2, 'epoch 0')).not.toEqual(a);
    expect(shuffled(range(100), 1, 'epoch 1')).not.toEqual(a);
    expect(a).not.toEqual(range(100));
  });

  it('is unbiased enough: each of 3 items lands in each place about a third of the time', () => {
    const counts = [0, 0, 0];
    for (let s = 0; s < 3000; s++) counts[shuffled([0, 1, 2], s, 'k')[0]!]!++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(100);
  });

  it('rejects draws by bound: below(bound) stays below it', () => {
    const w = new WordStream(0, 'b');
    for (const bound of [1, 2, 3, 1000, 2 ** 32 - 1, 2 ** 32]) {
      const x = w.below(bound);
      expect(x >= 0 && x < bound && Number.isInteger(x)).toBe(true);
    }
  });
});

describe('Batches', () => {
  it('splits off a validation set that is disjoint, complete and seeded', () => {
    const b = new Batches(indexed(50), { batchSize: 4, seed: 3, validation: { fraction: 0.2 } });
    expect(b.validation).toHaveLength(10);
    expect(b.train).toHaveLength(40);
    expect(b.train.filter((i) => b.validation.includes(i))).toEqual([]);
    expect([...b.train, ...b.validation].sort((x, y) => x - y)).toEqual(range(50));
    expect(b.validation).toEqual([...b.validation].sort((x, y) => x - y));
    const same = new Batches(indexed(50), { batchSize: 8, seed: 3, validation: { fraction: 0.2 } });
    expect(same.validation).toEqual(b.validation);
    const other = new Batches(indexed(50), { batchSize: 4, seed: 4, validation: { fraction: 0.2 } });
    expect(other.validation).not.toEqual(b.validation);
    expect(new Batches(indexed(50), { batchSize: 4, seed: 3, validation: { count: 7 } }).validation).toHaveLength(7);
    expect(
      new Batches(indexed(100), { batchSize: 4, seed: 3, validation: { fraction: 0.29 } }).validation,
    ).toHaveLength(29);
  });

  it('visits every training sample once an epoch, in B-sized batches, dropping the partial tail', () => {
    const b = new Batches(indexed(23), { batchSize: 5, seed: 9 });
    expect(b.batchesPerEpoch).toBe(4);
    const seen: number[] = [];
    for (let k = 0; k < 4; k++) {
      const batch = b.next();
      expect(batch).toMatchObject({ epoch: 0, offset: k });
      expect(batch.indices).toHaveLength(5);
      expect([...batch.tensors.get('i')!.data]).toEqual(batch.indices);
      seen.push(...batch.indices);
    }
    expect(new Set(seen).size).toBe(20);
    expect(seen).toEqual(b.order(0).slice(0, 20));
    expect(b.position).toEqual({ epoch: 1, offset: 0 });
    const next = b.next();
    expect(next.epoch).toBe(1);
    expect(next.indices).toEqual(b.order(1).slice(0, 5));
    expect(b.order(1)).not.toEqual(b.order(0));
  });

  it('keeps index order without shuffling', () => {
    const b = new Batches(indexed(10), { batchSize: 3, seed: 0, shuffle: false });
    expect([b.next().indices, b.next().indices, b.next().indices, b.next().indices]).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
      [0, 1, 2],
    ]);
  });

  it('resumes from a saved position with the batches an uninterrupted run gives', () => {
    const opts = { batchSize: 4, seed: 11, validation: { fraction: 0.1 } };
    const whole = new Batches(indexed(37), opts);
    const expected = Array.from({ length: 30 }, () => whole.next().indices);
    for (const stop of [0, 1, 7, 8, 9, 17]) {
      const first = new Batches(indexed(37), opts);
      for (let k = 0; k < stop; k++) first.next();
      const saved = JSON.parse(JSON.stringify(first.position)) as { epoch: number; offset: number };
      const resumed = new Batches(indexed(37), opts).seek(saved);
      const rest = Array.from({ length: 30 - stop }, () => resumed.next().indices);
      expect(rest).toEqual(expected.slice(stop));
    }
  });

  it('gives every validation sample once, the last batch holding the remainder', () => {
    const b = new Batches(indexed(30), { batchSize: 4, seed: 5, validation: { count: 10 } });
    b.next();
    const before = b.position;
    const vb = [...b.validationBatches()];
    expect(vb.map((x) => x.indices.length)).toEqual([4, 4, 2]);
    expect(vb.flatMap((x) => x.indices)).toEqual(b.validation);
    expect([...vb[2]!.tensors.get('i')!.data]).toEqual(vb[2]!.indices);
    expect([...b.validationBatches(10)]).toHaveLength(1);
    expect(b.position).toEqual(before);
  });

  it.each([
    [{ batchSize: 0, seed: 0 }, 'idx: batch size 0 is not a positive integer'],
    [{ batchSize: 2, seed: 0.5 }, 'idx: seed 0.5 is not a safe integer'],
    [{ batchSize: 2, seed: 0, validation: { fraction: 1 } }, 'idx: validation fraction 1 is not in [0, 1)'],
    [{ batchSize: 2, seed: 0, validation: { count: 10 } }, 'idx: validation count 10 is not an integer in [0, 10)'],
    [
      { batchSize: 4, seed: 0, validation: { count: 7 } },
      'idx: 3 training samples (10 less 7 for validation) make no batch of 4',
    ],
  ])('rejects bad options %j', (opts, message) => {
    expect(() => new Batches(indexed(10), opts)).toThrow(message);
  });

  it('rejects a position outside the epoch and a bad validation batch size', () => {
    const b = new Batches(indexed(10), { batchSize: 3, seed: 0 });
    expect(() => b.seek({ epoch: 0, offset: 3 })).toThrow('idx: cannot seek to {"epoch":0,"offset":3}');
    expect(() => b.seek({ epoch: -1, offset: 0 })).toThrow('cannot seek');
    expect(() => b.validationBatches(0)).toThrow('idx: validation batch size 0 is not a positive integer');
  });
});
