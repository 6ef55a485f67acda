// Block-sparse weights held only as block tables (src/ir/sparse-table.ts): the sparsity pass
// with `sparseTables` reads W from its table, the C GEMM multiplies from the table in place
// (gemm-sparse.ts), and nothing binds the dense W. Checked against the interpreter's dense
// computation on the same pruned weights: blocks of 16, 32 and 64 (panels of 16 and 32, runs
// of consecutive blocks on and off), empty block rows, tables whose slots are not in block
// order, M through the GEMV and the tiled form, K cut into chunks (the packed A capped at
// PACK_FLOATS). Then `fmc compile -o` and load(): the module holds the tables alone, smaller
// than the dense weights, and runs with the in-memory model's outputs; a table with a slot
// out of range, a slot used twice or a truncated index is refused naming the weight.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { load } from '../../src/api/load.js';
import { compileModel } from '../../src/api/compile.js';
import { Builder } from '../../src/ir/build.js';
import type { Graph } from '../../src/ir/graph.js';
import { dimConstValue } from '../../src/ir/dims.js';
import { evaluate } from '../../src/ir/interp.js';
import type { Hints } from '../../src/ir/module.js';
import { encodeBlockTable, tableBytes, tableNames, withTables } from '../../src/ir/sparse-table.js';
import type { HostTensor } from '../../src/ir/value.js';
import { PACK_FLOATS } from '../../src/kernels/gemm-sparse.js';
import { fusion } from '../../src/passes/fusion/index.js';
import type { PassContext } from '../../src/passes/pass.js';
import { sparsity } from '../../src/passes/sparsity.js';
import { weightBuffers } from '../../src/runtime/compile.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../../src/runtime/safetensors.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { fmc, tempDir } from '../api/helpers.js';
import { type BlockCase, NET, SPARSITY, blockWeights, netInput, againstDense } from './sparse-weights.js';
import { CACHE_DIR, CBatch, compare } from './c-harness.js';

const TIGHT = { rtol: 1e-5, atol: 1e-5 };

/** relu(x @ W.T + bias), W[N, K] with a block hint (density: cap / blocks). */
function linear(N: number, K: number, b: number, cap: number): { dense: Graph; table: Graph } {
  const g = new Builder();
  const x = g.input('x', 'f32', ['M', K]);
  const w = g.param('fc.w', 'f32', [N, K], 'param', { fn: 'kaiming_uniform', args: {} });
  const bias = g.param('fc.b', 'f32', [N], 'param', { fn: 'uniform', args: { low: -0.5, high: 0.5 } });
  const dense = g.graph(`table_${N}_${K}_${b}_${cap}`, {
    y: g.binary('max', g.add(g.einsum('mk,nk->mn', x, w), bias), 0),
  });
  const density = cap / ((N / b) * (K / b));
  const hints: Hints = {
    params: new Map([['fc.w', { sparse: { kind: 'block', block: b, density } }]]),
    blocks: new Map(),
  };
  const ctx: PassContext = { target: 'c', mode: 'inference', hints, options: { sparseTables: true } };
  return { dense, table: fusion.run(sparsity.run(dense, ctx), ctx) };
}

/** The table's slots numbered backwards (a valid table whose slots are not in block order). */
function reversed(params: Map<string, HostTensor>, b: number, cap: number): Map<string, HostTensor> {
  const names = tableNames('fc.w', b);
  const index = params.get(names.index)!;
  const values = params.get(names.values)!;
  const out = new Float64Array(values.data.length);
  const data = index.data.map((s) => (s < 0 ? s : cap - 1 - s));
  index.data.forEach((s, e) => {
    if (s >= 0) out.set(values.data.subarray(s * b * b, (s + 1) * b * b), data[e]! * b * b);
  });
  return new Map([...params, [names.index, { ...index, data }], [names.values, { ...values, data: out }]]);
}

/** The local arrays declared anywhere in `body`. */
function arrays(body: unknown): { name: string; size: number }[] {
  if (Array.isArray(body)) return body.flatMap(arrays);
  if (typeof body !== 'object' || body === null) return [];
  const o = body as Record<string, unknown>;
  const own = o.k === 'array' ? [{ name: o.name as string, size: o.size as number }] : [];
  return [...own, ...Object.values(o).flatMap(arrays)];
}

interface Case extends BlockCase {
  readonly Ms: readonly number[];
  readonly reorder?: boolean;
  /** Sums of thousands of products: f32 rounding in another order. */
  readonly tol?: { rtol: number; atol: number };
}

