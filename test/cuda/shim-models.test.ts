// Generated CUDA (renderCudaProgram) run on the CPU shim against the reference interpreter:
// every kernel of every primitive case's GPU-lowered plan (test/kernels/primitive-cases.ts,
// the C and WGSL targets' case list; compared by the C harness's rules: integers exactly,
// floats within the op tolerances) and seed models' forward at small hyperparameters (the
// whole-model tolerance), each in two thread orders (forward and reverse: a missing barrier
// gives a wrong result in at least one of them). The plans are compiled into few g++ builds
// (shim.ts batches programs). Skipped, with the reason printed, where there is no g++.

import { beforeAll, describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import type { Plan } from '../../src/kernels/plan.js';
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

/** Seed models run here, with the dims of their inputs. */
const MODELS: readonly string[] = ['mlp', 'cnn'];
const BINDING: Readonly<Record<string, number>> = { B: 2, T: 5 };

describe.skipIf(why !== '')('CUDA on the CPU shim vs interpreter: seed models (forward)', () => {
  const lowered = MODELS.map((m) => lowerModel(smallModelFile(m), { fns: ['forward'] })[0]!);
  let shim: ShimPlans;
  beforeAll(() => {
    shim = ShimPlans.build(lowered.map((l) => gpuPlan(piped(l, {}).graph)));
  }, 300_000);

  for (const [i, model] of MODELS.entries()) {
    it(model, () => {
      const l = lowered[i]!;
      const g = l.graph;
      const dims = new Map(g.dims.map((d) => [d, BINDING[d] ?? 1]));
      const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 10, indexBound(g, n))]));
      const params = seededWeights(l, 3, dims);
      const ref = evaluate(g, { inputs, params, dims }).outputs;
      for (const r of shim.run(i, { dims, inputs, params }, ORDERS)) {
        const problems = g.outputs.flatMap((o) =>
          compare(`${o.name} (${orderName(r.order)} order)`, toHost(r.outputs[o.name]!), ref.get(o.name)!, MODEL_TOL),
        );
        expect(problems).toEqual([]);
      }
    });
  }
});
