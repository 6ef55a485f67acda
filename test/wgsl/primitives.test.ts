// Every primitive op and every unary/binary fn on the WGSL target (Dawn on SwiftShader) against
// the reference interpreter: the C backend's case list (test/kernels/primitive-cases.ts: every
// dtype an op takes, NaN/Inf, integer division and modulo, saturating casts, Philox random bit
// for bit, ...), each graph lowered for a GPU, rendered and run through the runtime's
// GpuExecutable (wgsl-harness.ts). Integers, i64 included, compare exactly (WGSL computes
// integer values in 64 bits as two words); f32 subnormal inputs are flushed (counted, printed).
// Skipped, with the reason printed, where no WebGPU adapter can be created.

import { afterAll, describe, expect, it } from 'vitest';
import { assertClean } from '../kernels/c-harness.js';
import { cases, uncovered } from '../kernels/primitive-cases.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { FLUSHED, compileGraph, runAndCompareWgsl } from './wgsl-harness.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the WGSL primitive tests: ${why}`);

/** Deviations of the WGSL target the cases show, by case: the one problem expected. */
const HUGE_TRIG = {
  problem: /^output 'y' \(b?f(16|32)\[17\]\): 1 mismatches: \[10\] /,
  why: 'sin and cos of 1e30: arguments beyond ~2^24 are reduced inexactly on WGSL (no Payne-Hanek reduction)',
};
const KNOWN: Readonly<Record<string, { readonly problem: RegExp; readonly why: string }>> = {
  'unary sin f32': HUGE_TRIG,
  'unary cos f32': HUGE_TRIG,
  'unary sin bf16': HUGE_TRIG,
  'unary cos bf16': HUGE_TRIG,
};

describe('the WGSL primitive cases', () => {
  it('cover every primitive op and fn of the IR', () => {
    expect(uncovered()).toEqual([]);
  });
});

describe.skipIf(why !== '')('WGSL vs interpreter: primitive ops', () => {
  afterAll(() => {
    console.log(`WGSL deviations: ${FLUSHED.subnormals} subnormal inputs flushed to zero`);
  });
  for (const c of cases) {
    it(c.name, { timeout: 60_000 }, async () => {
      const w = compileGraph(c.graph, c.lower);
      for (const [k, run] of c.runs.entries()) {
        const problems = await runAndCompareWgsl(w, run);
        const known = KNOWN[c.name];
        // A known deviation is still there (else the list is stale) and is the only problem.
        if (known) expect(problems, known.why).toEqual([expect.stringMatching(known.problem)]);
        else assertClean(c.graph, problems, `WGSL run ${k}`);
      }
    });
  }
});
