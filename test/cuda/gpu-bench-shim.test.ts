// What scripts/gpu-check benchmarks (bench/gpu-bench.ts), run small on the CUDA shim device
// (shim-gpu.ts) through compile({ target: 'cuda' }): the bf16 GEMM and the attention functions
// compute what the interpreter does, and CudaExecutable.timeAsync (the benchmarks' timer)
// runs the launch list and releaseBindings frees its memory; gpu-bench-block.ts's Transformer
// block and sliding-window attention compute what the interpreter does; gpu-bench-sparse.ts's
// 2:4 check passes and its two benchmarked products run (small), and a bf16 model whose Linear
// is @sparse(2:4) runs that layer on mma.sp through compile({ target: 'cuda' }).

import { describe, expect, it, vi } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import type { CudaExecutable } from '../../src/runtime/cuda-executable.js';
import type { HostTensor } from '../../src/ir/value.js';
import { type Tensor, fromHost, toHost } from '../../src/runtime/tensor.js';
import { BENCH_SOURCE } from '../../bench/gpu-bench.js';
import { BLOCK_SOURCE } from '../../bench/gpu-bench-block.js';
import { checkSparse, sparseBenchCases } from '../../bench/gpu-bench-sparse.js';
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

  it("runs gpu-check's 2:4 (mma.sp) check and benchmark products, small", { timeout: 300_000 }, async () => {
    const mismatch = (got: HostTensor, want: HostTensor) => compare('y', got, want).join('; ');
    for (const d of ['f16', 'bf16'] as const) expect(await checkSparse(d, [37, 40, 70], mismatch)).toBe('');
    const timed = async (exe: CudaExecutable, inputs: Record<string, Tensor>) => {
      const launches = SHIM_GPU.launches;
      const t = await exe.timeAsync(inputs, 1);
      expect(SHIM_GPU.launches - launches).toBe(2 * exe.plan.launches.length);
      exe.releaseBindings();
      return t;
    };
    const cases = sparseBenchCases(64, timed);
    expect(cases.map((c) => c.sparse)).toEqual([false, true]);
    for (const c of cases) expect(await c.run()).toBeGreaterThan(0);
  });

  it('runs a bf16 model whose Linear is @sparse(2:4) on mma.sp, as the interpreter', { timeout: 300_000 }, async () => {
    const source = `
import { Linear } from "std/nn"

model Pruned(d = 72, h = 80) {
  @sparse(2:4)
  fc = Linear(d, h)

  fn forward(x: f32[B, d]) -> f32[B, h] {
    return fc(x)
  }
}
`;
    const c = compileModel(source, { target: 'cuda', precision: 'bf16', seed: 3 });
    const exe = c.model.executable('forward') as CudaExecutable;
    expect(exe.plan.buffers.filter((b) => b.kind === 'packed').map((b) => b.dtype)).toEqual(['i32']);
    expect(exe.plan.kernels.map((k) => k.note)).toContain('2:4 weight as mma.sp registers');
    const g = c.lowered[0]!.graph;
    const dims = new Map([['B', 33]]);
    const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 3)]));
    const ref = evaluate(g, { inputs, params: c.weights, dims }).outputs;
    const tensors = Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)]));
    for (let run = 0; run < 2; run++) {
      const out = await c.model.runAsync('forward', tensors);
      // Computed in bf16 (the precision pass), stored as f32: bf16's tolerance.
      const bf16Tol = { rtol: 1.6e-2, atol: 1e-2 };
      expect(compare('forward output', toHost(out.output!), ref.get('output')!, bf16Tol)).toEqual([]);
    }
  });
});
