// Random valid graphs of every op (test/ir/random-graph.ts) through the C backend, against the
// reference interpreter. To pay for one C compile instead of forty, fast-check runs twice with
// the same seed: a first pass only collects the generated graphs, which are built into one
// library; the second pass is the real property and finds each graph's kernels there. Graphs
// that only shrinking produces are built one by one (the compile cache keeps repeats cheap).
// A failure prints the graph's IR text. FMC_FC_SEED picks another seed, FMC_FC_RUNS more runs.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { Graph } from '../../src/ir/graph.js';
import { printGraph } from '../../src/ir/print.js';
import { ARB_N_VALUES, buildRandomGraph } from '../ir/random-graph.js';
import { CBatch, assertClean, runAndCompare } from './c-harness.js';

const SEED = Number(process.env.FMC_FC_SEED ?? 20250611);
const RUNS = Number(process.env.FMC_FC_RUNS ?? 60);

interface Sample {
  readonly key: string;
  readonly graph: Graph;
}

// The choice stream of arbGraph (random-graph.ts), kept visible so the key of a graph is its choices.
const arbSample: fc.Arbitrary<Sample> = fc
  .array(fc.noBias(fc.nat({ max: 1 << 30 })), { maxLength: 600, size: 'max' })
  .map((choices) => {
    const graph = buildRandomGraph(choices);
    return { key: choices.join(','), graph, [fc.toStringMethod]: () => `\n${printGraph(graph)}` };
  });

/** Where each graph's kernels are: a batch and an index, or the error building it gave. */
type Built = { batch: CBatch; index: number } | { error: Error };

function buildAll(graphs: readonly Graph[], fusion: boolean): Built[] {
  try {
    const batch = CBatch.build(graphs, { lower: () => ({ fusion }) });
    return graphs.map((_, index) => ({ batch, index }));
  } catch {
    // One graph broke the shared file: build each alone so the others still run.
    return graphs.map((g) => buildOne(g, fusion));
  }
}

function buildOne(g: Graph, fusion: boolean): Built {
  try {
    return { batch: CBatch.build([g], { lower: () => ({ fusion }) }), index: 0 };
  } catch (e) {
    return { error: e as Error };
  }
}

/** Runs one graph at two values of N (one run when it has no symbolic dim). */
function check(g: Graph, built: Built): void {
  if ('error' in built)
    throw new Error(`building the C code failed: ${built.error.message}\n--- IR ---\n${printGraph(g)}`);
  const ns = g.dims.includes('N') ? [ARB_N_VALUES[0]!, ARB_N_VALUES[ARB_N_VALUES.length - 1]!] : [undefined];
  for (const N of ns) {
    const dims: Record<string, number> = N === undefined ? {} : { N };
    let problems: string[];
    try {
      problems = runAndCompare(built.batch, built.index, { dims, seed: 11 + (N ?? 0), roundedAlt: true }).problems;
    } catch (e) {
      problems = [`threw ${(e as Error).stack ?? String(e)}`];
    }
    assertClean(g, problems, N === undefined ? '' : `N = ${N}`);
  }
}

// With the fusion pass's fusing (GEMM epilogues, row kernels) and without.
describe.each([true, false])('random graphs: C backend vs interpreter, fusion %s', (fusion) => {
  it(`agrees on ${RUNS} random graphs (seed ${SEED})`, { timeout: 300_000 }, () => {
    const collected: Sample[] = [];
    fc.assert(
      fc.property(arbSample, (s) => {
        collected.push(s);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    const built = new Map<string, Built>();
    buildAll(
      collected.map((s) => s.graph),
      fusion,
    ).forEach((b, i) => built.set(collected[i]!.key, b));
    fc.assert(
      fc.property(arbSample, (s) => {
        let b = built.get(s.key);
        if (!b) built.set(s.key, (b = buildOne(s.graph, fusion)));
        check(s.graph, b);
      }),
      { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 240_000 },
    );
  });
});
