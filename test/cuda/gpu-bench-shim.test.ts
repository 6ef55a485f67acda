// What scripts/gpu-check benchmarks (bench/gpu-bench.ts), run small on the CUDA shim device
// (shim-gpu.ts) through compile({ target: 'cuda' }): the bf16 GEMM and the attention functions
// compute what the interpreter does, and CudaExecutable.timeAsync (the benchmarks' timer)
// runs the launch list and releaseBindings frees its memory; gpu-bench-block.ts's Transformer
// block and sliding-window attention compute what the interpreter does.

import { describe, expect, it, vi } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import type { CudaExecutable } from '../../src/runtime/cuda-executable.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { BENCH_SOURCE } from '../../bench/gpu-bench.js';
import { BLOCK_SOURCE } from '../../bench/gpu-bench-block.js';
import { compare } from '../kernels/c-harness.js';
import { SHIM_GPU } from './shim-gpu.js';
import { shimUnavailable } from './shim.js';

vi.mock(import('../../src/runtime/cuda-device.js'), async (o) => (await import('./shim-gpu.js')).withShimGpu(o));
vi.mock(import('../../src/runtime/cuda-cache.js'), async (o) => (await import('./shim-gpu.js')).withShimNvrtc(o));

const why = shimUnavailable();
if (why) console.warn(`skipping gpu-check's benchmark functions on the shim device: ${why}`);

describe.skipIf(why !== '')("gpu-check's benchmark functions on the CUDA shim device", () => {
  it(
    'compute the GEMM and attention (causal and not) as the interpreter; timeAsync runs them',
    { timeout: 300_000 },
    async () => {
      const fns = ['forward', 'attend', 'attend_causal'];
      const c = compileModel(BENCH_SOURCE, { target: 'cuda', set: { d: 8 }, fns });
      const dims = new Map([
        ['M', 6],
        ['K', 9],
        ['N', 7],
        ['B', 1],
        ['H', 2],
        ['T', 5],
      ]);
      for (const l of c.lowered) {
        const g = l.graph;
        const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 3)]));
        const ref = evaluate(g, { inputs, params: new Map(), dims }).outputs;
        const tensors = Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)]));
        const out = await c.model.runAsync(g.name, tensors);
        const o = g.outputs[0]!;
        expect(compare(`${g.name} ${o.name}`, toHost(out[o.name]!), ref.get(o.name)!)).toEqual([]);
        const exe = c.model.executable(g.name) as CudaExecutable;
        const [launches, frees] = [SHIM_GPU.launches, SHIM_GPU.frees];
        expect(await exe.timeAsync(tensors, 2)).toBeGreaterThan(0);
        expect(SHIM_GPU.launches - launches).toBe(3 * exe.plan.launches.length);
        exe.releaseBindings();
        expect(SHIM_GPU.frees).toBeGreaterThan(frees);
      }
    },
  );

  it(
    'compute the Transformer block and sliding-window attention as the interpreter',
    { timeout: 300_000 },
    async () => {
      // Small and in f32 here (the benchmark compiles the block in bf16, whose rounding the
      // f32 tolerance would not hold); a window of 3 over T 7 leaves fully masked tiles.
      const set = { d: 8, heads: 2, ffn: 16, window: 3, e: 4 };
      const c = compileModel(BLOCK_SOURCE, { target: 'cuda', set, fns: ['forward', 'swa'], precision: 'f32', seed: 5 });
      const dims = new Map([
        ['B', 2],
        ['T', 7],
        ['H', 2],
      ]);
      for (const l of c.lowered) {
        const g = l.graph;
        const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 3)]));
        const ref = evaluate(g, { inputs, params: c.weights, dims }).outputs;
        const tensors = Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)]));
        const out = await c.model.runAsync(g.name, tensors);
        const o = g.outputs[0]!;
        expect(compare(`${g.name} ${o.name}`, toHost(out[o.name]!), ref.get(o.name)!)).toEqual([]);
      }
    },
  );
});
