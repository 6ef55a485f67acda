// The C dialect's int8 dot products (KStmt 'dot8'): a tile of up to 4 × 4 sums Σ a·b over
// rows of signed bytes, exact in i32, emitted into files whose kernels use it. The
// instructions are chosen where the library is compiled, for the CPU it runs on
// (`-march=native`, as c-mma.ts chooses the register tiles' vector width): with AVX-512 VNNI,
// `vpdpbusd` multiplies 64 unsigned by signed bytes a step, so a is read as a + 128 (a xor
// 0x80) and 128·Σb is taken off again (Σ(a + 128)·b − 128·Σb = Σa·b; every i32 lane wraps,
// and the total, which fits i32, is exact), a full tile keeping its 16 sums and 4 column sums
// in registers while each row and column is loaded once a step, a partial tile (a GEMV's one
// row) one sum at a time; elsewhere, or with
// -DFMC_NO_VNNI, a plain loop over 16-bit products that GCC vectorizes (vpmullw and widening
// adds on AVX-512 without VNNI, vpdpwssd with AVX-VNNI).

import type { KExpr, KStmt } from '../ir/kernel.js';
import { bufName } from './render.js';

/** The call a 'dot8' statement renders to. */
export const dot8Call = (s: Extract<KStmt, { k: 'dot8' }>, x: (e: KExpr) => string): string =>
  `fmc_dot8(${bufName(s.a)} + ${x(s.aIndex)}, ${x(s.lda)}, ${x(s.rows)}, ${bufName(s.b)} + ${x(s.bIndex)}, ${x(s.ldb)}, ${x(s.cols)}, ${x(s.n)}, ${s.acc});`;

/** Whether a rendered kernel body calls it. */
export const usesDot8 = (body: string): boolean => body.includes('fmc_dot8(');

export const DOT8_PRELUDE = `#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && !defined(FMC_NO_VNNI)
#include <immintrin.h>
#define FMC_DOT8_TILE 1
#define FMC_DOT8_FLIP _mm512_set1_epi8((char)0x80)
#define FMC_DOT8_ONE _mm512_set1_epi8(1)
static inline int32_t fmc_dot8_tail(const int8_t *restrict a, const int8_t *restrict b, int64_t n) {
  int32_t s = 0;
  for (int64_t k = 0; k < n; k++) s += (int16_t)a[k] * (int16_t)b[k];
  return s;
}
/* One sum: 64 bytes a step. */
static inline int32_t fmc_dot8_1(const int8_t *a, const int8_t *b, int64_t n) {
  __m512i c = _mm512_setzero_si512(), s = _mm512_setzero_si512();
  int64_t k = 0;
  for (; k + 64 <= n; k += 64) {
    const __m512i y = _mm512_loadu_si512((const void *)(b + k));
    c = _mm512_dpbusd_epi32(c, _mm512_xor_si512(_mm512_loadu_si512((const void *)(a + k)), FMC_DOT8_FLIP), y);
    s = _mm512_dpbusd_epi32(s, FMC_DOT8_ONE, y);
  }
  return _mm512_reduce_add_epi32(_mm512_sub_epi32(c, _mm512_slli_epi32(s, 7))) + fmc_dot8_tail(a + k, b + k, n - k);
}
/* A full 4 x 4 tile: 16 sums and 4 column sums in registers, each row loaded once a step. */
__attribute__((noinline)) static void fmc_dot8_4x4(const int8_t *a, int64_t lda, const int8_t *b, int64_t ldb,
    int64_t n, int32_t *acc) {
  __m512i c[4][4], s[4], x[4];
  for (int j = 0; j < 4; j++) {
    s[j] = _mm512_setzero_si512();
    for (int i = 0; i < 4; i++) c[i][j] = _mm512_setzero_si512();
  }
  int64_t k = 0;
  for (; k + 64 <= n; k += 64) {
    for (int i = 0; i < 4; i++)
      x[i] = _mm512_xor_si512(_mm512_loadu_si512((const void *)(a + i * lda + k)), FMC_DOT8_FLIP);
    for (int j = 0; j < 4; j++) {
      const __m512i y = _mm512_loadu_si512((const void *)(b + j * ldb + k));
      s[j] = _mm512_dpbusd_epi32(s[j], FMC_DOT8_ONE, y);
      for (int i = 0; i < 4; i++) c[i][j] = _mm512_dpbusd_epi32(c[i][j], x[i], y);
    }
  }
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      acc[i * 4 + j] = _mm512_reduce_add_epi32(_mm512_sub_epi32(c[i][j], _mm512_slli_epi32(s[j], 7))) +
                       fmc_dot8_tail(a + i * lda + k, b + j * ldb + k, n - k);
}
#else
static inline int32_t fmc_dot8_1(const int8_t *restrict a, const int8_t *restrict b, int64_t n) {
  int32_t s = 0;
  for (int64_t k = 0; k < n; k++) s += (int16_t)a[k] * (int16_t)b[k];
  return s;
}
#endif
static inline void fmc_dot8(const int8_t *a, int64_t lda, int64_t rows, const int8_t *b, int64_t ldb, int64_t cols,
    int64_t n, int32_t *acc) {
#ifdef FMC_DOT8_TILE
  if (rows == 4 && cols == 4) {
    fmc_dot8_4x4(a, lda, b, ldb, n, acc);
    return;
  }
#endif
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) acc[i * 4 + j] = fmc_dot8_1(a + i * lda, b + j * ldb, n);
}`;
