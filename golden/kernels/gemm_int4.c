/* golden_kernels_gemm_int4.c */
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
  const int8_t *restrict b1 = (const int8_t *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  const float *restrict b4 = (const float *)a[4];
  const float *restrict b5 = (const float *)a[5];
  float *restrict b6 = (float *)a[6];
  (void)a;
  (void)d;
  for (int64_t it_0 = fmc_lo; it_0 < fmc_hi; it_0++) {
    static _Thread_local float fmc_tls_xp_10[128] __attribute__((aligned(64))); float *const restrict xp_10 = fmc_tls_xp_10;
    int64_t n0_1 = (it_0 * 512);
    int64_t nl_2 = fmc_min_ix(512, (32 - n0_1));
    for (int64_t m_3 = 0; m_3 < d[0]; m_3++) {
      for (int64_t jx_9 = 0; jx_9 < 128; jx_9++) {
        xp_10[jx_9] = b4[((m_3 * 128) + (((((jx_9 / 64) + ((jx_9 % 8) / 8)) * 64) + ((((jx_9 / 8) % 8) % 2) * 32)) + ((((jx_9 % 8) % 8) * 4) + (((jx_9 / 8) % 8) / 2))))];
      }
      for (int64_t j_4 = 0; j_4 < nl_2; j_4++) {
        float part_11[64] __attribute__((aligned(64)));
        #pragma omp simd
        for (int64_t l_6 = 0; l_6 < 64; l_6++) {
          part_11[l_6] = 0x0p+0f;
        }
        for (int64_t c_5 = 0; c_5 < 2; c_5++) {
          #pragma omp simd simdlen(8)
          for (int64_t l_6 = 0; l_6 < 8; l_6++) {
            int32_t v_8 = ((const fmc_w32 *)b1)[((((n0_1 + j_4) * 16) + (c_5 * 8)) + l_6)];
            part_11[l_6] = fmaf(xp_10[((c_5 * 64) + l_6)], fmc_mul_f(fmc_sub_f((float)((int32_t)(((int32_t)((int32_t)((uint32_t)(v_8) << (28))) >> (28)))), b3[(((n0_1 + j_4) * 2) + ((c_5 * 64) / 64))]), b2[(((n0_1 + j_4) * 2) + ((c_5 * 64) / 64))]), part_11[l_6]);
            part_11[(8 + l_6)] = fmaf(xp_10[((c_5 * 64) + (8 + l_6))], fmc_mul_f(fmc_sub_f((float)((int32_t)(((int32_t)((int32_t)((uint32_t)(v_8) << (24))) >> (28)))), b3[(((n0_1 + j_4) * 2) + (((c_5 * 64) + 32) / 64))]), b2[(((n0_1 + j_4) * 2) + (((c_5 * 64) + 32) / 64))]), part_11[(8 + l_6)]);
            part_11[(16 + l_6)] = fmaf(xp_10[((c_5 * 64) + (16 + l_6))], fmc_mul_f(fmc_sub_f((float)((int32_t)(((int32_t)((int32_t)((uint32_t)(v_8) << (20))) >> (28)))), b3[(((n0_1 + j_4) * 2) + (((c_5 * 64) + 1) / 64))]), b2[(((n0_1 + j_4) * 2) + (((c_5 * 64) + 1) / 64))]), part_11[(16 + l_6)]);
            part_11[(24 + l_6)] = fmaf(xp_10[((c_5 * 64) + (24 + l_6))], fmc_mul_f(fmc_sub_f((float)((int32_t)(((int32_t)((int32_t)((uint32_t)(v_8) << (16))) >> (28)))), b3[(((n0_1 + j_4) * 2) + ((((c_5 * 64) + 32) + 1) / 64))]), b2[(((n0_1 + j_4) * 2) + ((((c_5 * 64) + 32) + 1) / 64))]), part_11[(24 + l_6)]);
            part_11[(32 + l_6)] = fmaf(xp_10[((c_5 * 64) + (32 + l_6))], fmc_mul_f(fmc_sub_f((float)((int32_t)(((int32_t)((int32_t)((uint32_t)(v_8) << (12))) >> (28)))), b3[(((n0_1 + j_4) * 2) + (((c_5 * 64) + 2) / 64))]), b2[(((n0_1 + j_4) * 2) + (((c_5 * 64) + 2) / 64))]), part_11[(32 + l_6)]);
            part_11[(40 + l_6)] = fmaf(xp_10[((c_5 * 64) + (40 + l_6))], fmc_mul_f(fmc_sub_f((float)((int32_t)(((int32_t)((int32_t)((uint32_t)(v_8) << (8))) >> (28)))), b3[(((n0_1 + j_4) * 2) + ((((c_5 * 64) + 32) + 2) / 64))]), b2[(((n0_1 + j_4) * 2) + ((((c_5 * 64) + 32) + 2) / 64))]), part_11[(40 + l_6)]);
            part_11[(48 + l_6)] = fmaf(xp_10[((c_5 * 64) + (48 + l_6))], fmc_mul_f(fmc_sub_f((float)((int32_t)(((int32_t)((int32_t)((uint32_t)(v_8) << (4))) >> (28)))), b3[(((n0_1 + j_4) * 2) + (((c_5 * 64) + 3) / 64))]), b2[(((n0_1 + j_4) * 2) + (((c_5 * 64) + 3) / 64))]), part_11[(48 + l_6)]);
            part_11[(56 + l_6)] = fmaf(xp_10[((c_5 * 64) + (56 + l_6))], fmc_mul_f(fmc_sub_f((float)((int32_t)(((int32_t)(v_8) >> (28)))), b3[(((n0_1 + j_4) * 2) + ((((c_5 * 64) + 32) + 3) / 64))]), b2[(((n0_1 + j_4) * 2) + ((((c_5 * 64) + 32) + 3) / 64))]), part_11[(56 + l_6)]);
          }
        }
        #pragma omp simd
        for (int64_t l_6 = 0; l_6 < 32; l_6++) {
          part_11[l_6] = fmc_add_f(part_11[l_6], part_11[(l_6 + 32)]);
        }
        #pragma omp simd
        for (int64_t l_6 = 0; l_6 < 16; l_6++) {
          part_11[l_6] = fmc_add_f(part_11[l_6], part_11[(l_6 + 16)]);
        }
        #pragma omp simd
        for (int64_t l_6 = 0; l_6 < 8; l_6++) {
          part_11[l_6] = fmc_add_f(part_11[l_6], part_11[(l_6 + 8)]);
        }
        for (int64_t l_6 = 0; l_6 < 4; l_6++) {
          part_11[l_6] = fmc_add_f(part_11[l_6], part_11[(l_6 + 4)]);
        }
        for (int64_t l_6 = 0; l_6 < 2; l_6++) {
          part_11[l_6] = fmc_add_f(part_11[l_6], part_11[(l_6 + 2)]);
        }
        for (int64_t l_6 = 0; l_6 < 1; l_6++) {
          part_11[l_6] = fmc_add_f(part_11[l_6], part_11[(l_6 + 1)]);
        }
        float c_12 = part_11[0];
        float v_13 = fmc_add_f(c_12, b5[(n0_1 + j_4)]);
        b0[((m_3 * 32) + (n0_1 + j_4))] = v_13;
      }
    }
  }
}

