// The packed GEMM at the edges of its blocking, C against the interpreter: a tiny schedule
// (4 × 8 tile, KC 8, MC 12, NC 16) puts M, N and K one below, at and one above each block
// and tile edge with small sizes, through both loop nests (shared B panels for one product,
// private ones for a batch; a symbolic batch picks at run time), the GEMV path, K = 0, a
// transposed (PyTorch-layout) weight, a fused epilogue over several K blocks, and the host
// schedule around its own KC, MC and NC and with an M of a few tiles (N split). A weight operand is packed once (kind 'packed') and
// packed again only after its param changed.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import type { Graph } from '../../src/ir/graph.js';
import { type GemmSchedule, hostSchedule } from '../../src/kernels/schedule.js';
import { weightBuffers } from '../../src/runtime/compile.js';
import { Executable, weightsChanged } from '../../src/runtime/executable.js';
import { CBatch, assertClean, runAndCompare, seededParams } from './c-harness.js';

const TINY: GemmSchedule = { MR: 4, NR: 8, KC: 8, MC: 12, NC: 16, SMALL_M: 4, MSPLIT: 4 };
const TOL = { rtol: 1e-4, atol: 1e-4 };

function graphs(): Graph[] {
  const plain = new Builder();
  const a = plain.input('a', 'f32', ['M', 'K']);
  const b = plain.input('b', 'f32', ['K', 'N']);
  const mm = plain.graph('forward', { c: plain.einsum('mk,kn->mn', a, b) });

  // relu(x @ W.T + bias) + r: the epilogue runs on the last of several K blocks.
  const epi = new Builder();
  const x = epi.input('x', 'f32', ['M', 'K']);
  const r = epi.input('r', 'f32', ['M', 'N']);
  const w = epi.input('w', 'f32', ['N', 'K']);
  const bias = epi.input('bias', 'f32', ['N']);
  const h = epi.add(epi.einsum('mk,nk->mn', x, w), bias);
  const fused = epi.graph('forward', { y: epi.add(epi.binary('max', h, 0), r) });

  const bat = new Builder();
  const p = bat.input('p', 'f32', ['H', 'M', 'K']);
  const q = bat.input('q', 'f32', ['H', 'K', 'N']);
  const batched = bat.graph('forward', { c: bat.einsum('hmk,hkn->hmn', p, q) });
  return [mm, fused, batched];
}

const EDGES = [1, 3, 4, 7, 8, 9, 11, 12, 13, 15, 16, 17, 25, 33];

describe('packed GEMM at block edges (C vs interpreter)', () => {
  it('tiny blocks: every M, N, K around MR, NR, KC, MC and NC', { timeout: 300_000 }, () => {
    const gs = graphs();
    const batch = CBatch.build(gs, { lower: () => ({ gemm: TINY }) });
    let runs = 0;
    for (const [i, M] of EDGES.entries()) {
      // Each M against a rotating N and K, so every size meets every other across the loop.
      const N = EDGES[(i * 5 + 3) % EDGES.length]!;
      const K = EDGES[(i * 3 + 7) % EDGES.length]!;
      for (const [gi, dims] of [
        [0, { M, N, K }],
        [1, { M, N, K }],
        [2, { M, N, K, H: 1 }],
        [2, { M, N, K, H: 3 }],
      ] as const) {
        const r = runAndCompare(batch, gi, { dims, seed: 5 + i, tol: TOL });
        assertClean(gs[gi]!, r.problems, `graph ${gi} at ${JSON.stringify(dims)}`);
        runs++;
      }
    }
    for (const dims of [
      { M: 5, N: 9, K: 0 },
      { M: 40, N: 50, K: 24 },
      { M: 2, N: 40, K: 17 },
    ]) {
      for (const gi of [0, 1]) assertClean(gs[gi]!, runAndCompare(batch, gi, { dims, tol: TOL }).problems);
      runs++;
    }
    expect(runs).toBe(EDGES.length * 4 + 3);
  });

  it('the host schedule around its KC, MC and NC', { timeout: 300_000 }, () => {
    const s = hostSchedule();
    const gs = graphs().slice(0, 2);
    const batch = CBatch.build(gs, { lower: () => ({ gemm: s }) });
    for (const dims of [
      { M: s.MC + 1, N: s.NC + s.NR + 1, K: s.KC + 1 },
      { M: 2 * s.MC - 1, N: s.NC - 1, K: 2 * s.KC },
      // Under MSPLIT tiles of M: N splits into parts of whole panels.
      { M: s.MR - 3, N: 3 * s.NR + 5, K: 33 },
      { M: 2 * s.MR + 1, N: 5 * s.NR - 1, K: 9 },
    ])
      for (const gi of [0, 1]) {
        const r = runAndCompare(batch, gi, { dims, seed: 2, tol: { rtol: 1e-3, atol: 1e-3 } });
        assertClean(gs[gi]!, r.problems, `graph ${gi} at ${JSON.stringify(dims)}`);
      }
  });
});

