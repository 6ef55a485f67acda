/* golden_kernels_attention.c */
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

/* k0_attention, parallel loop over it_0: iterations [fmc_lo, fmc_hi) */
static void k0_attention_p0(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi) {
  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;
  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;
  const float *restrict b0 = (const float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  float *restrict b3 = (float *)a[3];
  (void)a;
  (void)d;
  for (int64_t it_0 = fmc_lo; it_0 < fmc_hi; it_0++) {
    static _Thread_local float fmc_tls_qp_19[256] __attribute__((aligned(64))); float *const restrict qp_19 = fmc_tls_qp_19;
    static _Thread_local float fmc_tls_kp_20[528] __attribute__((aligned(64))); float *const restrict kp_20 = fmc_tls_kp_20;
    static _Thread_local float fmc_tls_vp_21[800] __attribute__((aligned(64))); float *const restrict vp_21 = fmc_tls_vp_21;
    static _Thread_local float fmc_tls_st_22[2112] __attribute__((aligned(64))); float *const restrict st_22 = fmc_tls_st_22;
    static _Thread_local float fmc_tls_ot_23[384] __attribute__((aligned(64))); float *const restrict ot_23 = fmc_tls_ot_23;
    float acc_24[96] __attribute__((aligned(64)));
    float mx_25[32] __attribute__((aligned(64)));
    float ls_26[32] __attribute__((aligned(64)));
    float al_27[32] __attribute__((aligned(64)));
    float ms_28[32] __attribute__((aligned(64)));
    float rm_29[32] __attribute__((aligned(64)));
    float nan_30[32] __attribute__((aligned(64)));
    int64_t b_1 = (it_0 / ((d[0] + 31) / 32));
    int64_t q0_2 = ((it_0 % ((d[0] + 31) / 32)) * 32);
    int64_t ql_3 = fmc_min_ix(32, (d[0] - q0_2));
    int64_t lo_4 = fmc_max_ix(0, (fmc_min_ix((q0_2 + -4), (((q0_2 + ql_3) - 1) + -4)) + 1));
    int64_t hi_5 = fmc_min_ix(d[1], fmc_max_ix((0 - ((-1 * q0_2) + -1)), (0 - ((-1 * ((q0_2 + ql_3) - 1)) + -1))));
    for (int64_t jp_13 = 0; jp_13 < 2; jp_13++) {
      for (int64_t d_10 = 0; d_10 < 8; d_10++) {
        for (int64_t c_16 = 0; c_16 < 16; c_16++) {
          int64_t i_8 = ((jp_13 * 16) + c_16);
          qp_19[(((jp_13 * 128) + (d_10 * 16)) + c_16)] = ((i_8 < ql_3) ? b0[(((((b_1 / 2) * ((8 * d[0]) * 2)) + ((b_1 % 2) * (8 * d[0]))) + ((q0_2 + i_8) * 8)) + d_10)] : 0x0p+0f);
        }
      }
    }
    #pragma omp simd
    for (int64_t i_8 = 0; i_8 < 32; i_8++) {
      mx_25[i_8] = (-__builtin_inff());
      ls_26[i_8] = 0x0p+0f;
    }
    for (int64_t j_9 = 0; j_9 < 66; j_9++) {
      for (int64_t r_15 = 2; r_15 < 6; r_15++) {
        vp_21[((400 + (j_9 * 6)) + r_15)] = 0x0p+0f;
      }
    }
    #pragma omp simd
    for (int64_t z_18 = 0; z_18 < 384; z_18++) {
      ot_23[z_18] = 0x0p+0f;
    }
    for (int64_t k0_6 = lo_4; k0_6 < hi_5; k0_6 += 66) {
      int64_t kl_7 = fmc_min_ix(66, (hi_5 - k0_6));
      for (int64_t ip_12 = 0; ip_12 < ((kl_7 + 5) / 6); ip_12++) {
        for (int64_t d_10 = 0; d_10 < 8; d_10++) {
          for (int64_t r_15 = 0; r_15 < 6; r_15++) {
            int64_t j_9 = ((ip_12 * 6) + r_15);
            kp_20[(((ip_12 * 48) + (d_10 * 6)) + r_15)] = ((j_9 < kl_7) ? b1[(((((b_1 / 2) * ((8 * d[1]) * 2)) + ((b_1 % 2) * (8 * d[1]))) + ((k0_6 + j_9) * 8)) + d_10)] : 0x0p+0f);
          }
        }
      }
      for (int64_t ep_14 = 0; ep_14 < 2; ep_14++) {
        for (int64_t j_9 = 0; j_9 < kl_7; j_9++) {
          for (int64_t r_15 = 0; r_15 < fmc_min_ix(6, (8 - (ep_14 * 6))); r_15++) {
            int64_t e_11 = ((ep_14 * 6) + r_15);
            vp_21[(((ep_14 * 400) + (j_9 * 6)) + r_15)] = b2[(((((b_1 / 2) * ((8 * d[1]) * 2)) + ((b_1 % 2) * (8 * d[1]))) + ((k0_6 + j_9) * 8)) + e_11)];
          }
        }
      }
      for (int64_t ip_12 = 0; ip_12 < ((kl_7 + 5) / 6); ip_12++) {
        for (int64_t jp_13 = 0; jp_13 < ((ql_3 + 15) / 16); jp_13++) {
          for (int64_t r_15 = 0; r_15 < 6; r_15++) {
            #pragma omp simd
            for (int64_t c_16 = 0; c_16 < 16; c_16++) {
              acc_24[((r_15 * 16) + c_16)] = 0x0p+0f;
            }
          }
          fmc_mma_6x16(8, kp_20 + (ip_12 * 48), qp_19 + (jp_13 * 128), acc_24);
          for (int64_t r_15 = 0; r_15 < 6; r_15++) {
            #pragma omp simd
            for (int64_t c_16 = 0; c_16 < 16; c_16++) {
              st_22[(((jp_13 * 1056) + (((ip_12 * 6) + r_15) * 16)) + c_16)] = acc_24[((r_15 * 16) + c_16)];
            }
          }
        }
      }
      #pragma omp simd
      for (int64_t i_8 = 0; i_8 < 32; i_8++) {
        rm_29[i_8] = (-__builtin_inff());
        nan_30[i_8] = 0x0p+0f;
      }
      for (int64_t jp_13 = 0; jp_13 < ((ql_3 + 15) / 16); jp_13++) {
        int64_t cl_17 = fmc_min_ix(16, (ql_3 - (jp_13 * 16)));
        for (int64_t j_9 = 0; j_9 < kl_7; j_9++) {
          #pragma omp simd
          for (int64_t c_16 = 0; c_16 < cl_17; c_16++) {
            int64_t i_8 = ((jp_13 * 16) + c_16);
            float dot_31 = st_22[(((jp_13 * 1056) + (j_9 * 16)) + c_16)];
            float x_32 = (((fmc_wrap((k0_6 + j_9), 32) <= fmc_wrap((q0_2 + i_8), 32)) && (fmc_wrap(fmc_sub_i(fmc_wrap((q0_2 + i_8), 32), fmc_wrap((k0_6 + j_9), 32)), 32) < 4)) ? fmc_mul_f(dot_31, 0x1.6a09e6p-2f) : (-__builtin_inff()));
            st_22[(((jp_13 * 1056) + (j_9 * 16)) + c_16)] = x_32;
            rm_29[i_8] = ((x_32 > rm_29[i_8]) ? x_32 : rm_29[i_8]);
            nan_30[i_8] = fmc_add_f(nan_30[i_8], ((x_32 != x_32) ? 0x1.000000p+0f : 0x0p+0f));
          }
        }
      }
      #pragma omp simd
      for (int64_t i_8 = 0; i_8 < 32; i_8++) {
        float mnew_33 = ((nan_30[i_8] > 0x0p+0f) ? (__builtin_nanf("")) : ((rm_29[i_8] > mx_25[i_8]) ? rm_29[i_8] : mx_25[i_8]));
        ms_28[i_8] = ((mnew_33 == (-__builtin_inff())) ? 0x0p+0f : mnew_33);
        al_27[i_8] = fmc_exp_f(fmc_sub_f(mx_25[i_8], ms_28[i_8]));
        mx_25[i_8] = mnew_33;
        rm_29[i_8] = 0x0p+0f;
      }
      for (int64_t jp_13 = 0; jp_13 < ((ql_3 + 15) / 16); jp_13++) {
        int64_t cl_17 = fmc_min_ix(16, (ql_3 - (jp_13 * 16)));
        for (int64_t j_9 = 0; j_9 < kl_7; j_9++) {
          #pragma omp simd
          for (int64_t c_16 = 0; c_16 < cl_17; c_16++) {
            int64_t i_8 = ((jp_13 * 16) + c_16);
            float p_34 = fmc_exp_f(fmc_sub_f(st_22[(((jp_13 * 1056) + (j_9 * 16)) + c_16)], ms_28[i_8]));
            st_22[(((jp_13 * 1056) + (j_9 * 16)) + c_16)] = p_34;
            rm_29[i_8] = fmc_add_f(rm_29[i_8], p_34);
          }
        }
      }
      #pragma omp simd
      for (int64_t i_8 = 0; i_8 < 32; i_8++) {
        ls_26[i_8] = fmaf(ls_26[i_8], al_27[i_8], rm_29[i_8]);
      }
      for (int64_t ep_14 = 0; ep_14 < 2; ep_14++) {
        for (int64_t jp_13 = 0; jp_13 < ((ql_3 + 15) / 16); jp_13++) {
          for (int64_t r_15 = 0; r_15 < 6; r_15++) {
            #pragma omp simd
            for (int64_t c_16 = 0; c_16 < 16; c_16++) {
              acc_24[((r_15 * 16) + c_16)] = fmc_mul_f(ot_23[((((ep_14 * 2) + jp_13) * 96) + ((r_15 * 16) + c_16))], al_27[((jp_13 * 16) + c_16)]);
            }
          }
          fmc_mma_6x16(kl_7, vp_21 + (ep_14 * 400), st_22 + (jp_13 * 1056), acc_24);
          for (int64_t r_15 = 0; r_15 < 6; r_15++) {
            #pragma omp simd
            for (int64_t c_16 = 0; c_16 < 16; c_16++) {
              ot_23[((((ep_14 * 2) + jp_13) * 96) + ((r_15 * 16) + c_16))] = acc_24[((r_15 * 16) + c_16)];
            }
          }
        }
      }
    }
    for (int64_t i_8 = 0; i_8 < ql_3; i_8++) {
      for (int64_t e_11 = 0; e_11 < 8; e_11++) {
        b3[(((((b_1 / 2) * ((8 * d[0]) * 2)) + ((b_1 % 2) * (8 * d[0]))) + ((q0_2 + i_8) * 8)) + e_11)] = ((ls_26[i_8] == 0x0p+0f) ? 0x0p+0f : fmc_div_f(ot_23[(((((e_11 / 6) * 2) + (i_8 / 16)) * 96) + (((e_11 % 6) * 16) + (i_8 % 16)))], ls_26[i_8]));
      }
    }
  }
}

/* k0_attention: einsum %3 + 11 fused, stores %27 */
static void k0_attention(void *const *restrict a, const int64_t *restrict d) {
  const float *restrict b0 = (const float *)a[0];
  const float *restrict b1 = (const float *)a[1];
  const float *restrict b2 = (const float *)a[2];
  float *restrict b3 = (float *)a[3];
  (void)d;
  {
    const struct fmc_ctx fmc_c = {a, d};
    const int64_t fmc_n = fmc_max_ix(0, ((d[2] * 2) * ((d[0] + 31) / 32)) - 0);
    if ((((d[2] * 2) * (d[0] * d[1])) * 16) >= 32768) fmc_parallel(k0_attention_p0, &fmc_c, fmc_n); else k0_attention_p0(&fmc_c, 0, fmc_n);
  }
}

typedef void (*fmc_kernel)(void *const *restrict, const int64_t *restrict);
const int32_t fmc_abi_version = 1;
const int32_t fmc_kernel_count = 1;
const fmc_kernel fmc_kernels[1] = {k0_attention};
void fmc_set_threads(int32_t n) {
#ifdef _OPENMP
  if (n > 0) omp_set_num_threads(n);
#else
  (void)n;
#endif
}
void fmc_set_parallel(fmc_parallel_fn f) { fmc_parallel = f ? f : fmc_serial; }
