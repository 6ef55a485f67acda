// The packed GEMM of a wide prepacked weight (gemm-wide.ts: threads claim chunks of N, so B
// is read once a call), C against the interpreter at the host schedule: M below, at and past
// one M block, N not a multiple of the chunk or the tile, K over two K blocks, with a fused
// bias and ReLU applied on the last K block; and the weight packed again after it changed.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import { wideChunk } from '../../src/kernels/gemm-wide.js';
import { hostSchedule } from '../../src/kernels/schedule.js';
import { weightBuffers } from '../../src/runtime/compile.js';
import { Executable, weightsChanged } from '../../src/runtime/executable.js';
import { CBatch, assertClean, runAndCompare, seededParams } from './c-harness.js';

const [N, K] = [1700, 1300];
const TOL = { rtol: 1e-4, atol: 1e-4 };

function graph() {
  const g = new Builder();
  const x = g.input('x', 'f32', ['M', K]);
  const w = g.param('head.weight', 'f32', [N, K]);
  const b = g.param('head.bias', 'f32', [N]);
  return g.graph('forward', { y: g.binary('max', g.add(g.einsum('mk,nk->mn', x, w), b), 0) });
}

describe('packed GEMM of a wide weight (chunks of N)', () => {
  const s = hostSchedule();

  it('takes this shape: B over the size bound, N past several chunks, K over two K blocks', () => {
    const width = wideChunk(N, K, K, s);
    expect(width).toBeDefined();
    expect(N % width!).not.toBe(0);
    expect(K).toBeGreaterThan(s.KC + s.KC / 4);
    // A narrow B keeps the shared nest.
    expect(wideChunk(256, K, K, s)).toBeUndefined();
  });

  it(
    'equals the interpreter at M around the M block, and packs again after the weight changed',
    { timeout: 300_000 },
    () => {
      const g = graph();
      const batch = CBatch.build([g]);
      for (const M of [s.SMALL_M, 37, s.MC + 3]) {
        const r = runAndCompare(batch, 0, { dims: { M }, seed: M, tol: TOL });
        assertClean(g, r.problems, `M = ${M}`);
      }
      const params = seededParams(g, new Map([['M', 9]]), 3);
      const weights = weightBuffers(params);
      const exe = new Executable({ ...batch.merged[0]!, writesParams: false }, batch.lib, weights);
      const first = runAndCompare(batch, 0, { dims: { M: 9 }, tol: TOL, exe: { exe, weights, params } });
      assertClean(g, first.problems, 'first run');
      const wf = new Float32Array(weights.get('head.weight')!);
      wf.forEach((v, i) => (wf[i] = -v));
      weightsChanged([weights.get('head.weight')!]);
      params.set('head.weight', { ...params.get('head.weight')!, data: Float32Array.from(wf) });
      const again = runAndCompare(batch, 0, { dims: { M: 9 }, tol: TOL, exe: { exe, weights, params } });
      assertClean(g, again.problems, 'after the weight changed');
    },
  );
});
