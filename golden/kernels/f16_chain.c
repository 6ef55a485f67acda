/* golden_kernels_f16_chain.c */
/* C_PRELUDE (src/codegen/prelude-c.ts) */
/* ---------- f16 and bf16 compute types (src/codegen/prelude-half.ts) ---------- */

/* fmc_f16 is _Float16 where the compiler has it (GCC 12 on x86-64, ARM64; FMC_NO_FLOAT16 turns */
/* it off), else a float holding an f16 value; either way each op below rounds to f16. */
#if defined(__FLT16_MANT_DIG__) && !defined(FMC_NO_FLOAT16)
__extension__ typedef _Float16 fmc_f16; /* __extension__: not ISO C (-Wpedantic) */
FMC_FN fmc_f16 fmc_ld_h(uint16_t b) { fmc_f16 x; memcpy(&x, &b, sizeof x); return x; }
FMC_FN uint16_t fmc_st_h(fmc_f16 x) { uint16_t b; memcpy(&b, &x, sizeof b); return b; }
FMC_FN fmc_f16 fmc_rnd_h(float x) { return (fmc_f16)x; }
FMC_FN fmc_f16 fmc_dbl_h(double x) { return (fmc_f16)x; }
#define FMC_H_ARITH(x) ((fmc_f16)(x))
#else
typedef float fmc_f16;
FMC_FN fmc_f16 fmc_ld_h(uint16_t b) { return fmc_h2f(b); }
FMC_FN uint16_t fmc_st_h(fmc_f16 x) { return fmc_f2h(x); }
FMC_FN fmc_f16 fmc_rnd_h(float x) { return fmc_h2f(fmc_f2h(x)); }
/* double to f16 in one rounding: to float rounding to odd (toward zero, last bit set when */
/* inexact), which then rounds to f16 correctly (24 >= 11 + 2 bits). */
FMC_FN fmc_f16 fmc_dbl_h(double x) {
  float f = (float)x;
  if (x != x || (double)f == x) return fmc_rnd_h(f);
  uint32_t b = fmc_f32_bits(f);
  if (fabs((double)f) > fabs(x)) b -= 1u;
  return fmc_rnd_h(fmc_bits_f32(b | 1u));
}
#define FMC_H_ARITH(x) fmc_rnd_h(x)
#endif

/* JavaScript's Math.pow in double (as fmc_pow_f). */
FMC_FN double fmc_pow_d(double a, double b) {
  if (b != b || (fabs(a) == 1.0 && fabs(b) == HUGE_VAL)) return (double)NAN;
  return pow(a, b);
}

typedef float fmc_bf16;
FMC_FN fmc_bf16 fmc_rnd_b(float x) { return fmc_bf2f(fmc_f2bf(x)); }

