// The GPU flash-attention kernel (src/kernels/attention-gpu.ts) as WGSL on Dawn (SwiftShader)
// against the interpreter, the cases of the CUDA shim's test (test/kernels/attention-graphs.ts:
// no mask, causal, sliding windows, padding with an all-padding sequence, rows with no visible
// key, T not a multiple of the tile, S ≠ T, several heads, head sizes 32 and 64, D ≠ E); each
// plan is one attention kernel. Over a device profile's storage buffers the kernel is taken
// apart (fit-groups.ts) and still matches. Skipped, with the reason printed, where no WebGPU
// adapter can be created.

import { describe, expect, it } from 'vitest';
import { renderWgsl } from '../../src/codegen/wgsl.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { compileWgslProgram } from '../../src/runtime/wgsl-program.js';
import { DEFAULT_PROFILE } from '../../src/kernels/device-profile.js';
import { lowerForDevice } from '../../src/kernels/fit-device.js';
import {
  ATTENTION_CASES,
  attention,
  attentionPlan,
  attentionRuns,
  paddingValid,
  planKinds,
} from '../kernels/attention-graphs.js';
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

  it('over the storage buffers of a device profile, the kernel is taken apart and still matches', async () => {
    // q, k, v, the padding mask and the output: 5 buffers, one kernel under 8, parts under 4.
    const g = attention({ mask: 'padding', D: 8, E: 8, H: 2 });
    const kinds = [8, 4].map((n) => {
      const { plan, report } = lowerForDevice(g, { ...DEFAULT_PROFILE, maxStorageBuffersPerShaderStage: n });
      expect(report.problems).toEqual([]);
      return { plan, kinds: planKinds(plan) };
    });
    expect(kinds[0]!.kinds).toEqual(['attention']);
    expect(kinds[1]!.kinds).not.toContain('attention');
    for (const { plan } of kinds) {
      const w = { graph: g, compiled: compileWgslProgram(plan, renderWgsl) };
      const spec = { dims: { B: 2, T: 7, S: 9 }, inputs: { valid: paddingValid(2, 9) } };
      assertClean(g, await runAndCompareWgsl(w, spec));
    }
  });
});
