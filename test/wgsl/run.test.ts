// End to end on Dawn (SwiftShader): small graphs lowered with target 'gpu', rendered to WGSL
// and dispatched by the contract (run-plan.ts), against the reference interpreter. Covers an
// elementwise kernel storing bf16 (sub-word atomic stores), reductions, a GEMM with its
// epilogue, softmax rows, f16 and i64 buffers in and out, and a bool output.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import type { Graph } from '../../src/ir/graph.js';
import { bindDims, evaluate } from '../../src/ir/interp.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { compare, fullDims, seededInputs, seededParams } from '../kernels/c-harness.js';
import { softmax } from '../kernels/fusion-graphs.js';
import { gpuDevice } from './dawn.js';
import { runPlan } from './run-plan.js';

const gpu = await gpuDevice();
if (typeof gpu === 'string') console.warn(`skipping WGSL run tests: ${gpu}`);

function elementwise(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 7]);
  const bias = g.input('bias', 'f32', [7]);
  const h = g.add(x, bias);
  const gelu = g.mul(
    g.mul(g.full(0.5, 'f32'), h),
    g.add(g.full(1, 'f32'), g.unary('erf', g.mul(h, g.full(0.7071, 'f32')))),
  );
  return g.graph('forward', { y: g.cast(gelu, 'bf16'), e: g.unary('exp', g.unary('tanh', x)) });
}

function reduction(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 5, 6]);
  return g.graph('forward', { s: g.sum(x, [1], true), m: g.amax(x, [0, 2]) });
}

function gemm(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 24]);
  const w = g.param('w', 'f32', [10, 24]);
  const b = g.param('b', 'f32', [10]);
  return g.graph('forward', { y: g.unary('tanh', g.add(g.einsum('bi,oi->bo', x, w), b)) });
}

function halfAndInts(): Graph {
  const g = new Builder();
  const h = g.input('h', 'f16', ['B', 9]);
  const n = g.input('n', 'i64', ['B', 9]);
  const f = g.cast(h, 'f32');
  return g.graph('forward', {
    h2: g.cast(g.mul(f, f), 'f16'),
    n2: g.add(g.binary('mul', n, n), g.cast(f, 'i64')),
    pos: g.binary('gt', f, g.full(0, 'f32')),
  });
}

const GRAPHS: Record<string, () => Graph> = { elementwise, reduction, gemm, softmax, halfAndInts };

describe.skipIf(typeof gpu === 'string')('WGSL on Dawn vs the interpreter', () => {
  for (const [name, make] of Object.entries(GRAPHS)) {
    it(name, { timeout: 120_000 }, async () => {
      if (typeof gpu === 'string') return;
      const g = make();
      const given = new Map(g.dims.map((d) => [d, d === 'B' ? 3 : 4]));
      const dims = bindDims(g, new Map(), given);
      const inputs = seededInputs(g, dims, 5);
      const params = seededParams(g, fullDims(g, inputs, dims), 5);
      const ref = evaluate(g, { inputs, params, dims });
      const got = await runPlan(gpu.device, lowerGraph(g, { target: 'gpu' }), dims, inputs, params);
      const problems = g.outputs.flatMap((o) =>
        compare(`output '${o.name}'`, got.get(o.name)!, ref.outputs.get(o.name)!),
      );
      expect(problems).toEqual([]);
    });
  }
});
