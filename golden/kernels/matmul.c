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
        b0[((m_4 * 32) + (n0_2 + j_5))] = v_12;
      }
    }
  }
}

/* k0_gemm, parallel loop over p_35: iterations [fmc_lo, fmc_hi) */
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
    int64_t p_35 = 0 + fmc_t * 16;
    for (int64_t r_37 = 0; r_37 < 16; r_37++) {
      for (int64_t k_36 = 0; k_36 < 64; k_36++) {
        b4[((16 + ((p_35 * 64) + (k_36 * 16))) + r_37)] = (((p_35 + r_37) < 32) ? b2[(((p_35 + r_37) * 64) + k_36)] : 0x0p+0f);
      }
    }
  }
}

/* k0_gemm, parallel loop over mi_21: iterations [fmc_lo, fmc_hi) */
static void k0_gemm_p2(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  float *restrict b0 = (float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  const float *restrict b3 = (const float *)a[3];
  float *restrict b4 = (float *)a[4];
  const int64_t kc_18 = ((const struct fmc_ctx *)fmc_c)->v[0];
  const int64_t mb_20 = ((const struct fmc_ctx *)fmc_c)->v[1];
  const int64_t n0_15 = ((const struct fmc_ctx *)fmc_c)->v[2];
  const int64_t nl_16 = ((const struct fmc_ctx *)fmc_c)->v[3];
  const int64_t pc_17 = ((const struct fmc_ctx *)fmc_c)->v[4];
  (void)a;
  (void)d;
  for (int64_t mi_21 = fmc_lo; mi_21 < fmc_hi; mi_21++) {
    static _Thread_local float fmc_tls_ap_22[30720] __attribute__((aligned(64))); float *const restrict ap_22 = fmc_tls_ap_22;
    int64_t m0_13 = (mi_21 * mb_20);
    int64_t ml_14 = fmc_min_ix(mb_20, (d[0] - m0_13));
    for (int64_t p_23 = 0; p_23 < ml_14; p_23 += 6) {
      for (int64_t r_25 = 0; r_25 < 6; r_25++) {
        for (int64_t k_24 = 0; k_24 < kc_18; k_24++) {
          ap_22[(((p_23 * 320) + (k_24 * 6)) + r_25)] = (((p_23 + r_25) < ml_14) ? b1[(((m0_13 + (p_23 + r_25)) * 64) + (pc_17 + k_24))] : 0x0p+0f);
        }
      }
    }
    for (int64_t jr_26 = 0; jr_26 < nl_16; jr_26 += 16) {
      for (int64_t ir_27 = 0; ir_27 < ml_14; ir_27 += 6) {
        float acc_28[96] __attribute__((aligned(64)));
        #pragma omp simd
        for (int64_t i_29 = 0; i_29 < 96; i_29++) {
          acc_28[i_29] = 0x0p+0f;
        }
        fmc_mma_6x16(kc_18, ap_22 + (ir_27 * 320), b4 + (16 + (((n0_15 + jr_26) * 64) + (pc_17 * 16))), acc_28);
        int64_t ie_31 = fmc_min_ix(6, (ml_14 - ir_27));
        int64_t je_32 = fmc_min_ix(16, (nl_16 - jr_26));
        for (int64_t i_29 = 0; i_29 < ie_31; i_29++) {
          for (int64_t j_30 = 0; j_30 < je_32; j_30++) {
            float c_33 = acc_28[((i_29 * 16) + j_30)];
            float v_34 = fmc_add_f(c_33, b3[(n0_15 + (jr_26 + j_30))]);
            b0[(((m0_13 + (ir_27 + i_29)) * 32) + (n0_15 + (jr_26 + j_30)))] = v_34;
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
    int64_t mb_20 = fmc_min_ix(96, fmc_max_ix(6, (((((d[0] + 3) / 4) + 5) / 6) * 6)));
    for (int64_t jc_19 = 0; jc_19 < 1; jc_19++) {
      int64_t n0_15 = (jc_19 * 512);
      int64_t nl_16 = fmc_min_ix(512, (32 - n0_15));
      int64_t nk_39 = 1;
      int64_t kcb_40 = ((64 + (nk_39 - 1)) / nk_39);
      for (int64_t kb_38 = 0; kb_38 < nk_39; kb_38++) {
        int64_t pc_17 = (kb_38 * kcb_40);
        int64_t kc_18 = fmc_min_ix(kcb_40, (64 - pc_17));
        {
          const int64_t fmc_v[] = {kc_18, mb_20, n0_15, nl_16, pc_17};
          const struct fmc_ctx fmc_c = {a, d, fmc_v};
          const int64_t fmc_n = fmc_max_ix(0, ((d[0] + (mb_20 - 1)) / mb_20) - 0);
          if ((d[0] * (nl_16 * kc_18)) >= 32768) fmc_parallel(k0_gemm_p2, &fmc_c, fmc_n); else k0_gemm_p2(&fmc_c, 0, fmc_n);
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