describe('weights packed once', () => {
  // y = x @ W.T with W a param [N, K]: B is packed whole into the plan's packed buffer.
  const g = new Builder();
  const x = g.input('x', 'f32', ['M', 19]);
  const w = g.param('lin.weight', 'f32', [21, 19]);
  const graph = g.graph('forward', { y: g.einsum('mk,nk->mn', x, w) });

  it('packs a weight at the first run, reuses it, and packs again after weightsChanged', () => {
    const batch = CBatch.build([graph], { lower: () => ({ gemm: TINY }) });
    const plan = batch.merged[0]!;
    const packed = plan.buffers.filter((b) => b.kind === 'packed');
    expect(packed.length).toBe(1);
    expect(plan.buffers[packed[0]!.from!]!.kind).toBe('param');
    const params = seededParams(graph, new Map([['M', 13]]), 3);
    const weights = weightBuffers(params);
    const exe = new Executable({ ...plan, writesParams: false }, batch.lib, weights);
    const first = runAndCompare(batch, 0, { dims: { M: 13 }, exe: { exe, weights, params } });
    assertClean(graph, first.problems, 'first run');
    // Scaling W behind the runtime's back: the packed copy still holds the old W.
    const wf = new Float32Array(weights.get('lin.weight')!);
    const before = Float32Array.from(first.c.y!.data as Float32Array);
    wf.forEach((v, i) => (wf[i] = 2 * v));
    const stale = runAndCompare(batch, 0, { dims: { M: 13 }, seed: 1, exe: { exe, weights, params } });
    expect(Array.from(stale.c.y!.data as Float32Array)).toEqual(Array.from(before));
    // Once the runtime is told, the next run packs the doubled W.
    weightsChanged([weights.get('lin.weight')!]);
    const again = runAndCompare(batch, 0, { dims: { M: 13 }, seed: 1, exe: { exe, weights, params } });
    const doubled = Array.from(before, (v) => 2 * v);
    (again.c.y!.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(doubled[i]!, 4));
  });

  it('a plan that writes params packs again at every run', () => {
    const batch = CBatch.build([graph], { lower: () => ({ gemm: TINY }) });
    const params = seededParams(graph, new Map([['M', 5]]), 4);
    const weights = weightBuffers(params);
    const exe = new Executable({ ...batch.merged[0]!, writesParams: true }, batch.lib, weights);
    const before = Float32Array.from(
      runAndCompare(batch, 0, { dims: { M: 5 }, exe: { exe, weights, params } }).c.y!.data as Float32Array,
    );
    const wf = new Float32Array(weights.get('lin.weight')!);
    wf.forEach((v, i) => (wf[i] = -v));
    const after = runAndCompare(batch, 0, { dims: { M: 5 }, exe: { exe, weights, params } }).c.y!.data as Float32Array;
    after.forEach((v, i) => expect(v).toBeCloseTo(-before[i]!, 4));
  });
});
