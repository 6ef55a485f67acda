// The C dialect's register-tile contraction (KStmt 'mma'): one small function per tile
// shape, kept out of line so that GCC fully unrolls its i/j loops and holds the MR × NR
// accumulators in vector registers (inlined into a large kernel they stay in memory).
// The k loop is unrolled by 4 and prefetches B's panel 8 k ahead (a large K block streams it
// from L2; measured +2% at KC 1024 on AVX-512). On AVX-512 the function asks for 512-bit vectors (GCC's
// default on recent x86 is 256); other targets get the same portable code.

import type { KExpr, KStmt } from '../ir/kernel.js';
import { bufName } from './render.js';

/** The C name of the micro-kernel for an mr × nr tile. */
export const mmaName = (mr: number, nr: number): string => `fmc_mma_${mr}x${nr}`;

/**
 * k per partial sum: the first MMA_CHUNK k continue `acc`'s sums (a block of at most
 * MMA_CHUNK rounds as one chain from acc, as before), later chunks start from zero and are
 * added into `acc`, so that a deep K block (1024 on AVX-512) rounds like chains of 512:
 * one chain of 1024 was 2.8e-4 off ONNX Runtime at 2048³, over the bench's 1e-4 + 1e-3·|y|
 * (512: 1.6e-4). 256 would be closer still, but moved the f16 hybrid_vit's logits off the
 * reference by 1.1e-3 relative (test/kernels/precision-models.test.ts allows 1e-3).
 */
export const MMA_CHUNK = 512;

export function mmaFunction(mr: number, nr: number): string {
  return `__attribute__((noinline)) FMC_WIDE static void ${mmaName(mr, nr)}(int64_t kc, const float *restrict ap,
    const float *restrict bp, float *restrict acc) {
  ap = (const float *)__builtin_assume_aligned(ap, 64);
  bp = (const float *)__builtin_assume_aligned(bp, 64);
  for (int64_t k0 = 0; k0 < kc; k0 += ${MMA_CHUNK}) {
    const int64_t k1 = kc - k0 < ${MMA_CHUNK} ? kc : k0 + ${MMA_CHUNK};
    float c[${mr}][${nr}];
    for (int i = 0; i < ${mr}; i++)
      for (int j = 0; j < ${nr}; j++) c[i][j] = k0 == 0 ? acc[i * ${nr} + j] : 0.0f;
    #pragma GCC unroll 4
    for (int64_t k = k0; k < k1; k++) {
      const float *a = ap + k * ${mr}, *b = bp + k * ${nr};
      __builtin_prefetch(b + ${8 * nr}, 0, 3);
      for (int i = 0; i < ${mr}; i++) {
        const float ai = a[i];
        #pragma omp simd
        for (int j = 0; j < ${nr}; j++) c[i][j] = fmaf(ai, b[j], c[i][j]);
      }
    }
    for (int i = 0; i < ${mr}; i++)
      for (int j = 0; j < ${nr}; j++) acc[i * ${nr} + j] = k0 == 0 ? c[i][j] : acc[i * ${nr} + j] + c[i][j];
  }
}`;
}

/**
 * The statement: the call, after a prefetch of its output tile (cTile) into L2 when there is
 * one. C's lines are cold (a large C lives in L3 or memory) and stores wait for them: without
 * the prefetch the tile's store cost 10-13% of a 1024³ GEMM (one thread, AVX-512); L2 rather
 * than L1, since the A and B panels the k loop streams would evict them from L1.
 */
export function mmaCall(
  s: Extract<KStmt, { k: 'mma' }>,
  aOff: string,
  bOff: string,
  kc: string,
  x: (e: KExpr) => string,
): string {
  const b = typeof s.b === 'number' ? bufName(s.b) : s.b;
  const call = `${mmaName(s.mr, s.nr)}(${kc}, ${s.a} + ${aOff}, ${b} + ${bOff}, ${s.acc});`;
  const t = s.cTile;
  if (!t) return call;
  return `fmc_prefetch_tile(${bufName(t.buf)} + ${x(t.at)}, ${x(t.ld)}, ${x(t.rows)}, ${x(t.cols)}); ${call}`;
}

export const MMA_PRELUDE = `#if defined(__AVX512F__) && defined(__GNUC__) && !defined(__clang__)
#define FMC_WIDE __attribute__((target("prefer-vector-width=512")))
#else
#define FMC_WIDE
#endif`;

export const usesPrefetch = (body: string): boolean => body.includes('fmc_prefetch_tile(');

/** Before the micro-kernels, when a kernel prefetches a tile. */
export const MMA_PREFETCH = `/* rows x cols floats at p[i*ld + j] into L2 (a hint: prefetches never fault) */
static inline void fmc_prefetch_tile(const float *p, int64_t ld, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; i++, p += ld) {
    for (int64_t j = 0; j < cols; j += 16) __builtin_prefetch(p + j, 0, 2);
    __builtin_prefetch(p + cols - 1, 0, 2);
  }
}`;
