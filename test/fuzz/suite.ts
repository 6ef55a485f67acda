// The fixed-seed share of the whole-pipeline fuzzer that runs in every `npm test` (see
// pipeline-*.test.ts): seeds [from, to) through check, lowering, the passes and the
// reference, and every `cEvery`-th of them also through the C target (the C compile is the
// cost: those cases' functions share one library per batch); every `wgslEvery`-th also through
// the WGSL target (test/fuzz/wgsl.ts) where a WebGPU adapter can be created (else the reason
// is printed and the WGSL share skipped).

import { describe, expect, it } from 'vitest';
import { generate } from './gen.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { CACHE_DIR, type Prepared, prepare, runC } from './pipeline.js';
import { runWgsl } from './wgsl.js';

const BATCH = 32;

export function fuzzSuite(from: number, to: number, cEvery: number, wgslEvery = 20): void {
  describe(`whole-pipeline fuzz, seeds ${from}..${to - 1}`, () => {
    it(
      `check, lower, passes and reference on ${to - from} programs, C on every ${cEvery}th, WGSL on every ${wgslEvery}th`,
      { timeout: 900_000 },
      async () => {
        const why = await webgpuUnavailable();
        if (why) console.warn(`whole-pipeline fuzz: skipping the WGSL share: ${why}`);
        const cases: Prepared[] = [];
        // BATCH cases per C library: BATCH · cEvery seeds per round.
        for (let start = from; start < to; start += BATCH * cEvery) {
          const batch: Prepared[] = [];
          for (let seed = start; seed < Math.min(start + BATCH * cEvery, to); seed++)
            batch.push(prepare(generate(seed)));
          runC(
            batch.filter((c) => c.failures.length === 0 && c.program.seed % cEvery === 0),
            { cacheDir: CACHE_DIR },
          );
          if (!why) await runWgsl(batch.filter((c) => c.failures.length === 0 && c.program.seed % wgslEvery === 0));
          cases.push(...batch);
        }
        const failures = cases.flatMap((c) =>
          c.failures.map(
            (f) =>
              `seed ${c.program.seed}: ${f.kind} in ${f.stage}${f.fn ? ` (${f.fn})` : ''}: ${f.message.slice(0, 2000)}\n${c.text}`,
          ),
        );
        expect(failures).toEqual([]);
        const compared = cases.reduce((a, c) => a + c.compared, 0);
        const nonFinite = cases.reduce((a, c) => a + c.nonFinite, 0);
        // The generator keeps values finite: only calls on an empty batch (max over nothing is
        // -inf, a mean NaN) are left out, in a few programs.
        expect(nonFinite).toBeLessThan((to - from) / 5);
        expect(compared).toBeGreaterThan(((to - from) / cEvery) * 1.5);
        if (!why) {
          const onWgsl = cases.reduce((a, c) => a + (c.comparedWgsl ?? 0), 0);
          const wrap = cases.reduce((a, c) => a + (c.wideI64 ?? 0), 0);
          console.log(
            `whole-pipeline fuzz ${from}..${to - 1}: ${onWgsl} graphs compared on WGSL, ${wrap} of them with i64 values beyond i32`,
          );
          expect(onWgsl).toBeGreaterThan((to - from) / wgslEvery);
        }
      },
    );
  });
}