const CASES: Case[] = [
  {
    name: 'b 16, empty block rows',
    N: 80,
    K: 96,
    b: 16,
    cap: 15,
    keep: (i, j) => i % 2 === 0 && (i + j) % 2 === 0,
    Ms: [1, 3, 29],
  },
  {
    name: 'b 32, runs',
    N: 96,
    K: 256,
    b: 32,
    cap: 16,
    keep: (i, j) => j !== 2 && j !== 5 && (i + j) % 7 !== 0,
    Ms: [1, 9, 150],
  },
  { name: 'b 64, panels of 32', N: 128, K: 192, b: 64, cap: 4, keep: (i, j) => (i + j) % 2 === 0, Ms: [1, 29] },
  {
    name: 'b 16, slots not in block order',
    N: 48,
    K: 128,
    b: 16,
    cap: 16,
    keep: (i, j) => (i + j) % 3 !== 0,
    Ms: [1, 9],
    reorder: true,
  },
  {
    name: 'b 32, K in chunks',
    N: 64,
    K: 8192,
    b: 32,
    cap: 300,
    keep: (_, j) => j % 4 < 2,
    Ms: [1, 150],
    tol: { rtol: 1e-4, atol: 1e-4 },
  },
];

describe('block-sparse GEMM from a block table on C', () => {
  it('matches the dense computation in the interpreter, with no dense W bound', { timeout: 300_000 }, () => {
    const graphs = CASES.map((c) => linear(c.N, c.K, c.b, c.cap));
    const batch = CBatch.build(graphs.map((g) => g.table));
    CASES.forEach((c, i) => {
      const plan = batch.plans[i]!;
      expect(plan.params.map((p) => p.path).sort()).toEqual(['fc.b', ...Object.values(tableNames('fc.w', c.b))].sort());
      // The packed A of a thread stays within PACK_FLOATS however long K is.
      const scratch = plan.kernels.flatMap((k) => arrays(k.body).filter((a) => k.cpu?.scratch.includes(a.name)));
      expect(scratch.length, c.name).toBeGreaterThan(0);
      for (const s of scratch) expect(s.size, c.name).toBeLessThanOrEqual(PACK_FLOATS);
      const dense = blockWeights(c.N, c.K, c.b, c.keep);
      let params = withTables([graphs[i]!.table], dense);
      if (c.reorder) params = reversed(params, c.b, c.cap);
      params.delete('fc.w');
      const exe = batch.executable(i, weightBuffers(params));
      for (const M of c.Ms) {
        expect(againstDense(exe, graphs[i]!.dense, dense, M, c.K, `${c.name}, M ${M}`, c.tol ?? TIGHT)).toEqual([]);
      }
    });
  });

  it('encodes a dense weight into a table of exactly its stored blocks', () => {
    const dense = blockWeights(64, 64, 16, (i, j) => i === j);
    const t = encodeBlockTable(dense.get('fc.w')!.data, 64, 64, 16, 4);
    expect(Array.from(t.index).filter((s) => s >= 0)).toEqual([0, 1, 2, 3]);
    expect(() => encodeBlockTable(dense.get('fc.w')!.data, 64, 64, 16, 3)).toThrow(
      /4 nonzero 16×16 blocks, more than the 3/,
    );
  });
});

