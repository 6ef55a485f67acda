// Every seed model's loss gradient with respect to every param: the C backward (the
// autodiff pass, then the C target) against the interpreter's backward of the same graph,
// at two bindings of the symbolic dims, fp32 whole-model tolerance (rtol 1e-3, atol 1e-4).
// The models run with smaller hyperparameters (small-models.ts): the float64 interpreter
// is the slow part.

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { verifyProblems } from '../../src/ir/verify.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { CACHE_DIR, MODEL_TOL, compare } from '../kernels/c-harness.js';
import { SMALL, smallModelFile } from './small-models.js';

const BINDINGS: readonly Readonly<Record<string, number>>[] = [
  { B: 1, T: 6 },
  { B: 2, T: 5 },
];

describe('seed models: loss gradients, C backward vs the interpreter', () => {
  for (const model of Object.keys(SMALL).sort()) {
    it(model, { timeout: 300_000 }, () => {
      const file = smallModelFile(model);
      const compiled = compileModel(file, {
        fns: ['loss'],
        mode: 'grad',
        cacheDir: CACHE_DIR,
        seed: 5,
        // f32 gradients at f32 tolerances (moe_lm's own @precision(bf16) aside).
        precision: 'f32',
      });
      const g = compiled.modules[0]!.graph;
      expect(g.name).toBe('loss_grad');
      expect(verifyProblems(g)).toEqual([]);
      const params = compiled.lowered[0]!.params.filter((p) => p.role === 'param' && p.dtype === 'f32');
      // Every learnable param has its gradient output.
      expect(g.outputs.map((o) => o.name).sort()).toEqual(['output', ...params.map((p) => `grad.${p.path}`)].sort());
      for (const [k, binding] of BINDINGS.entries()) {
        const dims = new Map(g.dims.map((d) => [d, binding[d] ?? 1]));
        const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 20 + k, indexBound(g, n))]));
        const feeds = Object.fromEntries([...inputs].map(([name, t]) => [name, fromHost(t)]));
        const c = compiled.model.run('loss_grad', feeds);
        const ref = evaluate(g, { inputs, params: compiled.weights, dims }).outputs;
        const at = JSON.stringify(Object.fromEntries(dims));
        const problems = g.outputs.flatMap((o) =>
          compare(`${o.name} at ${at}`, toHost(c[o.name]!), ref.get(o.name)!, MODEL_TOL),
        );
        expect(problems, `${model} (${path.basename(file)})`).toEqual([]);
        // Not all zeros: the loss reaches the params.
        const nonzero = [...ref].filter(([k2, t]) => k2.startsWith('grad.') && t.data.some((x) => x !== 0)).length;
        expect(nonzero).toBeGreaterThan(params.length / 2);
      }
    });
  }
});
