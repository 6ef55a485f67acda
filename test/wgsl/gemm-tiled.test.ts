// The tiled GPU GEMM (src/kernels/gemm-tiled.ts: workgroup-shared tiles and barriers) on Dawn
// (SwiftShader) against the interpreter: sizes that are not multiples of the 64×64×16 block,
// with and without a fused epilogue, both operand layouts, batch letters, symbolic dims, a K
// of 0, and f16/bf16 storage. Each case checks that its GEMM really lowered to the tiled kernel.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import type { Graph } from '../../src/ir/graph.js';
import { bindDims, evaluate } from '../../src/ir/interp.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { compare, fullDims, seededInputs, seededParams } from '../kernels/c-harness.js';
import { gpuDevice } from './dawn.js';
import { runPlan } from './run-plan.js';

const gpu = await gpuDevice();
if (typeof gpu === 'string') console.warn(`skipping tiled GEMM tests: ${gpu}`);

/** x[M, K] @ w[K, N], no epilogue. */
function plain(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', [37, 45]);
  const w = g.param('w', 'f32', [45, 70]);
  return g.graph('forward', { y: g.einsum('mk,kn->mn', x, w) });
}

/** tanh(x @ W.T + b): K innermost in both operands, an epilogue, a symbolic M. */
function epilogue(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 33]);
  const w = g.param('w', 'f32', [81, 33]);
  const b = g.param('b', 'f32', [81]);
  return g.graph('forward', { y: g.unary('tanh', g.add(g.einsum('bi,oi->bo', x, w), b)) });
}

/** A batched product with a residual epilogue. */
function batched(): Graph {
  const g = new Builder();
  const a = g.input('a', 'f32', [3, 'M', 19]);
  const b = g.input('b', 'f32', [3, 19, 20]);
  const r = g.input('r', 'f32', [3, 'M', 20]);
  return g.graph('forward', { y: g.add(g.einsum('bmk,bkn->bmn', a, b), r) });
}

/** f16 activations times bf16 weights, stored as f16. */
function halves(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f16', [40, 70]);
  const w = g.param('w', 'bf16', [70, 66]);
  return g.graph('forward', { y: g.cast(g.einsum('mk,kn->mn', g.cast(x, 'f32'), g.cast(w, 'f32')), 'f16') });
}

/** K of 0: the sum of nothing, through the epilogue. */
function emptyK(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', [20, 'K']);
  const w = g.input('w', 'f32', ['K', 17]);
  return g.graph('forward', { y: g.unary('exp', g.einsum('mk,kn->mn', x, w)) });
}

const CASES: Record<string, [() => Graph, Record<string, number>]> = {
  plain: [plain, {}],
  epilogue: [epilogue, { B: 70 }],
  batched: [batched, { M: 66 }],
  halves: [halves, {}],
  emptyK: [emptyK, { K: 0 }],
};

describe.skipIf(typeof gpu === 'string')('tiled GEMM on Dawn vs the interpreter', () => {
  for (const [name, [make, given]] of Object.entries(CASES)) {
    it(name, { timeout: 120_000 }, async () => {
      if (typeof gpu === 'string') return;
      const g = make();
      const dims = bindDims(g, new Map(), new Map(Object.entries(given)));
      const inputs = seededInputs(g, dims, 7);
      const params = seededParams(g, fullDims(g, inputs, dims), 7);
      const ref = evaluate(g, { inputs, params, dims });
      const plan = lowerGraph(g, { target: 'gpu', tiled: true });
      expect(plan.kernels.filter((k) => k.grid?.tiled).map((k) => k.name)).toEqual([expect.stringMatching(/_gemm$/)]);
      const got = await runPlan(gpu.device, plan, dims, inputs, params);
      const problems = g.outputs.flatMap((o) =>
        compare(`output '${o.name}'`, got.get(o.name)!, ref.outputs.get(o.name)!),
      );
      expect(problems).toEqual([]);
    });
  }
});
