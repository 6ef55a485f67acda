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
  const float *restrict b3 = (const float *)a[3];
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
        float c_9 = acc_5[j_7];
        float v_10 = fmc_add_f(c_9, b3[(n0_2 + j_7)]);
        b0[((m_4 * 32) + (n0_2 + j_7))] = v_10;
      }
    }
  }
}

/* k0_gemm, parallel loop over it_11: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p1(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  (void)a;
  (void)d;
  for (int64_t it_11 = fmc_lo; it_11 < fmc_hi; it_11++) {
    static _Thread_local float ap_20[24576] __attribute__((aligned(64)));
    static _Thread_local float bp_21[131072] __attribute__((aligned(64)));
    int64_t mb_13 = fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6)));
    int64_t b_12 = (it_11 / ((d[0] + (fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6))) - 1)) / fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6)))));
    int64_t m0_14 = ((it_11 % ((d[0] + (fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6))) - 1)) / fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6))))) * mb_13);
    int64_t n0_15 = 0;
    int64_t ml_16 = fmc_min_ix(mb_13, (d[0] - m0_14));
    int64_t nl_17 = fmc_min_ix(512, (32 - n0_15));
    for (int64_t pc_18 = 0; pc_18 < 64; pc_18 += 256) {
      int64_t kc_19 = fmc_min_ix(256, (64 - pc_18));
      for (int64_t p_31 = 0; p_31 < nl_17; p_31 += 16) {
        for (int64_t r_33 = 0; r_33 < 16; r_33++) {
          for (int64_t k_32 = 0; k_32 < kc_19; k_32++) {
            bp_21[(((p_31 * 256) + (k_32 * 16)) + r_33)] = (((p_31 + r_33) < nl_17) ? b2[(((n0_15 + (p_31 + r_33)) * 64) + (pc_18 + k_32))] : 0x0p+0f);
          }
        }
      }
      for (int64_t p_34 = 0; p_34 < ml_16; p_34 += 6) {
        for (int64_t r_36 = 0; r_36 < 6; r_36++) {
          for (int64_t k_35 = 0; k_35 < kc_19; k_35++) {
            ap_20[(((p_34 * 256) + (k_35 * 6)) + r_36)] = (((p_34 + r_36) < ml_16) ? b1[(((m0_14 + (p_34 + r_36)) * 64) + (pc_18 + k_35))] : 0x0p+0f);
          }
        }
      }
      for (int64_t jr_22 = 0; jr_22 < nl_17; jr_22 += 16) {
        for (int64_t ir_23 = 0; ir_23 < ml_16; ir_23 += 6) {
          float acc_24[96] __attribute__((aligned(64)));
          #pragma omp simd
          for (int64_t i_25 = 0; i_25 < 96; i_25++) {
            acc_24[i_25] = 0x0p+0f;
          }
          fmc_mma_6x16(kc_19, ap_20 + (ir_23 * 256), bp_21 + (jr_22 * 256), acc_24);
          int64_t ie_27 = fmc_min_ix(6, (ml_16 - ir_23));
          int64_t je_28 = fmc_min_ix(16, (nl_17 - jr_22));
          for (int64_t i_25 = 0; i_25 < ie_27; i_25++) {
            for (int64_t j_26 = 0; j_26 < je_28; j_26++) {
              float c_29 = fmc_add_f(((pc_18 == 0) ? 0x0p+0f : b0[(((m0_14 + (ir_23 + i_25)) * 32) + (n0_15 + (jr_22 + j_26)))]), acc_24[((i_25 * 16) + j_26)]);
              float v_30 = fmc_add_f(c_29, b3[(n0_15 + (jr_22 + j_26))]);
              b0[(((m0_14 + (ir_23 + i_25)) * 32) + (n0_15 + (jr_22 + j_26)))] = v_30;
            }
          }
        }
      }
    }
  }
}

/* k0_gemm: einsum %3 + 1 fused, stores %4 in lin */
static void k0_gemm(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
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

typedef void (*fmc_kernel)(void *const *restrict, const int64_t *restrict);
const int32_t fmc_abi_version = 1;
const int32_t fmc_kernel_count = 1;
const fmc_kernel fmc_kernels[1] = {k0_gemm};
void fmc_set_threads(int32_t n) {
#ifdef _OPENMP
  if (n > 0) omp_set_num_threads(n);
#else
  (void)n;
#endif
}
void fmc_set_parallel(fmc_parallel_fn f) { fmc_parallel = f ? f : fmc_serial; }
