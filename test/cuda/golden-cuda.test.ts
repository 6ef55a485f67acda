// Golden CUDA programs (prelude elided) of a few small graphs lowered with target 'gpu', under
// golden/cuda/: an elementwise kernel storing bf16, softmax rows (a workgroup per row:
// __shared__ partials, __syncthreads and the warp-shuffle finish), an i64 whole-vector sum
// (64-bit values, 32-bit indices), the tiled GEMM with its epilogue (__shared__ tiles and
// barriers), a 1-D scatter_add into a short axis (per-invocation partials combined in shared
// memory), an f16 chain (f16 compute values rounded after each op), and sliding-window
// attention (the flash kernel: src/kernels/attention-gpu.ts). A changed output fails with a
// diff; FMC_ACCEPT=1 rewrites them.

import { describe, expect, it } from 'vitest';
import { renderCudaProgram } from '../../src/codegen/cuda.js';
import { cudaPrelude } from '../../src/codegen/prelude-cuda.js';
import { Builder } from '../../src/ir/build.js';
import type { Graph } from '../../src/ir/graph.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { expectGolden } from '../golden/golden.js';
import { attention } from '../kernels/attention-graphs.js';
import { linearGeluResidual, softmax } from '../kernels/fusion-graphs.js';

function bf16Gelu(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 8]);
  const h = g.unary('tanh', x);
  return g.graph('forward', { y: g.cast(g.mul(h, g.full(0.5, 'f32')), 'bf16') });
}

function i64Sum(): Graph {
  const g = new Builder();
  return g.graph('forward', { s: g.sum(g.input('x', 'i64', ['N']), [0]) });
}

function scatterTree(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', [8]);
  return g.graph('forward', { y: g.scatterAdd(x, g.input('idx', 'i32', ['N']), g.input('src', 'f32', ['N']), 0) });
}

/** exp(x) * y + x on f16 storage, computed in f16, with an f32 copy of the product. */
function f16Chain(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f16', ['N']);
  const y = g.input('y', 'f16', ['N']);
  const p = g.mul(g.exp(x), y);
  return g.graph('forward', { z: g.add(p, x), p32: g.cast(p, 'f32') });
}

const GRAPHS: Record<string, { make: () => Graph; tiled?: boolean }> = {
  bf16_elementwise: { make: bf16Gelu },
  attention_window: { make: () => attention({ mask: 'window', W: 8, D: 32, E: 32, H: 2 }) },
  softmax: { make: softmax },
  i64_sum: { make: i64Sum },
  gemm_tiled: { make: () => linearGeluResidual(), tiled: true },
  scatter_tree: { make: scatterTree },
  f16_chain: { make: f16Chain },
};

describe('golden CUDA of small graphs', () => {
  for (const [name, { make, tiled }] of Object.entries(GRAPHS)) {
    it(name, () => {
      const plan = lowerGraph(make(), { target: 'gpu', ...(tiled ? { tiled } : {}) });
      if (tiled) expect(plan.kernels.some((k) => k.grid?.tiled)).toBe(true);
      const { source, kernels } = renderCudaProgram(plan, `golden/cuda/${name}`);
      const prelude = [false, true].map((h) => cudaPrelude(plan.slots.length, h)).find((p) => source.includes(p));
      if (!prelude) throw new Error('the program does not contain the CUDA prelude');
      const grids = kernels.map((k) => `/* ${k.name} grid: ${JSON.stringify(k.grid)} */`);
      const elided = `/* cudaPrelude(${plan.slots.length}, ${prelude.includes('fmc_f16')}) (src/codegen/prelude-cuda.ts) */`;
      expectGolden(`cuda/${name}.cu`, [...grids, source.replace(prelude, elided)].join('\n'));
    });
  }
});
