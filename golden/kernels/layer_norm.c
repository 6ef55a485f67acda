/* golden_kernels_layer_norm.c */
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
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  (void)a;
  (void)d;
  for (int64_t i_0 = fmc_lo; i_0 < fmc_hi; i_0++) {
    for (int64_t i_1 = 0; i_1 < d[0]; i_1++) {
      float acc_2 = 0x0p+0f;
      #pragma omp simd reduction(+:acc_2)
      for (int64_t j_3 = 0; j_3 < 32; j_3++) {
        float x_4 = b1[(((i_0 * (32 * d[0])) + (i_1 * 32)) + j_3)];
        acc_2 = fmc_add_f(acc_2, x_4);
      }
      float v_6 = fmc_div_f(acc_2, 0x1.000000p+5f);
      float acc_7 = 0x0p+0f;
      #pragma omp simd reduction(+:acc_7)
      for (int64_t j_8 = 0; j_8 < 32; j_8++) {
        float v_9 = fmc_sub_f(b1[(((i_0 * (32 * d[0])) + (i_1 * 32)) + j_8)], v_6);
        float v_10 = fmc_mul_f(v_9, v_9);
        float x_11 = v_10;
        acc_7 = fmc_add_f(acc_7, x_11);
      }
      float v_13 = fmc_div_f(acc_7, 0x1.000000p+5f);
      float v_14 = fmc_add_f(v_13, 0x1.4f8b58p-17f);
      float v_15 = fmc_rsqrt_f(v_14);
      #pragma omp simd
      for (int64_t j_16 = 0; j_16 < 32; j_16++) {
        float v_17 = fmc_sub_f(b1[(((i_0 * (32 * d[0])) + (i_1 * 32)) + j_16)], v_6);
        float v_18 = fmc_mul_f(v_17, v_15);
        float v_19 = fmc_mul_f(v_18, b2[j_16]);
        b0[(((i_0 * (32 * d[0])) + (i_1 * 32)) + j_16)] = fmc_add_f(v_19, b3[j_16]);
      }
    }
  }
}

/* k0_rows: reduce %3 + 9 fused, stores %15 in norm */
static void k0_rows(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  (void)d;
  {
    const struct fmc_ctx fmc_c = {a, d};
    const int64_t fmc_n = fmc_max_ix(0, d[1] - 0);
    if (((d[1] * d[0]) * 32) >= 32768) fmc_parallel(k0_rows_p0, &fmc_c, fmc_n); else k0_rows_p0(&fmc_c, 0, fmc_n);
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
