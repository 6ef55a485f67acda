/* golden_kernels_reduction.c */
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

/* k0_reduce, parallel loop over i_1: iterations [fmc_lo, fmc_hi) */
static void k0_reduce_p0(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  (void)a;
  (void)d;
  for (int64_t i_1 = fmc_lo; i_1 < fmc_hi; i_1++) {
    for (int64_t i_2 = 0; i_2 < 16; i_2++) {
      float acc_0 = 0x0p+0f;
      #pragma omp simd reduction(+:acc_0)
      for (int64_t r_3 = 0; r_3 < d[1]; r_3++) {
        acc_0 = fmc_add_f(acc_0, b1[(((i_1 * (16 * d[1])) + (r_3 * 16)) + i_2)]);
      }
      b0[((i_1 * 16) + i_2)] = acc_0;
    }
  }
}

/* k0_reduce: reduce %1 in pool */
static void k0_reduce(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  (void)d;
  {
    const struct fmc_ctx fmc_c = {a, d};
    const int64_t fmc_n = fmc_max_ix(0, d[0] - 0);
    if (((d[0] * d[1]) * 16) >= 32768) fmc_parallel(k0_reduce_p0, &fmc_c, fmc_n); else k0_reduce_p0(&fmc_c, 0, fmc_n);
  }
}

/* k1_ew, parallel loop over i_0, i_1: iterations [fmc_lo, fmc_hi) */
static void k1_ew_p0(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  (void)a;
  (void)d;
  const int64_t fmc_n1 = fmc_max_ix(0, 1 - 0);
  if (fmc_lo >= fmc_hi) return;
  int64_t fmc_k0 = (fmc_lo / (fmc_n1));
  int64_t fmc_k1 = fmc_lo % fmc_n1;
  for (int64_t fmc_t = fmc_lo; fmc_t < fmc_hi; fmc_t++) {
    const int64_t i_0 = 0 + fmc_k0 * 1;
    const int64_t i_1 = 0 + fmc_k1 * 1;
    #pragma omp simd
    for (int64_t i_2 = 0; i_2 < 16; i_2++) {
      b0[(((i_0 * 16) + (i_1 * 16)) + i_2)] = fmc_div_f(b1[(((i_0 * 16) + (i_1 * 16)) + i_2)], (float)((int32_t)(fmc_wrap(d[1], 32))));
    }
    if (++fmc_k1 == fmc_n1) { fmc_k1 = 0; ++fmc_k0; }
  }
}

/* k1_ew: binary %4 in pool */
static void k1_ew(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  (void)d;
  {
    const struct fmc_ctx fmc_c = {a, d};
    const int64_t fmc_n = fmc_max_ix(0, d[0] - 0) * fmc_max_ix(0, 1 - 0);
    if ((d[0] * 16) >= 32768) fmc_parallel(k1_ew_p0, &fmc_c, fmc_n); else k1_ew_p0(&fmc_c, 0, fmc_n);
  }
}

/* k2_reduce, parallel loop over i_1: iterations [fmc_lo, fmc_hi) */
static void k2_reduce_p0(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  (void)a;
  (void)d;
  for (int64_t i_1 = fmc_lo; i_1 < fmc_hi; i_1++) {
    float acc_0 = (-__builtin_inff());
    for (int64_t r_2 = 0; r_2 < d[0]; r_2++) {
      for (int64_t r_3 = 0; r_3 < 16; r_3++) {
        acc_0 = fmc_max_f(acc_0, b1[(((r_2 * (16 * d[1])) + (i_1 * 16)) + r_3)]);
      }
    }
    b0[i_1] = acc_0;
  }
}

/* k2_reduce: reduce %5 in pool */
static void k2_reduce(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  (void)d;
  {
    const struct fmc_ctx fmc_c = {a, d};
    const int64_t fmc_n = fmc_max_ix(0, d[1] - 0);
    if (((d[0] * d[1]) * 16) >= 32768) fmc_parallel(k2_reduce_p0, &fmc_c, fmc_n); else k2_reduce_p0(&fmc_c, 0, fmc_n);
  }
}

typedef void (*fmc_kernel)(void *const *restrict, const int64_t *restrict);
const int32_t fmc_abi_version = 1;
const int32_t fmc_kernel_count = 3;
const fmc_kernel fmc_kernels[3] = {k0_reduce, k1_ew, k2_reduce};
void fmc_set_threads(int32_t n) {
#ifdef _OPENMP
  if (n > 0) omp_set_num_threads(n);
#else
  (void)n;
#endif
}
void fmc_set_parallel(fmc_parallel_fn f) { fmc_parallel = f ? f : fmc_serial; }
