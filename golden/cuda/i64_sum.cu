/* fmc_k0 grid: {"invocations":{"k":"const","t":"i64","v":4096},"workgroup":64,"tiled":true} */
/* fmc_k1 grid: {"invocations":{"k":"const","t":"i64","v":64},"workgroup":64,"tiled":true} */
/* golden_cuda_i64_sum */
/* cudaPrelude(1, false) (src/codegen/prelude-cuda.ts) */

/* fmc_k0: k0_reduce: partials of a split reduction */
extern "C" __global__ void __launch_bounds__(64, 8) fmc_k0(long long *__restrict__ b0, const long long *__restrict__ b1, const fmc_dims d) {
  __shared__ int64_t sh_4[64];
  int32_t wg_2 = ((int)(blockIdx.y * gridDim.x + blockIdx.x));
  if ((wg_2 < 64)) {
    int32_t l_3 = ((int)threadIdx.x);
    int64_t acc_0 = 0;
    #pragma unroll 4
    for (int r_1 = (((wg_2 % 64) * 64) + l_3); r_1 < ((int)d.v[0]); r_1 += 4096) {
      acc_0 = fmc_add_i(acc_0, (int64_t)b1[r_1]);
    }
    sh_4[l_3] = acc_0;
    __syncthreads();
    if ((l_3 < 32)) {
      int64_t sh_4_w = fmc_add_i(sh_4[l_3], sh_4[(l_3 + 32)]);
      int64_t sh_4_w16 = fmc_shfl_xor(sh_4_w, 16);
      sh_4_w = fmc_add_i(sh_4_w, sh_4_w16);
      int64_t sh_4_w8 = fmc_shfl_xor(sh_4_w, 8);
      sh_4_w = fmc_add_i(sh_4_w, sh_4_w8);
      int64_t sh_4_w4 = fmc_shfl_xor(sh_4_w, 4);
      sh_4_w = fmc_add_i(sh_4_w, sh_4_w4);
      int64_t sh_4_w2 = fmc_shfl_xor(sh_4_w, 2);
      sh_4_w = fmc_add_i(sh_4_w, sh_4_w2);
      int64_t sh_4_w1 = fmc_shfl_xor(sh_4_w, 1);
      sh_4_w = fmc_add_i(sh_4_w, sh_4_w1);
      if ((l_3 == 0)) {
        sh_4[0] = sh_4_w;
      }
    }
    __syncthreads();
    acc_0 = sh_4[0];
    if ((l_3 == 0)) {
      b0[wg_2] = acc_0;
    }
  }
}

/* fmc_k1: k1_reduce: reduce %1 */
extern "C" __global__ void __launch_bounds__(64, 8) fmc_k1(long long *__restrict__ b0, const long long *__restrict__ b1, const fmc_dims d) {
  __shared__ int64_t sh_4[64];
  int32_t wg_2 = ((int)(blockIdx.y * gridDim.x + blockIdx.x));
  if ((wg_2 < 1)) {
    int32_t l_3 = ((int)threadIdx.x);
    int64_t acc_0 = 0;
    #pragma unroll 4
    for (int r_1 = l_3; r_1 < 64; r_1 += 64) {
      acc_0 = fmc_add_i(acc_0, (int64_t)b1[((wg_2 * 64) + r_1)]);
    }
    sh_4[l_3] = acc_0;
    __syncthreads();
    if ((l_3 < 32)) {
      int64_t sh_4_w = fmc_add_i(sh_4[l_3], sh_4[(l_3 + 32)]);
      int64_t sh_4_w16 = fmc_shfl_xor(sh_4_w, 16);
      sh_4_w = fmc_add_i(sh_4_w, sh_4_w16);
      int64_t sh_4_w8 = fmc_shfl_xor(sh_4_w, 8);
      sh_4_w = fmc_add_i(sh_4_w, sh_4_w8);
      int64_t sh_4_w4 = fmc_shfl_xor(sh_4_w, 4);
      sh_4_w = fmc_add_i(sh_4_w, sh_4_w4);
      int64_t sh_4_w2 = fmc_shfl_xor(sh_4_w, 2);
      sh_4_w = fmc_add_i(sh_4_w, sh_4_w2);
      int64_t sh_4_w1 = fmc_shfl_xor(sh_4_w, 1);
      sh_4_w = fmc_add_i(sh_4_w, sh_4_w1);
      if ((l_3 == 0)) {
        sh_4[0] = sh_4_w;
      }
    }
    __syncthreads();
    acc_0 = sh_4[0];
    if ((l_3 == 0)) {
      b0[0] = acc_0;
    }
  }
}
