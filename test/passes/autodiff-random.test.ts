// Random float graphs (random-float-graph.ts) through autodiff with fast-check at a fixed
// seed: (a) every gradient graph verifies; (b) the gradient along a random direction of all
// params matches float64 central differences (Richardson-extrapolated) of the reference
// interpreter, to a relative error of 1e-5. Runs where a central difference means nothing
// (a kink within the step, an overflow, an unreliable numeric derivative, no param; see
// checkFloatGraph) are counted, not compared, and at least 80% of the runs must be compared.

import * as fs from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFloatGraph, type Outcome } from './random-float-graph.js';

// AD_RUNS and AD_SEED run a longer search; AD_DUMP names a file for a failing choice list.
const RUNS = Number(process.env['AD_RUNS'] ?? 500);
const SEED = Number(process.env['AD_SEED'] ?? 20240611);

/** The random choice streams random-float-graph.ts builds graphs from. */
const arbChoices = fc.array(fc.noBias(fc.nat({ max: 1 << 30 })), { maxLength: 400, size: 'max' });

describe('autodiff on random float graphs', () => {
  it(`verifies and matches central differences (${RUNS} runs, seed ${SEED})`, { timeout: 60_000 }, () => {
    const counts: Record<Outcome, number> = { checked: 0, 'no param': 0, 'non-finite': 0, kink: 0, unstable: 0 };
    fc.assert(
      fc.property(arbChoices, (choices) => {
        try {
          counts[checkFloatGraph(choices)]++;
        } catch (e) {
          const dump = process.env['AD_DUMP'];
          if (dump) fs.writeFileSync(dump, JSON.stringify(choices));
          throw e;
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: process.env['AD_RUNS'] !== undefined },
    );
    console.log(`autodiff on ${RUNS} random graphs: ${JSON.stringify(counts)}`);
    expect(counts.checked / RUNS).toBeGreaterThan(0.8);
  });
});