FMC_FN fmc_f16 fmc_neg_h(fmc_f16 x) { return fmc_rnd_h(fmc_neg_f((float)x)); }
FMC_FN fmc_bf16 fmc_neg_b(fmc_bf16 x) { return fmc_rnd_b(fmc_neg_f(x)); }
FMC_FN fmc_f16 fmc_exp_h(fmc_f16 x) { return fmc_dbl_h(exp((double)x)); }
FMC_FN fmc_bf16 fmc_exp_b(fmc_bf16 x) { return fmc_rnd_b(fmc_exp_f(x)); }
FMC_FN fmc_f16 fmc_log_h(fmc_f16 x) { return fmc_dbl_h(log((double)x)); }
FMC_FN fmc_bf16 fmc_log_b(fmc_bf16 x) { return fmc_rnd_b(fmc_log_f(x)); }
FMC_FN fmc_f16 fmc_sqrt_h(fmc_f16 x) { return fmc_rnd_h(fmc_sqrt_f((float)x)); }
FMC_FN fmc_bf16 fmc_sqrt_b(fmc_bf16 x) { return fmc_rnd_b(fmc_sqrt_f(x)); }
FMC_FN fmc_f16 fmc_rsqrt_h(fmc_f16 x) { return fmc_dbl_h(1.0 / sqrt((double)x)); }
FMC_FN fmc_bf16 fmc_rsqrt_b(fmc_bf16 x) { return fmc_rnd_b(fmc_rsqrt_f(x)); }
FMC_FN fmc_f16 fmc_sin_h(fmc_f16 x) { return fmc_dbl_h(sin((double)x)); }
FMC_FN fmc_bf16 fmc_sin_b(fmc_bf16 x) { return fmc_rnd_b(fmc_sin_f(x)); }
FMC_FN fmc_f16 fmc_cos_h(fmc_f16 x) { return fmc_dbl_h(cos((double)x)); }
FMC_FN fmc_bf16 fmc_cos_b(fmc_bf16 x) { return fmc_rnd_b(fmc_cos_f(x)); }
FMC_FN fmc_f16 fmc_tanh_h(fmc_f16 x) { return fmc_dbl_h(tanh((double)x)); }
FMC_FN fmc_bf16 fmc_tanh_b(fmc_bf16 x) { return fmc_rnd_b(fmc_tanh_f(x)); }
FMC_FN fmc_f16 fmc_erf_h(fmc_f16 x) { return fmc_dbl_h(erf((double)x)); }
FMC_FN fmc_bf16 fmc_erf_b(fmc_bf16 x) { return fmc_rnd_b(fmc_erf_f(x)); }
FMC_FN fmc_f16 fmc_abs_h(fmc_f16 x) { return fmc_rnd_h(fmc_abs_f((float)x)); }
FMC_FN fmc_bf16 fmc_abs_b(fmc_bf16 x) { return fmc_rnd_b(fmc_abs_f(x)); }
FMC_FN fmc_f16 fmc_recip_h(fmc_f16 x) { return fmc_rnd_h(fmc_recip_f((float)x)); }
FMC_FN fmc_bf16 fmc_recip_b(fmc_bf16 x) { return fmc_rnd_b(fmc_recip_f(x)); }
FMC_FN fmc_f16 fmc_floor_h(fmc_f16 x) { return fmc_rnd_h(fmc_floor_f((float)x)); }
FMC_FN fmc_bf16 fmc_floor_b(fmc_bf16 x) { return fmc_rnd_b(fmc_floor_f(x)); }
FMC_FN fmc_f16 fmc_add_h(fmc_f16 a, fmc_f16 b) { return FMC_H_ARITH(a + b); }
FMC_FN fmc_bf16 fmc_add_b(fmc_bf16 a, fmc_bf16 b) { return fmc_rnd_b(fmc_add_f(a, b)); }
FMC_FN fmc_f16 fmc_sub_h(fmc_f16 a, fmc_f16 b) { return FMC_H_ARITH(a - b); }
FMC_FN fmc_bf16 fmc_sub_b(fmc_bf16 a, fmc_bf16 b) { return fmc_rnd_b(fmc_sub_f(a, b)); }
FMC_FN fmc_f16 fmc_mul_h(fmc_f16 a, fmc_f16 b) { return FMC_H_ARITH(a * b); }
FMC_FN fmc_bf16 fmc_mul_b(fmc_bf16 a, fmc_bf16 b) { return fmc_rnd_b(fmc_mul_f(a, b)); }
FMC_FN fmc_f16 fmc_div_h(fmc_f16 a, fmc_f16 b) { return FMC_H_ARITH(a / b); }
FMC_FN fmc_bf16 fmc_div_b(fmc_bf16 a, fmc_bf16 b) { return fmc_rnd_b(fmc_div_f(a, b)); }
FMC_FN fmc_f16 fmc_mod_h(fmc_f16 a, fmc_f16 b) { return fmc_rnd_h(fmc_mod_f((float)a, (float)b)); }
FMC_FN fmc_bf16 fmc_mod_b(fmc_bf16 a, fmc_bf16 b) { return fmc_rnd_b(fmc_mod_f(a, b)); }
FMC_FN fmc_f16 fmc_pow_h(fmc_f16 a, fmc_f16 b) { return fmc_dbl_h(fmc_pow_d((double)a, (double)b)); }
FMC_FN fmc_bf16 fmc_pow_b(fmc_bf16 a, fmc_bf16 b) { return fmc_rnd_b(fmc_pow_f(a, b)); }
FMC_FN fmc_f16 fmc_max_h(fmc_f16 a, fmc_f16 b) { return fmc_rnd_h(fmc_max_f((float)a, (float)b)); }
FMC_FN fmc_bf16 fmc_max_b(fmc_bf16 a, fmc_bf16 b) { return fmc_rnd_b(fmc_max_f(a, b)); }
FMC_FN fmc_f16 fmc_min_h(fmc_f16 a, fmc_f16 b) { return fmc_rnd_h(fmc_min_f((float)a, (float)b)); }
FMC_FN fmc_bf16 fmc_min_b(fmc_bf16 a, fmc_bf16 b) { return fmc_rnd_b(fmc_min_f(a, b)); }
FMC_FN int64_t fmc_min_ix(int64_t a, int64_t b) { return a < b ? a : b; }
FMC_FN int64_t fmc_max_ix(int64_t a, int64_t b) { return a > b ? a : b; }
/* A 32-bit word of a byte buffer (KExpr 'word': the quantized GEMV's int8/int4 bytes, kernels/gemm-quant.ts). */
typedef int32_t fmc_w32 __attribute__((may_alias));
#ifdef _OPENMP
#include <omp.h>
#endif
typedef void (*fmc_body)(const void *, int64_t, int64_t);
typedef void (*fmc_parallel_fn)(fmc_body, const void *, int64_t);
struct fmc_ctx { void *const *a; const int64_t *d; const int64_t *v; };
static void fmc_serial(fmc_body f, const void *c, int64_t n) { f(c, 0, n); }
static fmc_parallel_fn fmc_parallel = fmc_serial;
#if defined(__AVX512F__) && defined(__GNUC__) && !defined(__clang__)
#define FMC_WIDE __attribute__((target("prefer-vector-width=512")))
#else
#define FMC_WIDE
#endif

