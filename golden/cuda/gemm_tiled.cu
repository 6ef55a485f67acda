/* fmc_k0 grid: {"invocations":{"k":"ix","op":"*","a":{"k":"ix","op":"/","a":{"k":"ix","op":"+","a":{"k":"dim","slot":0},"b":{"k":"const","t":"i64","v":63}},"b":{"k":"const","t":"i64","v":64}},"b":{"k":"const","t":"i64","v":256}},"workgroup":256,"tiled":true} */
/* golden_cuda_gemm_tiled */
/* cudaPrelude(1, false) (src/codegen/prelude-cuda.ts) */

/* fmc_k0: k0_gemm: einsum %4 + 11 fused, stores %19 in ffn */
extern "C" __global__ void __launch_bounds__(256, 2) fmc_k0(float *__restrict__ b0, const float *__restrict__ b1, const float *__restrict__ b2, const float *__restrict__ b3, const float *__restrict__ b4, const fmc_dims d) {
  __shared__ float as_8[1024];
  __shared__ float bs_9[1024];
  int32_t wg_0 = ((int)(blockIdx.y * gridDim.x + blockIdx.x));
  if ((wg_0 < ((((int)d.v[0]) + 63) / 64))) {
    int32_t b_1 = (wg_0 / ((((int)d.v[0]) + 63) / 64));
    int32_t t_2 = (wg_0 % ((((int)d.v[0]) + 63) / 64));
    int32_t m0_3 = (t_2 * 64);
    int32_t n0_4 = 0;
    int32_t l_5 = ((int)threadIdx.x);
    int32_t tx_6 = (l_5 % 16);
    int32_t ty_7 = (l_5 / 16);
    float acc_10[16];
    float ra_11[4];
    float rb_12[4];
    #pragma unroll
    for (int i_15 = 0; i_15 < 16; i_15++) {
      acc_10[i_15] = 0x0p+0f;
    }
    for (int k0_13 = 0; k0_13 < 64; k0_13 += 16) {
      #pragma unroll
      for (int e_17 = 0; e_17 < 4; e_17++) {
        int32_t idx_18 = (l_5 + (e_17 * 256));
        as_8[(((idx_18 % 16) * 64) + (idx_18 / 16))] = ((((m0_3 + (idx_18 / 16)) < ((int)d.v[0])) && ((k0_13 + (idx_18 % 16)) < 64)) ? b1[(((m0_3 + (idx_18 / 16)) * 64) + (k0_13 + (idx_18 % 16)))] : 0x0p+0f);
      }
      #pragma unroll
      for (int e_19 = 0; e_19 < 4; e_19++) {
        int32_t idx_20 = (l_5 + (e_19 * 256));
        bs_9[(((idx_20 % 16) * 64) + (idx_20 / 16))] = ((((n0_4 + (idx_20 / 16)) < 48) && ((k0_13 + (idx_20 % 16)) < 64)) ? b2[(((n0_4 + (idx_20 / 16)) * 64) + (k0_13 + (idx_20 % 16)))] : 0x0p+0f);
      }
      __syncthreads();
      for (int kk_14 = 0; kk_14 < 16; kk_14++) {
        #pragma unroll
        for (int i_15 = 0; i_15 < 4; i_15++) {
          ra_11[i_15] = as_8[((kk_14 * 64) + (ty_7 + (i_15 * 16)))];
        }
        #pragma unroll
        for (int j_16 = 0; j_16 < 4; j_16++) {
          rb_12[j_16] = bs_9[((kk_14 * 64) + (tx_6 + (j_16 * 16)))];
        }
        #pragma unroll
        for (int i_15 = 0; i_15 < 4; i_15++) {
          #pragma unroll
          for (int j_16 = 0; j_16 < 4; j_16++) {
            acc_10[((i_15 * 4) + j_16)] = fmaf(ra_11[i_15], rb_12[j_16], acc_10[((i_15 * 4) + j_16)]);
          }
        }
      }
      __syncthreads();
    }
    #pragma unroll
    for (int i_15 = 0; i_15 < 4; i_15++) {
      #pragma unroll
      for (int j_16 = 0; j_16 < 4; j_16++) {
        int32_t m_21 = (m0_3 + (ty_7 + (i_15 * 16)));
        int32_t n_22 = (n0_4 + (tx_6 + (j_16 * 16)));
        if (((m_21 < ((int)d.v[0])) && (n_22 < 48))) {
          float c_23 = acc_10[((i_15 * 4) + j_16)];
          float v_24 = __fadd_rn(c_23, b3[n_22]);
          float v_25 = __fmul_rn(v_24, v_24);
          float v_26 = __fmul_rn(v_25, v_24);
          float v_27 = __fmul_rn(0x1.6e4e26p-5f, v_26);
          float v_28 = __fadd_rn(v_24, v_27);
          float v_29 = __fmul_rn(0x1.988454p-1f, v_28);
          float v_30 = __fmul_rn(0x1.000000p-1f, v_24);
          float v_31 = fmc_tanh_f(v_29);
          float v_32 = __fadd_rn(0x1.000000p+0f, v_31);
          float v_33 = __fmul_rn(v_30, v_32);
          float v_34 = __fadd_rn(v_33, b4[((m_21 * 48) + n_22)]);
          b0[((m_21 * 48) + n_22)] = v_34;
        }
      }
    }
  }
}
