// The fixed-seed share of the whole-pipeline fuzzer that runs in every `npm test` (see
// pipeline-*.test.ts): seeds [from, to) through check, lowering, the passes and the
// reference, and every `cEvery`-th of them also through the C target (the C compile is the
// cost: those cases' functions share one library per batch).

import { describe, expect, it } from 'vitest';
import { generate } from './gen.js';
import { CACHE_DIR, type Prepared, prepare, runC } from './pipeline.js';

const BATCH = 32;

export function fuzzSuite(from: number, to: number, cEvery: number): void {
  describe(`whole-pipeline fuzz, seeds ${from}..${to - 1}`, () => {
    it(
      `check, lower, passes and reference on ${to - from} programs, C on every ${cEvery}th`,
      { timeout: 900_000 },
      () => {
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
      },
    );
  });
}
