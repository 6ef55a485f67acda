// The CUDA dialect of the renderer: one self-contained CUDA C++ source per plan (the prelude,
// then every kernel), for NVRTC (no #include) and for the CPU shim (test/cuda/shim), by the
// contract the CUDA runtime relies on (docs/runtime.md):
//   extern "C" __global__ void __launch_bounds__(WG, B) fmc_kN(<buffers>, const fmc_dims d)
//   buffer param i: `T *__restrict__ bI` (`const T` where the kernel only reads it), T the
//     storage type as the host lays it out (f32 float, f16/bf16 unsigned short, i32 int, i64
//     long long, i8 and i4 signed char, bool unsigned char); then the dims by value, slot s
//     being d.v[s] (FMC_DIM_SLOTS, the plan's slot count, at least 1, sizes the struct);
//   the flat invocation index (blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x,
//     compared with the grid's invocations by the kernel itself (src/kernels/grid.ts; the
//     runtime dispatches as WGSL's: src/ir/kernel.ts KernelGrid);
//   workgroup-shared arrays as __shared__ arrays at the kernel's top scope, barriers
//     __syncthreads().
// Workgroup tree reductions finish in a warp's registers with shuffles (cuda-warp.ts).
// Everything else is C's (c.ts C_BASE): the same compute types (integer values in 64 bits, f16
// a float holding an f16 value), conversions, casts and prelude functions, so neither the WGSL
// legalization (64-bit integers as word pairs, sub-word storage in words) nor the half one
// (f16 widened for WGSL's packing) runs. legalize-cuda.ts only narrows index arithmetic to
// 32-bit int, which the host proves in range as for WGSL (dims, buffer sizes and grids below
// 2^31: checkIndexBounds and the slot and grid checks of src/runtime/gpu-executable.ts).
// Float add, sub and mul are __fadd_rn and friends, which nvcc and NVRTC never contract into
// an FMA: every op rounds as the reference does. The source is C++17 (hex float literals:
// NVRTC needs --std=c++17).

import type { Dtype } from '../ir/dtype.js';
import type { KStmt, Kernel, KernelGrid } from '../ir/kernel.js';
import { bindGrid } from '../kernels/grid.js';
import type { Plan } from '../kernels/plan.js';
import { C_BASE } from './c.js';
import { cudaFragment } from './cuda-frag.js';
import { legalizeCuda } from './legalize-cuda.js';
import { warpShuffles } from './cuda-warp.js';
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

/** The flat workgroup index. */
const WGID = '((int)(blockIdx.y * gridDim.x + blockIdx.x))';

/** Exact float literals: C's, with NaN and ±Inf by their bits (no compiler builtins under NVRTC). */
const floatLit: Dialect['floatLit'] = (v, t) => {
  const special = Number.isNaN(v) ? 'NAN' : v === Infinity ? 'INFINITY' : v === -Infinity ? '(-INFINITY)' : undefined;
  if (special === undefined) return C_BASE.floatLit(v, t);
  return t === 'f16' ? `((fmc_f16)${special})` : special;
};

const unsupported = (what: string) => (): never => {
  throw new Error(`internal: ${what} reached the CUDA dialect (lower with target 'gpu'; renderCudaProgram)`);
};

/** Resident blocks a multiprocessor may hold (sm_86 and sm_89: 16; ptxas ignores a larger minimum). */
const MAX_BLOCKS = 16;

/**
 * At most `workgroup` threads a block, and blocks for 1024 threads a multiprocessor: at most
 * 64 registers a thread, ptxas's own default; a tiled kernel (a workgroup working together:
 * the tiled GEMM's register tile, row reductions) for 512, at most 128 registers (the tiled
 * GEMM spills at 64). With the thread count alone ptxas aims at a full multiprocessor of
 * 64-thread blocks (32 registers) and spills the plain GEMM kernels.
 */
function launchBounds(grid: KernelGrid): string {
  const threads = grid.tiled ? 512 : 1024;
  const blocks = Math.min(MAX_BLOCKS, Math.max(1, Math.floor(threads / grid.workgroup)));
  return `__launch_bounds__(${grid.workgroup}, ${blocks})`;
}

/** Trip counts nvcc may unroll fully; a serial loop longer or of unknown length is unrolled by 4. */
const FULL_UNROLL = 16;

/** Whether statements hold a workgroup barrier (at any depth). */
const holdsBarrier = (ss: readonly KStmt[]): boolean =>
  ss.some(
    (s) =>
      s.k === 'barrier' ||
      ((s.k === 'for' || s.k === 'fragEach') && holdsBarrier(s.body)) ||
      (s.k === 'if' && (holdsBarrier(s.then) || holdsBarrier(s.else ?? []))),
  );

