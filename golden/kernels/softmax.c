/* golden_kernels_softmax.c */
/* C_PRELUDE (src/codegen/prelude-c.ts) */
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

/* k0_rows, parallel loop over i_0: iterations [fmc_lo, fmc_hi) */
static void k0_rows_p0(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  (void)a;
  (void)d;
  for (int64_t i_0 = fmc_lo; i_0 < fmc_hi; i_0++) {
    for (int64_t i_1 = 0; i_1 < d[0]; i_1++) {
      float acc_2 = (-__builtin_inff());
      float nan_5 = 0x0p+0f;
      #pragma omp simd reduction(max:acc_2) reduction(+:nan_5)
      for (int64_t j_3 = 0; j_3 < d[0]; j_3++) {
        float x_4 = b1[(((i_0 * (d[0] * d[0])) + (i_1 * d[0])) + j_3)];
        acc_2 = fmc_max_f(acc_2, x_4);
        nan_5 = fmc_add_f(nan_5, ((x_4 != x_4) ? 0x1.000000p+0f : 0x0p+0f));
      }
      acc_2 = ((nan_5 > 0x0p+0f) ? (__builtin_nanf("")) : acc_2);
      float acc_6 = 0x0p+0f;
      #pragma omp simd reduction(+:acc_6)
      for (int64_t j_7 = 0; j_7 < d[0]; j_7++) {
        float v_8 = fmc_sub_f(b1[(((i_0 * (d[0] * d[0])) + (i_1 * d[0])) + j_7)], acc_2);
        float v_9 = fmc_exp_f(v_8);
        b0[(((i_0 * (d[0] * d[0])) + (i_1 * d[0])) + j_7)] = v_9;
        float x_10 = v_9;
        acc_6 = fmc_add_f(acc_6, x_10);
      }
      #pragma omp simd
      for (int64_t j_12 = 0; j_12 < d[0]; j_12++) {
        b0[(((i_0 * (d[0] * d[0])) + (i_1 * d[0])) + j_12)] = fmc_div_f(b0[(((i_0 * (d[0] * d[0])) + (i_1 * d[0])) + j_12)], acc_6);
      }
    }
  }
}

/* k0_rows: reduce %1 + 3 fused, stores %5 in attn */
static void k0_rows(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  (void)d;
  {
    const struct fmc_ctx fmc_c = {a, d};
    const int64_t fmc_n = fmc_max_ix(0, d[1] - 0);
    if (((d[1] * d[0]) * d[0]) >= 32768) fmc_parallel(k0_rows_p0, &fmc_c, fmc_n); else k0_rows_p0(&fmc_c, 0, fmc_n);
  }
}

typedef void (*fmc_kernel)(void *const *restrict, const int64_t *restrict);
const int32_t fmc_abi_version = 1;
const int32_t fmc_kernel_count = 1;
const fmc_kernel fmc_kernels[1] = {k0_rows};
void fmc_set_threads(int32_t n) {
#ifdef _OPENMP
  if (n > 0) omp_set_num_threads(n);
#else
  (void)n;
#endif
}
void fmc_set_parallel(fmc_parallel_fn f) { fmc_parallel = f ? f : fmc_serial; }
