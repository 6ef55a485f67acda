// Magnitude pruning (src/ir/sparsity.ts) against an independent implementation written here
// (ranks by counting, blocks by explicit loops), the sparsity pass's rewrite (each use of a
// sparse param becomes `w · mask`, on the params the hints reach), and `--sparsity` checked
// at compile time: an illegal 2:4 is FM0504 at the .fm line (golden text).

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDiagnostic } from '../../src/frontend/diagnostics.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { liveNodes } from '../../src/ir/graph.js';
import type { SparseHint } from '../../src/ir/module.js';
import { maskPath, parseSparsity, sparseMask } from '../../src/ir/sparsity.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { expectGolden } from '../golden/golden.js';
import { smallModelFile } from '../models/small-models.js';

/** Deterministic weights with distinct magnitudes (no ties) and both signs. */
const weights = (n: number, seed: number): number[] =>
  Array.from({ length: n }, (_, i) => (Math.sin(seed * 12.9898 + i * 78.233) * 43758.5453) % 1);

/** n:m by counting: w_i is kept when fewer than n weights of its group are larger in magnitude. */
function nmOracle(w: readonly number[], n: number, m: number): number[] {
  return w.map((x, i) => {
    const g = i - (i % m);
    let larger = 0;
    for (let j = g; j < g + m; j++) if (Math.abs(w[j]!) > Math.abs(x)) larger++;
    return larger < n ? 1 : 0;
  });
}

/** Blocks by explicit loops over [mats, rows, cols]: a block kept when fewer than k blocks have a larger norm. */
function blockOracle(w: readonly number[], shape: number[], b: number, density: number): number[] {
  const [rows, cols] = shape.slice(-2) as [number, number];
  const mats = w.length / (rows * cols);
  const norms: number[][][] = [];
  for (let m = 0; m < mats; m++) {
    norms.push([]);
    for (let i = 0; i < rows / b; i++) {
      norms[m]!.push([]);
      for (let j = 0; j < cols / b; j++) {
        let s = 0;
        for (let r = 0; r < b; r++)
          for (let c = 0; c < b; c++) s += w[m * rows * cols + (i * b + r) * cols + j * b + c]! ** 2;
        norms[m]![i]!.push(s);
      }
    }
  }
  const all = norms.flat(2);
  const k = Math.max(1, Math.round(density * all.length));
  const out: number[] = [];
  for (let e = 0; e < w.length; e++) {
    const [m, r, c] = [Math.floor(e / (rows * cols)), Math.floor(e / cols) % rows, e % cols];
    const s = norms[m]![Math.floor(r / b)]![Math.floor(c / b)]!;
    out.push(all.filter((t) => t > s).length < k ? 1 : 0);
  }
  return out;
}