/* k0_ew, parallel loop over i_0: iterations [fmc_lo, fmc_hi) */
static void k0_ew_p0(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  uint16_t *restrict b0 = (uint16_t *)a[0];
  const uint16_t *restrict b1 = (const uint16_t *)a[1];
  const uint16_t *restrict b2 = (const uint16_t *)a[2];
  (void)a;
  (void)d;
  for (int64_t i_0 = fmc_lo; i_0 < fmc_hi; i_0++) {
    #pragma omp simd
    for (int64_t i_1 = 0; i_1 < 8; i_1++) {
      b0[((i_0 * 8) + i_1)] = fmc_st_h(fmc_div_h(fmc_tanh_h(fmc_add_h(fmc_mul_h(fmc_exp_h(fmc_ld_h(b1[((i_0 * 8) + i_1)])), fmc_ld_h(b2[i_1])), fmc_ld_h(b1[((i_0 * 8) + i_1)]))), fmc_ld_h(b2[i_1])));
    }
  }
}

/* k0_ew: binary %6 */
static void k0_ew(void *const *restrict a, const int64_t *restrict d) {
  uint16_t *restrict b0 = (uint16_t *)a[0];
  const uint16_t *restrict b1 = (const uint16_t *)a[1];
  const uint16_t *restrict b2 = (const uint16_t *)a[2];
  (void)d;
  {
    const struct fmc_ctx fmc_c = {a, d};
    const int64_t fmc_n = fmc_max_ix(0, d[0] - 0);
    if ((d[0] * 8) >= 32768) fmc_parallel(k0_ew_p0, &fmc_c, fmc_n); else k0_ew_p0(&fmc_c, 0, fmc_n);
  }
}

typedef void (*fmc_kernel)(void *const *restrict, const int64_t *restrict);
const int32_t fmc_abi_version = 1;
const int32_t fmc_kernel_count = 1;
const fmc_kernel fmc_kernels[1] = {k0_ew};
void fmc_set_threads(int32_t n) {
#ifdef _OPENMP
  if (n > 0) omp_set_num_threads(n);
#else
  (void)n;
#endif
}
void fmc_set_parallel(fmc_parallel_fn f) { fmc_parallel = f ? f : fmc_serial; }
