/* golden_kernels_gemm_epilogue.c */
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
/* rows x cols floats at p[i*ld + j] into L2 (a hint: prefetches never fault) */
static inline void fmc_prefetch_tile(const float *p, int64_t ld, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; i++, p += ld) {
    for (int64_t j = 0; j < cols; j += 16) __builtin_prefetch(p + j, 0, 2);
    __builtin_prefetch(p + cols - 1, 0, 2);
  }
}
__attribute__((noinline)) FMC_WIDE static void fmc_mma_6x16(int64_t kc, const float *restrict ap,
    const float *restrict bp, float *restrict acc) {
  ap = (const float *)__builtin_assume_aligned(ap, 64);
  bp = (const float *)__builtin_assume_aligned(bp, 64);
  for (int64_t k0 = 0; k0 < kc; k0 += 512) {
    const int64_t k1 = kc - k0 < 512 ? kc : k0 + 512;
    float c[6][16];
    for (int i = 0; i < 6; i++)
      for (int j = 0; j < 16; j++) c[i][j] = k0 == 0 ? acc[i * 16 + j] : 0.0f;
    #pragma GCC unroll 4
    for (int64_t k = k0; k < k1; k++) {
      const float *a = ap + k * 6, *b = bp + k * 16;
      __builtin_prefetch(b + 128, 0, 3);
      for (int i = 0; i < 6; i++) {
        const float ai = a[i];
        #pragma omp simd
        for (int j = 0; j < 16; j++) c[i][j] = fmaf(ai, b[j], c[i][j]);
      }
    }
    for (int i = 0; i < 6; i++)
      for (int j = 0; j < 16; j++) acc[i * 16 + j] = k0 == 0 ? c[i][j] : acc[i * 16 + j] + c[i][j];
  }
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
        float part_10[32] __attribute__((aligned(64)));
        #pragma omp simd
        for (int64_t l_7 = 0; l_7 < 32; l_7++) {
          part_10[l_7] = 0x0p+0f;
        }
        float part_11[32] __attribute__((aligned(64)));
        #pragma omp simd
        for (int64_t l_7 = 0; l_7 < 32; l_7++) {
          part_11[l_7] = 0x0p+0f;
        }
        for (int64_t k0_6 = 0; k0_6 < 64; k0_6 += 64) {
          int64_t u_12 = k0_6;
          #pragma omp simd
          for (int64_t l_7 = 0; l_7 < 32; l_7++) {
            part_10[l_7] = fmaf(b1[((m_4 * 64) + (u_12 + l_7))], b2[(((n0_2 + j_5) * 64) + (u_12 + l_7))], part_10[l_7]);
          }
          int64_t u_13 = (k0_6 + 32);
          #pragma omp simd
          for (int64_t l_7 = 0; l_7 < 32; l_7++) {
            part_11[l_7] = fmaf(b1[((m_4 * 64) + (u_13 + l_7))], b2[(((n0_2 + j_5) * 64) + (u_13 + l_7))], part_11[l_7]);
          }
        }
        for (int64_t k0_6 = 64; k0_6 < 64; k0_6 += 32) {
          int64_t u_14 = k0_6;
          #pragma omp simd
          for (int64_t l_7 = 0; l_7 < 32; l_7++) {
            part_10[l_7] = fmaf(b1[((m_4 * 64) + (u_14 + l_7))], b2[(((n0_2 + j_5) * 64) + (u_14 + l_7))], part_10[l_7]);
          }
        }
        for (int64_t kt_8 = 64; kt_8 < 64; kt_8++) {
          part_10[(kt_8 - 64)] = fmaf(b1[((m_4 * 64) + kt_8)], b2[(((n0_2 + j_5) * 64) + kt_8)], part_10[(kt_8 - 64)]);
        }
        float s_9 = 0x0p+0f;
        for (int64_t l_7 = 0; l_7 < 32; l_7++) {
          s_9 = fmc_add_f(s_9, part_10[l_7]);
        }
        for (int64_t l_7 = 0; l_7 < 32; l_7++) {
          s_9 = fmc_add_f(s_9, part_11[l_7]);
        }
        float c_15 = s_9;
        float v_16 = fmc_add_f(c_15, b3[(n0_2 + j_5)]);
        float v_17 = fmc_mul_f(v_16, v_16);
        float v_18 = fmc_mul_f(v_17, v_16);
        float v_19 = fmc_mul_f(0x1.6e4e26p-5f, v_18);
        float v_20 = fmc_add_f(v_16, v_19);
        float v_21 = fmc_mul_f(0x1.988454p-1f, v_20);
        float v_22 = fmc_mul_f(0x1.000000p-1f, v_16);
        float v_23 = fmc_tanh_f(v_21);
        float v_24 = fmc_add_f(0x1.000000p+0f, v_23);
        float v_25 = fmc_mul_f(v_22, v_24);
        float v_26 = fmc_add_f(v_25, b4[((m_4 * 48) + (n0_2 + j_5))]);
        b0[((m_4 * 48) + (n0_2 + j_5))] = v_26;
      }
    }
  }
}

