// Shared by the block-sparse GEMM tests (sparse-gemm.test.ts, sparse-table.test.ts): pruned
// weights of `relu(x @ W.T + bias)` and a two-layer net to prune with --sparsity.

import type { HostTensor } from '../../src/ir/value.js';

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