/**
 * `unroll` loops unroll fully; serial ones of more than FULL_UNROLL trips (or unknown) by 4,
 * except those holding a barrier (a tiled kernel's step over its workgroup tiles), which stay
 * rolled: their bodies are long already, and unrolling the flash-attention kernel's key loop
 * by 4 took nvcc 3.2 times as long (10 s against 3.1 at head size 64) for the same registers;
 * nvcc unrolls a constant loop of 27 trips fully and batches its loads, which spills a
 * convolution's GEMM at 64 registers; the tiled GEMM's 16 steps over its shared tiles unroll.
 */
function loopPragmas(s: Extract<KStmt, { k: 'for' }>): string[] {
  if (s.mode === 'unroll') return ['#pragma unroll'];
  const short = s.lo.k === 'const' && s.hi.k === 'const' && (s.hi.v - s.lo.v) / s.step <= FULL_UNROLL;
  if (short) return [];
  return holdsBarrier(s.body) ? ['#pragma unroll 1'] : ['#pragma unroll 4'];
}

function kernelOpen(k: Kernel): string[] {
  const params = k.params.map(
    (p, i) => `${p.access === 'read' ? 'const ' : ''}${STORAGE[p.dtype]} *__restrict__ ${bufName(i)}`,
  );
  return [
    `/* ${k.name}: ${escapeComment(k.note)} */`,
    `extern "C" __global__ void ${launchBounds(k.grid!)} ${checkIdent(k.name)}(${[...params, 'const fmc_dims d'].join(', ')}) {`,
  ];
}

export const CUDA_DIALECT: Dialect = {
  ...C_BASE,
  name: 'cuda',
  storage: (d) => STORAGE[d],
  floatLit,
  call: (name, args) => `${INTRINSIC[name] ?? name}(${args.join(', ')})`,
  gid: (which) => (which === 'gid' ? 'fmc_gid' : which === 'wgid' ? WGID : '((int)threadIdx.x)'),
  dim: (slot) => `((int)d.v[${slot}])`,
  forOpen: (v, lo, hi, step) => `for (int ${v} = ${lo}; ${v} < ${hi}; ${step === 1 ? `${v}++` : `${v} += ${step}`}) {`,
  loopPragmas,
  parallelLoop: undefined,
  declareArray: (name, t, size, space) => {
    // Shared arrays are declared at the kernel's top scope (sharedArrays), hoisted before rendering.
    if (space !== 'local') throw new Error(`internal: a ${space} array reached the CUDA dialect's body`);
    return `${C_BASE.scalar(t)} ${name}[${size}];`;
  },
  barrier: () => '__syncthreads();',
  mma: unsupported("an 'mma' statement"),
  fragment: cudaFragment,
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

const FLAT_GID = 'const int fmc_gid = (int)((blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x);';

/** Rendering choices (tests compare them): `shuffles` (default true) finishes tree reductions in a warp. */
export interface CudaRenderOptions {
  readonly shuffles?: boolean;
}

/** Kernel `i` of a plan as `fmc_k<i>` (grid-bound, or bound here with the default workgroup). */
function renderCudaKernel(kernel: Kernel, i: number, opts: CudaRenderOptions): { text: string; grid: KernelGrid } {
  const bound = kernel.grid ? kernel : bindGrid(kernel);
  const named = { ...bound, name: `fmc_k${i}`, note: `${checkIdent(kernel.name)}: ${kernel.note}` };
  const { kernel: k, shared } = sharedArrays(legalizeCuda(opts.shuffles === false ? named : warpShuffles(named)));
  const body = renderStmts(k.body, CUDA_DIALECT, k.params, '  ');
  const arrays = shared.map((a) => `  __shared__ ${C_BASE.scalar(a.t)} ${checkIdent(a.name)}[${a.size}];`);
  const gid = body.some((l) => /\bfmc_gid\b/.test(l)) ? [`  ${FLAT_GID}`] : [];
  return { text: [...kernelOpen(k), ...gid, ...arrays, ...body, '}'].join('\n'), grid: bound.grid! };
}

/** A plan's kernels as one self-contained CUDA source; `header` goes into an escaped comment. */
export function renderCudaProgram(plan: Plan, header = 'generated by fmc', opts: CudaRenderOptions = {}): CudaProgram {
  const rendered = plan.kernels.map((k, i) => renderCudaKernel(k, i, opts));
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
