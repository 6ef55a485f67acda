// The block-sparse GEMM on C (src/kernels/gemm-sparse.ts): `relu(x @ W.T + bias)` with W
// marked block-sparse (the sparsity pass's barrier), fused as the C pipeline fuses it (one
// kernel: no copy of W, the epilogue in the sparse kernel), against the reference interpreter
// on the same pruned weights, for blocks of 16 and 32, M through the GEMV (1, 3) and the tiled
// form (9, 29: partial tiles), block patterns with empty block rows, runs of consecutive
// blocks (one register-tile call each), no nonzero block at all,
// every block, NaN in one block, and more nonzero blocks than the capacity (the dense
// fallback). Also: the sparsity pass marks exactly the weights it should.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import { type Graph, liveNodes } from '../../src/ir/graph.js';
import { NO_HINTS, type Hints } from '../../src/ir/module.js';
import { bsrKey, parseBsrKey } from '../../src/ir/sparse-format.js';
import { fusion } from '../../src/passes/fusion/index.js';
import type { PassContext } from '../../src/passes/pass.js';
import { sparsity } from '../../src/passes/sparsity.js';
import { compileModel } from '../../src/api/compile.js';
import { evaluate } from '../../src/ir/interp.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { weightBuffers } from '../../src/runtime/compile.js';
import { Executable } from '../../src/runtime/executable.js';
import { weightsChanged } from '../../src/runtime/weight-versions.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from '../../src/api/load.js';
import { fmc, tempDir } from '../api/helpers.js';
import { gpuDevice } from '../wgsl/dawn.js';
import { type BlockCase, NET, SPARSITY, blockWeights, netInput } from './sparse-weights.js';
import { CACHE_DIR, CBatch, MODEL_TOL, compare, runAndCompare } from './c-harness.js';

/** f32 rounding only (sums of up to 160 products of size 1 in another order). */
const TIGHT = { rtol: 1e-5, atol: 1e-5 };
const CTX: PassContext = { target: 'c', mode: 'inference', hints: NO_HINTS, options: {} };

/** relu(x @ W.T + bias) with W[N, K] marked block-sparse (blocks of b, at most cap stored). */
function linear(N: number, K: number, b: number, cap: number): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['M', K]);
  const w = g.param('fc.w', 'f32', [N, K], 'param', { fn: 'kaiming_uniform', args: {} });
  const bias = g.param('fc.b', 'f32', [N], 'param', { fn: 'uniform', args: { low: -0.5, high: 0.5 } });
  const y = g.binary('max', g.add(g.einsum('mk,nk->mn', x, g.barrier(w, bsrKey(b, cap))), bias), 0);
  return fusion.run(g.graph(`sparse_${N}_${K}_${b}_${cap}`, { y }), CTX);
}

interface Case extends BlockCase {
  readonly nan?: boolean;
}

const CASES: Case[] = [
  // Half the blocks, block rows 1 and 3 empty.
  { name: 'b 16, empty block rows', N: 80, K: 96, b: 16, cap: 15, keep: (i, j) => i % 2 === 0 && (i + j) % 2 === 0 },
  { name: 'b 32, half the blocks', N: 96, K: 160, b: 32, cap: 8, keep: (i, j) => (i * 5 + j) % 2 === 1 },
  // Runs of consecutive columns (one mma each), cut at groups of 8 blocks.
  { name: 'b 16, long runs', N: 32, K: 320, b: 16, cap: 38, keep: (_, j) => j !== 3 },
  { name: 'b 16, no nonzero block (density 0)', N: 48, K: 64, b: 16, cap: 6, keep: () => false },
  { name: 'b 16, every block (density 1)', N: 48, K: 80, b: 16, cap: 15, keep: () => true },
  { name: 'b 16, more blocks than the capacity (dense)', N: 48, K: 64, b: 16, cap: 4, keep: (i, j) => i !== j },
  { name: 'b 16, a NaN in a stored block', N: 32, K: 64, b: 16, cap: 8, keep: (i, j) => j === i, nan: true },
];

