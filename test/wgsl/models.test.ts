// Every seed model's forward on the WGSL target (Dawn on SwiftShader) against the reference
// interpreter, at the small hyperparameters of test/models/small-models.ts (SwiftShader runs
// about 1 GFLOP/s): compiled once with compileModel (target 'wgsl'), run with runAsync at two
// bindings of B and T on the same executable, compared at the whole-model tolerance (f32:
// rtol 1e-3, atol 1e-4). Skipped, with the reason printed, where no WebGPU adapter can be
// created.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { MODEL_TOL } from '../kernels/c-harness.js';
import { SMALL, smallModelFile } from '../models/small-models.js';
import { compareWgsl } from './wgsl-harness.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the WGSL seed model tests: ${why}`);

const ROOT = path.resolve(import.meta.dirname, '../..');
const MODELS = fs
  .readdirSync(path.join(ROOT, 'models'))
  .filter((f) => f.endsWith('.fm'))
  .map((f) => f.slice(0, -3))
  .sort();

/** Two bindings per model: B = 1 then 2; T (where the model has it) 5 then 3. */
const BINDINGS: readonly Readonly<Record<string, number>>[] = [
  { B: 1, T: 5 },
  { B: 2, T: 3 },
];

describe('the WGSL seed model test', () => {
  it('has small hyperparameters for every seed model', () => {
    expect(MODELS.filter((m) => !SMALL[m])).toEqual([]);
  });
});

describe.skipIf(why !== '')('seed models: WGSL forward vs interpreter', () => {
  for (const model of MODELS) {
    it(model, { timeout: 120_000 }, async () => {
      const compiled = compileModel(smallModelFile(model), {
        fns: ['forward'],
        target: 'wgsl',
        seed: 3,
        // f32, as the interpreter runs the lowered graph (moe_lm's own @precision(bf16) aside).
        precision: 'f32',
      });
      // What was compiled: with the model's `@quantize` weights (mlp, cnn, swa_lm) dequantized.
      const g = compiled.modules[0]!.graph;
      const exe = compiled.model.executable('forward');
      for (const [k, binding] of BINDINGS.entries()) {
        const dims = new Map(g.dims.map((d) => [d, binding[d] ?? 1]));
        const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 10 + k, indexBound(g, n))]));
        const got = await compiled.model.runAsync(Object.fromEntries([...inputs].map(([n, t]) => [n, fromHost(t)])));
        expect(compiled.model.executable('forward')).toBe(exe);
        const ref = evaluate(g, { inputs, params: compiled.weights, dims }).outputs;
        const at = JSON.stringify(Object.fromEntries(dims));
        const problems = g.outputs.flatMap((o) =>
          compareWgsl(`${o.name} at ${at}`, toHost(got[o.name]!), ref.get(o.name)!, MODEL_TOL),
        );
        expect(problems).toEqual([]);
      }
    });
  }
});
