// Shared by the block-sparse GEMM tests (sparse-gemm.test.ts, sparse-table.test.ts): pruned
// weights of `relu(x @ W.T + bias)` and a two-layer net to prune with --sparsity.

import type { Graph } from '../../src/ir/graph.js';
import { evaluate } from '../../src/ir/interp.js';
import type { HostTensor } from '../../src/ir/value.js';
import type { Executable } from '../../src/runtime/executable.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { type Tol, compare } from './c-harness.js';

/** W with block (i, j) nonzero where keep(i, j): values from a sine, so every element differs. */
export function blockWeights(
  N: number,
  K: number,
  b: number,
  keep: (i: number, j: number) => boolean,
): Map<string, HostTensor> {
  const w = Float64Array.from({ length: N * K }, (_, e) => {
    const [r, c] = [Math.floor(e / K), e % K];
    return keep(Math.floor(r / b), Math.floor(c / b)) ? Math.sin(0.37 * e + 1) : 0;
  });
  const bias = Float64Array.from({ length: N }, (_, n) => 0.1 * Math.cos(n));
  return new Map([
    ['fc.w', { dtype: 'f32', shape: [N, K], data: w }],
    ['fc.b', { dtype: 'f32', shape: [N], data: bias }],
  ]);
}

export const NET = `import { Linear } from "std/nn"
model Net() {
  fc1 = Linear(64, 48)
  fc2 = Linear(48, 32)
  fn forward(x: f32[B, 64]) -> (y: f32[B, 32]) {
    return fc2(fc1(x))
  }
}
`;

export const SPARSITY = { kind: 'block', block: 16, density: 0.5 } as const;

/** x[B, 64] from a cosine. */
export const netInput = (B: number): HostTensor => ({
  dtype: 'f32',
  shape: [B, 64],
  data: Float64Array.from({ length: B * 64 }, (_, i) => Math.cos(0.3 * i + B)),
});

/** A weight W[N, K] in b×b blocks, block (i, j) stored where keep(i, j), at most `cap` of them. */
export interface BlockCase {
  readonly name: string;
  readonly N: number;
  readonly K: number;
  readonly b: number;
  /** Stored blocks at most (the pruning's count). */
  readonly cap: number;
  readonly keep: (i: number, j: number) => boolean;
}

/** C's `y` for x[M, K] (from a cosine) against the interpreter's `dense` graph on the dense weights: the mismatches. */
export function againstDense(
  exe: Executable,
  dense: Graph,
  params: ReadonlyMap<string, HostTensor>,
  M: number,
  K: number,
  what: string,
  tol: Tol,
): string[] {
  const x: HostTensor = {
    dtype: 'f32',
    shape: [M, K],
    data: Float64Array.from({ length: M * K }, (_, e) => Math.cos(0.11 * e + M)),
  };
  const want = evaluate(dense, { inputs: new Map([['x', x]]), params }).outputs.get('y')!;
  return compare(what, toHost(exe.run({ x: fromHost(x) }).y!), want, tol);
}
