// f16 and bf16 compute types on the WGSL target (src/codegen/legalize-half.ts, prelude-half.ts):
// golden modules of an f16 and a bf16 chain, emulated (f32 values rounded after each op: what
// runs without `shader-f16`) and native (`enable f16;`, WGSL f16 values); and the same graphs
// as the C test (every fn over every value of the format, fused chains) run on Dawn against the
// reference at the documented f16/bf16 tolerance (test/kernels/c-harness.ts tolFor: WGSL has no
// double for the transcendental fns and its f32 division is within 2.5 ulp). The native modules
// run only where the adapter has `shader-f16` (SwiftShader does not): there Dawn is asked to
// type-check them with f16 read as f32 (Dawn refuses `enable f16;` first). Skipped, with the reason printed,
// where no WebGPU adapter can be created.

import { describe, expect, it } from 'vitest';
import { WGSL_PRELUDE } from '../../src/codegen/prelude-wgsl.js';
import { WGSL_BF16_PRELUDE } from '../../src/codegen/prelude-half.js';
import { renderWgsl } from '../../src/codegen/wgsl.js';
import { Builder } from '../../src/ir/build.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { nodeGpuDevice, webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { expectGolden } from '../golden/golden.js';
import { tolFor } from '../kernels/c-harness.js';
import { type Half, chainOutputs, halfGraph, halfInputs } from '../kernels/half-graphs.js';
import { compileGraph, runAndCompareWgsl } from './wgsl-harness.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the WGSL f16/bf16 runs: ${why}`);

/** The modules of a chain of `dtype`. */
function chainModules(dtype: Half, shaderF16: boolean): string[] {
  const g = new Builder();
  const x = g.input('x', dtype, ['B', 8]);
  const y = g.input('y', dtype, [8]);
  const plan = lowerGraph(g.graph('forward', { z: chainOutputs(g, x, y, dtype).chain }), { target: 'gpu' });
  return renderWgsl(plan, `golden/wgsl/${dtype}_chain`, { shaderF16 }).kernels.map((k) => k.code);
}

/** A module with its prelude elided (the bf16 section too: the C bf16 golden shows the same table). */
function elide(code: string, dtype: Half): string {
  const text = code.replace(WGSL_PRELUDE.trim(), '/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */');
  return dtype === 'bf16' ? text.replace(WGSL_BF16_PRELUDE, '/* WGSL_BF16_PRELUDE (prelude-half.ts) */') : text;
}

describe('golden WGSL of f16 and bf16 chains', () => {
  for (const [dtype, shaderF16] of [
    ['f16', false],
    ['f16', true],
    ['bf16', false],
  ] as const)
    it(`${dtype}${shaderF16 ? ', native f16' : ', emulated'}`, () => {
      const modules = chainModules(dtype, shaderF16);
      for (const m of modules) {
        expect(m.startsWith('enable f16;')).toBe(shaderF16);
        expect(/\bf16\b/.test(m)).toBe(shaderF16);
      }
      expectGolden(
        `wgsl/${dtype}_chain${shaderF16 ? '_native' : ''}.wgsl`,
        modules.map((m) => elide(m, dtype)).join('\n'),
      );
    });

  it('bf16 is f32 arithmetic with or without shader-f16', () => {
    expect(chainModules('bf16', true)).toEqual(chainModules('bf16', false));
  });
});

/** WGSL's range reduction of sin and cos is inexact from about 2^15 on SwiftShader: they read |x| < 2^12. */
const TRIG_BOUND = 4096;

/** Deviations of the WGSL run, by dtype: the problems expected, and why. */
const KNOWN: Readonly<Record<Half, { readonly problems: readonly RegExp[]; readonly why: string }>> = {
  f16: { problems: [], why: '' },
  bf16: {
    // x = 1.48e-38, y = -1.39e-38 (and one more pair): exp(x) * y + x is an f32 subnormal, flushed
    // to zero on SwiftShader (WGSL allows it), so tanh(...) / y is -0 where the reference has -0.066.
    problems: [/^output 'chain' \(bf16\[65536\]\): 4 mismatches: \[161\] C -0 vs reference -0\.06640625; \[483\] /],
    why: 'SwiftShader flushes f32 subnormal results to zero (bf16 has the f32 exponent range)',
  },
};

describe.skipIf(why !== '')('f16 and bf16 on WGSL (Dawn) vs the reference', () => {
  for (const dtype of ['f16', 'bf16'] as const)
    it(`${dtype}: every fn over every value and fused chains, emulated`, { timeout: 300_000 }, async () => {
      const inputs = Object.fromEntries(halfInputs(dtype));
      const w = compileGraph(halfGraph(dtype, TRIG_BOUND));
      const problems = await runAndCompareWgsl(w, { inputs, tol: tolFor(dtype) });
      const known = KNOWN[dtype];
      expect(problems, known.why).toEqual(known.problems.map((p) => expect.stringMatching(p)));
    });

  it('native f16 modules: valid WGSL apart from the f16 type itself (run where the adapter has shader-f16)', async () => {
    const device = await nodeGpuDevice();
    const errors = async (code: string): Promise<string[]> => {
      const info = await device.createShaderModule({ code }).getCompilationInfo();
      return info.messages.filter((m) => m.type === 'error').map((m) => m.message);
    };
    for (const code of chainModules('f16', true)) {
      if (device.features.has('shader-f16')) {
        expect(await errors(code)).toEqual([]);
        continue;
      }
      // Without the feature Dawn stops at `enable f16;`: the module with f16 read as f32
      // (every conversion and literal stays well-typed) must parse and type-check instead.
      expect((await errors(code)).join('; ')).toMatch(/extension 'f16' is not allowed/);
      console.warn('the native f16 WGSL is validated with f16 read as f32 here: the device lacks shader-f16');
      expect(await errors(code.replace('enable f16;\n', '').replace(/\bf16\b/g, 'f32'))).toEqual([]);
    }
  });
});
