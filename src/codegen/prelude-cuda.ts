// The CUDA prelude: the C prelude's functions (prelude-c.ts, and prelude-half.ts's C section
// for f16/bf16) as device functions, after a head that declares what the C head gets from
// <stdint.h> and <math.h>: a CUDA program is compiled by NVRTC, which has no host headers, so
// the program includes nothing. The same functions give C's bits (IEEE f32; the f16 type is a
// float holding an f16 value, rounded after each op, f16 transcendental fns in double rounded
// once; bf16 f32 arithmetic rounded after each op), except where they call the math library
// (sinf, cosf, powf, fmodf and the double fns): CUDA's are within its documented ulp bounds.
//
// The CUDA a program may use is this closed list (the CPU shim, test/cuda/shim, implements
// exactly it; a new entry is added here and there together):
//   qualifiers      extern "C", __global__, __device__, __forceinline__, __launch_bounds__(n, b),
//                   __shared__ (constant-size arrays at a kernel's top scope), __restrict__
//   indices         threadIdx.x, blockIdx.x, blockIdx.y, blockDim.x, gridDim.x
//   sync            __syncthreads()
//   pragmas         #pragma unroll, #pragma unroll 4, #pragma unroll 1; #pragma nv_diag_suppress
//                   under __CUDACC__
//   bits            __int_as_float (INFINITY, NAN), memcpy (the C prelude's 2- and 4-byte bit casts)
//   f32 arithmetic  __fadd_rn, __fsub_rn, __fmul_rn (the dialect's add, sub and mul: never
//                   contracted into an FMA, whatever -fmad says), fmaf, sqrtf
//   f32 math        sinf, cosf, fabsf, floorf, fmodf, powf, signbit
//   f64 math        exp, log, sin, cos, tanh, erf, sqrt, pow, fabs (f16 fns only)
//   warp            __shfl_xor_sync (full mask, through fmc_shfl_xor below: cuda-warp.ts)
//   reserved        __shfl_down_sync, atomicCAS and atomicAdd on 32-bit words (no kernel uses
//                   them yet)
// Special instructions are a closed set of named macros, inline PTX unless FMC_CUDA_CPU is
// defined (the shim defines it and its own emulation of each, by the PTX fragment layouts):
//   FMC_MMA_M16N8K16_F16F32(d, a, b, c)   mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
//   FMC_MMA_M16N8K16_BF16F32(d, a, b, c)  the same with bf16 A and B
//     per lane: a uint32_t[4] (8 halves of the 16×16 row-major A), b uint32_t[2] (4 halves of
//     the 16×8 column-major B), c and d float[4] (the 16×8 f32 accumulator); d may be c
//   FMC_LDMATRIX_X4(r, p)                 ldmatrix.sync.aligned.m8n8.x4.shared.b16: r uint32_t[4],
//     p this lane's row address (a pointer into __shared__ memory; lanes 8i..8i+7 give matrix i's rows)
//   FMC_MMA_SP_M16N8K32_F16F32(d, a, b, e, s, c)   mma.sp.sync.aligned.m16n8k32.row.col.f32.f16.f16.f32
//   FMC_MMA_SP_M16N8K32_BF16F32(d, a, b, e, s, c)  the same with bf16 A and B
//     A (16×32) is 2:4-sparse along K: a uint32_t[4] holds the lane's kept values as an m16n8k16
//     A fragment of the 16×16 kept values; b uint32_t[4] (8 halves of the 32×8 column-major B:
//     rows 2t + {0,1} + 8i of column g in register i); c and d float[4]; e the uint32_t metadata
//     register and s the selector, a constant 0 or 1: lanes 4g + 2s and 4g + 2s + 1 give group g's
//     metadata, columns 0..15 and 16..31, each with row g in its low and row g + 8 in its high 16
//     bits, 4 bits a group of 4 columns (the two kept positions, increasing, the first in the low
//     2 bits); mma.sp::ordered_metadata (which needs them increasing) where the toolkit has it
//     (CUDA 12.5+; ptxas advises it), else mma.sp, the same for such metadata
// test/cuda/nvcc-ptxas.test.ts compiles a probe kernel with each.
// fmc_shfl_xor(v, m) is __shfl_xor_sync over the full warp on both (the shim implements the
// builtin itself): lane i gets lane i ^ m's v. The reductions' warp levels use it.

import { IX_FUNCTIONS } from './c.js';
import { C_PRELUDE_BODY } from './prelude-c.js';
import { C_HALF_PRELUDE } from './prelude-half.js';