describe('block-sparse GEMM on C', () => {
  it('matches the reference on the same weights, epilogue fused, for every M', { timeout: 180_000 }, () => {
    const graphs = CASES.map((c) => linear(c.N, c.K, c.b, c.cap));
    for (const g of graphs) expect(g.groups!.map((k) => k.kind)).toEqual(['gemm']);
    const batch = CBatch.build(graphs);
    // The sparse kernel and its derived buffers are there (two 'packed' buffers from W).
    for (const p of batch.plans) expect(p.buffers.filter((b) => b.kind === 'packed')).toHaveLength(2);
    CASES.forEach((c, i) => {
      const params = blockWeights(c.N, c.K, c.b, c.keep);
      if (c.nan) params.get('fc.w')!.data[3 * c.K + 20] = NaN;
      for (const M of [1, 3, 9, 29]) {
        const r = runAndCompare(batch, i, { dims: { M }, params, tol: TIGHT, seed: M });
        expect(r.problems, `${c.name}, M ${M}`).toEqual([]);
      }
    });
  });
});

describe('the derived storage follows the weights', () => {
  it('is derived again after W changes (a new weight version), not before', { timeout: 120_000 }, () => {
    const [N, K, b] = [48, 64, 16];
    const batch = CBatch.build([linear(N, K, b, 6)]);
    const first = blockWeights(N, K, b, (i, j) => (i + j) % 2 === 0);
    const second = blockWeights(N, K, b, (i, j) => (i + j) % 2 === 1);
    const buffers = weightBuffers(first);
    // An inference plan (as compile marks it): its runs change no weight.
    const plan = { ...batch.merged[0]!, writesParams: false };
    const exe = { exe: new Executable(plan, batch.lib, buffers), weights: buffers, params: first };
    expect(runAndCompare(batch, 0, { dims: { M: 5 }, tol: TIGHT, exe }).problems).toEqual([]);
    // W's buffer rewritten in place: without a new version the kernel keeps the first blocks.
    const w = new Float32Array(buffers.get('fc.w')!);
    w.set(second.get('fc.w')!.data);
    const stale = runAndCompare(batch, 0, { dims: { M: 5 }, tol: TIGHT, exe: { ...exe, params: second } });
    expect(stale.problems).not.toEqual([]);
    weightsChanged([buffers.get('fc.w')!]);
    const fresh = runAndCompare(batch, 0, { dims: { M: 5 }, tol: TIGHT, exe: { ...exe, params: second } });
    expect(fresh.problems).toEqual([]);
  });
});

/** The sparsity pass's block-sparse marks in `g`. */
const marks = (g: Graph): string[] =>
  liveNodes(g).flatMap((n) => (n.op === 'barrier' && parseBsrKey(n.args.key) ? [n.args.key] : []));

const gpu = await gpuDevice();
if (typeof gpu === 'string') console.warn(`skipping the WGSL run of a block-sparse model: ${gpu}`);

describe.skipIf(typeof gpu === 'string')('--sparsity block=16,density=0.5 on WGSL', () => {
  it('reads the marked weights densely (the mark is the identity there)', { timeout: 120_000 }, async () => {
    const c = compileModel(NET, { isPath: false, target: 'wgsl', seed: 3, sparsity: SPARSITY });
    const g = c.modules[0]!.graph;
    expect(marks(g)).toEqual([bsrKey(16, 6), bsrKey(16, 3)]);
    const x = netInput(3);
    const ref = evaluate(g, { inputs: new Map([['x', x]]), params: c.weights, dims: new Map([['B', 3]]) });
    const got = toHost((await c.model.runAsync('forward', { x: fromHost(x) })).y!);
    expect(compare('y', got, ref.outputs.get('y')!, MODEL_TOL)).toEqual([]);
  });
});

