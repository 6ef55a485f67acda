// Depthwise convolutions through src/kernels/depthwise.ts against the reference interpreter:
// channel-last inputs read channel-first (as conformer's conv module does), 1-d and 2-d
// windows with padding, stride and dilation, odd channel counts, lengths around the row block
// (16), the weight as either operand; a channel-first input keeps einsum.ts's loops.

import { beforeAll, describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import { dimSym } from '../../src/ir/dims.js';
import type { Graph } from '../../src/ir/graph.js';
import type { KStmt } from '../../src/ir/kernel.js';
import { CBatch, assertClean, runAndCompare } from './c-harness.js';

const T = dimSym('T');

/** y[n, c, t] = Σ_k x[n, t·stride + k·dilation − pad, c] · w[c, k], x given channel-last. */
function conv1d(c: number, k: number, pad: number, stride: number, dilation: number, weightFirst = false): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', [2, T, c]);
  const w = g.input('w', 'f32', [c, k]);
  const xp = g.pad(g.permute(x, [0, 2, 1]), [
    [0, 0],
    [0, 0],
    [pad, pad],
  ]);
  const xw = g.window(xp, [2], [k], [stride], [dilation]);
  const y = weightFirst ? g.einsum('ck,nclk->ncl', w, xw) : g.einsum('nclk,ck->ncl', xw, w);
  return g.graph('forward', { y });
}

/** The 2-d form: x [N, H, W, C] channel-last, 3×3 taps, weight [C, 3, 3]. */
function conv2d(c: number): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', [1, 9, T, c]);
  const w = g.input('w', 'f32', [c, 3, 3]);
  const xp = g.pad(g.permute(x, [0, 3, 1, 2]), [
    [0, 0],
    [0, 0],
    [1, 1],
    [2, 2],
  ]);
  const xw = g.window(xp, [2, 3], [3, 3], [2, 1], [1, 2]);
  return g.graph('forward', { y: g.einsum('nchwij,cij->nchw', xw, w) });
}

/** A channel-first input: contiguous in time, not channels. */
function channelFirst(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', [2, 5, T]);
  const w = g.input('w', 'f32', [5, 3]);
  const xw = g.window(
    g.pad(x, [
      [0, 0],
      [0, 0],
      [1, 1],
    ]),
    [2],
    [3],
    [1],
    [1],
  );
  return g.graph('forward', { y: g.einsum('nclk,ck->ncl', xw, w) });
}

/** Lengths below, at and across the block of 16 rows. */
const LENGTHS = [1, 7, 16, 17, 40];

const CASES: { name: string; graph: Graph; depthwise: boolean; lengths?: number[] }[] = [
  { name: 'k 31 same padding, 144 channels', graph: conv1d(144, 31, 15, 1, 1), depthwise: true },
  { name: 'k 5, 13 channels', graph: conv1d(13, 5, 2, 1, 1), depthwise: true },
  { name: 'k 3 stride 2 dilation 2, 1 channel', graph: conv1d(1, 3, 1, 2, 2), depthwise: true },
  {
    name: 'weight first, k 4 no padding',
    graph: conv1d(7, 4, 0, 1, 1, true),
    depthwise: true,
    lengths: [4, 16, 19, 40],
  },
  { name: '2-d 3×3 stride and dilation', graph: conv2d(11), depthwise: true },
  { name: 'channel-first input', graph: channelFirst(), depthwise: false },
];

/** Whether a kernel body holds depthwise.ts's local weight copy. */
const copiesWeights = (body: readonly KStmt[]): boolean =>
  body.some((s) => (s.k === 'array' && s.name.startsWith('wt')) || (s.k === 'for' && copiesWeights(s.body)));

describe('depthwise convolution kernels', () => {
  let batch: CBatch;
  beforeAll(() => {
    batch = CBatch.build(CASES.map((c) => c.graph));
  });
  for (const [i, c] of CASES.entries())
    it(c.name, () => {
      expect(batch.plans[i]!.kernels.some((k) => copiesWeights(k.body))).toBe(c.depthwise);
      for (const t of c.lengths ?? LENGTHS) {
        const r = runAndCompare(batch, i, { dims: { T: t }, seed: t });
        assertClean(c.graph, r.problems, `T=${t}`);
      }
    });
});
