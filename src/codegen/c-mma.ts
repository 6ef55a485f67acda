// The C dialect's register-tile contraction (KStmt 'mma'): one small function per tile
// shape, kept out of line so that GCC fully unrolls its i/j loops and holds the MR × NR
// accumulators in vector registers (inlined into a large kernel they stay in memory).
// The k loop is unrolled by 4 and prefetches B's panel 8 k ahead (a large K block streams it
// from L2; measured +2% at KC 1024 on AVX-512). On AVX-512 the function asks for 512-bit vectors (GCC's
// default on recent x86 is 256); other targets get the same portable code.

/** The C name of the micro-kernel for an mr × nr tile. */
export const mmaName = (mr: number, nr: number): string => `fmc_mma_${mr}x${nr}`;

export function mmaFunction(mr: number, nr: number): string {
  return `__attribute__((noinline)) FMC_WIDE static void ${mmaName(mr, nr)}(int64_t kc, const float *restrict ap,
    const float *restrict bp, float *restrict acc) {
  ap = (const float *)__builtin_assume_aligned(ap, 64);
  bp = (const float *)__builtin_assume_aligned(bp, 64);
  float c[${mr}][${nr}];
  for (int i = 0; i < ${mr}; i++)
    for (int j = 0; j < ${nr}; j++) c[i][j] = acc[i * ${nr} + j];
  #pragma GCC unroll 4
  for (int64_t k = 0; k < kc; k++) {
    const float *a = ap + k * ${mr}, *b = bp + k * ${nr};
    __builtin_prefetch(b + ${8 * nr}, 0, 3);
    for (int i = 0; i < ${mr}; i++) {
      const float ai = a[i];
      #pragma omp simd
      for (int j = 0; j < ${nr}; j++) c[i][j] = fmaf(ai, b[j], c[i][j]);
    }
  }
  for (int i = 0; i < ${mr}; i++)
    for (int j = 0; j < ${nr}; j++) acc[i * ${nr} + j] = c[i][j];
}`;
}

export const MMA_PRELUDE = `#if defined(__AVX512F__) && defined(__GNUC__) && !defined(__clang__)
#define FMC_WIDE __attribute__((target("prefer-vector-width=512")))
#else
#define FMC_WIDE
#endif`;