describe('--sparsity block=16,density=0.5 through compile', () => {
  it('runs the sparse kernel on the pruned weights, as the reference computes them', { timeout: 120_000 }, () => {
    const compiled = compileModel(NET, {
      isPath: false,
      cacheDir: CACHE_DIR,
      seed: 3,
      sparsity: SPARSITY,
    });
    // Both GEMMs read their weight from its block table (no dense copy): one derived buffer each.
    const plan = compiled.functions[0]!.plan;
    expect(plan.buffers.filter((b) => b.kind === 'packed')).toHaveLength(2);
    expect(plan.params.map((p) => p.path).filter((p) => p.startsWith('fc'))).toEqual([
      'fc1.w:bsr16.index',
      'fc1.w:bsr16.values',
      'fc1.b',
      'fc2.w:bsr16.index',
      'fc2.w:bsr16.values',
      'fc2.b',
    ]);
    const ref = runPipeline(compiled.lowered[0]!, { target: 'reference', mode: 'inference' }).graph;
    for (const B of [1, 5, 20]) {
      const x = netInput(B);
      const got = toHost(compiled.model.run({ x: fromHost(x) }).y!);
      const want = evaluate(ref, { inputs: new Map([['x', x]]), params: compiled.weights, dims: new Map([['B', B]]) });
      expect(compare(`y at B ${B}`, got, want.outputs.get('y')!, TIGHT)).toEqual([]);
    }
  });
});

describe('a block-sparse module folder', () => {
  it('is written by fmc compile -o and loads (its plan keeps the i32 indices buffer)', { timeout: 120_000 }, () => {
    const dir = tempDir('sparse-module');
    fs.writeFileSync(path.join(dir, 'net.fm'), NET);
    const out = path.join(dir, 'mod');
    const r = fmc('compile', path.join(dir, 'net.fm'), '--sparsity', 'block=16,density=0.5', '--seed', '3', '-o', out);
    expect(r.code, r.err).toBe(0);
    const loaded = load(out, { cacheDir: CACHE_DIR });
    const inMemory = compileModel(NET, { isPath: false, cacheDir: CACHE_DIR, seed: 3, sparsity: SPARSITY });
    const x = fromHost(netInput(4));
    expect(Array.from(loaded.run({ x }).y!.data)).toEqual(Array.from(inMemory.model.run({ x }).y!.data));
  });
});

describe('the sparsity pass on inference graphs', () => {
  const hints = (block: number, density: number): Hints => ({
    params: new Map([['fc.w', { sparse: { kind: 'block', block, density } }]]),
    blocks: new Map(),
  });
  const graph = (transposeRead: boolean): Graph => {
    const g = new Builder();
    const x = g.input('x', 'f32', ['M', 64]);
    const w = g.param('fc.w', 'f32', [128, 64], 'param', { fn: 'kaiming_uniform', args: {} });
    return g.graph('f', {
      y: transposeRead ? g.einsum('mk,kn->mn', x, g.permute(w, [1, 0])) : g.einsum('mk,nk->mn', x, w),
    });
  };
  it('marks a block-sparse weight read as x @ W.T, with the pruning count as its capacity', () => {
    const run = (h: Hints, target: 'c' | 'reference' = 'c'): string[] =>
      marks(sparsity.run(graph(false), { ...CTX, target, hints: h }));
    expect(run(hints(32, 0.5))).toEqual([bsrKey(32, 4)]); // 4 × 2 blocks, half kept
    expect(run(hints(16, 0.3))).toEqual([bsrKey(16, 10)]); // round(0.3 · 32)
    expect(run(hints(32, 0.9))).toEqual([]); // too dense to pay
    expect(run(hints(8, 0.5))).toEqual([]); // blocks under 16
    expect(run(hints(32, 0.5), 'reference')).toEqual([]);
    expect(marks(sparsity.run(graph(true), { ...CTX, hints: hints(32, 0.5) }))).toEqual([]);
  });
});
