/* golden_kernels_gemm_epilogue.c */
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
  const float *restrict b4 = (const float *)a[4];
  float *restrict b5 = (float *)a[5];
  (void)a;
  (void)d;
  for (int64_t it_0 = fmc_lo; it_0 < fmc_hi; it_0++) {
    int64_t b_1 = it_0;
    int64_t n0_2 = 0;
    int64_t nl_3 = fmc_min_ix(512, (48 - n0_2));
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
        float v_11 = fmc_mul_f(v_10, v_10);
        float v_12 = fmc_mul_f(v_11, v_10);
        float v_13 = fmc_mul_f(0x1.6e4e26p-5f, v_12);
        float v_14 = fmc_add_f(v_10, v_13);
        float v_15 = fmc_mul_f(0x1.988454p-1f, v_14);
        float v_16 = fmc_mul_f(0x1.000000p-1f, v_10);
        float v_17 = fmc_tanh_f(v_15);
        float v_18 = fmc_add_f(0x1.000000p+0f, v_17);
        float v_19 = fmc_mul_f(v_16, v_18);
        float v_20 = fmc_add_f(v_19, b4[((m_4 * 48) + (n0_2 + j_7))]);
        b0[((m_4 * 48) + (n0_2 + j_7))] = v_20;
      }
    }
  }
}