/* k0_gemm, parallel loop over p_69: iterations [fmc_lo, fmc_hi) */
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
    int64_t p_69 = 0 + fmc_t * 16;
    for (int64_t kr_72 = 0; kr_72 < 64; kr_72 += 16) {
      int64_t ke_73 = fmc_min_ix((kr_72 + 16), 64);
      for (int64_t r_71 = 0; r_71 < 16; r_71++) {
        for (int64_t k_70 = kr_72; k_70 < ke_73; k_70++) {
          b5[((16 + ((p_69 * 64) + (k_70 * 16))) + r_71)] = (((p_69 + r_71) < 48) ? b2[(((p_69 + r_71) * 64) + k_70)] : 0x0p+0f);
        }
      }
    }
  }
}

/* k0_gemm, parallel loop over mi_35: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p2(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  const float *restrict b4 = (const float *)a[4];
  float *restrict b5 = (float *)a[5];
  const int64_t nb_34 = ((const struct fmc_ctx *)fmc_c)->v[0];
  const int64_t nn_38 = ((const struct fmc_ctx *)fmc_c)->v[1];
  const int64_t np_39 = ((const struct fmc_ctx *)fmc_c)->v[2];
  const int64_t tl_33 = ((const struct fmc_ctx *)fmc_c)->v[3];
  (void)a;
  (void)d;
  for (int64_t mi_35 = fmc_lo; mi_35 < fmc_hi; mi_35++) {
    static _Thread_local float fmc_tls_ap_36[30720] __attribute__((aligned(64))); float *const restrict ap_36 = fmc_tls_ap_36;
    int64_t bi_40 = (mi_35 / nn_38);
    int64_t part_41 = (mi_35 % nn_38);
    int64_t m0_27 = (((tl_33 * bi_40) / nb_34) * 6);
    int64_t ml_28 = (fmc_min_ix((((tl_33 * (bi_40 + 1)) / nb_34) * 6), d[0]) - m0_27);
    int64_t n0_29 = (((np_39 * part_41) / nn_38) * 16);
    int64_t nl_30 = (fmc_min_ix((((np_39 * (part_41 + 1)) / nn_38) * 16), 48) - n0_29);
    int64_t nk_67 = 1;
    int64_t kcb_68 = ((64 + (nk_67 - 1)) / nk_67);
    for (int64_t kb_66 = 0; kb_66 < nk_67; kb_66++) {
      int64_t pc_31 = (kb_66 * kcb_68);
      int64_t kc_32 = fmc_min_ix(kcb_68, (64 - pc_31));
      for (int64_t p_42 = 0; p_42 < ml_28; p_42 += 6) {
        for (int64_t kr_45 = 0; kr_45 < kc_32; kr_45 += 16) {
          int64_t ke_46 = fmc_min_ix((kr_45 + 16), kc_32);
          for (int64_t r_44 = 0; r_44 < 6; r_44++) {
            for (int64_t k_43 = kr_45; k_43 < ke_46; k_43++) {
              ap_36[(((p_42 * 320) + (k_43 * 6)) + r_44)] = (((p_42 + r_44) < ml_28) ? b1[(((m0_27 + (p_42 + r_44)) * 64) + (pc_31 + k_43))] : 0x0p+0f);
            }
          }
        }
      }
      for (int64_t jr_47 = 0; jr_47 < nl_30; jr_47 += 16) {
        for (int64_t ir_48 = 0; ir_48 < ml_28; ir_48 += 6) {
          float acc_49[96] __attribute__((aligned(64)));
          #pragma omp simd
          for (int64_t i_50 = 0; i_50 < 96; i_50++) {
            acc_49[i_50] = 0x0p+0f;
          }
          int64_t ie_52 = fmc_min_ix(6, (ml_28 - ir_48));
          int64_t je_53 = fmc_min_ix(16, (nl_30 - jr_47));
          fmc_prefetch_tile(b0 + (((m0_27 + ir_48) * 48) + (n0_29 + jr_47)), 48, ie_52, je_53); fmc_mma_6x16(kc_32, ap_36 + (ir_48 * 320), b5 + (16 + (((n0_29 + jr_47) * 64) + (pc_31 * 16))), acc_49);
          if (((ie_52 == 6) && (je_53 == 16))) {
            for (int64_t i_50 = 0; i_50 < 6; i_50++) {
              for (int64_t j_51 = 0; j_51 < 16; j_51++) {
                float c_54 = acc_49[((i_50 * 16) + j_51)];
                float v_55 = fmc_add_f(c_54, b3[(n0_29 + (jr_47 + j_51))]);
                float v_56 = fmc_mul_f(v_55, v_55);
                float v_57 = fmc_mul_f(v_56, v_55);
                float v_58 = fmc_mul_f(0x1.6e4e26p-5f, v_57);
                float v_59 = fmc_add_f(v_55, v_58);
                float v_60 = fmc_mul_f(0x1.988454p-1f, v_59);
                float v_61 = fmc_mul_f(0x1.000000p-1f, v_55);
                float v_62 = fmc_tanh_f(v_60);
                float v_63 = fmc_add_f(0x1.000000p+0f, v_62);
                float v_64 = fmc_mul_f(v_61, v_63);
                float v_65 = fmc_add_f(v_64, b4[(((m0_27 + (ir_48 + i_50)) * 48) + (n0_29 + (jr_47 + j_51)))]);
                b0[(((m0_27 + (ir_48 + i_50)) * 48) + (n0_29 + (jr_47 + j_51)))] = v_65;
              }
            }
          } else {
            for (int64_t i_50 = 0; i_50 < ie_52; i_50++) {
              for (int64_t j_51 = 0; j_51 < je_53; j_51++) {
                float c_54 = acc_49[((i_50 * 16) + j_51)];
                float v_55 = fmc_add_f(c_54, b3[(n0_29 + (jr_47 + j_51))]);
                float v_56 = fmc_mul_f(v_55, v_55);
                float v_57 = fmc_mul_f(v_56, v_55);
                float v_58 = fmc_mul_f(0x1.6e4e26p-5f, v_57);
                float v_59 = fmc_add_f(v_55, v_58);
                float v_60 = fmc_mul_f(0x1.988454p-1f, v_59);
                float v_61 = fmc_mul_f(0x1.000000p-1f, v_55);
                float v_62 = fmc_tanh_f(v_60);
                float v_63 = fmc_add_f(0x1.000000p+0f, v_62);
                float v_64 = fmc_mul_f(v_61, v_63);
                float v_65 = fmc_add_f(v_64, b4[(((m0_27 + (ir_48 + i_50)) * 48) + (n0_29 + (jr_47 + j_51)))]);
                b0[(((m0_27 + (ir_48 + i_50)) * 48) + (n0_29 + (jr_47 + j_51)))] = v_65;
              }
            }
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
    int64_t tl_33 = ((d[0] + 5) / 6);
    int64_t nb_34 = fmc_min_ix(tl_33, (((((tl_33 + 15) / 16) + 3) / 4) * 4));
    int64_t np_39 = 3;
    int64_t nn_38 = fmc_max_ix(1, fmc_min_ix(np_39, ((4 + (fmc_max_ix(nb_34, 1) - 1)) / fmc_max_ix(nb_34, 1))));
    {
      const int64_t fmc_v[] = {nb_34, nn_38, np_39, tl_33};
      const struct fmc_ctx fmc_c = {a, d, fmc_v};
      const int64_t fmc_n = fmc_max_ix(0, (nb_34 * nn_38) - 0);
      if ((d[0] * 3072) >= 32768) fmc_parallel(k0_gemm_p2, &fmc_c, fmc_n); else k0_gemm_p2(&fmc_c, 0, fmc_n);
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
