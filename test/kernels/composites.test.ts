// The standard library's composites (test/kernels/composites.fm: activations, norms,
// softmaxes, attention, grouped and depthwise convolutions, pools, rope, logsumexp, var,
// cross_entropy, mse, one_hot) compiled to C once and compared with the reference
// interpreter at two bindings of B, T and S, within the whole-model tolerance.

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { CACHE_DIR, MODEL_TOL, compare } from './c-harness.js';

const FILE = path.join(import.meta.dirname, 'composites.fm');

describe('std composites on the C target', () => {
  it('match the interpreter at two sizes with one library', { timeout: 120_000 }, () => {
    const compiled = compileModel(FILE, { fns: ['forward'], cacheDir: CACHE_DIR, seed: 5 });
    const g = compiled.lowered[0]!.graph;
    expect(g.outputs.length).toBe(12);
    for (const [k, binding] of [
      { B: 1, T: 5, S: 6 },
      { B: 2, T: 7, S: 8 },
    ].entries()) {
      const dims = new Map(g.dims.map((d) => [d, binding[d as keyof typeof binding]]));
      const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 20 + k, indexBound(g, n))]));
      const c = compiled.model.run(Object.fromEntries([...inputs].map(([name, t]) => [name, fromHost(t)])));
      const ref = evaluate(g, { inputs, params: compiled.weights, dims }).outputs;
      const problems = g.outputs.flatMap((o) =>
        compare(`${o.name} at ${JSON.stringify(binding)}`, toHost(c[o.name]!), ref.get(o.name)!, MODEL_TOL),
      );
      expect(problems).toEqual([]);
    }
  });
});
