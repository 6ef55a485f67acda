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
      for (int64_t j_5 = 0; j_5 < nl_3; j_5++) {
        float part_6[16] __attribute__((aligned(64)));
        #pragma omp simd
        for (int64_t l_8 = 0; l_8 < 16; l_8++) {
          part_6[l_8] = 0x0p+0f;
        }
        for (int64_t k0_7 = 0; k0_7 < 64; k0_7 += 16) {
          #pragma omp simd
          for (int64_t l_8 = 0; l_8 < 16; l_8++) {
            part_6[l_8] = fmaf(b1[((m_4 * 64) + (k0_7 + l_8))], b2[(((n0_2 + j_5) * 64) + (k0_7 + l_8))], part_6[l_8]);
          }
        }
        for (int64_t kt_9 = 64; kt_9 < 64; kt_9++) {
          part_6[(kt_9 - 64)] = fmaf(b1[((m_4 * 64) + kt_9)], b2[(((n0_2 + j_5) * 64) + kt_9)], part_6[(kt_9 - 64)]);
        }
        float s_10 = part_6[0];
        for (int64_t l_8 = 1; l_8 < 16; l_8++) {
          s_10 = fmc_add_f(s_10, part_6[l_8]);
        }
        float c_11 = s_10;
        float v_12 = fmc_add_f(c_11, b3[(n0_2 + j_5)]);
        float v_13 = fmc_mul_f(v_12, v_12);
        float v_14 = fmc_mul_f(v_13, v_12);
        float v_15 = fmc_mul_f(0x1.6e4e26p-5f, v_14);
        float v_16 = fmc_add_f(v_12, v_15);
        float v_17 = fmc_mul_f(0x1.988454p-1f, v_16);
        float v_18 = fmc_mul_f(0x1.000000p-1f, v_12);
        float v_19 = fmc_tanh_f(v_17);
        float v_20 = fmc_add_f(0x1.000000p+0f, v_19);
        float v_21 = fmc_mul_f(v_18, v_20);
        float v_22 = fmc_add_f(v_21, b4[((m_4 * 48) + (n0_2 + j_5))]);
        b0[((m_4 * 48) + (n0_2 + j_5))] = v_22;
      }
    }
  }
}

/* k0_gemm, parallel loop over p_55: iterations [fmc_lo, fmc_hi) */
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
    int64_t p_55 = 0 + fmc_t * 16;
    for (int64_t r_57 = 0; r_57 < 16; r_57++) {
      for (int64_t k_56 = 0; k_56 < 64; k_56++) {
        b5[((16 + ((p_55 * 64) + (k_56 * 16))) + r_57)] = (((p_55 + r_57) < 48) ? b2[(((p_55 + r_57) * 64) + k_56)] : 0x0p+0f);
      }
    }
  }
}

/* k0_gemm, parallel loop over mi_31: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p2(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  const float *restrict b4 = (const float *)a[4];
  float *restrict b5 = (float *)a[5];
  const int64_t kc_28 = ((const struct fmc_ctx *)fmc_c)->v[0];
  const int64_t mb_30 = ((const struct fmc_ctx *)fmc_c)->v[1];
  const int64_t n0_25 = ((const struct fmc_ctx *)fmc_c)->v[2];
  const int64_t nl_26 = ((const struct fmc_ctx *)fmc_c)->v[3];
  const int64_t pc_27 = ((const struct fmc_ctx *)fmc_c)->v[4];
  (void)a;
  (void)d;
  for (int64_t mi_31 = fmc_lo; mi_31 < fmc_hi; mi_31++) {
    static _Thread_local float fmc_tls_ap_32[30720] __attribute__((aligned(64))); float *const restrict ap_32 = fmc_tls_ap_32;
    int64_t m0_23 = (mi_31 * mb_30);
    int64_t ml_24 = fmc_min_ix(mb_30, (d[0] - m0_23));
    for (int64_t p_33 = 0; p_33 < ml_24; p_33 += 6) {
      for (int64_t r_35 = 0; r_35 < 6; r_35++) {
        for (int64_t k_34 = 0; k_34 < kc_28; k_34++) {
          ap_32[(((p_33 * 320) + (k_34 * 6)) + r_35)] = (((p_33 + r_35) < ml_24) ? b1[(((m0_23 + (p_33 + r_35)) * 64) + (pc_27 + k_34))] : 0x0p+0f);
        }
      }
    }
    for (int64_t jr_36 = 0; jr_36 < nl_26; jr_36 += 16) {
      for (int64_t ir_37 = 0; ir_37 < ml_24; ir_37 += 6) {
        float acc_38[96] __attribute__((aligned(64)));
        #pragma omp simd
        for (int64_t i_39 = 0; i_39 < 96; i_39++) {
          acc_38[i_39] = 0x0p+0f;
        }
        fmc_mma_6x16(kc_28, ap_32 + (ir_37 * 320), b5 + (16 + (((n0_25 + jr_36) * 64) + (pc_27 * 16))), acc_38);
        int64_t ie_41 = fmc_min_ix(6, (ml_24 - ir_37));
        int64_t je_42 = fmc_min_ix(16, (nl_26 - jr_36));
        for (int64_t i_39 = 0; i_39 < ie_41; i_39++) {
          for (int64_t j_40 = 0; j_40 < je_42; j_40++) {
            float c_43 = acc_38[((i_39 * 16) + j_40)];
            float v_44 = fmc_add_f(c_43, b3[(n0_25 + (jr_36 + j_40))]);
            float v_45 = fmc_mul_f(v_44, v_44);
            float v_46 = fmc_mul_f(v_45, v_44);
            float v_47 = fmc_mul_f(0x1.6e4e26p-5f, v_46);
            float v_48 = fmc_add_f(v_44, v_47);
            float v_49 = fmc_mul_f(0x1.988454p-1f, v_48);
            float v_50 = fmc_mul_f(0x1.000000p-1f, v_44);
            float v_51 = fmc_tanh_f(v_49);
            float v_52 = fmc_add_f(0x1.000000p+0f, v_51);
            float v_53 = fmc_mul_f(v_50, v_52);
            float v_54 = fmc_add_f(v_53, b4[(((m0_23 + (ir_37 + i_39)) * 48) + (n0_25 + (jr_36 + j_40)))]);
            b0[(((m0_23 + (ir_37 + i_39)) * 48) + (n0_25 + (jr_36 + j_40)))] = v_54;
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
    int64_t mb_30 = fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6)));
    for (int64_t jc_29 = 0; jc_29 < 1; jc_29++) {
      int64_t n0_25 = (jc_29 * 512);
      int64_t nl_26 = fmc_min_ix(512, (48 - n0_25));
      int64_t nk_59 = 1;
      int64_t kcb_60 = ((64 + (nk_59 - 1)) / nk_59);
      for (int64_t kb_58 = 0; kb_58 < nk_59; kb_58++) {
        int64_t pc_27 = (kb_58 * kcb_60);
        int64_t kc_28 = fmc_min_ix(kcb_60, (64 - pc_27));
        {
          const int64_t fmc_v[] = {kc_28, mb_30, n0_25, nl_26, pc_27};
          const struct fmc_ctx fmc_c = {a, d, fmc_v};
          const int64_t fmc_n = fmc_max_ix(0, ((d[0] + (mb_30 - 1)) / mb_30) - 0);
          if ((d[0] * (nl_26 * kc_28)) >= 32768) fmc_parallel(k0_gemm_p2, &fmc_c, fmc_n); else k0_gemm_p2(&fmc_c, 0, fmc_n);
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
