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
  });
});