describe('a block-sparse module folder holds the tables alone', () => {
  const dir = tempDir('sparse-table');
  fs.writeFileSync(path.join(dir, 'net.fm'), NET);
  const compileTo = (out: string, ...extra: string[]): void => {
    const r = fmc('compile', path.join(dir, 'net.fm'), '--seed', '3', '-o', out, ...extra);
    expect(r.code, r.err).toBe(0);
  };
  const sparse = path.join(dir, 'sparse');
  const dense = path.join(dir, 'dense');

  beforeAll(() => {
    compileTo(sparse, '--sparsity', 'block=16,density=0.5');
    compileTo(dense);
  }, 180_000);

  it('is written compressed by fmc compile -o and loads with the same outputs', { timeout: 180_000 }, () => {
    const file = readSafetensorsFile(path.join(sparse, 'weights.safetensors')).tensors;
    expect([...file.keys()].sort()).toEqual(
      ['fc1.b', 'fc1.w:bsr16.index', 'fc1.w:bsr16.values', 'fc2.b', 'fc2.w:bsr16.index', 'fc2.w:bsr16.values'].sort(),
    );
    // fc1.w 48×64: 12 blocks, 6 kept; fc2.w 32×48: 6 blocks, 3 kept.
    const want = tableBytes(48, 64, 16, 6) + tableBytes(32, 48, 16, 3) + 4 * (48 + 32);
    const tensorBytes = (d: string) => {
      const r = readSafetensorsFile(path.join(d, 'weights.safetensors'));
      return [...r.tensors.values()].reduce((a, t) => a + 4 * t.data.length, 0);
    };
    expect(tensorBytes(sparse)).toBe(want);
    expect(tensorBytes(dense)).toBe(4 * (48 * 64 + 48 + 32 * 48 + 32));
    expect(fs.statSync(path.join(sparse, 'weights.safetensors')).size).toBeLessThan(
      fs.statSync(path.join(dense, 'weights.safetensors')).size * 0.6,
    );
    const loaded = load(sparse, { cacheDir: CACHE_DIR });
    const plan = loaded.executable().plan;
    expect(plan.params.some((p) => p.path === 'fc1.w' || p.path === 'fc2.w')).toBe(false);
    // Bound: the tables and biases, and the derived block pointers (i32, a few hundred bytes).
    const bound = (kind: string) =>
      plan.buffers.filter((b) => b.kind === kind).reduce((a, b) => a + 4 * dimConstValue(b.size)!, 0);
    expect(bound('param')).toBe(want);
    expect(bound('packed')).toBeLessThan(1024);
    const inMemory = compileModel(NET, { isPath: false, cacheDir: CACHE_DIR, seed: 3, sparsity: SPARSITY });
    for (const B of [1, 5]) {
      const x = fromHost(netInput(B));
      expect(Array.from(loaded.run({ x }).y!.data)).toEqual(Array.from(inMemory.model.run({ x }).y!.data));
      const ref = evaluate(inMemory.lowered[0]!.graph, {
        inputs: new Map([['x', netInput(B)]]),
        params: inMemory.weights,
        dims: new Map([['B', B]]),
      });
      expect(compare(`B ${B}`, toHost(loaded.run({ x }).y!), ref.outputs.get('y')!, TIGHT)).toEqual([]);
    }
  });

  it('takes its own compressed weights back with --weights', { timeout: 120_000 }, () => {
    const again = path.join(dir, 'again');
    compileTo(again, '--sparsity', 'block=16,density=0.5', '--weights', path.join(sparse, 'weights.safetensors'));
    const bytes = (d: string) => fs.readFileSync(path.join(d, 'weights.safetensors'));
    expect(bytes(again).equals(bytes(sparse))).toBe(true);
  });

  it('fmc inspect shows the bytes of the tables', { timeout: 60_000 }, () => {
    const r = fmc('inspect', path.join(dir, 'net.fm'), '--sparsity', 'block=16,density=0.5', '--json');
    expect(r.code, r.err).toBe(0);
    const rows = (JSON.parse(r.out) as { rows: { path: string; weightBytes: number; storedBytes: number }[] }).rows;
    const fc1 = rows.find((row) => row.path === 'fc1')!;
    expect([fc1.weightBytes, fc1.storedBytes]).toEqual([4 * (48 * 64 + 48), tableBytes(48, 64, 16, 6) + 4 * 48]);
  });

  /** The module with fc1.w's index changed by `edit`, loaded: the error's message. */
  const corrupt = (name: string, edit: (t: HostTensor) => HostTensor): string => {
    const out = path.join(dir, name);
    fs.cpSync(sparse, out, { recursive: true });
    const file = path.join(out, 'weights.safetensors');
    const tensors = new Map(readSafetensorsFile(file).tensors);
    tensors.set('fc1.w:bsr16.index', edit(tensors.get('fc1.w:bsr16.index')!));
    writeSafetensorsFile(file, tensors);
    try {
      load(out, { cacheDir: CACHE_DIR });
    } catch (e) {
      return (e as Error).message;
    }
    return 'loaded';
  };
  const withSlot = (t: HostTensor, at: number, s: number): HostTensor => ({
    ...t,
    data: t.data.map((v, i) => (i === at ? s : v)),
  });

  it('refuses a table with a bad block index or a truncated index, naming the weight', { timeout: 60_000 }, () => {
    expect(corrupt('past', (t) => withSlot(t, t.data.indexOf(-1), 6))).toMatch(
      /block table of weight 'fc1\.w'.*slot 6, outside -1 \.\. 5/,
    );
    expect(corrupt('negative', (t) => withSlot(t, 0, -7))).toMatch(/weight 'fc1\.w'.*slot -7/);
    expect(
      corrupt('twice', (t) =>
        withSlot(
          t,
          t.data.indexOf(-1),
          t.data.find((s) => s >= 0)!,
        ),
      ),
    ).toMatch(/weight 'fc1\.w'.*both use slot/);
    expect(corrupt('truncated', (t) => ({ ...t, shape: [3, 3], data: t.data.slice(0, 9) }))).toMatch(
      /fc1\.w:bsr16\.index/,
    );
  });
});
