// The C dialect's int8 dot product (KExpr 'dot8'): Σ a[j]·b[j] over signed bytes, exact in
// i32, emitted into files whose kernels use it. The instructions are chosen where the library
// is compiled, for the CPU it runs on (`-march=native`, as the register tiles choose their
// vector width in c-mma.ts): with AVX-512 VNNI, `vpdpbusd` multiplies 64 unsigned by signed
// bytes a step, so a is read as a + 128 (a xor 0x80) and 128·Σb is taken off again
// (Σ(a + 128)·b − 128·Σb = Σa·b; every i32 lane wraps, and the total, which fits i32, is
// exact); elsewhere, or with -DFMC_NO_VNNI, a plain loop over 16-bit products that GCC
// vectorizes (vpmullw and widening adds on AVX-512 without VNNI, vpdpwssd with AVX-VNNI).

/** The call a 'dot8' expression renders to. */
export const dot8Call = (a: string, aIndex: string, b: string, bIndex: string, n: string): string =>
  `fmc_dot8(${a} + ${aIndex}, ${b} + ${bIndex}, ${n})`;

/** Whether a rendered kernel body calls it. */
export const usesDot8 = (body: string): boolean => body.includes('fmc_dot8(');

export const DOT8_PRELUDE = `#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && !defined(FMC_NO_VNNI)
#include <immintrin.h>
static inline int64_t fmc_dot8(const int8_t *a, const int8_t *b, int64_t n) {
  __m512i acc = _mm512_setzero_si512(), sum = _mm512_setzero_si512();
  const __m512i flip = _mm512_set1_epi8((char)0x80), one = _mm512_set1_epi8(1);
  int64_t j = 0;
  for (; j + 64 <= n; j += 64) {
    const __m512i y = _mm512_loadu_si512((const void *)(b + j));
    acc = _mm512_dpbusd_epi32(acc, _mm512_xor_si512(_mm512_loadu_si512((const void *)(a + j)), flip), y);
    sum = _mm512_dpbusd_epi32(sum, one, y);
  }
  int32_t s = _mm512_reduce_add_epi32(_mm512_sub_epi32(acc, _mm512_slli_epi32(sum, 7)));
  for (; j < n; j++) s += (int32_t)a[j] * (int32_t)b[j];
  return s;
}
#else
static inline int64_t fmc_dot8(const int8_t *restrict a, const int8_t *restrict b, int64_t n) {
  int32_t s = 0;
  for (int64_t j = 0; j < n; j++) s += (int16_t)a[j] * (int16_t)b[j];
  return s;
}
#endif`;