/** The head: fixed-width types and constants from builtin types, device-function qualifiers. */
const CUDA_HEAD = `/* fmc CUDA prelude: the C prelude's scalar semantics as device functions (src/codegen/prelude-cuda.ts). */
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long int64_t; /* LP64, as <stdint.h> on Linux: the same types where a header has it */
typedef unsigned long uint64_t;
#ifndef INT64_MAX
#define INT64_MAX 9223372036854775807L
#endif
#ifndef INT64_MIN
#define INT64_MIN (-INT64_MAX - 1)
#endif
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
#ifndef NAN
#define NAN __int_as_float(0x7fc00000)
#endif
#ifndef HUGE_VAL
#define HUGE_VAL ((double)INFINITY)
#endif
#ifdef __CUDACC__
#pragma nv_diag_suppress 177, 550 /* unused prelude functions and locals */
#endif
#define FMC_FN static __device__ __forceinline__
/* f16 values are floats holding an f16 value (prelude-half.ts's portable path). */
#define FMC_NO_FLOAT16

/* The plan's dim slots, passed by value to every kernel (FMC_DIM_SLOTS: defined by the program). */
struct fmc_dims {
  long long v[FMC_DIM_SLOTS];
};
`;

/** The special-instruction macros (inline PTX; the CPU shim's emulation under FMC_CUDA_CPU). */
export const CUDA_SPECIAL = String.raw`/* ---------- special instructions (sm_80+): inline PTX, or the CPU shim's emulation ---------- */
/* mma.sp: fmc's metadata is ordered (increasing positions): ::ordered_metadata where the toolkit has it (12.5+). */
#if defined(__CUDACC_VER_MAJOR__) && (__CUDACC_VER_MAJOR__ > 12 || (__CUDACC_VER_MAJOR__ == 12 && __CUDACC_VER_MINOR__ >= 5))
#define FMC_MMA_SP_OP_ "mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32."
#else
#define FMC_MMA_SP_OP_ "mma.sp.sync.aligned.m16n8k32.row.col.f32."
#endif
#ifndef FMC_CUDA_CPU
#define FMC_MMA_M16N8K16_(ab, d, a, b, c) \
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32." ab "." ab ".f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, " \
               "{%8, %9}, {%10, %11, %12, %13};" \
               : "=f"((d)[0]), "=f"((d)[1]), "=f"((d)[2]), "=f"((d)[3]) \
               : "r"((a)[0]), "r"((a)[1]), "r"((a)[2]), "r"((a)[3]), "r"((b)[0]), "r"((b)[1]), \
                 "f"((c)[0]), "f"((c)[1]), "f"((c)[2]), "f"((c)[3]))
#define FMC_MMA_M16N8K16_F16F32(d, a, b, c) FMC_MMA_M16N8K16_("f16", d, a, b, c)
#define FMC_MMA_M16N8K16_BF16F32(d, a, b, c) FMC_MMA_M16N8K16_("bf16", d, a, b, c)
#define FMC_MMA_SP_M16N8K32_(ab, d, a, b, e, s, c) \
  asm volatile(FMC_MMA_SP_OP_ ab "." ab ".f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, " \
               "{%8, %9, %10, %11}, {%12, %13, %14, %15}, %16, %17;" \
               : "=f"((d)[0]), "=f"((d)[1]), "=f"((d)[2]), "=f"((d)[3]) \
               : "r"((a)[0]), "r"((a)[1]), "r"((a)[2]), "r"((a)[3]), "r"((b)[0]), "r"((b)[1]), "r"((b)[2]), \
                 "r"((b)[3]), "f"((c)[0]), "f"((c)[1]), "f"((c)[2]), "f"((c)[3]), "r"(e), "n"(s))
#define FMC_MMA_SP_M16N8K32_F16F32(d, a, b, e, s, c) FMC_MMA_SP_M16N8K32_("f16", d, a, b, e, s, c)
#define FMC_MMA_SP_M16N8K32_BF16F32(d, a, b, e, s, c) FMC_MMA_SP_M16N8K32_("bf16", d, a, b, e, s, c)
#define FMC_LDMATRIX_X4(r, p) \
  asm volatile("{\n .reg .u64 fmc_g;\n .reg .u32 fmc_s;\n cvta.to.shared.u64 fmc_g, %4;\n cvt.u32.u64 fmc_s, fmc_g;\n" \
               " ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [fmc_s];\n}" \
               : "=r"((r)[0]), "=r"((r)[1]), "=r"((r)[2]), "=r"((r)[3]) \
               : "l"(p) \
               : "memory")
#endif
#define fmc_shfl_xor(v, m) __shfl_xor_sync(0xffffffffu, (v), (m))
`;

/** The prelude of a program whose plan has `slots` dim slots; `halves`: its kernels use f16 or bf16 values. */
export function cudaPrelude(slots: number, halves: boolean): string {
  return [
    `#define FMC_DIM_SLOTS ${Math.max(1, slots)}`,
    CUDA_HEAD.trim(),
    '',
    C_PRELUDE_BODY.trim(),
    ...(halves ? ['', C_HALF_PRELUDE.trim()] : []),
    '',
    IX_FUNCTIONS,
    'FMC_FN int32_t fmc_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }',
    'FMC_FN int32_t fmc_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }',
    '',
    CUDA_SPECIAL.trim(),
  ].join('\n');
}