/* k0_gemm, parallel loop over p_53: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p1(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  const float *restrict b4 = (const float *)a[4];
  float *restrict b5 = (float *)a[5];
  (void)a;
  (void)d;
  for (int64_t fmc_t = fmc_lo; fmc_t < fmc_hi; fmc_t++) {
    int64_t p_53 = 0 + fmc_t * 16;
    for (int64_t r_55 = 0; r_55 < 16; r_55++) {
      for (int64_t k_54 = 0; k_54 < 64; k_54++) {
        b5[((16 + ((p_53 * 64) + (k_54 * 16))) + r_55)] = (((p_53 + r_55) < 48) ? b2[(((p_53 + r_55) * 64) + k_54)] : 0x0p+0f);
      }
    }
  }
}

/* k0_gemm, parallel loop over mi_29: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p2(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  const float *restrict b4 = (const float *)a[4];
  float *restrict b5 = (float *)a[5];
  const int64_t kc_26 = ((const struct fmc_ctx *)fmc_c)->v[0];
  const int64_t mb_28 = ((const struct fmc_ctx *)fmc_c)->v[1];
  const int64_t n0_23 = ((const struct fmc_ctx *)fmc_c)->v[2];
  const int64_t nl_24 = ((const struct fmc_ctx *)fmc_c)->v[3];
  const int64_t pc_25 = ((const struct fmc_ctx *)fmc_c)->v[4];
  (void)a;
  (void)d;
  for (int64_t mi_29 = fmc_lo; mi_29 < fmc_hi; mi_29++) {
    static _Thread_local float fmc_tls_ap_30[30720] __attribute__((aligned(64))); float *const restrict ap_30 = fmc_tls_ap_30;
    int64_t m0_21 = (mi_29 * mb_28);
    int64_t ml_22 = fmc_min_ix(mb_28, (d[0] - m0_21));
    for (int64_t p_31 = 0; p_31 < ml_22; p_31 += 6) {
      for (int64_t r_33 = 0; r_33 < 6; r_33++) {
        for (int64_t k_32 = 0; k_32 < kc_26; k_32++) {
          ap_30[(((p_31 * 320) + (k_32 * 6)) + r_33)] = (((p_31 + r_33) < ml_22) ? b1[(((m0_21 + (p_31 + r_33)) * 64) + (pc_25 + k_32))] : 0x0p+0f);
        }
      }
    }
    for (int64_t jr_34 = 0; jr_34 < nl_24; jr_34 += 16) {
      for (int64_t ir_35 = 0; ir_35 < ml_22; ir_35 += 6) {
        float acc_36[96] __attribute__((aligned(64)));
        #pragma omp simd
        for (int64_t i_37 = 0; i_37 < 96; i_37++) {
          acc_36[i_37] = 0x0p+0f;
        }
        fmc_mma_6x16(kc_26, ap_30 + (ir_35 * 320), b5 + (16 + (((n0_23 + jr_34) * 64) + (pc_25 * 16))), acc_36);
        int64_t ie_39 = fmc_min_ix(6, (ml_22 - ir_35));
        int64_t je_40 = fmc_min_ix(16, (nl_24 - jr_34));
        for (int64_t i_37 = 0; i_37 < ie_39; i_37++) {
          for (int64_t j_38 = 0; j_38 < je_40; j_38++) {
            float c_41 = acc_36[((i_37 * 16) + j_38)];
            float v_42 = fmc_add_f(c_41, b3[(n0_23 + (jr_34 + j_38))]);
            float v_43 = fmc_mul_f(v_42, v_42);
            float v_44 = fmc_mul_f(v_43, v_42);
            float v_45 = fmc_mul_f(0x1.6e4e26p-5f, v_44);
            float v_46 = fmc_add_f(v_42, v_45);
            float v_47 = fmc_mul_f(0x1.988454p-1f, v_46);
            float v_48 = fmc_mul_f(0x1.000000p-1f, v_42);
            float v_49 = fmc_tanh_f(v_47);
            float v_50 = fmc_add_f(0x1.000000p+0f, v_49);
            float v_51 = fmc_mul_f(v_48, v_50);
            float v_52 = fmc_add_f(v_51, b4[(((m0_21 + (ir_35 + i_37)) * 48) + (n0_23 + (jr_34 + j_38)))]);
            b0[(((m0_21 + (ir_35 + i_37)) * 48) + (n0_23 + (jr_34 + j_38)))] = v_52;
          }
        }
      }
    }
  }
}

/* k0_gemm: einsum %4 + 11 fused, stores %19 in ffn */
static void k0_gemm(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  const float *restrict b4 = (const float *)a[4];
  float *restrict b5 = (float *)a[5];
  (void)d;
  if ((d[0] < 4)) {
    {
      const struct fmc_ctx fmc_c = {a, d};
      const int64_t fmc_n = fmc_max_ix(0, 1 - 0);
      if ((d[0] * 3072) >= 32768) fmc_parallel(k0_gemm_p0, &fmc_c, fmc_n); else k0_gemm_p0(&fmc_c, 0, fmc_n);
    }
  } else {
    if ((b5[0] == 0x0p+0f)) {
      {
        const struct fmc_ctx fmc_c = {a, d};
        const int64_t fmc_n = fmc_max_ix(0, (48 - 0 + 15) / 16);
        if (3072 >= 32768) fmc_parallel(k0_gemm_p1, &fmc_c, fmc_n); else k0_gemm_p1(&fmc_c, 0, fmc_n);
      }
      b5[0] = 0x1.000000p+0f;
    }
    int64_t mb_28 = fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6)));
    for (int64_t jc_27 = 0; jc_27 < 1; jc_27++) {
      int64_t n0_23 = (jc_27 * 512);
      int64_t nl_24 = fmc_min_ix(512, (48 - n0_23));
      int64_t nk_57 = 1;
      int64_t kcb_58 = ((64 + (nk_57 - 1)) / nk_57);
      for (int64_t kb_56 = 0; kb_56 < nk_57; kb_56++) {
        int64_t pc_25 = (kb_56 * kcb_58);
        int64_t kc_26 = fmc_min_ix(kcb_58, (64 - pc_25));
        {
          const int64_t fmc_v[] = {kc_26, mb_28, n0_23, nl_24, pc_25};
          const struct fmc_ctx fmc_c = {a, d, fmc_v};
          const int64_t fmc_n = fmc_max_ix(0, ((d[0] + (mb_28 - 1)) / mb_28) - 0);
          if ((d[0] * (nl_24 * kc_26)) >= 32768) fmc_parallel(k0_gemm_p2, &fmc_c, fmc_n); else k0_gemm_p2(&fmc_c, 0, fmc_n);
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
