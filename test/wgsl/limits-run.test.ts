// Device limits on a real WebGPU device (Dawn on SwiftShader): kernels split to fit a profile
// compute what the interpreter computes, the unsplit kernel is refused by the device (so the
// split is what makes it run), the built-in swiftshader profile matches the adapter, a seed
// model compiled for the swiftshader profile runs, and a binding whose size is known only at
// run time fails before anything runs with the `.fm` line in the error.

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { renderWgsl } from '../../src/codegen/wgsl.js';
import type { Graph } from '../../src/ir/graph.js';
import { bindDims, evaluate } from '../../src/ir/interp.js';
import { DEFAULT_PROFILE, type DeviceProfile, PROFILES, profileFromLimits } from '../../src/kernels/device-profile.js';
import { lowerForDevice } from '../../src/kernels/fit-device.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { Tensor, fromHost, toHost } from '../../src/runtime/tensor.js';
import { MODEL_TOL, compare, fullDims, seededInputs, seededParams } from '../kernels/c-harness.js';
import { wide, wideConcat, wideSoftmax } from '../kernels/limit-graphs.js';
import { gpuDevice, pipelineErrors } from './dawn.js';
import { runPlan } from './run-plan.js';

const gpu = await gpuDevice();
if (typeof gpu === 'string') console.warn(`skipping WGSL device-limit runs: ${gpu}`);
const ROOT = path.resolve(__dirname, '..', '..');

async function againstInterpreter(g: Graph, profile: DeviceProfile): Promise<string[]> {
  if (typeof gpu === 'string') return [];
  const dims = bindDims(g, new Map(), new Map([['B', 3]]));
  const inputs = seededInputs(g, dims, 7);
  const params = seededParams(g, fullDims(g, inputs, dims), 7);
  const ref = evaluate(g, { inputs, params, dims });
  const got = await runPlan(gpu.device, lowerForDevice(g, profile).plan, dims, inputs, params);
  return g.outputs.flatMap((o) => compare(`output '${o.name}'`, got.get(o.name)!, ref.outputs.get(o.name)!));
}

describe.skipIf(typeof gpu === 'string')('device limits on SwiftShader', () => {
  it('the swiftshader profile is what the adapter has', () => {
    if (typeof gpu === 'string') return;
    const a = profileFromLimits(gpu.device.limits as unknown as Record<string, number>, false, 'swiftshader');
    expect(a.maxStorageBuffersPerShaderStage).toBe(PROFILES.swiftshader!.maxStorageBuffersPerShaderStage);
    expect(a.maxComputeInvocationsPerWorkgroup).toBe(PROFILES.swiftshader!.maxComputeInvocationsPerWorkgroup);
  });

  it('refuses the unsplit 15-buffer kernel', async () => {
    if (typeof gpu === 'string') return;
    const [k] = renderWgsl(bindPlanGrids(lowerGraph(wide(), { target: 'gpu' }))).kernels;
    expect(k!.params).toHaveLength(15);
    expect((await pipelineErrors(gpu.device, k!)).length).toBeGreaterThan(0);
  });

  for (const [name, make, profile] of [
    ['a 14-input expression split for swiftshader', wide, PROFILES.swiftshader!],
    ['a 14-input expression split for the default profile', wide, DEFAULT_PROFILE],
    ['a fused softmax taken apart', wideSoftmax, DEFAULT_PROFILE],
    ['a concat stored in parts', wideConcat, DEFAULT_PROFILE],
  ] as const) {
    it(`${name} matches the interpreter`, { timeout: 120_000 }, async () => {
      expect(await againstInterpreter(make(), profile)).toEqual([]);
    });
  }

  it(
    'a seed model compiled for the swiftshader profile runs and matches the reference',
    { timeout: 300_000 },
    async () => {
      const file = path.join(ROOT, 'models', 'mlp.fm');
      const set = { hidden1: 16, hidden2: 8 };
      const c = compileModel(file, { target: 'wgsl', deviceProfile: 'swiftshader', fns: ['forward'], set });
      const g = c.modules[0]!.graph;
      const dims = bindDims(g, new Map(), new Map([['B', 2]]));
      const inputs = seededInputs(g, dims, 3);
      const ref = evaluate(g, { inputs, params: c.weights, dims });
      const out = await c.model.runAsync('forward', { images: fromHost(inputs.get('images')!) });
      const name = g.outputs[0]!.name;
      expect(Object.keys(out)).toEqual([name]);
      expect(compare(name, toHost(out[name]!), ref.outputs.get(name)!, MODEL_TOL)).toEqual([]);
    },
  );

  it(
    'a binding too large for the profile at the bound dims fails with the .fm line',
    { timeout: 120_000 },
    async () => {
      const src =
        'model Outer() {\n  fn forward(x: f32[N]) -> f32[N, N] {\n    return reshape(x, [N, 1]) * reshape(x, [1, N])\n  }\n}\n';
      const small = { ...DEFAULT_PROFILE, name: 'small', maxStorageBufferBindingSize: 4096 };
      const c = compileModel(src, { target: 'wgsl', deviceProfile: small });
      const run = (n: number) => c.model.runAsync('forward', { x: new Tensor('f32', new Float32Array(n), [n]) });
      await expect(run(32)).resolves.toBeDefined();
      await expect(run(33)).rejects.toThrow(
        /^<source>\.fm:3:12: the value of this binary in kernel k0_ew needs more than the 4096 bytes of a binding on device profile `small` \(maxStorageBufferBindingSize\) with N = 33$/,
      );
    },
  );
});
