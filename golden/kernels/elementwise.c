/* golden_kernels_elementwise.c */
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

/* k0_ew, parallel loop over i_0: iterations [fmc_lo, fmc_hi) */
static void k0_ew_p0(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  (void)a;
  (void)d;
  for (int64_t i_0 = fmc_lo; i_0 < fmc_hi; i_0++) {
    #pragma omp simd
    for (int64_t i_1 = 0; i_1 < 8; i_1++) {
      b0[((i_0 * 8) + i_1)] = fmc_add_f(b1[((i_0 * 8) + i_1)], b2[i_1]);
    }
  }
}

/* k0_ew: binary %2 in mlp.act */
static void k0_ew(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  (void)d;
  {
    const struct fmc_ctx fmc_c = {a, d};
    const int64_t fmc_n = fmc_max_ix(0, d[0] - 0);
    if ((d[0] * 8) >= 32768) fmc_parallel(k0_ew_p0, &fmc_c, fmc_n); else k0_ew_p0(&fmc_c, 0, fmc_n);
  }
}

/* k1_ew, parallel loop over i_0: iterations [fmc_lo, fmc_hi) */
static void k1_ew_p0(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  uint16_t *restrict b0 = (uint16_t *)a[0];
  const float *restrict b1 = (const float *)a[1];
  (void)a;
  (void)d;
  for (int64_t i_0 = fmc_lo; i_0 < fmc_hi; i_0++) {
    #pragma omp simd
    for (int64_t i_1 = 0; i_1 < 8; i_1++) {
      b0[((i_0 * 8) + i_1)] = fmc_f2bf(fmc_bf2f(fmc_f2bf(fmc_mul_f(fmc_mul_f(0x1.000000p-1f, b1[((i_0 * 8) + i_1)]), fmc_add_f(0x1.000000p+0f, fmc_tanh_f(fmc_mul_f(0x1.988454p-1f, fmc_add_f(b1[((i_0 * 8) + i_1)], fmc_mul_f(0x1.6e4e26p-5f, fmc_pow_f(b1[((i_0 * 8) + i_1)], 0x1.800000p+1f))))))))));
    }
  }
}

/* k1_ew: cast %16 in mlp.act */
static void k1_ew(void *const *restrict a, const int64_t *restrict d) {
  uint16_t *restrict b0 = (uint16_t *)a[0];
  const float *restrict b1 = (const float *)a[1];
  (void)d;
  {
    const struct fmc_ctx fmc_c = {a, d};
    const int64_t fmc_n = fmc_max_ix(0, d[0] - 0);
    if ((d[0] * 8) >= 32768) fmc_parallel(k1_ew_p0, &fmc_c, fmc_n); else k1_ew_p0(&fmc_c, 0, fmc_n);
  }
}

typedef void (*fmc_kernel)(void *const *restrict, const int64_t *restrict);
const int32_t fmc_abi_version = 1;
const int32_t fmc_kernel_count = 2;
const fmc_kernel fmc_kernels[2] = {k0_ew, k1_ew};
void fmc_set_threads(int32_t n) {
#ifdef _OPENMP
  if (n > 0) omp_set_num_threads(n);
#else
  (void)n;
#endif
}
void fmc_set_parallel(fmc_parallel_fn f) { fmc_parallel = f ? f : fmc_serial; }