/* k0_gemm, parallel loop over p_46: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p1(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const int8_t *restrict b1 = (const int8_t *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  const float *restrict b4 = (const float *)a[4];
  const float *restrict b5 = (const float *)a[5];
  float *restrict b6 = (float *)a[6];
  (void)a;
  (void)d;
  for (int64_t fmc_t = fmc_lo; fmc_t < fmc_hi; fmc_t++) {
    int64_t p_46 = 0 + fmc_t * 16;
    for (int64_t r_47 = 0; r_47 < 16; r_47++) {
      if (((p_46 + r_47) < 32)) {
        int64_t n_48 = (p_46 + r_47);
        for (int64_t j_49 = 0; j_49 < 4; j_49++) {
          int64_t ks_50 = fmc_max_ix((j_49 * 32), 0);
          int64_t ke_51 = fmc_min_ix(((j_49 * 32) + 32), 128);
          int64_t qb_52 = ((n_48 * 64) + (((j_49 / 2) * 32) - (j_49 * 32)));
          float s_54 = b2[((n_48 * 2) + ((j_49 * 32) / 64))];
          float z_55 = b3[((n_48 * 2) + ((j_49 * 32) / 64))];
          for (int64_t k_53 = ks_50; k_53 < ke_51; k_53++) {
            b6[((16 + ((p_46 * 128) + (k_53 * 16))) + r_47)] = fmc_mul_f(fmc_sub_f((float)((int32_t)(((int32_t)((int32_t)((uint32_t)((int64_t)b1[(qb_52 + k_53)]) << ((28 - ((j_49 % 2) * 4))))) >> (28)))), z_55), s_54);
          }
        }
      } else {
        for (int64_t k_53 = 0; k_53 < 128; k_53++) {
          b6[((16 + ((p_46 * 128) + (k_53 * 16))) + r_47)] = 0x0p+0f;
        }
      }
    }
  }
}

/* k0_gemm, parallel loop over mi_22: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p2(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const int8_t *restrict b1 = (const int8_t *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  const float *restrict b4 = (const float *)a[4];
  const float *restrict b5 = (const float *)a[5];
  float *restrict b6 = (float *)a[6];
  const int64_t nb_21 = ((const struct fmc_ctx *)fmc_c)->v[0];
  const int64_t nn_25 = ((const struct fmc_ctx *)fmc_c)->v[1];
  const int64_t np_26 = ((const struct fmc_ctx *)fmc_c)->v[2];
  const int64_t tl_20 = ((const struct fmc_ctx *)fmc_c)->v[3];
  (void)a;
  (void)d;
  for (int64_t mi_22 = fmc_lo; mi_22 < fmc_hi; mi_22++) {
    static _Thread_local float fmc_tls_ap_23[30720] __attribute__((aligned(64))); float *const restrict ap_23 = fmc_tls_ap_23;
    int64_t bi_27 = (mi_22 / nn_25);
    int64_t part_28 = (mi_22 % nn_25);
    int64_t m0_14 = (((tl_20 * bi_27) / nb_21) * 6);
    int64_t ml_15 = (fmc_min_ix((((tl_20 * (bi_27 + 1)) / nb_21) * 6), d[0]) - m0_14);
    int64_t n0_16 = (((np_26 * part_28) / nn_25) * 16);
    int64_t nl_17 = (fmc_min_ix((((np_26 * (part_28 + 1)) / nn_25) * 16), 32) - n0_16);
    int64_t nk_44 = 1;
    int64_t kcb_45 = ((128 + (nk_44 - 1)) / nk_44);
    for (int64_t kb_43 = 0; kb_43 < nk_44; kb_43++) {
      int64_t pc_18 = (kb_43 * kcb_45);
      int64_t kc_19 = fmc_min_ix(kcb_45, (128 - pc_18));
      for (int64_t p_29 = 0; p_29 < ml_15; p_29 += 6) {
        for (int64_t kr_32 = 0; kr_32 < kc_19; kr_32 += 16) {
          int64_t ke_33 = fmc_min_ix((kr_32 + 16), kc_19);
          for (int64_t r_31 = 0; r_31 < 6; r_31++) {
            for (int64_t k_30 = kr_32; k_30 < ke_33; k_30++) {
              ap_23[(((p_29 * 320) + (k_30 * 6)) + r_31)] = (((p_29 + r_31) < ml_15) ? b4[(((m0_14 + (p_29 + r_31)) * 128) + (pc_18 + k_30))] : 0x0p+0f);
            }
          }
        }
      }
      for (int64_t jr_34 = 0; jr_34 < nl_17; jr_34 += 16) {
        for (int64_t ir_35 = 0; ir_35 < ml_15; ir_35 += 6) {
          float acc_36[96] __attribute__((aligned(64)));
          #pragma omp simd
          for (int64_t i_37 = 0; i_37 < 96; i_37++) {
            acc_36[i_37] = 0x0p+0f;
          }
          int64_t ie_39 = fmc_min_ix(6, (ml_15 - ir_35));
          int64_t je_40 = fmc_min_ix(16, (nl_17 - jr_34));
          fmc_prefetch_tile(b0 + (((m0_14 + ir_35) * 32) + (n0_16 + jr_34)), 32, ie_39, je_40); fmc_mma_6x16(kc_19, ap_23 + (ir_35 * 320), b6 + (16 + (((n0_16 + jr_34) * 128) + (pc_18 * 16))), acc_36);
          if (((ie_39 == 6) && (je_40 == 16))) {
            for (int64_t i_37 = 0; i_37 < 6; i_37++) {
              for (int64_t j_38 = 0; j_38 < 16; j_38++) {
                float c_41 = acc_36[((i_37 * 16) + j_38)];
                float v_42 = fmc_add_f(c_41, b5[(n0_16 + (jr_34 + j_38))]);
                b0[(((m0_14 + (ir_35 + i_37)) * 32) + (n0_16 + (jr_34 + j_38)))] = v_42;
              }
            }
          } else {
            for (int64_t i_37 = 0; i_37 < ie_39; i_37++) {
              for (int64_t j_38 = 0; j_38 < je_40; j_38++) {
                float c_41 = acc_36[((i_37 * 16) + j_38)];
                float v_42 = fmc_add_f(c_41, b5[(n0_16 + (jr_34 + j_38))]);
                b0[(((m0_14 + (ir_35 + i_37)) * 32) + (n0_16 + (jr_34 + j_38)))] = v_42;
              }
            }
          }
        }
      }
    }
  }
}

/* k0_gemm: einsum %33 + 1 fused, stores %35 */
static void k0_gemm(void *const *restrict a, const int64_t *restrict d) {
  float *restrict b0 = (float *)a[0];
  const int8_t *restrict b1 = (const int8_t *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  const float *restrict b4 = (const float *)a[4];
  const float *restrict b5 = (const float *)a[5];
  float *restrict b6 = (float *)a[6];
  (void)d;
  if ((d[0] < 4)) {
    {
      const struct fmc_ctx fmc_c = {a, d};
      const int64_t fmc_n = fmc_max_ix(0, 1 - 0);
      if ((d[0] * 4096) >= 32768) fmc_parallel(k0_gemm_p0, &fmc_c, fmc_n); else k0_gemm_p0(&fmc_c, 0, fmc_n);
    }
  } else {
    if ((b6[0] == 0x0p+0f)) {
      {
        const struct fmc_ctx fmc_c = {a, d};
        const int64_t fmc_n = fmc_max_ix(0, (32 - 0 + 15) / 16);
        if (4096 >= 32768) fmc_parallel(k0_gemm_p1, &fmc_c, fmc_n); else k0_gemm_p1(&fmc_c, 0, fmc_n);
      }
      b6[0] = 0x1.000000p+0f;
    }
    int64_t tl_20 = ((d[0] + 5) / 6);
    int64_t nb_21 = fmc_min_ix(tl_20, (((((tl_20 + 15) / 16) + 3) / 4) * 4));
    int64_t np_26 = 2;
    int64_t nn_25 = fmc_max_ix(1, fmc_min_ix(np_26, ((4 + (fmc_max_ix(nb_21, 1) - 1)) / fmc_max_ix(nb_21, 1))));
    {
      const int64_t fmc_v[] = {nb_21, nn_25, np_26, tl_20};
      const struct fmc_ctx fmc_c = {a, d, fmc_v};
      const int64_t fmc_n = fmc_max_ix(0, (nb_21 * nn_25) - 0);
      if ((d[0] * 4096) >= 32768) fmc_parallel(k0_gemm_p2, &fmc_c, fmc_n); else k0_gemm_p2(&fmc_c, 0, fmc_n);
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
