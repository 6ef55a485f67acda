/* golden_kernels_matmul.c */
/* C_PRELUDE (src/codegen/prelude-c.ts) */
FMC_FN int64_t fmc_min_ix(int64_t a, int64_t b) { return a < b ? a : b; }
FMC_FN int64_t fmc_max_ix(int64_t a, int64_t b) { return a > b ? a : b; }
#ifdef _OPENMP
#include <omp.h>
#endif
typedef void (*fmc_body)(const void *, int64_t, int64_t);
typedef void (*fmc_parallel_fn)(fmc_body, const void *, int64_t);
struct fmc_ctx { void *const *a; const int64_t *d; };
static void fmc_serial(fmc_body f, const void *c, int64_t n) { f(c, 0, n); }
static fmc_parallel_fn fmc_parallel = fmc_serial;
#if defined(__AVX512F__) && defined(__GNUC__) && !defined(__clang__)
#define FMC_WIDE __attribute__((target("prefer-vector-width=512")))
#else
#define FMC_WIDE
#endif
__attribute__((noinline)) FMC_WIDE static void fmc_mma_6x16(int64_t kc, const float *restrict ap,
    const float *restrict bp, float *restrict acc) {
  ap = (const float *)__builtin_assume_aligned(ap, 64);
  bp = (const float *)__builtin_assume_aligned(bp, 64);
  float c[6][16];
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 16; j++) c[i][j] = acc[i * 16 + j];
  #pragma GCC unroll 4
  for (int64_t k = 0; k < kc; k++) {
    const float *a = ap + k * 6, *b = bp + k * 16;
    for (int i = 0; i < 6; i++) {
      const float ai = a[i];
      #pragma omp simd
      for (int j = 0; j < 16; j++) c[i][j] = fmaf(ai, b[j], c[i][j]);
    }
  }
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 16; j++) acc[i * 16 + j] = c[i][j];
}