describe('magnitude masks', () => {
  it('2:4 keeps the two largest of each group of four along the reduction axis', () => {
    const w = weights(8 * 16, 1);
    const mask = Array.from(sparseMask(w, [8, 16], { kind: 'n:m', n: 2, m: 4 }));
    expect(mask).toEqual(nmOracle(w, 2, 4));
    for (let g = 0; g < mask.length; g += 4) expect(mask.slice(g, g + 4).reduce((a, x) => a + x)).toBe(2);
    // 1:4 too, and ties go to the lower index (a group of equal magnitudes keeps its first).
    expect(Array.from(sparseMask(w, [8, 16], { kind: 'n:m', n: 1, m: 4 }))).toEqual(nmOracle(w, 1, 4));
    expect(Array.from(sparseMask([1, -1, 1, -1], [1, 4], { kind: 'n:m', n: 2, m: 4 }))).toEqual([1, 1, 0, 0]);
  });

  it('blocks are kept by their L2 norm to the density, over every matrix of the param', () => {
    for (const [shape, b, p] of [
      [[16, 24], 4, 0.5],
      [[2, 8, 8], 2, 0.25],
      [[8, 8], 1, 0.3], // block 1: unstructured top-k
    ] as [number[], number, number][]) {
      const w = weights(
        shape.reduce((a, d) => a * d),
        b + shape.length,
      );
      const mask = Array.from(sparseMask(w, shape, { kind: 'block', block: b, density: p }));
      expect(mask, `${shape} block ${b}`).toEqual(blockOracle(w, shape, b, p));
      const blocks = w.length / (b * b);
      expect(mask.reduce((a, x) => a + x)).toBe(Math.round(p * blocks) * b * b);
    }
  });

  it('unstructured top-k breaks ties by the lower index', () => {
    const mask = sparseMask([1, -1, 1, 1, 2, -2], [2, 3], { kind: 'block', block: 1, density: 0.5 });
    expect(Array.from(mask)).toEqual([1, 0, 0, 0, 1, 1]);
  });

  it('ranks a NaN weight above every number: kept (it propagates), and exactly the count is kept', () => {
    const count = (m: Float64Array) => m.reduce((a, c) => a + c, 0);
    const block = (w: number[], shape: number[], b: number, density: number) =>
      sparseMask(w, shape, { kind: 'block', block: b, density });
    const nan = Array.from({ length: 16 }, () => NaN);
    // An all-NaN param: density 1 keeps everything, 0.5 the first half (ties by index), and
    // at least one block.
    expect(count(block(nan, [4, 4], 1, 1))).toBe(16);
    expect(Array.from(block(nan, [4, 4], 1, 0.5))).toEqual([...Array(8).fill(1), ...Array(8).fill(0)]);
    expect(count(block(nan, [4, 4], 2, 0.01))).toBe(4);
    // NaN blocks first, then the largest numbers; density 1 keeps everything.
    const w = [0.5, NaN, 3, -4, 0.25, 1, NaN, 2];
    expect(Array.from(block(w, [2, 4], 1, 0.5))).toEqual([0, 1, 1, 1, 0, 0, 1, 0]);
    expect(Array.from(block(w, [2, 4], 1, 0.25))).toEqual([0, 1, 0, 0, 0, 0, 1, 0]);
    expect(count(block(w, [2, 4], 1, 1))).toBe(8);
    expect(Array.from(block([1, 2, NaN, 0, 0, 0, 0, 0], [2, 4], 2, 0.5))).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    // n:m: exactly n a group, a NaN first; all-NaN groups keep the first n.
    const nm = (v: number[]) => Array.from(sparseMask(v, [1, v.length], { kind: 'n:m', n: 2, m: 4 }));
    expect(nm([5, NaN, 1, 2, NaN, NaN, NaN, NaN])).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
    expect(nm([NaN, -1, 3, NaN, 0, 0, Infinity, NaN])).toEqual([1, 0, 0, 1, 0, 0, 1, 1]);
  });

  it('parses --sparsity', () => {
    expect(parseSparsity('2:4')).toEqual({ kind: 'n:m', n: 2, m: 4 });
    expect(parseSparsity('block=32,density=0.5')).toEqual({ kind: 'block', block: 32, density: 0.5 });
    expect(parseSparsity('density=0.1')).toEqual({ kind: 'block', block: 1, density: 0.1 });
    for (const bad of ['4:2', 'block=0,density=0.5', 'density=2', 'dens=0.5'])
      expect(typeof parseSparsity(bad)).toBe('string');
  });
});

/** The params whose uses the sparsity pass masked (mul of the param by its mask buffer). */
function maskedParams(file: string, sparsity?: SparseHint): string[] {
  const r = lowerFile(file, { fn: 'loss', ...(sparsity ? { sparsity } : {}) });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const g = runPipeline(r.lowered, { target: 'reference', mode: 'train' }).graph;
  const out: string[] = [];
  for (const n of liveNodes(g)) {
    if (n.op !== 'binary' || n.args.fn !== 'mul') continue;
    const paths = n.inputs.map((i) => (i.op === 'param' ? i.args.path : ''));
    const w = paths.find((p) => paths.includes(maskPath(p)));
    if (w) out.push(w);
  }
  return out.sort();
}

describe('the sparsity pass', () => {
  it("masks the uses of the params the hints reach: mlp's @sparse(2:4) fc2, or every weight under --sparsity", () => {
    const file = smallModelFile('mlp');
    expect(maskedParams(file)).toEqual(['fc2.w']);
    // mlp's classifier is Linear(16, 10): 8 divides neither 10 nor... so blocks of 2 reach all three.
    expect(maskedParams(file, { kind: 'block', block: 2, density: 0.5 })).toEqual(['fc1.w', 'fc2.w', 'fc3.w']);
  });

  it('--sparsity 2:4 on a weight whose K is not a multiple of 4 is FM0504 at its .fm line (golden)', () => {
    const file = path.resolve('test/passes/sparsity-k10.fm');
    const r = lowerFile(file, { fn: 'forward', sparsity: { kind: 'n:m', n: 2, m: 4 } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.diagnostics.map((d) => renderDiagnostic(d, (f) => r.program.source(f))).join('\n');
    expectGolden('sparsity/override-2-4.txt', text.replaceAll(process.cwd(), '.'));
  });
});
