// 2:4 sparse tensor cores (mma.sp: src/kernels/gemm-frag-sparse.ts) in `scripts/gpu-check`:
// y = x · Wᵀ with W a 2:4-pruned weight marked as the sparsity pass marks it, lowered with
// tensor-core fragments. gpu-check.ts checks it against the interpreter on the same pruned
// weights (f16 and bf16, sizes off the 64×64×32 block), which validates the CPU shim's mma.sp
// emulation (fragment and metadata layouts) against the real instruction; gpu-bench.ts times
// it at 4096³ against the same product with the dense weight on the dense fragment GEMM
// (mma.sync), both against torch.matmul, in the same run. test/cuda/gpu-bench-shim.test.ts runs
// the same functions small on the CPU shim.

import { renderCudaProgram } from '../src/codegen/cuda.js';
import { Builder } from '../src/ir/build.js';
import type { Graph } from '../src/ir/graph.js';
import { evaluate } from '../src/ir/interp.js';
import { sparseMask } from '../src/ir/sparsity.js';
import type { HostTensor } from '../src/ir/value.js';
import { bindPlanGrids } from '../src/kernels/grid.js';
import { lowerGraph } from '../src/kernels/lower.js';
import { TWO_FOUR_KEY } from '../src/passes/sparsity.js';
import type { CudaExecutable } from '../src/runtime/cuda-executable.js';
import { buildCudaExecutable, compileCudaProgram } from '../src/runtime/cuda-program.js';
import { type Tensor, fromHost, toHost } from '../src/runtime/tensor.js';

export type HalfType = 'f16' | 'bf16';

/** y = x[M, K] · W[N, K]ᵀ with W a param, marked 2:4 when `sparse`. */
export function sparseGemmGraph(d: HalfType, [M, K, N]: readonly number[], sparse: boolean): Graph {
  const g = new Builder();
  const x = g.input('x', d, [M!, K!]);
  const p = g.param('w', d, [N!, K!]);
  return g.graph('forward', { y: g.einsum('mk,nk->mn', x, sparse ? g.barrier(p, TWO_FOUR_KEY) : p) });
}

/** Seeded values in [-1, 1) of a shape, rounded to `d` as the host tensor holds them. */
export function seededHalf(d: HalfType, shape: readonly number[], seed: number): HostTensor {
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let r = seed >>> 0;
  for (let i = 0; i < data.length; i++) data[i] = (r = (Math.imul(r, 1103515245) + 12345) >>> 0) / 2 ** 31 - 1;
  return toHost(fromHost({ dtype: d, shape, data }));
}

/** A seeded W[N, K] pruned 2:4 along K (the sparsity pass's magnitude rule). */
export function prunedWeight(d: HalfType, N: number, K: number, seed: number): HostTensor {
  const w = seededHalf(d, [N, K], seed);
  const mask = sparseMask(w.data, w.shape, { kind: 'n:m', n: 2, m: 4 });
  return { ...w, data: w.data.map((v, i) => v * mask[i]!) };
}

/** A graph lowered with tensor-core fragments, compiled for this GPU with its weight `w`; whether it uses mma.sp. */
export function sparseExecutable(g: Graph, w: HostTensor): { sp: boolean; exe: CudaExecutable } {
  const plan = bindPlanGrids(lowerGraph(g, { target: 'gpu', fragments: true, sparseFragments: true }));
  const program = compileCudaProgram(plan, renderCudaProgram);
  const bits = fromHost(w).data as Uint16Array;
  const weights = new Map([
    ['w', bits.buffer.slice(bits.byteOffset, bits.byteOffset + bits.byteLength) as ArrayBuffer],
  ]);
  return { sp: /FMC_MMA_SP_M16N8K32_\w+\(fc/.test(program.source), exe: buildCudaExecutable(program, weights) };
}

/** The shapes [M, K, N] the check runs: off the block in every direction, K not a multiple of 32. */
export const SPARSE_SHAPES = [
  [37, 96, 81],
  [128, 256, 200],
  [70, 40, 130],
];

/** One check: the sparse GEMM on `d` at `shape` against the interpreter; the problem found, or ''. */
export async function checkSparse(
  d: HalfType,
  shape: readonly number[],
  mismatch: (got: HostTensor, want: HostTensor) => string,
): Promise<string> {
  const [M, K, N] = shape as [number, number, number];
  const g = sparseGemmGraph(d, shape, true);
  const w = prunedWeight(d, N, K, 11);
  const { sp, exe } = sparseExecutable(g, w);
  if (!sp) return 'the lowering made no mma.sp kernel for this GEMM';
  const x = seededHalf(d, [M, K], 5);
  const ref = evaluate(g, { inputs: new Map([['x', x]]), params: new Map([['w', w]]), dims: new Map() }).outputs;
  try {
    const out = await exe.runAsync({ x: fromHost(x) });
    return mismatch(toHost(out.y!), ref.get('y')!);
  } finally {
    exe.releaseBindings();
  }
}

/** The benchmark's two products at n³ (bf16): dense W on mma.sync, then 2:4 W on mma.sp. */
export function sparseBenchCases(
  n: number,
  timed: (exe: CudaExecutable, inputs: Record<string, Tensor>) => Promise<number>,
): { name: string; sparse: boolean; run: () => Promise<number> }[] {
  const w = () => prunedWeight('bf16', n, n, 3);
  const x = () => ({ x: fromHost(seededHalf('bf16', [n, n], 7)) });
  return [false, true].map((sparse) => ({
    name: `gemm ${n}³ x·Wᵀ ${sparse ? '2:4 W (mma.sp)' : 'dense W (fragments)'}`,
    sparse,
    run: () => timed(sparseExecutable(sparseGemmGraph('bf16', [n, n, n], sparse), w()).exe, x()),
  }));
}
