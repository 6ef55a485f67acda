// The C GEMV of weight-only quantized weights read as 32-bit words (src/kernels/gemm-quant.ts)
// on edge shapes: K not a multiple of the chunk (a tail read through the generic expression),
// N = 1, int8 and int4 groups of 32/64/96/128 and per channel, asymmetric; each at M = 1, 2 and 3
// against the reference interpreter running dequantize-then-f32 on the same quantized weights,
// at f32 rounding. Shapes the word form cannot take (int8 K not a multiple of 4, a group that
// splits a chunk's sub-values) must take the generic GEMV, and are checked the same way.

import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/ir/graph.js';
import type { Kernel } from '../../src/ir/kernel.js';
import { type QuantSpec, withQuantized } from '../../src/ir/quantize.js';
import { CBatch, runAndCompare } from './c-harness.js';
import { quantizedLinear, weight } from './quantized-linear.js';

const TIGHT = { rtol: 1e-5, atol: 1e-6 };

const sym = (dtype: 'int8' | 'int4', group?: number, symmetric = true): QuantSpec => ({
  dtype,
  ...(group !== undefined ? { group } : {}),
  symmetric,
});

// name, N, K, spec, whether the word form reads it
const CASES: [string, number, number, QuantSpec, boolean][] = [
  ['int8 per channel, N 1, K 100 (a tail of 36)', 1, 100, sym('int8'), true],
  ['int8 groups of 32 (8 lanes)', 5, 96, sym('int8', 32), true],
  ['int8 groups of 64, asymmetric', 7, 320, sym('int8', 64, false), true],
  ['int8 per channel, K 102 (not whole words)', 3, 102, sym('int8'), false],
  ['int8 groups of 48 (a group splits a chunk)', 3, 96, sym('int8', 48), false],
  ['int4 groups of 32, K 96 (a tail of 32)', 6, 96, sym('int4', 32), true],
  ['int4 groups of 64', 4, 192, sym('int4', 64), true],
  ['int4 groups of 96', 4, 192, sym('int4', 96), true],
  ['int4 groups of 128, N 1', 1, 384, sym('int4', 128), true],
  ['int4 groups of 128, asymmetric', 5, 640, sym('int4', 128, false), true],
  ['int4 per channel, K 200 (a tail of 72)', 9, 200, sym('int4'), true],
  ['int4 groups of 32, asymmetric, K 160', 3, 160, sym('int4', 32, false), true],
];

const linear = (N: number, K: number, spec: QuantSpec | 'none'): Graph => quantizedLinear(N, K, spec, false);

const readsWords = (k: Kernel): boolean => JSON.stringify(k.body).includes('"k":"word"');

describe('quantized GEMV on C, read as words', () => {
  it('equals dequantize-then-f32 on edge shapes, word form where it applies', { timeout: 120_000 }, () => {
    const graphs = CASES.map(([, N, K, spec]) => linear(N, K, spec));
    const batch = CBatch.build(graphs);
    CASES.forEach(([what, , , , words], i) => {
      expect(batch.plans[i]!.kernels.map(readsWords), what).toEqual([words]);
      const [, N, K] = CASES[i]!;
      const params = withQuantized([graphs[i]!], new Map([['fc.w', weight(linear(N, K, 'none'), 'fc.w')]]));
      for (const M of [1, 2, 3]) {
        const r = runAndCompare(batch, i, { dims: { M }, params, tol: TIGHT, seed: M });
        expect(r.problems, `${what} at M = ${M}`).toEqual([]);
      }
    });
  });
});
