/* golden_kernels_bf16_chain.c */
/* C_PRELUDE (src/codegen/prelude-c.ts) */
/* C_HALF_PRELUDE (src/codegen/prelude-half.ts) */
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
      b0[((i_0 * 8) + i_1)] = fmc_f2bf(fmc_div_b(fmc_tanh_b(fmc_add_b(fmc_mul_b(fmc_exp_b(fmc_bf2f(b1[((i_0 * 8) + i_1)])), fmc_bf2f(b2[i_1])), fmc_bf2f(b1[((i_0 * 8) + i_1)]))), fmc_bf2f(b2[i_1])));
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
