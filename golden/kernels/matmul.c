/* golden_kernels_matmul.c */
/* C_PRELUDE (src/codegen/prelude-c.ts) */
FMC_FN int64_t fmc_min_ix(int64_t a, int64_t b) { return a < b ? a : b; }
FMC_FN int64_t fmc_max_ix(int64_t a, int64_t b) { return a > b ? a : b; }
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
  float *restrict b4 = (float *)a[4];
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

/* k0_gemm, parallel loop over p_33: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p1(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  float *restrict b4 = (float *)a[4];
  (void)a;
  (void)d;
  for (int64_t fmc_t = fmc_lo; fmc_t < fmc_hi; fmc_t++) {
    int64_t p_33 = 0 + fmc_t * 16;
    for (int64_t r_35 = 0; r_35 < 16; r_35++) {
      for (int64_t k_34 = 0; k_34 < 64; k_34++) {
        b4[((16 + ((p_33 * 64) + (k_34 * 16))) + r_35)] = (((p_33 + r_35) < 32) ? b2[(((p_33 + r_35) * 64) + k_34)] : 0x0p+0f);
      }
    }
  }
}

/* k0_gemm, parallel loop over mi_19: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p2(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  float *restrict b4 = (float *)a[4];
  const int64_t kc_16 = ((const struct fmc_ctx *)fmc_c)->v[0];
  const int64_t mb_18 = ((const struct fmc_ctx *)fmc_c)->v[1];
  const int64_t n0_13 = ((const struct fmc_ctx *)fmc_c)->v[2];
  const int64_t nl_14 = ((const struct fmc_ctx *)fmc_c)->v[3];
  const int64_t pc_15 = ((const struct fmc_ctx *)fmc_c)->v[4];
  (void)a;
  (void)d;
  for (int64_t mi_19 = fmc_lo; mi_19 < fmc_hi; mi_19++) {
    static _Thread_local float fmc_tls_ap_20[30720] __attribute__((aligned(64))); float *const restrict ap_20 = fmc_tls_ap_20;
    int64_t m0_11 = (mi_19 * mb_18);
    int64_t ml_12 = fmc_min_ix(mb_18, (d[0] - m0_11));
    for (int64_t p_21 = 0; p_21 < ml_12; p_21 += 6) {
      for (int64_t r_23 = 0; r_23 < 6; r_23++) {
        for (int64_t k_22 = 0; k_22 < kc_16; k_22++) {
          ap_20[(((p_21 * 320) + (k_22 * 6)) + r_23)] = (((p_21 + r_23) < ml_12) ? b1[(((m0_11 + (p_21 + r_23)) * 64) + (pc_15 + k_22))] : 0x0p+0f);
        }
      }
    }
    for (int64_t jr_24 = 0; jr_24 < nl_14; jr_24 += 16) {
      for (int64_t ir_25 = 0; ir_25 < ml_12; ir_25 += 6) {
        float acc_26[96] __attribute__((aligned(64)));
        #pragma omp simd
        for (int64_t i_27 = 0; i_27 < 96; i_27++) {
          acc_26[i_27] = 0x0p+0f;
        }
        fmc_mma_6x16(kc_16, ap_20 + (ir_25 * 320), b4 + (16 + (((n0_13 + jr_24) * 64) + (pc_15 * 16))), acc_26);
        int64_t ie_29 = fmc_min_ix(6, (ml_12 - ir_25));
        int64_t je_30 = fmc_min_ix(16, (nl_14 - jr_24));
        for (int64_t i_27 = 0; i_27 < ie_29; i_27++) {
          for (int64_t j_28 = 0; j_28 < je_30; j_28++) {
            float c_31 = acc_26[((i_27 * 16) + j_28)];
            float v_32 = fmc_add_f(c_31, b3[(n0_13 + (jr_24 + j_28))]);
            b0[(((m0_11 + (ir_25 + i_27)) * 32) + (n0_13 + (jr_24 + j_28)))] = v_32;
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
  float *restrict b4 = (float *)a[4];
  (void)d;
  if ((d[0] < 4)) {
    {
      const struct fmc_ctx fmc_c = {a, d};
      const int64_t fmc_n = fmc_max_ix(0, 1 - 0);
      if ((d[0] * 2048) >= 32768) fmc_parallel(k0_gemm_p0, &fmc_c, fmc_n); else k0_gemm_p0(&fmc_c, 0, fmc_n);
    }
  } else {
    if ((b4[0] == 0x0p+0f)) {
      {
        const struct fmc_ctx fmc_c = {a, d};
        const int64_t fmc_n = fmc_max_ix(0, (32 - 0 + 15) / 16);
        if (2048 >= 32768) fmc_parallel(k0_gemm_p1, &fmc_c, fmc_n); else k0_gemm_p1(&fmc_c, 0, fmc_n);
      }
      b4[0] = 0x1.000000p+0f;
    }
    int64_t mb_18 = fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6)));
    for (int64_t jc_17 = 0; jc_17 < 1; jc_17++) {
      int64_t n0_13 = (jc_17 * 512);
      int64_t nl_14 = fmc_min_ix(512, (32 - n0_13));
      int64_t nk_37 = 1;
      int64_t kcb_38 = ((64 + (nk_37 - 1)) / nk_37);
      for (int64_t kb_36 = 0; kb_36 < nk_37; kb_36++) {
        int64_t pc_15 = (kb_36 * kcb_38);
        int64_t kc_16 = fmc_min_ix(kcb_38, (64 - pc_15));
        {
          const int64_t fmc_v[] = {kc_16, mb_18, n0_13, nl_14, pc_15};
          const struct fmc_ctx fmc_c = {a, d, fmc_v};
          const int64_t fmc_n = fmc_max_ix(0, ((d[0] + (mb_18 - 1)) / mb_18) - 0);
          if ((d[0] * (nl_14 * kc_16)) >= 32768) fmc_parallel(k0_gemm_p2, &fmc_c, fmc_n); else k0_gemm_p2(&fmc_c, 0, fmc_n);
        }
      }
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
