/* golden_kernels_matmul.c */
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
  float *restrict b4 = (float *)a[4];
  (void)a;
  (void)d;
  for (int64_t it_0 = fmc_lo; it_0 < fmc_hi; it_0++) {
    int64_t b_1 = it_0;
    int64_t n0_2 = 0;
    int64_t nl_3 = fmc_min_ix(512, (32 - n0_2));
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
        b0[((m_4 * 32) + (n0_2 + j_5))] = v_16;
      }
    }
  }
}

/* k0_gemm, parallel loop over p_49: iterations [fmc_lo, fmc_hi) */
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
    int64_t p_49 = 0 + fmc_t * 16;
    for (int64_t kr_52 = 0; kr_52 < 64; kr_52 += 16) {
      int64_t ke_53 = fmc_min_ix((kr_52 + 16), 64);
      for (int64_t r_51 = 0; r_51 < 16; r_51++) {
        for (int64_t k_50 = kr_52; k_50 < ke_53; k_50++) {
          b4[((16 + ((p_49 * 64) + (k_50 * 16))) + r_51)] = (((p_49 + r_51) < 32) ? b2[(((p_49 + r_51) * 64) + k_50)] : 0x0p+0f);
        }
      }
    }
  }
}

/* k0_gemm, parallel loop over mi_25: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p2(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  float *restrict b4 = (float *)a[4];
  const int64_t nb_24 = ((const struct fmc_ctx *)fmc_c)->v[0];
  const int64_t nn_28 = ((const struct fmc_ctx *)fmc_c)->v[1];
  const int64_t np_29 = ((const struct fmc_ctx *)fmc_c)->v[2];
  const int64_t tl_23 = ((const struct fmc_ctx *)fmc_c)->v[3];
  (void)a;
  (void)d;
  for (int64_t mi_25 = fmc_lo; mi_25 < fmc_hi; mi_25++) {
    static _Thread_local float fmc_tls_ap_26[30720] __attribute__((aligned(64))); float *const restrict ap_26 = fmc_tls_ap_26;
    int64_t bi_30 = (mi_25 / nn_28);
    int64_t part_31 = (mi_25 % nn_28);
    int64_t m0_17 = (((tl_23 * bi_30) / nb_24) * 6);
    int64_t ml_18 = (fmc_min_ix((((tl_23 * (bi_30 + 1)) / nb_24) * 6), d[0]) - m0_17);
    int64_t n0_19 = (((np_29 * part_31) / nn_28) * 16);
    int64_t nl_20 = (fmc_min_ix((((np_29 * (part_31 + 1)) / nn_28) * 16), 32) - n0_19);
    int64_t nk_47 = 1;
    int64_t kcb_48 = ((64 + (nk_47 - 1)) / nk_47);
    for (int64_t kb_46 = 0; kb_46 < nk_47; kb_46++) {
      int64_t pc_21 = (kb_46 * kcb_48);
      int64_t kc_22 = fmc_min_ix(kcb_48, (64 - pc_21));
      for (int64_t p_32 = 0; p_32 < ml_18; p_32 += 6) {
        for (int64_t kr_35 = 0; kr_35 < kc_22; kr_35 += 16) {
          int64_t ke_36 = fmc_min_ix((kr_35 + 16), kc_22);
          for (int64_t r_34 = 0; r_34 < 6; r_34++) {
            for (int64_t k_33 = kr_35; k_33 < ke_36; k_33++) {
              ap_26[(((p_32 * 320) + (k_33 * 6)) + r_34)] = (((p_32 + r_34) < ml_18) ? b1[(((m0_17 + (p_32 + r_34)) * 64) + (pc_21 + k_33))] : 0x0p+0f);
            }
          }
        }
      }
      for (int64_t jr_37 = 0; jr_37 < nl_20; jr_37 += 16) {
        for (int64_t ir_38 = 0; ir_38 < ml_18; ir_38 += 6) {
          float acc_39[96] __attribute__((aligned(64)));
          #pragma omp simd
          for (int64_t i_40 = 0; i_40 < 96; i_40++) {
            acc_39[i_40] = 0x0p+0f;
          }
          int64_t ie_42 = fmc_min_ix(6, (ml_18 - ir_38));
          int64_t je_43 = fmc_min_ix(16, (nl_20 - jr_37));
          fmc_prefetch_tile(b0 + (((m0_17 + ir_38) * 32) + (n0_19 + jr_37)), 32, ie_42, je_43); fmc_mma_6x16(kc_22, ap_26 + (ir_38 * 320), b4 + (16 + (((n0_19 + jr_37) * 64) + (pc_21 * 16))), acc_39);
          if (((ie_42 == 6) && (je_43 == 16))) {
            for (int64_t i_40 = 0; i_40 < 6; i_40++) {
              for (int64_t j_41 = 0; j_41 < 16; j_41++) {
                float c_44 = acc_39[((i_40 * 16) + j_41)];
                float v_45 = fmc_add_f(c_44, b3[(n0_19 + (jr_37 + j_41))]);
                b0[(((m0_17 + (ir_38 + i_40)) * 32) + (n0_19 + (jr_37 + j_41)))] = v_45;
              }
            }
          } else {
            for (int64_t i_40 = 0; i_40 < ie_42; i_40++) {
              for (int64_t j_41 = 0; j_41 < je_43; j_41++) {
                float c_44 = acc_39[((i_40 * 16) + j_41)];
                float v_45 = fmc_add_f(c_44, b3[(n0_19 + (jr_37 + j_41))]);
                b0[(((m0_17 + (ir_38 + i_40)) * 32) + (n0_19 + (jr_37 + j_41)))] = v_45;
              }
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
    int64_t tl_23 = ((d[0] + 5) / 6);
    int64_t nb_24 = fmc_min_ix(tl_23, (((((tl_23 + 15) / 16) + 3) / 4) * 4));
    int64_t np_29 = 2;
    int64_t nn_28 = fmc_max_ix(1, fmc_min_ix(np_29, ((4 + (fmc_max_ix(nb_24, 1) - 1)) / fmc_max_ix(nb_24, 1))));
    {
      const int64_t fmc_v[] = {nb_24, nn_28, np_29, tl_23};
      const struct fmc_ctx fmc_c = {a, d, fmc_v};
      const int64_t fmc_n = fmc_max_ix(0, (nb_24 * nn_28) - 0);
      if ((d[0] * 2048) >= 32768) fmc_parallel(k0_gemm_p2, &fmc_c, fmc_n); else k0_gemm_p2(&fmc_c, 0, fmc_n);
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
