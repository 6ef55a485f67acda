/* fmc_k0 grid: {"invocations":{"k":"ix","op":"*","a":{"k":"ix","op":"*","a":{"k":"dim","slot":1},"b":{"k":"dim","slot":0}},"b":{"k":"const","t":"i64","v":64}},"workgroup":64,"tiled":true} */
/* golden_cuda_softmax */
/* cudaPrelude(2, false) (src/codegen/prelude-cuda.ts) */

/* fmc_k0: k0_rows: reduce %1 + 3 fused, stores %5 in attn */
extern "C" __global__ void __launch_bounds__(64, 8) fmc_k0(float *__restrict__ b0, const float *__restrict__ b1, const fmc_dims d) {
  __shared__ float sh_4[64];
  __shared__ float sh_9[64];
  int32_t wg_0 = ((int)(blockIdx.y * gridDim.x + blockIdx.x));
  if ((wg_0 < (((int)d.v[1]) * ((int)d.v[0])))) {
    int32_t l_1 = ((int)threadIdx.x);
    float acc_2 = (-INFINITY);
    #pragma unroll 4
    for (int j_3 = l_1; j_3 < ((int)d.v[0]); j_3 += 64) {
      acc_2 = fmc_max_f(acc_2, b1[((((wg_0 / ((int)d.v[0])) * (((int)d.v[0]) * ((int)d.v[0]))) + ((wg_0 % ((int)d.v[0])) * ((int)d.v[0]))) + j_3)]);
    }
    sh_4[l_1] = acc_2;
    __syncthreads();
    if ((l_1 < 32)) {
      float sh_4_w = fmc_max_f(sh_4[l_1], sh_4[(l_1 + 32)]);
      float sh_4_w16 = fmc_shfl_xor(sh_4_w, 16);
      sh_4_w = fmc_max_f(sh_4_w, sh_4_w16);
      float sh_4_w8 = fmc_shfl_xor(sh_4_w, 8);
      sh_4_w = fmc_max_f(sh_4_w, sh_4_w8);
      float sh_4_w4 = fmc_shfl_xor(sh_4_w, 4);
      sh_4_w = fmc_max_f(sh_4_w, sh_4_w4);
      float sh_4_w2 = fmc_shfl_xor(sh_4_w, 2);
      sh_4_w = fmc_max_f(sh_4_w, sh_4_w2);
      float sh_4_w1 = fmc_shfl_xor(sh_4_w, 1);
      sh_4_w = fmc_max_f(sh_4_w, sh_4_w1);
      if ((l_1 == 0)) {
        sh_4[0] = sh_4_w;
      }
    }
    __syncthreads();
    acc_2 = sh_4[0];
    float acc_5 = 0x0p+0f;
    #pragma unroll 4
    for (int j_6 = l_1; j_6 < ((int)d.v[0]); j_6 += 64) {
      float v_7 = __fsub_rn(b1[((((wg_0 / ((int)d.v[0])) * (((int)d.v[0]) * ((int)d.v[0]))) + ((wg_0 % ((int)d.v[0])) * ((int)d.v[0]))) + j_6)], acc_2);
      float v_8 = fmc_exp_f(v_7);
      b0[((((wg_0 / ((int)d.v[0])) * (((int)d.v[0]) * ((int)d.v[0]))) + ((wg_0 % ((int)d.v[0])) * ((int)d.v[0]))) + j_6)] = v_8;
      acc_5 = __fadd_rn(acc_5, v_8);
    }
    sh_9[l_1] = acc_5;
    __syncthreads();
    if ((l_1 < 32)) {
      float sh_9_w = __fadd_rn(sh_9[l_1], sh_9[(l_1 + 32)]);
      float sh_9_w16 = fmc_shfl_xor(sh_9_w, 16);
      sh_9_w = __fadd_rn(sh_9_w, sh_9_w16);
      float sh_9_w8 = fmc_shfl_xor(sh_9_w, 8);
      sh_9_w = __fadd_rn(sh_9_w, sh_9_w8);
      float sh_9_w4 = fmc_shfl_xor(sh_9_w, 4);
      sh_9_w = __fadd_rn(sh_9_w, sh_9_w4);
      float sh_9_w2 = fmc_shfl_xor(sh_9_w, 2);
      sh_9_w = __fadd_rn(sh_9_w, sh_9_w2);
      float sh_9_w1 = fmc_shfl_xor(sh_9_w, 1);
      sh_9_w = __fadd_rn(sh_9_w, sh_9_w1);
      if ((l_1 == 0)) {
        sh_9[0] = sh_9_w;
      }
    }
    __syncthreads();
    acc_5 = sh_9[0];
    #pragma unroll 4
    for (int j_10 = l_1; j_10 < ((int)d.v[0]); j_10 += 64) {
      b0[((((wg_0 / ((int)d.v[0])) * (((int)d.v[0]) * ((int)d.v[0]))) + ((wg_0 % ((int)d.v[0])) * ((int)d.v[0]))) + j_10)] = fmc_div_f(b0[((((wg_0 / ((int)d.v[0])) * (((int)d.v[0]) * ((int)d.v[0]))) + ((wg_0 % ((int)d.v[0])) * ((int)d.v[0]))) + j_10)], acc_5);
    }
  }
}
