// Every std composite on the WGSL target (Dawn on SwiftShader) against the reference
// interpreter: (1) the autodiff test's cases (test/passes/composite-cases.ts: every `fn` and
// `block` of std/*.fm is used by one, in inference or training), each a small model whose
// forward returns Σ composite(...) · w for a fixed pseudo-random w, run through the C
// target's pass pipeline and compiled for WGSL, its loss and buffer updates compared; (2)
// test/kernels/composites.fm (most composites, each output a whole tensor) at two bindings,
// as the C test does. Whole-model tolerance. Skipped, with the reason printed, where no
// WebGPU adapter can be created.

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { piped, weightBuffers } from '../../src/runtime/compile.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { buildWgslExecutable, generateWgsl } from '../../src/runtime/wgsl-program.js';
import { MODEL_TOL, compareRun } from '../kernels/c-harness.js';
import { GROUPS, feeds, lower, missingStd } from '../passes/composite-cases.js';
import { compareWgsl } from './wgsl-harness.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the WGSL std composite tests: ${why}`);

describe('the WGSL std composite cases', () => {
  it('use every fn and block of std/*.fm', () => {
    expect(missingStd()).toEqual([]);
  });
});

describe.skipIf(why !== '')('std composites: WGSL vs interpreter', () => {
  for (const [group, cases] of GROUPS)
    describe(group, () => {
      for (const c of cases)
        it(c.name, { timeout: 60_000 }, async () => {
          const lowered = lower(c);
          const params = feeds(lowered, c, 11);
          const weights = weightBuffers(params);
          const fn = generateWgsl(piped(lowered));
          const out = await buildWgslExecutable(fn, weights).runAsync({});
          const g = lowered.graph;
          const ref = evaluate(g, { inputs: new Map(), params, dims: new Map() });
          const prepared = { dims: new Map(), inputs: new Map(), params, given: {}, ref };
          expect(compareRun(g, prepared, out, weights, MODEL_TOL, compareWgsl)).toEqual([]);
        });
    });

  it('composites.fm at two bindings on one executable', { timeout: 120_000 }, async () => {
    const file = path.join(import.meta.dirname, '..', 'kernels', 'composites.fm');
    const compiled = compileModel(file, { fns: ['forward'], target: 'wgsl', seed: 5 });
    const g = compiled.lowered[0]!.graph;
    expect(g.outputs.length).toBe(12);
    for (const [k, binding] of [
      { B: 1, T: 5, S: 6 },
      { B: 2, T: 7, S: 8 },
    ].entries()) {
      const dims = new Map(g.dims.map((d) => [d, binding[d as keyof typeof binding]]));
      const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 20 + k, indexBound(g, n))]));
      const got = await compiled.model.runAsync(Object.fromEntries([...inputs].map(([n, t]) => [n, fromHost(t)])));
      const ref = evaluate(g, { inputs, params: compiled.weights, dims }).outputs;
      const problems = g.outputs.flatMap((o) =>
        compareWgsl(`${o.name} at ${JSON.stringify(binding)}`, toHost(got[o.name]!), ref.get(o.name)!, MODEL_TOL),
      );
      expect(problems).toEqual([]);
    }
  });
});
