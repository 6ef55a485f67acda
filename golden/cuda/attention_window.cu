/* fmc_k0 grid: {"invocations":{"k":"ix","op":"*","a":{"k":"ix","op":"*","a":{"k":"ix","op":"*","a":{"k":"dim","slot":2},"b":{"k":"const","t":"i64","v":2}},"b":{"k":"ix","op":"/","a":{"k":"ix","op":"+","a":{"k":"dim","slot":0},"b":{"k":"const","t":"i64","v":15}},"b":{"k":"const","t":"i64","v":16}}},"b":{"k":"const","t":"i64","v":64}},"workgroup":64,"tiled":true} */
/* golden_cuda_attention_window */
/* cudaPrelude(3, false) (src/codegen/prelude-cuda.ts) */

/* fmc_k0: k0_attention: einsum %3 + 11 fused, stores %27 */
extern "C" __global__ void __launch_bounds__(64, 8) fmc_k0(const float *__restrict__ b0, const float *__restrict__ b1, const float *__restrict__ b2, float *__restrict__ b3, const fmc_dims d) {
  __shared__ float qs_14[512];
  __shared__ float ks_15[528];
  __shared__ float vs_16[512];
  __shared__ float ss_17[272];
  __shared__ float mx_18[16];
  __shared__ float ls_19[16];
  __shared__ float al_20[16];
  int32_t wg_0 = ((int)(blockIdx.y * gridDim.x + blockIdx.x));
  if ((wg_0 < ((((int)d.v[2]) * 2) * ((((int)d.v[0]) + 15) / 16)))) {
    int32_t b_1 = (wg_0 / ((((int)d.v[0]) + 15) / 16));
    int32_t q0_2 = ((wg_0 % ((((int)d.v[0]) + 15) / 16)) * 16);
    int32_t lo_3 = fmc_max_i32(0, (fmc_min_i32((q0_2 + -8), ((fmc_min_i32((q0_2 + 16), ((int)d.v[0])) - 1) + -8)) + 1));
    int32_t hi_4 = fmc_min_i32(((int)d.v[1]), fmc_max_i32((0 - ((-1 * q0_2) + -1)), (0 - ((-1 * (fmc_min_i32((q0_2 + 16), ((int)d.v[0])) - 1)) + -1))));
    int32_t l_6 = ((int)threadIdx.x);
    float o_21[8];
    #pragma unroll
    for (int z_13 = 0; z_13 < 8; z_13++) {
      o_21[z_13] = 0x0p+0f;
    }
    #pragma unroll 4
    for (int t_10 = l_6; t_10 < 512; t_10 += 64) {
      int32_t i_8 = (t_10 / 32);
      int32_t d_11 = (t_10 % 32);
      qs_14[t_10] = (((q0_2 + i_8) < ((int)d.v[0])) ? b0[(((((b_1 / 2) * ((32 * ((int)d.v[0])) * 2)) + ((b_1 % 2) * (32 * ((int)d.v[0])))) + ((q0_2 + i_8) * 32)) + d_11)] : 0x0p+0f);
    }
    if ((l_6 < 16)) {
      mx_18[l_6] = (-INFINITY);
      ls_19[l_6] = 0x0p+0f;
    }
    __syncthreads();
    #pragma unroll 1
    for (int k0_5 = lo_3; k0_5 < hi_4; k0_5 += 16) {
      #pragma unroll 4
      for (int t_10 = l_6; t_10 < 512; t_10 += 64) {
        int32_t j_9 = (t_10 / 32);
        int32_t d_11 = (t_10 % 32);
        ks_15[((j_9 * 33) + d_11)] = (((k0_5 + j_9) < hi_4) ? b1[(((((b_1 / 2) * ((32 * ((int)d.v[1])) * 2)) + ((b_1 % 2) * (32 * ((int)d.v[1])))) + ((k0_5 + j_9) * 32)) + d_11)] : 0x0p+0f);
      }
      #pragma unroll 4
      for (int t_10 = l_6; t_10 < 512; t_10 += 64) {
        int32_t j_9 = (t_10 / 32);
        int32_t d_11 = (t_10 % 32);
        vs_16[t_10] = (((k0_5 + j_9) < hi_4) ? b2[(((((b_1 / 2) * ((32 * ((int)d.v[1])) * 2)) + ((b_1 % 2) * (32 * ((int)d.v[1])))) + ((k0_5 + j_9) * 32)) + d_11)] : 0x0p+0f);
      }
      __syncthreads();
      #pragma unroll 4
      for (int t_10 = l_6; t_10 < 256; t_10 += 64) {
        int32_t i_8 = (t_10 / 16);
        int32_t j_9 = (t_10 % 16);
        float x_23 = (-INFINITY);
        if ((((k0_5 + j_9) < hi_4) && ((q0_2 + i_8) < ((int)d.v[0])))) {
          float dot_22 = 0x0p+0f;
          #pragma unroll 4
          for (int d_11 = 0; d_11 < 32; d_11++) {
            dot_22 = fmaf(qs_14[((i_8 * 32) + d_11)], ks_15[((j_9 * 33) + d_11)], dot_22);
          }
          x_23 = (((fmc_wrap((k0_5 + j_9), 32) <= fmc_wrap((q0_2 + i_8), 32)) && (fmc_wrap(fmc_sub_i(fmc_wrap((q0_2 + i_8), 32), fmc_wrap((k0_5 + j_9), 32)), 32) < 8)) ? __fmul_rn(dot_22, 0x1.6a09e6p-3f) : (-INFINITY));
        }
        ss_17[((i_8 * 17) + j_9)] = x_23;
      }
      __syncthreads();
      if ((l_6 < 16)) {
        float rm_24 = (-INFINITY);
        float nan_25 = 0x0p+0f;
        for (int j_9 = 0; j_9 < 16; j_9++) {
          float x_7 = ss_17[((l_6 * 17) + j_9)];
          rm_24 = ((x_7 > rm_24) ? x_7 : rm_24);
          nan_25 = __fadd_rn(nan_25, ((x_7 != x_7) ? 0x1.000000p+0f : 0x0p+0f));
        }
        float mnew_26 = ((nan_25 > 0x0p+0f) ? NAN : ((rm_24 > mx_18[l_6]) ? rm_24 : mx_18[l_6]));
        float ms_27 = ((mnew_26 == (-INFINITY)) ? 0x0p+0f : mnew_26);
        float alpha_28 = fmc_exp_f(__fsub_rn(mx_18[l_6], ms_27));
        float rs_30 = 0x0p+0f;
        for (int j_9 = 0; j_9 < 16; j_9++) {
          float p_29 = fmc_exp_f(__fsub_rn(ss_17[((l_6 * 17) + j_9)], ms_27));
          ss_17[((l_6 * 17) + j_9)] = p_29;
          rs_30 = __fadd_rn(rs_30, p_29);
        }
        ls_19[l_6] = fmaf(ls_19[l_6], alpha_28, rs_30);
        mx_18[l_6] = mnew_26;
        al_20[l_6] = alpha_28;
      }
      __syncthreads();
      #pragma unroll
      for (int r_12 = 0; r_12 < 8; r_12++) {
        int32_t t_10 = (l_6 + (r_12 * 64));
        if ((t_10 < 512)) {
          int32_t i_8 = (t_10 / 32);
          int32_t d_11 = (t_10 % 32);
          float acc_31 = __fmul_rn(o_21[r_12], al_20[i_8]);
          for (int j_9 = 0; j_9 < 16; j_9++) {
            acc_31 = fmaf(ss_17[((i_8 * 17) + j_9)], vs_16[((j_9 * 32) + d_11)], acc_31);
          }
          o_21[r_12] = acc_31;
        }
      }
      __syncthreads();
    }
    #pragma unroll
    for (int r_12 = 0; r_12 < 8; r_12++) {
      int32_t t_10 = (l_6 + (r_12 * 64));
      if ((t_10 < 512)) {
        int32_t i_8 = (t_10 / 32);
        int32_t d_11 = (t_10 % 32);
        if (((q0_2 + i_8) < ((int)d.v[0]))) {
          b3[(((((b_1 / 2) * ((32 * ((int)d.v[0])) * 2)) + ((b_1 % 2) * (32 * ((int)d.v[0])))) + ((q0_2 + i_8) * 32)) + d_11)] = ((ls_19[i_8] == 0x0p+0f) ? 0x0p+0f : fmc_div_f(o_21[r_12], ls_19[i_8]));
        }
      }
    }
  }
}
