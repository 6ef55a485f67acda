// The CUDA runtime's TypeScript side (CudaExecutable and CudaDevice: argument checks, dims and
// grids, one arena per binding from the memory plan with offsets, params uploaded once, the
// launch records with buffer addresses, downloads of outputs and updated params) run without
// a GPU: the native device under it is replaced by one backed by the CUDA CPU shim
// (test/cuda/shim.ts) that keeps device memory in host arrays, addressed as the driver would,
// and runs each launch on the shim. The CUDA program is the dialect's real one; only
// runtime-native's cuda_device.cpp is not exercised. Compared with the reference interpreter.
// Skipped, with the reason printed, where there is no g++.

import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { piped, seededWeights, weightBuffers } from '../../src/runtime/compile.js';
import { CudaDevice } from '../../src/runtime/cuda-device.js';
import { CudaExecutable } from '../../src/runtime/cuda-executable.js';
import { generateCuda } from '../../src/runtime/cuda-program.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { MODEL_TOL, compare } from '../kernels/c-harness.js';
import { smallModelFile } from '../models/small-models.js';
import { ShimGpu } from './shim-gpu.js';
import { shimUnavailable } from './shim.js';

const why = shimUnavailable();
if (why) console.warn(`skipping the CUDA runtime on the shim device: ${why}`);

describe.skipIf(why !== '')('CudaExecutable on a shim-backed device vs the interpreter', () => {
  it.each(['mlp', 'cnn'])(
    'runs %s forward twice (the second call reuses the binding and the uploaded params)',
    { timeout: 300_000 },
    async (model) => {
      const l = lowerModel(smallModelFile(model), { fns: ['forward'] })[0]!;
      const program = generateCuda(piped(l, { mode: 'inference' }));
      const gpu = new ShimGpu();
      const encoded = new TextEncoder().encode(program.source);
      const device = new CudaDevice(gpu, encoded, program.kernels, program.plan.slots.length);
      const g = l.graph;
      const dims = new Map(g.dims.map((d) => [d, 2]));
      const params = seededWeights(l, 3, dims);
      const exe = new CudaExecutable(program.plan, device, weightBuffers(params));
      for (const seed of [10, 11]) {
        const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, seed, indexBound(g, n))]));
        const ref = evaluate(g, { inputs, params, dims }, { precision: 'dtype' }).outputs;
        const tensors = Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)]));
        const out = await exe.runAsync(tensors);
        const problems = g.outputs.flatMap((o) =>
          compare(`${o.name} (seed ${seed})`, toHost(out[o.name]!), ref.get(o.name)!, MODEL_TOL),
        );
        expect(problems).toEqual([]);
      }
      expect(gpu.launches).toBe(2 * program.plan.launches.length);
      // One binding: an arena, the inputs and outputs (and packed buffers); the params once each.
      const own = program.plan.buffers.filter((b) => b.kind !== 'transient' && b.kind !== 'param').length;
      expect(gpu.allocs).toBe(1 + own + program.plan.params.length);
      // Transients live in the arena at distinct offsets.
      if (model === 'cnn') expect(program.plan.buffers.filter((b) => b.kind === 'transient').length).toBeGreaterThan(2);
    },
  );

  it(
    'applies buffer updates (cnn in training: BatchNorm running stats) to the host weights and keeps the device copies',
    { timeout: 300_000 },
    async () => {
      const l = lowerModel(smallModelFile('cnn'), { fns: ['forward'] }, true)[0]!;
      const program = generateCuda(piped(l, { mode: 'inference' }));
      // BatchNorm's running stats: updates the plan applies after the launches, or kernels that write the buffer in place.
      const plan = program.plan;
      const param = new Set(plan.params.map((p) => p.buffer));
      const inPlace = plan.launches.some((l) =>
        l.args.some((id, i) => param.has(id) && plan.kernels[l.kernel]!.params[i]!.access !== 'read'),
      );
      expect(plan.updates.length > 0 || inPlace).toBe(true);
      const gpu = new ShimGpu();
      const device = new CudaDevice(
        gpu,
        new TextEncoder().encode(program.source),
        program.kernels,
        program.plan.slots.length,
      );
      const g = l.graph;
      const dims = new Map(g.dims.map((d) => [d, 2]));
      let params = seededWeights(l, 3, dims);
      const weights = weightBuffers(params);
      const exe = new CudaExecutable(program.plan, device, weights);
      for (const seed of [10, 11]) {
        const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, seed, indexBound(g, n))]));
        const ref = evaluate(g, { inputs, params, dims }, { precision: 'dtype' });
        const out = await exe.runAsync(Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)])));
        const problems = g.outputs.flatMap((o) =>
          compare(`${o.name} (seed ${seed})`, toHost(out[o.name]!), ref.outputs.get(o.name)!, MODEL_TOL),
        );
        for (const [path, want] of ref.updates) {
          const got = { ...want, data: Float64Array.from(new Float32Array(weights.get(path)!)) };
          problems.push(...compare(`${path} after run ${seed}`, got, want, MODEL_TOL));
        }
        expect(problems).toEqual([]);
        // The next run starts from the updated buffers (the reference's too).
        params = new Map([...params, ...ref.updates]);
      }
    },
  );

  it('keeps 8 bindings of dims and frees the memory of an older one', { timeout: 300_000 }, async () => {
    const l = lowerModel(smallModelFile('mlp'), { fns: ['forward'] })[0]!;
    const program = generateCuda(piped(l, { mode: 'inference' }));
    const gpu = new ShimGpu();
    const device = new CudaDevice(
      gpu,
      new TextEncoder().encode(program.source),
      program.kernels,
      program.plan.slots.length,
    );
    const g = l.graph;
    const params = seededWeights(l, 3, new Map([['B', 1]]));
    const exe = new CudaExecutable(program.plan, device, weightBuffers(params));
    const own = 1 + program.plan.buffers.filter((b) => b.kind !== 'transient' && b.kind !== 'param').length;
    for (let b = 1; b <= 9; b++) {
      const dims = new Map([['B', b]]);
      const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, b, indexBound(g, n))]));
      const ref = evaluate(g, { inputs, params, dims }, { precision: 'dtype' }).outputs;
      const out = await exe.runAsync(Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)])));
      const problems = g.outputs.flatMap((o) =>
        compare(`${o.name} (B=${b})`, toHost(out[o.name]!), ref.get(o.name)!, MODEL_TOL),
      );
      expect(problems).toEqual([]);
      expect(gpu.frees).toBe(b <= 8 ? 0 : own);
    }
    expect(gpu.allocs).toBe(9 * own + program.plan.params.length);
  });
});
