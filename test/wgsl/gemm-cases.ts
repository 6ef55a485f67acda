// GEMM graphs that the GPU GEMM tests share (gemm-tiled.test.ts, fragments.test.ts): sizes
// that are not multiples of a workgroup's block, both operand layouts, an epilogue, batch
// letters, symbolic dims and a K of 0, with operands of one float dtype.

import { expect } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import type { Dtype } from '../../src/ir/dtype.js';
import type { Graph } from '../../src/ir/graph.js';
import { bindDims, evaluate } from '../../src/ir/interp.js';
import type { Kernel } from '../../src/ir/kernel.js';
import { type LowerOptions, lowerGraph } from '../../src/kernels/lower.js';
import type { GpuDevice } from '../../src/runtime/webgpu-types.js';
import { compare, fullDims, seededInputs, seededParams } from '../kernels/c-harness.js';
import { runPlan } from './run-plan.js';

/** Each case: the graph and the values of its symbolic dims. */
export type GemmCases = Record<string, [() => Graph, Record<string, number>]>;

export function gemmCases(d: Dtype): GemmCases {
  /** x[M, K] @ w[K, N], no epilogue. */
  const plain = (): Graph => {
    const g = new Builder();
    const x = g.input('x', d, [37, 45]);
    const w = g.param('w', d, [45, 70]);
    return g.graph('forward', { y: g.einsum('mk,kn->mn', x, w) });
  };
  /** tanh(x @ W.T + b): K innermost in both operands, an epilogue, a symbolic M. */
  const epilogue = (): Graph => {
    const g = new Builder();
    const x = g.input('x', d, ['B', 33]);
    const w = g.param('w', d, [81, 33]);
    const b = g.param('b', d, [81]);
    return g.graph('forward', { y: g.unary('tanh', g.add(g.einsum('bi,oi->bo', x, w), b)) });
  };
  /** A batched product with a residual epilogue. */
  const batched = (): Graph => {
    const g = new Builder();
    const a = g.input('a', d, [3, 'M', 19]);
    const b = g.input('b', d, [3, 19, 20]);
    const r = g.input('r', d, [3, 'M', 20]);
    return g.graph('forward', { y: g.add(g.einsum('bmk,bkn->bmn', a, b), r) });
  };
  /** K of 0: the sum of nothing, through the epilogue. */
  const emptyK = (): Graph => {
    const g = new Builder();
    const x = g.input('x', d, [20, 'K']);
    const w = g.input('w', d, ['K', 17]);
    return g.graph('forward', { y: g.unary('exp', g.einsum('mk,kn->mn', x, w)) });
  };
  return {
    plain: [plain, {}],
    epilogue: [epilogue, { B: 70 }],
    batched: [batched, { M: 66 }],
    emptyK: [emptyK, { K: 0 }],
  };
}

/**
 * Runs a case lowered for the GPU with `lower` on Dawn and compares it with the interpreter;
 * `isGemm` picks the kernels the case must have lowered its one GEMM to.
 */
export async function checkGemmCase(
  device: GpuDevice,
  [make, given]: GemmCases[string],
  lower: LowerOptions,
  isGemm: (k: Kernel) => boolean,
): Promise<void> {
  const g = make();
  const dims = bindDims(g, new Map(), new Map(Object.entries(given)));
  const inputs = seededInputs(g, dims, 7);
  const params = seededParams(g, fullDims(g, inputs, dims), 7);
  const ref = evaluate(g, { inputs, params, dims });
  const plan = lowerGraph(g, { ...lower, target: 'gpu' });
  expect(plan.kernels.filter(isGemm).map((k) => k.name)).toEqual([expect.stringMatching(/_gemm$/)]);
  const got = await runPlan(device, plan, dims, inputs, params);
  const problems = g.outputs.flatMap((o) => compare(`output '${o.name}'`, got.get(o.name)!, ref.outputs.get(o.name)!));
  expect(problems).toEqual([]);
}
