// int8 activations on the GPU targets: the mlp with every weight int8 per channel, calibrated
// (fmc calibrate's function), compiled for WGSL (Dawn on SwiftShader) and for CUDA (run on the
// CPU shim in two thread orders), each against the reference interpreter running the same
// int8 graph: the i32 sums are exact, so the outputs equal up to f32 rounding, as on C. Each
// part is skipped, with the reason printed, where its runtime is missing.

import { describe, expect, it } from 'vitest';
import { calibrate } from '../../src/api/calibrate.js';
import { compileModel, lowerModel } from '../../src/api/compile.js';
import { type Graph, liveNodes } from '../../src/ir/graph.js';
import { randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { withQuantized } from '../../src/ir/quantize.js';
import type { HostTensor } from '../../src/ir/value.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import type { QuantRule } from '../../src/passes/pass.js';
import { piped, seededWeights } from '../../src/runtime/compile.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { shimUnavailable } from '../cuda/shim.js';
import { ShimPlans } from '../cuda/shim-plan.js';
import { CACHE_DIR } from '../kernels/c-harness.js';
import { smallModelFile } from '../models/small-models.js';

const gpu = await webgpuUnavailable();
if (gpu) console.warn(`skipping int8 activations on WGSL: ${gpu}`);
const shim = shimUnavailable();
if (shim) console.warn(`skipping int8 activations on the CUDA shim: ${shim}`);

const INT8: QuantRule[] = [{ path: 'all', spec: { dtype: 'int8', symmetric: true } }];
const B = 3;
const file = smallModelFile('mlp');
const lowered = lowerModel(file, { fns: ['forward'] })[0]!;
const dims = new Map(lowered.graph.dims.map((d) => [d, B]));
const batches = [0, 1, 2].map(
  (i) => new Map(lowered.graph.inputs.map((n) => [n.args.name, randomInput(n, dims, 7 + i)])),
);
const calibration = calibrate(file, batches, { quantize: INT8, cacheDir: CACHE_DIR, seed: 3 });

/** Largest |got - want| over max |want|; the int8 graph has its three i32 contractions. */
function worst(g: Graph, got: HostTensor, inputs: Map<string, HostTensor>, params: Map<string, HostTensor>): number {
  expect(liveNodes(g).filter((n) => n.op === 'einsum' && n.type.dtype === 'i32').length).toBe(3);
  const want = evaluate(g, { inputs, params, dims }).outputs.get('logits')!;
  const scale = Math.max(...want.data.map(Math.abs));
  return Math.max(...got.data.map((v, i) => Math.abs(v - want.data[i]!))) / scale;
}

describe.skipIf(gpu !== '')('int8 activations on WGSL', () => {
  it('the calibrated mlp equals the reference running the same int8 graph', { timeout: 300_000 }, async () => {
    const compiled = compileModel(file, {
      fns: ['forward'],
      target: 'wgsl',
      seed: 3,
      quantize: INT8,
      calibration: { file: 'calib.json', calibration },
    });
    const inputs = batches[1]!;
    const y = await compiled.model.runAsync(Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)])));
    const w = worst(compiled.modules[0]!.graph, toHost(y.logits!), inputs, compiled.weights);
    console.log(`WGSL int8 activations vs reference: max |Δ| ${w.toExponential(2)} of max |y|`);
    expect(w).toBeLessThan(1e-5);
  });
});

describe.skipIf(shim !== '')('int8 activations on CUDA (CPU shim)', () => {
  it('the calibrated mlp equals the reference running the same int8 graph', { timeout: 300_000 }, () => {
    const g = piped(lowered, { quantize: INT8, calibration }).graph;
    const plans = ShimPlans.build([
      bindPlanGrids(lowerGraph(g, { target: 'gpu', fragments: true, sparseFragments: true })),
    ]);
    const inputs = batches[1]!;
    const params = withQuantized([g], seededWeights(lowered, 3, dims));
    for (const r of plans.run(0, { dims, inputs, params }, ['forward', 'reverse'])) {
      const w = worst(g, toHost(r.outputs.logits!), inputs, params);
      console.log(`CUDA shim (${r.order}) int8 activations vs reference: max |Δ| ${w.toExponential(2)} of max |y|`);
      expect(w).toBeLessThan(1e-5);
    }
  });
});
