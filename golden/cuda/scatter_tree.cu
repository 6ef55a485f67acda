/* fmc_k0 grid: {"invocations":{"k":"const","t":"i64","v":64},"workgroup":64,"tiled":true} */
/* golden_cuda_scatter_tree */
/* cudaPrelude(1, false) (src/codegen/prelude-cuda.ts) */

/* fmc_k0: k0_scatter_add: scatter_add %3 */
extern "C" __global__ void __launch_bounds__(64, 8) fmc_k0(float *__restrict__ b0, const float *__restrict__ b1, const int *__restrict__ b2, const float *__restrict__ b3, const fmc_dims d) {
  __shared__ float sh_1[512];
  int32_t wg_6 = ((int)(blockIdx.y * gridDim.x + blockIdx.x));
  if ((wg_6 < 1)) {
    int32_t l_7 = ((int)threadIdx.x);
    float part_0[8];
    for (int v_2 = 0; v_2 < 8; v_2++) {
      part_0[v_2] = 0x0p+0f;
    }
    #pragma unroll 4
    for (int s_3 = l_7; s_3 < ((int)d.v[0]); s_3 += 64) {
      int64_t t_4 = (int64_t)b2[s_3];
      if (((t_4 >= 0) && (t_4 < 8))) {
        part_0[t_4] = __fadd_rn(part_0[t_4], b3[s_3]);
      }
    }
    for (int v_2 = 0; v_2 < 8; v_2++) {
      sh_1[((v_2 * 64) + l_7)] = part_0[v_2];
    }
    __syncthreads();
    if ((l_7 < 32)) {
      for (int v_2 = 0; v_2 < 8; v_2++) {
        sh_1[((v_2 * 64) + l_7)] = __fadd_rn(sh_1[((v_2 * 64) + l_7)], sh_1[((v_2 * 64) + (l_7 + 32))]);
      }
    }
    __syncthreads();
    if ((l_7 < 16)) {
      for (int v_2 = 0; v_2 < 8; v_2++) {
        sh_1[((v_2 * 64) + l_7)] = __fadd_rn(sh_1[((v_2 * 64) + l_7)], sh_1[((v_2 * 64) + (l_7 + 16))]);
      }
    }
    __syncthreads();
    if ((l_7 < 8)) {
      for (int v_2 = 0; v_2 < 8; v_2++) {
        sh_1[((v_2 * 64) + l_7)] = __fadd_rn(sh_1[((v_2 * 64) + l_7)], sh_1[((v_2 * 64) + (l_7 + 8))]);
      }
    }
    __syncthreads();
    if ((l_7 < 4)) {
      for (int v_2 = 0; v_2 < 8; v_2++) {
        sh_1[((v_2 * 64) + l_7)] = __fadd_rn(sh_1[((v_2 * 64) + l_7)], sh_1[((v_2 * 64) + (l_7 + 4))]);
      }
    }
    __syncthreads();
    if ((l_7 < 2)) {
      for (int v_2 = 0; v_2 < 8; v_2++) {
        sh_1[((v_2 * 64) + l_7)] = __fadd_rn(sh_1[((v_2 * 64) + l_7)], sh_1[((v_2 * 64) + (l_7 + 2))]);
      }
    }
    __syncthreads();
    if ((l_7 < 1)) {
      for (int v_2 = 0; v_2 < 8; v_2++) {
        sh_1[((v_2 * 64) + l_7)] = __fadd_rn(sh_1[((v_2 * 64) + l_7)], sh_1[((v_2 * 64) + (l_7 + 1))]);
      }
    }
    __syncthreads();
    #pragma unroll 4
    for (int lv_5 = l_7; lv_5 < 8; lv_5 += 64) {
      int32_t v_2 = lv_5;
      b0[v_2] = ((sh_1[(v_2 * 64)] != 0x0p+0f) ? __fadd_rn(b1[v_2], sh_1[(v_2 * 64)]) : b1[v_2]);
    }
  }
}
