// The tiled GPU GEMM (src/kernels/gemm-tiled.ts: workgroup-shared tiles and barriers) on Dawn
// (SwiftShader) against the interpreter: sizes that are not multiples of the 64×64×16 block,
// with and without a fused epilogue, both operand layouts, batch letters, symbolic dims, a K
// of 0, and f16/bf16 storage. Each case checks that its GEMM really lowered to the tiled kernel.

import { describe, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import type { Graph } from '../../src/ir/graph.js';
import { gpuDevice } from './dawn.js';
import { type GemmCases, checkGemmCase, gemmCases } from './gemm-cases.js';

const gpu = await gpuDevice();
if (typeof gpu === 'string') console.warn(`skipping tiled GEMM tests: ${gpu}`);

/** f16 activations times bf16 weights, stored as f16. */
function halves(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f16', [40, 70]);
  const w = g.param('w', 'bf16', [70, 66]);
  return g.graph('forward', { y: g.cast(g.einsum('mk,kn->mn', g.cast(x, 'f32'), g.cast(w, 'f32')), 'f16') });
}

const CASES: GemmCases = { ...gemmCases('f32'), halves: [halves, {}] };

describe.skipIf(typeof gpu === 'string')('tiled GEMM on Dawn vs the interpreter', () => {
  for (const name of Object.keys(CASES)) {
    it(name, { timeout: 120_000 }, async () => {
      if (typeof gpu === 'string') return;
      await checkGemmCase(gpu.device, CASES[name]!, { tiled: true }, (k) => !!k.grid?.tiled);
    });
  }
});
