/* golden_kernels_softmax.c */
/* C_PRELUDE (src/codegen/prelude-c.ts) */
FMC_FN int64_t fmc_min_ix(int64_t a, int64_t b) { return a < b ? a : b; }
FMC_FN int64_t fmc_max_ix(int64_t a, int64_t b) { return a > b ? a : b; }
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX512F__) && defined(__GNUC__) && !defined(__clang__)
#define FMC_WIDE __attribute__((target("prefer-vector-width=512")))
#else
#define FMC_WIDE
#endif

/* k0_reduce: reduce %1 in attn */
static void k0_reduce(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  (void)d;
  #pragma omp parallel for schedule(static) if(((d[1] * d[0]) * d[0]) >= 32768)
  for (int64_t i_1 = 0; i_1 < d[1]; i_1++) {
    for (int64_t i_2 = 0; i_2 < d[0]; i_2++) {
      float acc_0 = (-__builtin_inff());
      for (int64_t r_3 = 0; r_3 < d[0]; r_3++) {
        acc_0 = fmc_max_f(acc_0, b1[(((i_1 * (d[0] * d[0])) + (i_2 * d[0])) + r_3)]);
      }
      b0[((i_1 * d[0]) + i_2)] = acc_0;
    }
  }
}

/* k1_ew: unary %3 in attn */
static void k1_ew(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  (void)d;
  #pragma omp parallel for collapse(2) schedule(static) if(((d[1] * d[0]) * d[0]) >= 32768)
  for (int64_t i_0 = 0; i_0 < d[1]; i_0++) {
    for (int64_t i_1 = 0; i_1 < d[0]; i_1++) {
      #pragma omp simd
      for (int64_t i_2 = 0; i_2 < d[0]; i_2++) {
        b0[(((i_0 * (d[0] * d[0])) + (i_1 * d[0])) + i_2)] = fmc_exp_f(fmc_sub_f(b1[(((i_0 * (d[0] * d[0])) + (i_1 * d[0])) + i_2)], b2[((i_0 * d[0]) + i_1)]));
      }
    }
  }
}

/* k2_reduce: reduce %4 in attn */
static void k2_reduce(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  (void)d;
  #pragma omp parallel for schedule(static) if(((d[1] * d[0]) * d[0]) >= 32768)
  for (int64_t i_1 = 0; i_1 < d[1]; i_1++) {
    for (int64_t i_2 = 0; i_2 < d[0]; i_2++) {
      float acc_0 = 0x0p+0f;
      #pragma omp simd reduction(+:acc_0)
      for (int64_t r_3 = 0; r_3 < d[0]; r_3++) {
        acc_0 = fmc_add_f(acc_0, b1[(((i_1 * (d[0] * d[0])) + (i_2 * d[0])) + r_3)]);
      }
      b0[((i_1 * d[0]) + i_2)] = acc_0;
    }
  }
}

/* k3_ew: binary %5 in attn */
static void k3_ew(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  (void)d;
  #pragma omp parallel for collapse(2) schedule(static) if(((d[1] * d[0]) * d[0]) >= 32768)
  for (int64_t i_0 = 0; i_0 < d[1]; i_0++) {
    for (int64_t i_1 = 0; i_1 < d[0]; i_1++) {
      #pragma omp simd
      for (int64_t i_2 = 0; i_2 < d[0]; i_2++) {
        b0[(((i_0 * (d[0] * d[0])) + (i_1 * d[0])) + i_2)] = fmc_div_f(b1[(((i_0 * (d[0] * d[0])) + (i_1 * d[0])) + i_2)], b2[((i_0 * d[0]) + i_1)]);
      }
    }
  }
}

typedef void (*fmc_kernel)(void *const *restrict, const int64_t *restrict);
const int32_t fmc_abi_version = 1;
const int32_t fmc_kernel_count = 4;
const fmc_kernel fmc_kernels[4] = {k0_reduce, k1_ew, k2_reduce, k3_ew};
void fmc_set_threads(int32_t n) {
#ifdef _OPENMP
  if (n > 0) omp_set_num_threads(n);
#else
  (void)n;
#endif
}
