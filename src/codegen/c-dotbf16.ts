// The C dialect's bf16 register tiles (KStmt 'dotbf16'): acc[i·nr + j] += A[i, 2p+1]·B[2p+1, j]
// + A[i, 2p]·B[2p, j] over pair-interleaved panels of 32-bit words (two bf16 values a word, the
// even k in the low half), one small function per tile shape, out of line like c-mma.ts's so
// that GCC keeps the accumulators in registers. The instructions are chosen where the library
// is compiled, for the CPU it runs on (`-march=native`, as c-dot8.ts chooses vpdpbusd):
// - with AVX-512 BF16 (and nr a multiple of 16), `vdpbf16ps`: per pair step, nr/16 loads of B's
//   words, one broadcast word of A per row and mr·nr/16 instructions, each adding 16 pairs of
//   products into 16 f32 sums. On the CPUs measured (Sapphire Rapids) it adds the odd product
//   first, then the even one, each rounded to f32 (the products are exact), and flushes
//   subnormal inputs and results to zero;
// - elsewhere, or with -DFMC_NO_AVX512BF16, a loop that widens each half to f32 (a shift or a
//   mask of the word) and adds the two products by two fmaf in the same order, which GCC
//   vectorizes: the same sums as vdpbf16ps, bit for bit, wherever no subnormal occurs.

import type { KExpr, KStmt } from '../ir/kernel.js';
import { bufName } from './render.js';

/** The C name of the bf16 tile function for an mr × nr tile. */
export const dotbf16Name = (mr: number, nr: number): string => `fmc_dotbf16_${mr}x${nr}`;

/** The call a 'dotbf16' statement renders to. */
export const dotbf16Call = (s: Extract<KStmt, { k: 'dotbf16' }>, x: (e: KExpr) => string): string =>
  `${dotbf16Name(s.mr, s.nr)}(${x(s.np)}, ${bufName(s.a)} + ${x(s.aOffset)}, ${bufName(s.b)} + ${x(s.bOffset)}, ${s.acc});`;

export const DOTBF16_PRELUDE = `#if defined(__AVX512BF16__) && defined(__AVX512F__) && !defined(FMC_NO_AVX512BF16)
#include <immintrin.h>
#define FMC_DOTBF16_NATIVE 1
#endif
/* The even (low) and odd (high) bf16 half of a word, widened to f32 (exact). */
#define FMC_BF_LO(w) fmc_bits_f32((uint32_t)(w) << 16)
#define FMC_BF_HI(w) fmc_bits_f32((uint32_t)(w) & 0xffff0000u)`;

/** The portable body: widen each half and add the odd product, then the even one. */
const portable = (mr: number, nr: number): string => `  float c[${mr}][${nr}];
  for (int i = 0; i < ${mr}; i++)
    for (int j = 0; j < ${nr}; j++) c[i][j] = acc[i * ${nr} + j];
  for (int64_t p = 0; p < np; p++) {
    const int32_t *a = ap + p * ${mr}, *b = bp + p * ${nr};
    for (int i = 0; i < ${mr}; i++) {
      const float lo = FMC_BF_LO(a[i]), hi = FMC_BF_HI(a[i]);
      #pragma omp simd
      for (int j = 0; j < ${nr}; j++) c[i][j] = fmaf(lo, FMC_BF_LO(b[j]), fmaf(hi, FMC_BF_HI(b[j]), c[i][j]));
    }
  }
  for (int i = 0; i < ${mr}; i++)
    for (int j = 0; j < ${nr}; j++) acc[i * ${nr} + j] = c[i][j];`;

/** The vdpbf16ps body (nr a multiple of 16): mr × nr/16 accumulators in registers. */
const native = (mr: number, nr: number): string => {
  const v = nr / 16;
  return `  __m512 c[${mr}][${v}];
  for (int i = 0; i < ${mr}; i++)
    for (int j = 0; j < ${v}; j++) c[i][j] = _mm512_loadu_ps(acc + i * ${nr} + 16 * j);
  #pragma GCC unroll 2
  for (int64_t p = 0; p < np; p++) {
    const int32_t *a = ap + p * ${mr}, *b = bp + p * ${nr};
    __m512bh y[${v}];
    for (int j = 0; j < ${v}; j++) {
      __builtin_prefetch(b + ${8 * nr} + 16 * j, 0, 3);
      y[j] = (__m512bh)_mm512_loadu_si512((const void *)(b + 16 * j));
    }
    for (int i = 0; i < ${mr}; i++) {
      const __m512bh x = (__m512bh)_mm512_set1_epi32(a[i]);
      for (int j = 0; j < ${v}; j++) c[i][j] = _mm512_dpbf16_ps(c[i][j], x, y[j]);
    }
  }
  for (int i = 0; i < ${mr}; i++)
    for (int j = 0; j < ${v}; j++) _mm512_storeu_ps(acc + i * ${nr} + 16 * j, c[i][j]);`;
};

export function dotbf16Function(mr: number, nr: number): string {
  const head = `__attribute__((noinline)) FMC_WIDE static void ${dotbf16Name(mr, nr)}(int64_t np, const int32_t *restrict ap,
    const int32_t *restrict bp, float *restrict acc) {`;
  if (nr % 16 !== 0) return `${head}\n${portable(mr, nr)}\n}`;
  return `${head}\n#ifdef FMC_DOTBF16_NATIVE\n${native(mr, nr)}\n#else\n${portable(mr, nr)}\n#endif\n}`;
}
