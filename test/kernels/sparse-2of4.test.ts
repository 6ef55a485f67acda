// 2:4 weights held as their values and 2-bit metadata alone (src/ir/sparse-format.ts): the
// sparsity pass with `sparseTables` reads W from them, the C GEMV reads them in place at batch
// 1 (gemm-2of4.ts; an odd last metadata word too) and the packed GEMM decodes them while
// packing at larger M, against the interpreter's dense computation on the same pruned weights.
// Then mlp.fm (fc2 @sparse(2:4)) through `fmc compile -o` and load(): fc2.w is written as its
// 2:4 params only, and runs as compiled; metadata whose positions do not increase is refused
// naming the weight.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { load } from '../../src/api/load.js';
import { compileModel } from '../../src/api/compile.js';
import { Builder } from '../../src/ir/build.js';
import { liveNodes } from '../../src/ir/graph.js';
import { evaluate } from '../../src/ir/interp.js';
import type { Hints } from '../../src/ir/module.js';
import { twoFourBytes, twoFourNames } from '../../src/ir/sparse-format.js';
import { sparseMask } from '../../src/ir/sparsity.js';
import { withTables } from '../../src/ir/sparse-table.js';
import type { HostTensor } from '../../src/ir/value.js';
import { fusion } from '../../src/passes/fusion/index.js';
import type { PassContext } from '../../src/passes/pass.js';
import { sparsity } from '../../src/passes/sparsity.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { weightBuffers } from '../../src/runtime/compile.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../../src/runtime/safetensors.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { ROOT, fmc, tempDir } from '../api/helpers.js';
import { againstDense } from './sparse-weights.js';
import { CACHE_DIR, CBatch, MODEL_TOL, compare } from './c-harness.js';

const TIGHT = { rtol: 1e-5, atol: 1e-5 };
const HINTS: Hints = { params: new Map([['fc.w', { sparse: { kind: 'n:m', n: 2, m: 4 } }]]), blocks: new Map() };

/** relu(x @ W.T + bias) with W[N, K] 2:4 sparse: the dense graph and the C inference one. */
function linear(N: number, K: number) {
  const g = new Builder();
  const x = g.input('x', 'f32', ['M', K]);
  const w = g.param('fc.w', 'f32', [N, K], 'param', { fn: 'kaiming_uniform', args: {} });
  const bias = g.param('fc.b', 'f32', [N], 'param', { fn: 'uniform', args: { low: -0.5, high: 0.5 } });
  const dense = g.graph(`two_four_${N}_${K}`, { y: g.binary('max', g.add(g.einsum('mk,nk->mn', x, w), bias), 0) });
  const ctx: PassContext = { target: 'c', mode: 'inference', hints: HINTS, options: { sparseTables: true } };
  return { dense, sparse: fusion.run(sparsity.run(dense, ctx), ctx) };
}

/** Pruned 2:4 weights (some groups with fewer than two nonzeros) and a bias. */
function pruned(N: number, K: number): Map<string, HostTensor> {
  const raw = Float64Array.from({ length: N * K }, (_, e) => (e % 13 === 0 ? 0 : Math.sin(0.37 * e + 1)));
  const mask = sparseMask(raw, [N, K], { kind: 'n:m', n: 2, m: 4 });
  return new Map([
    ['fc.w', { dtype: 'f32', shape: [N, K], data: raw.map((v, i) => v * mask[i]!) }],
    ['fc.b', { dtype: 'f32', shape: [N], data: Float64Array.from({ length: N }, (_, n) => 0.1 * Math.cos(n)) }],
  ]);
}

const CASES = [
  { N: 40, K: 128 },
  { N: 24, K: 96 }, // three metadata words a row: an odd last one
  { N: 300, K: 512 },
];

describe('2:4 weights from their values and metadata on C', () => {
  it('match the dense computation in the interpreter at every M, with no dense W bound', { timeout: 300_000 }, () => {
    const graphs = CASES.map((c) => linear(c.N, c.K));
    const batch = CBatch.build(graphs.map((g) => g.sparse));
    CASES.forEach((c, i) => {
      expect(batch.plans[i]!.params.map((p) => p.path).sort()).toEqual(
        ['fc.b', ...Object.values(twoFourNames('fc.w'))].sort(),
      );
      const dense = pruned(c.N, c.K);
      const params = withTables([graphs[i]!.sparse], dense);
      params.delete('fc.w');
      const exe = batch.executable(i, weightBuffers(params));
      for (const M of [1, 3, 9, 29]) {
        expect(againstDense(exe, graphs[i]!.dense, dense, M, c.K, `${c.N}×${c.K}, M ${M}`, TIGHT)).toEqual([]);
      }
    });
  });
});

describe('the choice of the 2:4 form', () => {
  it('is made where the batch-1 GEMV serves the weight: symbolic or fewer than 4 rows', () => {
    const marked = (rows: number | string): boolean => {
      const g = new Builder();
      const x = g.input('x', 'f32', [rows, 64]);
      const w = g.param('fc.w', 'f32', [32, 64], 'param', { fn: 'kaiming_uniform', args: {} });
      const ctx: PassContext = { target: 'c', mode: 'inference', hints: HINTS, options: { sparseTables: true } };
      const out = sparsity.run(g.graph('f', { y: g.einsum('mk,nk->mn', x, w) }), ctx);
      return liveNodes(out).some((n) => n.op === 'param' && n.args.path === twoFourNames('fc.w').meta);
    };
    expect([marked('M'), marked(1), marked(3), marked(4), marked(128)]).toEqual([true, true, true, false, false]);
  });
});

