// The GPU flash-attention kernel (src/kernels/attention-gpu.ts) as WGSL on Dawn (SwiftShader)
// against the interpreter, the cases of the CUDA shim's test (test/kernels/attention-graphs.ts:
// no mask, causal, sliding windows, padding with an all-padding sequence, rows with no visible
// key, T not a multiple of the tile, S ≠ T, several heads, head sizes 32 and 64, D ≠ E); each
// plan is one attention kernel. Skipped, with the reason printed, where no WebGPU adapter can
// be created.

import { describe, expect, it } from 'vitest';
import { renderWgsl } from '../../src/codegen/wgsl.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { compileWgslProgram } from '../../src/runtime/wgsl-program.js';
import { ATTENTION_CASES, attention, attentionPlan, attentionRuns, planKinds } from '../kernels/attention-graphs.js';
import { assertClean } from '../kernels/c-harness.js';
import { runAndCompareWgsl } from './wgsl-harness.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the WGSL attention tests: ${why}`);

describe.skipIf(why !== '')('GPU flash attention as WGSL on Dawn vs the interpreter', () => {
  for (const [name, c, bindings] of ATTENTION_CASES) {
    it(name, { timeout: 120_000 }, async () => {
      const plan = attentionPlan(c);
      expect(planKinds(plan)).toEqual(['attention']);
      const w = { graph: attention(c), compiled: compileWgslProgram(plan, renderWgsl) };
      for (const [n, spec] of attentionRuns(c, bindings).entries())
        assertClean(w.graph, await runAndCompareWgsl(w, spec), `run ${n}`);
    });
  }
});
