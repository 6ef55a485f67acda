// Typed tiles (KStmt 'frag': m16n8k16 fragments, src/ir/fragments.ts) and the GEMM built on
// them (src/kernels/gemm-frag.ts). The layout is PTX's: every element of each tile is held by
// exactly one lane, at the places the PTX ISA's fragment figures give (checked at lanes the
// figures label). WGSL expands fragments through workgroup memory (legalize-frag.ts); the
// fragment GEMM runs on Dawn (SwiftShader) against the interpreter for f16 and bf16 operands,
// sizes that are not multiples of the 64×64×16 block, both operand layouts, an epilogue, batch
// letters, symbolic dims and a K of 0, plus a golden WGSL kernel. Any consistent layout gives
// right numbers on WGSL; the CUDA target's tensor-core instructions are what need PTX's.

import { describe, expect, it } from 'vitest';
import { expandFragments } from '../../src/codegen/legalize-frag.js';
import { renderWgsl } from '../../src/codegen/wgsl.js';
import { FRAG_ELEMENTS, FRAG_TILE, WARP, fragPlace } from '../../src/ir/fragments.js';
import type { FragRole, KStmt } from '../../src/ir/kernel.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { expectGolden } from '../golden/golden.js';
import { gpuDevice } from './dawn.js';
import { type GemmCases, checkGemmCase, gemmCases } from './gemm-cases.js';

const gpu = await gpuDevice();
if (typeof gpu === 'string') console.warn(`skipping the fragment GEMM runs: ${gpu}`);

describe('the m16n8k16 fragment layout', () => {
  for (const role of ['a', 'b', 'acc'] as FragRole[])
    it(`${role}: each element of the tile is held by exactly one lane`, () => {
      const [rows, cols] = FRAG_TILE[role];
      const seen = new Map<string, string>();
      for (let lane = 0; lane < WARP; lane++)
        for (let i = 0; i < FRAG_ELEMENTS[role]; i++) {
          const [r, c] = fragPlace(role, i, lane);
          expect(r >= 0 && r < rows && c >= 0 && c < cols).toBe(true);
          expect(seen.has(`${r},${c}`)).toBe(false);
          seen.set(`${r},${c}`, `${lane}:${i}`);
        }
      expect(seen.size).toBe(rows * cols);
    });

  it("follows PTX's figures (mma.m16n8k16, .f16/.bf16)", () => {
    // Figure "MMA .m16n8k16 fragment layout for matrix A": T0 holds a0,a1 at row 0, cols 0-1,
    // a2,a3 at row 8, a4,a5 at row 0, cols 8-9; T5 (group 1, thread 1) a0 at row 1, col 2.
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => fragPlace('a', i, 0))).toEqual([
      [0, 0],
      [0, 1],
      [8, 0],
      [8, 1],
      [0, 8],
      [0, 9],
      [8, 8],
      [8, 9],
    ]);
    expect(fragPlace('a', 0, 5)).toEqual([1, 2]);
    expect(fragPlace('a', 7, 31)).toEqual([15, 15]);
    // Matrix B (16×8, k by n): T0 b0,b1 at rows 0-1 of column 0, b2,b3 at rows 8-9; T5 b0 at row 2, column 1.
    expect([0, 1, 2, 3].map((i) => fragPlace('b', i, 0))).toEqual([
      [0, 0],
      [1, 0],
      [8, 0],
      [9, 0],
    ]);
    expect(fragPlace('b', 0, 5)).toEqual([2, 1]);
    // C/D (16×8): T0 c0,c1 at row 0, cols 0-1, c2,c3 at row 8; T31 c3 at row 15, col 7.
    expect([0, 1, 2, 3].map((i) => fragPlace('acc', i, 0))).toEqual([
      [0, 0],
      [0, 1],
      [8, 0],
      [8, 1],
    ]);
    expect(fragPlace('acc', 3, 31)).toEqual([15, 7]);
  });
});

// f16 operands, and bf16 through the epilogue case.
const CASES: GemmCases = { ...gemmCases('f16'), epilogue: gemmCases('bf16').epilogue! };
const plain = CASES.plain![0];

const fragStatements = (ss: readonly KStmt[]): number =>
  ss.reduce(
    (n, s) =>
      n +
      (s.k.startsWith('frag') ? 1 : 0) +
      (s.k === 'for' ? fragStatements(s.body) : 0) +
      (s.k === 'if' ? fragStatements([...s.then, ...(s.else ?? [])]) : 0),
    0,
  );

describe('the fragment GEMM', () => {
  it('lowers f16/bf16 GEMMs to fragments only when asked, and WGSL gets none of them', () => {
    const on = lowerGraph(plain(), { target: 'gpu', fragments: true });
    const off = lowerGraph(plain(), { target: 'gpu', fragments: false });
    expect(on.kernels.map((k) => k.schedule.fragments)).toContain('m16n8k16 f16');
    expect(off.kernels.every((k) => k.schedule.fragments === undefined)).toBe(true);
    const k = on.kernels.find((x) => x.schedule.fragments)!;
    expect(fragStatements(k.body)).toBeGreaterThan(0);
    expect(fragStatements(expandFragments(k).body)).toBe(0);
  });

  it('golden WGSL', () => {
    const plan = lowerGraph(plain(), { target: 'gpu', fragments: true });
    const k = plan.kernels.find((x) => x.schedule.fragments)!;
    const code = renderWgsl({ ...plan, kernels: [k] }, 'golden/wgsl/frag_gemm').kernels[0]!.code;
    expectGolden('wgsl/frag_gemm.wgsl', code.slice(code.indexOf('@group(0)')));
  });
});

describe.skipIf(typeof gpu === 'string')('the fragment GEMM on Dawn vs the interpreter', () => {
  for (const name of Object.keys(CASES)) {
    it(name, { timeout: 300_000 }, async () => {
      if (typeof gpu === 'string') return;
      await checkGemmCase(gpu.device, CASES[name]!, { fragments: true }, (k) => !!k.schedule.fragments);
    });
  }
});
