// The CUDA dialect of the renderer: one self-contained CUDA C++ source per plan (the prelude,
// then every kernel), for NVRTC (no #include) and for the CPU shim (test/cuda/shim), by the
// contract the CUDA runtime relies on (docs/runtime.md):
//   extern "C" __global__ void __launch_bounds__(WG, 1024 / WG) fmc_kN(<buffers>, const fmc_dims d)
//   buffer param i: `T *__restrict__ bI` (`const T` where the kernel only reads it), T the
//     storage type as the host lays it out (f32 float, f16/bf16 unsigned short, i32 int, i64
//     long long, i8 and i4 signed char, bool unsigned char); then the dims by value, slot s
//     being d.v[s] (FMC_DIM_SLOTS, the plan's slot count, at least 1, sizes the struct);
//   the flat invocation index (blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x,
//     computed in 64 bits and compared with the grid's invocations by the kernel itself
//     (src/kernels/grid.ts; the runtime dispatches as WGSL's: src/ir/kernel.ts KernelGrid);
//   workgroup-shared arrays as __shared__ arrays at the kernel's top scope, barriers
//     __syncthreads().
// Everything else is C's (c.ts C_BASE): the same compute types (integers in 64 bits, f16 a
// float holding an f16 value), conversions, casts and prelude functions, so no legalization
// runs (the WGSL one exists for WGSL's missing 64-bit integers and sub-word storage; the
// half one for WGSL's f32 packing). Float add, sub and mul are __fadd_rn and friends, which
// nvcc and NVRTC never contract into an FMA: every op rounds as the reference does.

import type { Dtype } from '../ir/dtype.js';
import type { Kernel, KernelGrid, KScalar } from '../ir/kernel.js';
import { bindGrid } from '../kernels/grid.js';
import type { Plan } from '../kernels/plan.js';
import { C_BASE } from './c.js';
import { halvesUsed } from './prelude-half.js';
import { cudaPrelude } from './prelude-cuda.js';
import { type Dialect, bufName, checkIdent, escapeComment, renderStmts, sharedArrays } from './render.js';

const STORAGE: Record<Dtype, string> = {
  f32: 'float',
  f16: 'unsigned short',
  bf16: 'unsigned short',
  i8: 'signed char',
  i4: 'signed char',
  i32: 'int',
  i64: 'long long',
  bool: 'unsigned char',
};

/** Prelude functions the dialect calls as CUDA intrinsics (the same IEEE result, never fused). */
const INTRINSIC: Readonly<Record<string, string>> = {
  fmc_add_f: '__fadd_rn',
  fmc_sub_f: '__fsub_rn',
  fmc_mul_f: '__fmul_rn',
};

/** The flat workgroup index, 64-bit. */
const WGID = '((long long)blockIdx.y * gridDim.x + blockIdx.x)';

/** Exact float literals: C's, with NaN and ±Inf by their bits (no compiler builtins under NVRTC). */
const floatLit: Dialect['floatLit'] = (v, t) => {
  const special = Number.isNaN(v) ? 'NAN' : v === Infinity ? 'INFINITY' : v === -Infinity ? '(-INFINITY)' : undefined;
  if (special === undefined) return C_BASE.floatLit(v, t);
  return t === 'f16' ? `((fmc_f16)${special})` : special;
};

const unsupported = (what: string) => (): never => {
  throw new Error(`internal: ${what} reached the CUDA dialect (lower with target 'gpu'; renderCudaProgram)`);
};

/**
 * At most `wg` threads a block, and room for 1024 threads a multiprocessor: at most 64
 * registers a thread, ptxas's own default. With the thread count alone ptxas aims at a full
 * multiprocessor of 64-thread blocks (32 registers) and spills the GEMM kernels.
 */
const launchBounds = (wg: number): string => `__launch_bounds__(${wg}, ${Math.max(1, Math.floor(1024 / wg))})`;

function kernelOpen(k: Kernel): string[] {
  const params = k.params.map(
    (p, i) => `${p.access === 'read' ? 'const ' : ''}${STORAGE[p.dtype]} *__restrict__ ${bufName(i)}`,
  );
  return [
    `/* ${escapeComment(k.note)} */`,
    `extern "C" __global__ void ${launchBounds(k.grid!.workgroup)} ${checkIdent(k.name)}(${[...params, 'const fmc_dims d'].join(', ')}) {`,
  ];
}

export const CUDA_DIALECT: Dialect = {
  ...C_BASE,
  name: 'cuda',
  storage: (d) => STORAGE[d],
  floatLit,
  call: (name, args) => `${INTRINSIC[name] ?? name}(${args.join(', ')})`,
  gid: (which) => (which === 'gid' ? 'fmc_gid' : which === 'wgid' ? WGID : '((long long)threadIdx.x)'),
  dim: (slot) => `d.v[${slot}]`,
  loopPragmas: (s) => (s.mode === 'unroll' ? ['#pragma unroll'] : []),
  parallelLoop: undefined,
  declareArray: (name, t, size, space) => {
    // Shared arrays are declared at the kernel's top scope (sharedArrays), hoisted before rendering.
    if (space !== 'local') throw new Error(`internal: a ${space} array reached the CUDA dialect's body`);
    return `${C_BASE.scalar(t)} ${name}[${size}];`;
  },
  barrier: () => '__syncthreads();',
  mma: unsupported("an 'mma' statement"),
  kernelOpen,
  kernelClose: () => ['}'],
  file: unsupported('a whole file'),
};

/** One kernel of a CUDA program: its generated name and launch grid. */
export interface CudaKernel {
  readonly name: string;
  readonly workgroup: number;
  readonly grid: KernelGrid;
}

export interface CudaProgram {
  readonly source: string;
  /** In plan.kernels order. */
  readonly kernels: readonly CudaKernel[];
}

const FLAT_GID =
  'const long long fmc_gid = ((long long)blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x;';

/** Kernel `i` of a plan as `fmc_k<i>` (grid-bound, or bound here with the default workgroup). */
function renderCudaKernel(kernel: Kernel, i: number): { text: string; grid: KernelGrid } {
  const bound = kernel.grid ? kernel : bindGrid(kernel);
  const { kernel: k, shared } = sharedArrays({ ...bound, name: `fmc_k${i}` });
  const body = renderStmts(k.body, CUDA_DIALECT, k.params, '  ');
  const arrays = shared.map((a) => `  __shared__ ${C_BASE.scalar(a.t as KScalar)} ${checkIdent(a.name)}[${a.size}];`);
  const gid = body.some((l) => /\bfmc_gid\b/.test(l)) ? [`  ${FLAT_GID}`] : [];
  const open = kernelOpen(k);
  open[0] = `/* fmc_k${i}: ${checkIdent(kernel.name)}: ${escapeComment(kernel.note)} */`;
  return { text: [...open, ...gid, ...arrays, ...body, '}'].join('\n'), grid: bound.grid! };
}

/** A plan's kernels as one self-contained CUDA source; `header` goes into an escaped comment. */
export function renderCudaProgram(plan: Plan, header = 'generated by fmc'): CudaProgram {
  const rendered = plan.kernels.map(renderCudaKernel);
  const bodies = rendered.map((r) => r.text);
  const halves = bodies.some((b) => Object.values(halvesUsed(b)).includes(true));
  const source = [
    `/* ${escapeComment(header)} */`,
    cudaPrelude(plan.slots.length, halves),
    '',
    ...bodies.map((b) => b + '\n'),
  ].join('\n');
  return {
    source,
    kernels: rendered.map((r, i) => ({ name: `fmc_k${i}`, workgroup: r.grid.workgroup, grid: r.grid })),
  };
}
