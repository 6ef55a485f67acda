// Golden WGSL modules (prelude elided) of a few small graphs lowered with target 'gpu', under
// golden/wgsl/: an elementwise kernel storing bf16 (atomic sub-word stores), a GEMM with its
// epilogue, softmax rows (a workgroup per row), an i64 whole-vector sum, a 1-D scatter_add,
// sliding-window attention (the flash kernel: src/kernels/attention-gpu.ts).
// A changed output fails with a diff; FMC_ACCEPT=1 rewrites them.

import { describe, it } from 'vitest';
import { WGSL_PRELUDE } from '../../src/codegen/prelude-wgsl.js';
import { renderWgsl } from '../../src/codegen/wgsl.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { expectGolden } from '../golden/golden.js';
import { linearGeluResidual, softmax } from '../kernels/fusion-graphs.js';
import { Builder } from '../../src/ir/build.js';
import { attention } from '../kernels/attention-graphs.js';

function bf16Gelu() {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 8]);
  const h = g.unary('tanh', x);
  return g.graph('forward', { y: g.cast(g.mul(h, g.full(0.5, 'f32')), 'bf16') });
}

/** The i64 sum of a whole vector: a workgroup tree (reduce-gpu.ts) of two-word integers. */
function i64Sum() {
  const g = new Builder();
  return g.graph('forward', { s: g.sum(g.input('x', 'i64', ['N']), [0]) });
}

/** A 1-D scatter_add into 8 targets: a workgroup of per-invocation partials (scatter-gpu.ts). */
function scatterTree() {
  const g = new Builder();
  const x = g.input('x', 'f32', [8]);
  return g.graph('forward', { y: g.scatterAdd(x, g.input('idx', 'i32', ['N']), g.input('src', 'f32', ['N']), 0) });
}

const GRAPHS = {
  attention_window: () => attention({ mask: 'window', W: 8, D: 32, E: 32, H: 2 }),
  bf16_elementwise: bf16Gelu,
  gemm_epilogue: linearGeluResidual,
  softmax,
  i64_sum: i64Sum,
  scatter_tree: scatterTree,
};

describe('golden WGSL of small graphs', () => {
  for (const [name, make] of Object.entries(GRAPHS)) {
    it(name, () => {
      const { kernels, dimVec4s } = renderWgsl(lowerGraph(make(), { target: 'gpu' }), `golden/wgsl/${name}`);
      const prelude = WGSL_PRELUDE.trim();
      const text = kernels.map((k) => {
        if (!k.code.includes(prelude)) throw new Error('the module does not contain the WGSL prelude');
        const grid = `/* grid: ${JSON.stringify(k.grid)}; dims vec4s ${dimVec4s} */`;
        return `${grid}\n${k.code.replace(prelude, '/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */')}`;
      });
      expectGolden(`wgsl/${name}.wgsl`, text.join('\n'));
    });
  }
});
