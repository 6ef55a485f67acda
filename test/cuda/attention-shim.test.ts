// The GPU flash-attention kernel (src/kernels/attention-gpu.ts) as generated CUDA on the CPU
// shim against the interpreter, in three thread orders with the __shared__ arrays
// race-checked: no mask, causal, sliding window (narrower and wider than a tile), a padding
// mask with an all-padding sequence, rows with no visible key (0 under masked_softmax, NaN
// under softmax), T not a multiple of the tile, S ≠ T, several heads, head sizes 32 and 64
// (and D ≠ E in other letter orders). The plan holds one attention kernel and no T×S
// buffer. Each barrier of the kernel removed in turn is caught by the race check. Skipped,
// with the reason printed, where there is no g++.

import { beforeAll, describe, expect, it } from 'vitest';
import { renderCudaProgram } from '../../src/codegen/cuda.js';
import { dimConstValue } from '../../src/ir/dims.js';
import { ATTENTION_CASES, attention, attentionPlan, attentionRuns, planKinds } from '../kernels/attention-graphs.js';
import { type RunSpec, compareRun, fullDims, prepareRun } from '../kernels/c-harness.js';
import { ShimError, type ThreadOrder, shimUnavailable } from './shim.js';
import { ShimPlans } from './shim-plan.js';

const why = shimUnavailable();
if (why) console.warn(`skipping the CUDA shim attention tests: ${why}`);

const ORDERS: readonly ThreadOrder[] = ['forward', 'reverse', { shuffle: 7 }];

const graphs = ATTENTION_CASES.map(([, c]) => attention(c));
const plans = ATTENTION_CASES.map(([, c]) => attentionPlan(c));

function problems(shim: ShimPlans, i: number, runs: readonly RunSpec[], orders: readonly ThreadOrder[]): string[] {
  const g = graphs[i]!;
  return runs.flatMap((spec, k) => {
    const p = prepareRun(g, spec);
    const run = { dims: fullDims(g, p.inputs, p.dims), inputs: p.inputs, params: p.params };
    return shim.run(i, run, orders).flatMap((r) => {
      const where = `run ${k}, ${typeof r.order === 'string' ? r.order : 'shuffled'} order`;
      return compareRun(g, p, r.outputs, r.weights, spec.tol).map((m) => `${where}: ${m}`);
    });
  });
}

describe.skipIf(why !== '')('GPU flash attention as CUDA on the CPU shim vs interpreter', () => {
  let shim: ShimPlans;
  beforeAll(() => {
    shim = ShimPlans.build(plans);
  }, 300_000);

  for (const [i, [name, c, bindings]] of ATTENTION_CASES.entries()) {
    it(name, () => {
      // One kernel, the flash one: no scores buffer (every transient is a constant size or none).
      expect(planKinds(plans[i]!)).toEqual(['attention']);
      expect(plans[i]!.buffers.filter((b) => b.kind === 'transient' && dimConstValue(b.size) === undefined)).toEqual(
        [],
      );
      expect(problems(shim, i, attentionRuns(c, bindings), ORDERS)).toEqual([]);
    });
  }
});

/** `source` without its `n`th barrier. */
function dropBarrier(source: string, n: number): string {
  const parts = source.split('__syncthreads();');
  return parts.map((p, k) => (k === 0 ? p : (k === n + 1 ? '/* barrier removed */' : '__syncthreads();') + p)).join('');
}

describe.skipIf(why !== '')('a barrier removed from the flash-attention kernel is caught', () => {
  // Several key tiles per query tile, and query tiles with none (the first barrier guards the
  // running sums' start only there).
  const i = ATTENTION_CASES.findIndex(([name]) => name === 'bounds from below, S < T');
  const count = renderCudaProgram(plans[i]!).source.split('__syncthreads();').length - 1;
  let byRace: ShimPlans;
  let byOrder: ShimPlans;
  beforeAll(() => {
    const variants = Array.from({ length: count }, () => plans[i]!);
    byRace = ShimPlans.build(variants, { edit: (s, n) => dropBarrier(s, n) });
    byOrder = ShimPlans.build(variants, { edit: (s, n) => dropBarrier(s, n), raceCheck: false });
  }, 300_000);
  const runs = attentionRuns(ATTENTION_CASES[i]![1], ATTENTION_CASES[i]![2]);
  const shimProblems = (shim: ShimPlans, n: number, orders: readonly ThreadOrder[]): string[] => {
    const g = graphs[i]!;
    const p = prepareRun(g, runs[0]);
    const run = { dims: fullDims(g, p.inputs, p.dims), inputs: p.inputs, params: p.params };
    return shim.run(n, run, orders).flatMap((r) => compareRun(g, p, r.outputs, r.weights));
  };

  it('the kernel has its barriers', () => expect(count).toBeGreaterThanOrEqual(5));

  it('by the race check of __shared__ memory, every one', () => {
    const missed = Array.from({ length: count }, (_, n) => n).filter((n) => {
      try {
        shimProblems(byRace, n, ['forward']);
        return true;
      } catch (e) {
        if (e instanceof ShimError && /: data race on the __shared__ array/.test(e.message)) return false;
        throw e;
      }
    });
    expect(missed).toEqual([]);
  });

  it('by the results in the forward or reverse order', () => {
    const seen = Array.from({ length: count }, (_, n) => shimProblems(byOrder, n, ['forward', 'reverse']).length > 0);
    console.log(`flash attention: ${count} barriers removed one at a time, seen in the results: ${seen.join(' ')}`);
    expect(seen.every(Boolean)).toBe(true);
  });
});