describe('cnn.fm under --sparsity 2:4 on C', () => {
  it('runs fc2 from its 2:4 params, as the reference computes the pruned model', { timeout: 180_000 }, () => {
    const cnn = path.join(ROOT, 'models/cnn.fm');
    const set = { channels: 4, width: 8, size: 16 };
    const c = compileModel(cnn, { cacheDir: CACHE_DIR, seed: 2, set, sparsity: { kind: 'n:m', n: 2, m: 4 } });
    const params = c.functions[0]!.plan.params.map((p) => p.path);
    // fc2 (10×256) is held as 2:4; fc1 is int8 (quantized first), the convolutions are pruned dense.
    expect(params).toEqual(expect.arrayContaining(Object.values(twoFourNames('fc2.w'))));
    expect(params).not.toContain('fc2.w');
    const ref = runPipeline(c.lowered[0]!, { target: 'reference', mode: 'inference' }).graph;
    for (const B of [1, 5]) {
      const images: HostTensor = {
        dtype: 'f32',
        shape: [B, 4, 16, 16],
        data: Float64Array.from({ length: B * 1024 }, (_, i) => Math.sin(0.05 * i + B)),
      };
      const got = toHost(c.model.run({ images: fromHost(images) }).logits!);
      const want = evaluate(ref, {
        inputs: new Map([['images', images]]),
        params: c.weights,
        dims: new Map([['B', B]]),
      });
      expect(compare(`B ${B}`, got, want.outputs.get('logits')!, MODEL_TOL)).toEqual([]);
    }
  });
});

describe('mlp.fm with fc2 @sparse(2:4) as a module folder', () => {
  const dir = tempDir('sparse-2of4');
  const out = path.join(dir, 'mlp');
  const mlp = path.join(ROOT, 'models/mlp.fm');
  beforeAll(() => {
    const r = fmc('compile', mlp, '--seed', '3', '-o', out);
    expect(r.code, r.err).toBe(0);
  }, 180_000);

  it('holds fc2.w as its 2:4 params only and runs as compiled, as the reference', { timeout: 180_000 }, () => {
    const file = readSafetensorsFile(path.join(out, 'weights.safetensors')).tensors;
    expect(file.has('fc2.w')).toBe(false);
    const names = twoFourNames('fc2.w');
    const bytes = 4 * (file.get(names.values)!.data.length + file.get(names.meta)!.data.length);
    expect(bytes).toBe(twoFourBytes(256, 512));
    const loaded = load(out, { cacheDir: CACHE_DIR });
    const inMemory = compileModel(mlp, { cacheDir: CACHE_DIR, seed: 3 });
    for (const B of [1, 6]) {
      const images: HostTensor = {
        dtype: 'f32',
        shape: [B, 784],
        data: Float64Array.from({ length: B * 784 }, (_, i) => (Math.sin(0.01 * i + B) + 1) / 2),
      };
      const x = fromHost(images);
      const got = loaded.run({ images: x }).logits!;
      expect(Array.from(got.data)).toEqual(Array.from(inMemory.model.run({ images: x }).logits!.data));
      const ref = evaluate(runPipeline(inMemory.lowered[0]!, { target: 'reference', mode: 'inference' }).graph, {
        inputs: new Map([['images', images]]),
        params: inMemory.weights,
        dims: new Map([['B', B]]),
      });
      // The reference pipeline: fc1 int8 as C reads it, fc2's pruned weights dense.
      expect(compare(`B ${B}`, toHost(got), ref.outputs.get('logits')!, MODEL_TOL)).toEqual([]);
    }
  });

  it('fmc inspect counts fc2.w at its 2:4 bytes', { timeout: 60_000 }, () => {
    const r = fmc('inspect', mlp, '--json');
    expect(r.code, r.err).toBe(0);
    const rows = (JSON.parse(r.out) as { rows: { path: string; storedBytes: number }[] }).rows;
    expect(rows.find((row) => row.path === 'fc2')!.storedBytes).toBe(twoFourBytes(256, 512) + 4 * 256);
  });

  it('refuses metadata whose positions do not increase, naming the weight', { timeout: 60_000 }, () => {
    const bad = path.join(dir, 'bad');
    fs.cpSync(out, bad, { recursive: true });
    const file = path.join(bad, 'weights.safetensors');
    const tensors = new Map(readSafetensorsFile(file).tensors);
    const meta = tensors.get('fc2.w:2of4.meta')!;
    // Group 1 of row 0 at positions 1, 1 (bits 4 .. 7 of word 0).
    const word = (meta.data[0]! & ~0xf0) | (0b0101 << 4);
    tensors.set('fc2.w:2of4.meta', { ...meta, data: meta.data.map((v, i) => (i === 0 ? word : v)) });
    writeSafetensorsFile(file, tensors);
    expect(() => load(bad, { cacheDir: CACHE_DIR })).toThrow(
      /2:4 metadata of weight 'fc2\.w'.*row 0, group 1 \(columns 4 \.\. 7\) has positions 1, 1/,
    );
  });
});
