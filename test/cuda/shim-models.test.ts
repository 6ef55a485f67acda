// Generated CUDA (renderCudaProgram) run on the CPU shim against the reference interpreter:
// every kernel of every primitive case's GPU-lowered plan (test/kernels/primitive-cases.ts,
// the C and WGSL targets' case list; compared by the C harness's rules: integers exactly,
// floats within the op tolerances) and every seed model's forward at small hyperparameters
// (the whole-model tolerance), and the MLP's and CNN's train steps (their updates compared
// too), lowered as by default and with the tiled GEMM, each in two thread orders (forward and
// reverse), with the __shared__ arrays race-checked. The plans are compiled into three g++
// builds (shim.ts batches programs). Skipped, with the reason printed,
// where there is no g++.

import { beforeAll, describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { lowerTrainStep } from '../../src/api/train.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import type { Plan } from '../../src/kernels/plan.js';
import { withQuantized } from '../../src/ir/quantize.js';
import { piped, seededWeights } from '../../src/runtime/compile.js';
import { toHost } from '../../src/runtime/tensor.js';
import { MODEL_TOL, assertClean, compare, compareRun, fullDims, prepareRun } from '../kernels/c-harness.js';
import { cases } from '../kernels/primitive-cases.js';
import { smallModelFile } from '../models/small-models.js';
import { type ThreadOrder, shimUnavailable } from './shim.js';
import { ShimPlans } from './shim-plan.js';

const why = shimUnavailable();
if (why) console.warn(`skipping the CUDA shim model tests: ${why}`);

const ORDERS: readonly ThreadOrder[] = ['forward', 'reverse'];
const orderName = (o: ThreadOrder): string => (typeof o === 'string' ? o : `shuffle ${o.shuffle}`);
const gpuPlan = (...args: Parameters<typeof lowerGraph>): Plan =>
  bindPlanGrids(lowerGraph(args[0], { ...args[1], target: 'gpu' }));

describe.skipIf(why !== '')('CUDA on the CPU shim vs interpreter: primitive ops', () => {
  let shim: ShimPlans;
  beforeAll(() => {
    shim = ShimPlans.build(cases.map((c) => gpuPlan(c.graph, c.lower)));
  }, 300_000);

  for (const [i, c] of cases.entries()) {
    it(c.name, () => {
      for (const [k, spec] of c.runs.entries()) {
        const p = prepareRun(c.graph, spec);
        const run = { dims: fullDims(c.graph, p.inputs, p.dims), inputs: p.inputs, params: p.params };
        for (const r of shim.run(i, run, ORDERS)) {
          const problems = compareRun(c.graph, p, r.outputs, r.weights, spec.tol);
          assertClean(c.graph, problems, `CUDA shim run ${k}, ${orderName(r.order)} order`);
        }
      }
    });
  }
});

/** The seed models, each lowered as by default and with the tiled GEMM (workgroup tiles and barriers). */
const MODELS: readonly string[] = ['mlp', 'cnn', 'bert', 'conformer', 'hybrid_vit', 'moe_lm', 'swa_lm'];
const VARIANTS = MODELS.flatMap((model) => [false, true].map((tiled) => ({ model, tiled })));
const BINDING: Readonly<Record<string, number>> = { B: 2, T: 5 };

describe.skipIf(why !== '')('CUDA on the CPU shim vs interpreter: seed models (forward)', () => {
  // In f32 (moe_lm's own @precision(bf16) set aside), so that the f32 model tolerance applies.
  const lowered = new Map(
    MODELS.map((m) => [m, lowerModel(smallModelFile(m), { fns: ['forward'], precision: 'f32' })[0]!]),
  );
  let shim: ShimPlans;
  // The compiled graphs: with the `@quantize` weights (mlp, cnn, swa_lm) dequantized.
  const compiled = new Map(MODELS.map((m) => [m, piped(lowered.get(m)!, {}).graph]));
  beforeAll(() => {
    shim = ShimPlans.build(VARIANTS.map((v) => gpuPlan(compiled.get(v.model)!, { tiled: v.tiled })));
  }, 300_000);

  for (const [i, { model, tiled }] of VARIANTS.entries()) {
    it(`${model}${tiled ? ', tiled GEMM' : ''}`, () => {
      const l = lowered.get(model)!;
      const g = compiled.get(model)!;
      const dims = new Map(g.dims.map((d) => [d, BINDING[d] ?? 1]));
      const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 10, indexBound(g, n))]));
      const params = withQuantized([g], seededWeights(l, 3, dims));
      const ref = evaluate(g, { inputs, params, dims }).outputs;
      if (tiled) expect(shim.source(i)).toContain('__syncthreads();');
      for (const r of shim.run(i, { dims, inputs, params }, ORDERS)) {
        const problems = g.outputs.flatMap((o) =>
          compare(`${o.name} (${orderName(r.order)} order)`, toHost(r.outputs[o.name]!), ref.get(o.name)!, MODEL_TOL),
        );
        expect(problems).toEqual([]);
      }
    });
  }
});

/**
 * Train steps (forward, backward, SGD with Nesterov momentum and weight decay: the gradient and
 * optimizer kernels), as test/wgsl/train.test.ts sizes them. Not AdamW: its first update is
 * about ±lr whatever the gradient, so an entry whose gradient is rounding noise moves either
 * way (seen: 2 of 4608 CNN weights off by 1e-3).
 */
const TRAIN = [
  { file: 'models/mlp.fm', set: { pixels: 16, hidden1: 32, hidden2: 16, classes: 4 } },
  { file: 'models/cnn.fm', set: { channels: 1, size: 16, width: 8, hidden: 16 } },
].flatMap((c) => [false, true].map((tiled) => ({ ...c, tiled })));
const SGD = { optimizer: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, schedule: 'constant' } as const;

describe.skipIf(why !== '')('CUDA on the CPU shim vs interpreter: train steps', () => {
  const graphs = TRAIN.map((c) => lowerTrainStep(c.file, { set: c.set, train: SGD }).modules[0]!.graph);
  let shim: ShimPlans;
  beforeAll(() => {
    shim = ShimPlans.build(graphs.map((g, i) => gpuPlan(g, { tiled: TRAIN[i]!.tiled })));
  }, 300_000);

  for (const [i, c] of TRAIN.entries()) {
    it(`${c.file}${c.tiled ? ', tiled GEMM' : ''}`, () => {
      const g = graphs[i]!;
      expect(g.updates.length).toBeGreaterThan(0);
      const p = prepareRun(g, { dims: { B: 4 }, seed: 7, tol: MODEL_TOL });
      const run = { dims: fullDims(g, p.inputs, p.dims), inputs: p.inputs, params: p.params };
      for (const r of shim.run(i, run, ORDERS))
        assertClean(g, compareRun(g, p, r.outputs, r.weights, MODEL_TOL), `CUDA shim, ${orderName(r.order)} order`);
    });
  }
});
