// Golden files of the C backend: the rendered C (prelude elided: test/codegen/prelude.test.ts
// covers it) and the plan of a few small graphs, one of each fusion kind, under golden/kernels/. A changed output fails
// with a diff; `npm run golden:accept` writes the new files for review. The GEMM uses a fixed
// schedule so the files do not depend on the machine's CPU.

import { describe, it } from 'vitest';
import { renderC } from '../../src/codegen/c.js';
import { C_PRELUDE } from '../../src/codegen/prelude-c.js';
import { Builder } from '../../src/ir/build.js';
import type { Graph } from '../../src/ir/graph.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { SCHEDULES } from '../../src/kernels/schedule.js';
import { planToJson } from '../../src/runtime/plan-json.js';
import { expectGolden } from '../golden/golden.js';
import { layerNorm, linearGeluResidual, rmsNorm, softmax } from './fusion-graphs.js';
import { quantizedLinear } from './quantized-linear.js';

// Nodes other than inputs are attributed to a block path, which the kernels' notes print.

function elementwise(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 8]);
  const bias = g.input('bias', 'f32', [8]);
  return g.within('mlp.act', '', () => {
    const h = g.add(x, bias);
    // gelu(tanh form) on the biased input, then cast to bf16: one fused kernel.
    const c = g.full(0.7978845608028654, 'f32');
    const inner = g.mul(c, g.add(h, g.mul(g.full(0.044715, 'f32'), g.pow(h, g.full(3, 'f32')))));
    const gelu = g.mul(g.mul(g.full(0.5, 'f32'), h), g.add(g.full(1, 'f32'), g.tanh(inner)));
    return g.graph('forward', { y: g.cast(gelu, 'bf16') });
  });
}

function reduction(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 'T', 16]);
  return g.within('pool', '', () =>
    g.graph('forward', {
      mean: g.div(g.sum(x, [1], true), g.cast(g.dim(x.args.shape[1]!, 'i32'), 'f32')),
      max: g.amax(x, [0, 2]),
    }),
  );
}

function matmul(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 64]);
  return g.within('lin', '', () => {
    const w = g.param('lin.weight', 'f32', [32, 64]);
    const b = g.param('lin.bias', 'f32', [32]);
    return g.graph('forward', { y: g.add(g.einsum('bi,oi->bo', x, w), b) });
  });
}

// The fusion kinds (fusion-graphs.ts): a GEMM with its epilogue, and row kernels.
const GRAPHS: Record<string, () => Graph> = {
  elementwise,
  reduction,
  softmax,
  matmul,
  gemm_epilogue: () => linearGeluResidual(),
  layer_norm: layerNorm,
  rms_norm: rmsNorm,
  // Dequantization fused into the GEMM: the word-wise GEMV and B packed from its nibbles.
  gemm_int4: () => quantizedLinear(32, 128, { dtype: 'int4', group: 64, symmetric: false }),
};

describe('golden C of small graphs', () => {
  for (const [name, make] of Object.entries(GRAPHS)) {
    it(name, () => {
      const plan = lowerGraph(make(), { gemm: SCHEDULES.avx2 });
      const source = renderC(plan.kernels, `golden/kernels/${name}.c`);
      const prelude = C_PRELUDE.trim();
      if (!source.includes(prelude)) throw new Error('the rendered file does not contain the C prelude');
      expectGolden(`kernels/${name}.c`, source.replace(prelude, '/* C_PRELUDE (src/codegen/prelude-c.ts) */'));
      expectGolden(`kernels/${name}.plan.json`, `${JSON.stringify(planToJson(plan), null, 2)}\n`);
    });
  }
});