/* k0_gemm, parallel loop over it_0: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p0(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  (void)a;
  (void)d;
  for (int64_t it_0 = fmc_lo; it_0 < fmc_hi; it_0++) {
    int64_t b_1 = it_0;
    int64_t n0_2 = 0;
    int64_t nl_3 = fmc_min_ix(512, (32 - n0_2));
    for (int64_t m_4 = 0; m_4 < d[0]; m_4++) {
      float acc_5[512] __attribute__((aligned(64)));
      #pragma omp simd
      for (int64_t j_7 = 0; j_7 < 512; j_7++) {
        acc_5[j_7] = 0x0p+0f;
      }
      for (int64_t k_6 = 0; k_6 < 64; k_6++) {
        float a_8 = b1[((m_4 * 64) + k_6)];
        for (int64_t j_7 = 0; j_7 < nl_3; j_7++) {
          acc_5[j_7] = fmaf(a_8, b2[(((n0_2 + j_7) * 64) + k_6)], acc_5[j_7]);
        }
      }
      for (int64_t j_7 = 0; j_7 < nl_3; j_7++) {
        b0[((m_4 * 32) + (n0_2 + j_7))] = acc_5[j_7];
      }
    }
  }
}

/* k0_gemm, parallel loop over it_9: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p1(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  (void)a;
  (void)d;
  for (int64_t it_9 = fmc_lo; it_9 < fmc_hi; it_9++) {
    static _Thread_local float ap_18[24576] __attribute__((aligned(64)));
    static _Thread_local float bp_19[131072] __attribute__((aligned(64)));
    int64_t mb_11 = fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6)));
    int64_t b_10 = (it_9 / ((d[0] + (fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6))) - 1)) / fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6)))));
    int64_t m0_12 = ((it_9 % ((d[0] + (fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6))) - 1)) / fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6))))) * mb_11);
    int64_t n0_13 = 0;
    int64_t ml_14 = fmc_min_ix(mb_11, (d[0] - m0_12));
    int64_t nl_15 = fmc_min_ix(512, (32 - n0_13));
    for (int64_t pc_16 = 0; pc_16 < 64; pc_16 += 256) {
      int64_t kc_17 = fmc_min_ix(256, (64 - pc_16));
      for (int64_t p_25 = 0; p_25 < nl_15; p_25 += 16) {
        for (int64_t r_27 = 0; r_27 < 16; r_27++) {
          for (int64_t k_26 = 0; k_26 < kc_17; k_26++) {
            bp_19[(((p_25 * 256) + (k_26 * 16)) + r_27)] = (((p_25 + r_27) < nl_15) ? b2[(((n0_13 + (p_25 + r_27)) * 64) + (pc_16 + k_26))] : 0x0p+0f);
          }
        }
      }
      for (int64_t p_28 = 0; p_28 < ml_14; p_28 += 6) {
        for (int64_t r_30 = 0; r_30 < 6; r_30++) {
          for (int64_t k_29 = 0; k_29 < kc_17; k_29++) {
            ap_18[(((p_28 * 256) + (k_29 * 6)) + r_30)] = (((p_28 + r_30) < ml_14) ? b1[(((m0_12 + (p_28 + r_30)) * 64) + (pc_16 + k_29))] : 0x0p+0f);
          }
        }
      }
      for (int64_t jr_20 = 0; jr_20 < nl_15; jr_20 += 16) {
        for (int64_t ir_21 = 0; ir_21 < ml_14; ir_21 += 6) {
          float acc_22[96] __attribute__((aligned(64)));
          #pragma omp simd
          for (int64_t i_23 = 0; i_23 < 96; i_23++) {
            acc_22[i_23] = 0x0p+0f;
          }
          fmc_mma_6x16(kc_17, ap_18 + (ir_21 * 256), bp_19 + (jr_20 * 256), acc_22);
          for (int64_t i_23 = 0; i_23 < 6; i_23++) {
            for (int64_t j_24 = 0; j_24 < 16; j_24++) {
              if ((((ir_21 + i_23) < ml_14) && ((jr_20 + j_24) < nl_15))) {
                b0[(((m0_12 + (ir_21 + i_23)) * 32) + (n0_13 + (jr_20 + j_24)))] = fmc_add_f(((pc_16 == 0) ? 0x0p+0f : b0[(((m0_12 + (ir_21 + i_23)) * 32) + (n0_13 + (jr_20 + j_24)))]), acc_22[((i_23 * 16) + j_24)]);
              }
            }
          }
        }
      }
    }
  }
}

/* k0_gemm: einsum %3 in lin */
static void k0_gemm(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  (void)d;
  if ((d[0] < 4)) {
    {
      const struct fmc_ctx fmc_c = {a, d};
      const int64_t fmc_n = fmc_max_ix(0, 1 - 0);
      if ((d[0] * 2048) >= 32768) fmc_parallel(k0_gemm_p0, &fmc_c, fmc_n); else k0_gemm_p0(&fmc_c, 0, fmc_n);
    }
  } else {
    {
      const struct fmc_ctx fmc_c = {a, d};
      const int64_t fmc_n = fmc_max_ix(0, ((d[0] + (fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6))) - 1)) / fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6)))) - 0);
      if ((d[0] * 2048) >= 32768) fmc_parallel(k0_gemm_p1, &fmc_c, fmc_n); else k0_gemm_p1(&fmc_c, 0, fmc_n);
    }
  }
}

/* k1_ew, parallel loop over i_0: iterations [fmc_lo, fmc_hi) */
static void k1_ew_p0(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  (void)a;
  (void)d;
  for (int64_t i_0 = fmc_lo; i_0 < fmc_hi; i_0++) {
    #pragma omp simd
    for (int64_t i_1 = 0; i_1 < 32; i_1++) {
      b0[((i_0 * 32) + i_1)] = fmc_add_f(b1[((i_0 * 32) + i_1)], b2[i_1]);
    }
  }
}

/* k1_ew: binary %4 in lin */
static void k1_ew(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  (void)d;
  {
    const struct fmc_ctx fmc_c = {a, d};
    const int64_t fmc_n = fmc_max_ix(0, d[0] - 0);
    if ((d[0] * 32) >= 32768) fmc_parallel(k1_ew_p0, &fmc_c, fmc_n); else k1_ew_p0(&fmc_c, 0, fmc_n);
  }
}

typedef void (*fmc_kernel)(void *const *restrict, const int64_t *restrict);
const int32_t fmc_abi_version = 1;
const int32_t fmc_kernel_count = 2;
const fmc_kernel fmc_kernels[2] = {k0_gemm, k1_ew};
void fmc_set_threads(int32_t n) {
#ifdef _OPENMP
  if (n > 0) omp_set_num_threads(n);
#else
  (void)n;
#endif
}
void fmc_set_parallel(fmc_parallel_fn f) { fmc_parallel = f ? f : fmc_serial; }
