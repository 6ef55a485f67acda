// The fusion pass (src/passes/fusion/): which kernels a known graph gets (a Linear with
// bias, GELU and residual is one GEMM kernel; softmax, layer norm and RMS norm are one row
// kernel each), and every fusion kind through the C backend with fusion on and off, both
// against the reference interpreter, at bindings that take the GEMM through its skinny and
// packed paths, across several K blocks (the epilogue only on the last) and K = 0.

import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/ir/graph.js';
import type { HostTensor } from '../../src/ir/value.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { SCHEDULES } from '../../src/kernels/schedule.js';
import { planGroups } from '../../src/passes/fusion/index.js';
import { CBatch, assertClean, runAndCompare } from './c-harness.js';
import {
  layerNorm,
  linearGeluResidual,
  logSoftmax,
  logSumExp,
  maskedSoftmax,
  rmsNorm,
  scaledMax,
  softmax,
  softmaxBackward,
} from './fusion-graphs.js';

const kernelsOf = (g: Graph, fusion = true): string[] =>
  lowerGraph(g, { gemm: SCHEDULES.avx2, fusion }).kernels.map((k) => k.name);

describe('fusion pass: kernels of known graphs', () => {
  it('Linear + bias + gelu + residual is one GEMM kernel (four ops fused into its store)', () => {
    const g = linearGeluResidual();
    expect(kernelsOf(g)).toEqual(['k0_gemm']);
    expect(lowerGraph(g, { fusion: true }).launches).toHaveLength(1);
    const [k] = planGroups(g);
    expect(k!.kind).toBe('gemm');
    expect(k!.root.op).toBe('einsum');
    expect(k!.epilogue.at(-1)).toBe(g.outputs[0]!.node);
    // Unfused: the product, the biased value (read four times), then the rest.
    expect(kernelsOf(g, false)).toEqual(['k0_gemm', 'k1_ew', 'k2_ew']);
  });

  it('softmax, layer norm and RMS norm are one row kernel each', () => {
    for (const make of [softmax, layerNorm, rmsNorm, logSoftmax, maskedSoftmax, logSumExp, scaledMax]) {
      const g = make();
      expect(kernelsOf(g), make.name).toEqual(['k0_rows']);
      expect(kernelsOf(g, false).length, make.name).toBeGreaterThanOrEqual(2);
    }
    // Softmax's backward: the forward softmax (an output) and dx, one row kernel each.
    expect(kernelsOf(softmaxBackward())).toEqual(['k0_rows', 'k1_rows']);
  });

  it('every node with a buffer is stored by exactly one group, and no fused node by any', () => {
    for (const g of [linearGeluResidual(), layerNorm(), softmaxBackward()]) {
      const groups = planGroups(g);
      const stores = groups.map((k) => k.store);
      expect(new Set(stores).size).toBe(stores.length);
      for (const k of groups)
        for (const n of [...k.members, ...k.epilogue.slice(0, -1)]) expect(stores).not.toContain(n);
    }
  });
});

/** Graphs and the bindings each runs at. */
const CASES: readonly { name: string; graph: Graph; dims: Record<string, number>[] }[] = [
  // Constant K = 64: one K block; B = 2 skinny, 37 packed (partial tiles).
  { name: 'gemm epilogue', graph: linearGeluResidual(), dims: [{ B: 2 }, { B: 37 }] },
  // Symbolic K: 600 crosses three K blocks of 256, 0 stores the epilogue of zeros.
  {
    name: 'gemm epilogue, K blocks',
    graph: linearGeluResidual('K'),
    dims: [
      { B: 37, K: 600 },
      { B: 3, K: 600 },
      { B: 9, K: 0 },
    ],
  },
  {
    name: 'softmax',
    graph: softmax(),
    dims: [
      { B: 2, T: 5 },
      { B: 1, T: 33 },
    ],
  },
  { name: 'layer norm', graph: layerNorm(), dims: [{ B: 2, T: 3 }] },
  { name: 'rms norm', graph: rmsNorm(), dims: [{ B: 2, T: 3 }] },
  { name: 'log-softmax', graph: logSoftmax(), dims: [{ B: 3, S: 17 }] },
  { name: 'scaled max', graph: scaledMax(), dims: [{ B: 3, S: 40 }] },
  { name: 'masked softmax', graph: maskedSoftmax(), dims: [{ B: 4, T: 9 }] },
  { name: 'softmax backward', graph: softmaxBackward(), dims: [{ B: 3 }] },
  { name: 'logsumexp', graph: logSumExp(), dims: [{ B: 2, T: 3 }] },
];

/** x [3, 17]: row 0 plain, row 1 with a NaN in the middle (a vectorized max must keep it), row 2 with +inf. */
function specialRows(): HostTensor {
  const data = Float64Array.from({ length: 3 * 17 }, (_, i) => Math.sin(i * 1.7) * 3);
  data[17 + 9] = NaN;
  data[34 + 4] = Infinity;
  return { dtype: 'f32', shape: [3, 17], data };
}

describe('fusion on and off vs the interpreter (C)', () => {
  it('agree on every fusion kind', { timeout: 120_000 }, () => {
    const graphs = CASES.flatMap((c) => [c.graph, c.graph]);
    // Even graphs fused, odd ones not.
    const batch = CBatch.build(graphs, { lower: (i) => ({ fusion: i % 2 === 0 }) });
    expect(batch.plans[0]!.kernels.map((k) => k.name)).toEqual(['k0_gemm']);
    CASES.forEach((c, i) => {
      for (const [j, dims] of c.dims.entries())
        for (const fused of [true, false]) {
          const r = runAndCompare(batch, 2 * i + (fused ? 0 : 1), { dims, seed: 3 + j });
          assertClean(c.graph, r.problems, `${c.name}, fusion ${fused ? 'on' : 'off'}, at ${JSON.stringify(dims)}`);
        }
    });
    // NaN and inf in rows: a max (vectorized in row kernels), a sum and their results
    // propagate them as the interpreter does.
    for (const name of ['log-softmax', 'scaled max']) {
      const i = CASES.findIndex((c) => c.name === name);
      for (const k of [0, 1]) {
        const r = runAndCompare(batch, 2 * i + k, { inputs: { x: specialRows() } });
        expect(r.ref.get('y')!.data.some(Number.isNaN)).toBe(true);
        assertClean(CASES[i]!.graph, r.problems, `${name} with NaN and inf, fusion ${k === 0 ? 'on' : 'off'}`);
      }
    }
  });
});
