// scripts/gpu-check where there is no GPU (this machine, CI): it exits at once with code 2 and
// one line naming libcuda.so.1, before building anything, as does the Node script it runs; a
// missing `node` is named. And what its benchmarks compile is checked here, where it can be:
// the .fm functions lower to CUDA, and the fragment lowering the GEMM check validates does
// use the tensor-core macros (so that check cannot pass vacuously on a GPU), and attention
// lowers to the flash kernel (no scores buffer: the largest sizes run).

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { dimConst, dimConstValue, dimSubst } from '../../src/ir/dims.js';
import { renderCudaProgram } from '../../src/codegen/cuda.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { piped } from '../../src/runtime/compile.js';
import { generateCuda } from '../../src/runtime/cuda-program.js';
import { native } from '../../src/runtime/native.js';
import { BENCH_SOURCE, gemmGraph } from '../../bench/gpu-bench.js';
import { BLOCK_SOURCE, blockFlops, swaFlops } from '../../bench/gpu-bench-block.js';
import { sparseGemmGraph } from '../../bench/gpu-bench-sparse.js';

const ROOT = path.resolve(__dirname, '../..');
const driver = native().cudaStatus().driver;
if (driver) console.warn(`skipping gpu-check's no-GPU path: a CUDA driver is here (${driver})`);

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
};

describe.skipIf(driver !== '')('scripts/gpu-check without a GPU', () => {
  it('says "no GPU: libcuda.so.1 not found" and exits 2 within seconds, building nothing', () => {
    const r = run('bash', ['scripts/gpu-check'], { ...process.env, LD_LIBRARY_PATH: '' });
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^no GPU: libcuda\.so\.1 not found \(.*\)\n$/);
    expect(r.err).toBe('');
    expect(r.ms).toBeLessThan(10_000);
  });

  it('the Node script (dist/bench/gpu-check.js) says the same, with dlopen’s reason', () => {
    const r = run(process.execPath, ['dist/bench/gpu-check.js']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^no GPU: libcuda\.so\.1 not found \(dlopen: .*\)\n$/);
  });
});

/** One flash-attention kernel, and at T 16384, B 1 no buffer larger than q ([B, H, T, 64]): no scores. */
function expectFlash(program: ReturnType<typeof generateCuda>, H: number): void {
  expect(program.plan.kernels.filter((k) => k.name.endsWith('_attention'))).toHaveLength(1);
  const at = new Map([
    ['T', dimConst(16384)],
    ['B', dimConst(1)],
    ['H', dimConst(H)],
  ]);
  const sizes = program.plan.buffers.map((b) => dimConstValue(dimSubst(b.size, at))!);
  expect(Math.max(...sizes)).toBe(H * 16384 * 64);
}

describe('scripts/gpu-check', () => {
  it('names node (and the other tools) when they are missing', () => {
    const r = run('/bin/bash', ['scripts/gpu-check'], { PATH: '/nonexistent' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^gpu-check: missing: node npm g\+\+ /);
  });

  it('benchmarks .fm functions that lower to CUDA programs', { timeout: 120_000 }, () => {
    const fns = ['forward', 'attend', 'attend_causal'];
    for (const l of lowerModel(BENCH_SOURCE, { fns })) {
      const program = generateCuda(piped(l, {}));
      expect(program.kernels.length).toBeGreaterThan(0);
      expect(program.plan.inputs.map((i) => i.dtype)).toEqual(
        l.graph.name === 'forward' ? ['bf16', 'bf16'] : ['bf16', 'bf16', 'bf16'],
      );
      if (l.graph.name === 'forward') continue;
      // Attention is the flash kernel: at the largest size benchmarked (T 16384, B 1, H 32),
      // no buffer is larger than q (no [B, H, T, T] scores), so that size runs too.
      expectFlash(program, 32);
    }
    // The Transformer block (compiled in bf16, its input f32) and sliding-window attention.
    for (const l of lowerModel(BLOCK_SOURCE, { fns: ['forward', 'swa'], precision: 'bf16' })) {
      const program = generateCuda(piped(l, {}));
      expect(program.kernels.length).toBeGreaterThan(0);
      expect(program.plan.inputs.map((i) => i.dtype)).toEqual(
        l.graph.name === 'forward' ? ['f32'] : ['bf16', 'bf16', 'bf16'],
      );
      if (l.graph.name === 'forward') expect(program.source).toMatch(/__nv_bfloat16|bf16/);
      // Sliding-window attention is the flash kernel too: no [B, H, T, T] buffer at T 16384.
      if (l.graph.name === 'swa') expectFlash(program, 16);
    }
  });

  it('counts the block and sliding-window flops as their formulas say', () => {
    // d 4, ffn 8, B 1, T 2: projections 2·4·16 + FFN 2·2·32 per token, causal attention 4·4·4/2
    expect(blockFlops({ d: 4, heads: 1, ffn: 8, B: 1, T: 2 })).toBe(2 * (128 + 128) + 32);
    // the window caps the keys per query; with T < window every key counts
    expect(swaFlops(8192)).toBe(4 * 2 * 16 * 8192 * 256 * 64);
    expect(swaFlops(128, { window: 256, H: 1, E: 2, tokens: 128 })).toBe(4 * 128 * 128 * 2);
  });

  it('validates a GEMM lowered with tensor-core fragments (mma.sync and mma.sp macros in the programs)', () => {
    for (const d of ['f16', 'bf16'] as const) {
      const plan = bindPlanGrids(
        lowerGraph(gemmGraph(d, [37, 45, 70], true), { target: 'gpu', fragments: true, sparseFragments: true }),
      );
      expect(renderCudaProgram(plan).source).toMatch(/FMC_MMA_M16N8K16_(F16|BF16)F32\(/);
      // The 2:4 check and benchmark (gpu-bench-sparse.ts) lower to mma.sp; the dense twin does not.
      const sparse = (on: boolean) =>
        renderCudaProgram(
          bindPlanGrids(
            lowerGraph(sparseGemmGraph(d, [37, 40, 70], on), { target: 'gpu', fragments: true, sparseFragments: true }),
          ),
        ).source;
      expect(sparse(true)).toMatch(/FMC_MMA_SP_M16N8K32_(F16|BF16)F32\(fc/);
      expect(sparse(false)).not.toMatch(/FMC_MMA_SP_M16N8K32_(F16|BF16)F32\(fc/);
    }
  });
});
