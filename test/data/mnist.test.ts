// MNIST from the `mnist` package: every digit file read (no download), images in [0, 1] with the
// caller's per-sample shape, labels in digit order, and a bad shape named.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMnist, mnistDigitsDir } from '../../src/data/mnist.js';

describe('loadMnist', () => {
  const ds = loadMnist({ shape: [1, 28, 28] });

  it('holds every image of the package, labelled by the file it came from', () => {
    const counts = Array.from({ length: 10 }, (_, d) => {
      const data = (JSON.parse(readFileSync(join(mnistDigitsDir(), `${d}.json`), 'utf8')) as { data: number[] }).data;
      return data.length / 784;
    });
    expect(ds.size).toBe(counts.reduce((a, b) => a + b));
    expect(ds.size).toBeGreaterThan(9000);
    expect(ds.fields).toEqual([
      { name: 'images', dtype: 'f32', shape: [1, 28, 28] },
      { name: 'labels', dtype: 'i32', shape: [] },
    ]);
    const firstThree = counts[0]! + counts[1]! + counts[2]!;
    const b = ds.batch([0, counts[0]!, firstThree - 1, firstThree, ds.size - 1]);
    expect([...b.get('labels')!.data]).toEqual([0, 1, 2, 3, 9]);
    expect(b.get('images')!.shape).toEqual([5, 1, 28, 28]);
  });

  it('gives the pixels of the file, as f32 in [0, 1]', () => {
    const raw = (JSON.parse(readFileSync(join(mnistDigitsDir(), '0.json'), 'utf8')) as { data: number[] }).data;
    const img = ds.batch([1]).get('images')!.data;
    expect([...img]).toEqual(raw.slice(784, 2 * 784).map(Math.fround));
    expect(img.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(Math.max(...img)).toBeGreaterThan(0.9);
  });

  it('records the ten digit files as sources', () => {
    expect(ds.sources.map((s) => s.path.split('/').slice(-3).join('/'))).toEqual(
      Array.from({ length: 10 }, (_, d) => `src/digits/${d}.json`),
    );
    expect(ds.sources.every((s) => /^[0-9a-f]{64}$/.test(s.sha256) && s.bytes > 1e6)).toBe(true);
  });

  it('flattens to [784] by default and rejects a shape that does not hold 784 values', () => {
    expect(loadMnist().fields[0]!.shape).toEqual([784]);
    expect(() => loadMnist({ shape: [28, 27] })).toThrow(
      'mnist: field "images": images shape [28,27] must be positive dims holding 784 values',
    );
    expect(() => loadMnist({ shape: [3, 32, 32] })).toThrow('or [1, H, W] with H, W ≥ 28');
  });

  it('centres the digits on a zero border for a larger image ([1, 32, 32])', () => {
    const [small, big] = [loadMnist({ shape: [1, 28, 28] }), loadMnist({ shape: [1, 32, 32] })];
    const [a, b] = [small.batch([7, 4321]).get('images')!, big.batch([7, 4321]).get('images')!];
    expect(b.shape).toEqual([2, 1, 32, 32]);
    for (let s = 0; s < 2; s++)
      for (let r = 0; r < 32; r++)
        for (let c = 0; c < 32; c++) {
          const inside = r >= 2 && r < 30 && c >= 2 && c < 30;
          const want = inside ? a.data[s * 784 + (r - 2) * 28 + (c - 2)]! : 0;
          expect(b.data[s * 1024 + r * 32 + c]).toBe(want);
        }
    expect(b.data.reduce((x, y) => x + y, 0)).toBe(a.data.reduce((x, y) => x + y, 0));
  });
});
