/* fmc_k0 grid: {"invocations":{"k":"dim","slot":0},"workgroup":64} */
/* fmc_k1 grid: {"invocations":{"k":"dim","slot":0},"workgroup":64} */
/* fmc_k2 grid: {"invocations":{"k":"dim","slot":0},"workgroup":64} */
/* golden_cuda_f16_chain */
/* cudaPrelude(1, true) (src/codegen/prelude-cuda.ts) */

/* fmc_k0: k0_ew: binary %3 */
extern "C" __global__ void __launch_bounds__(64, 16) fmc_k0(unsigned short *__restrict__ b0, const unsigned short *__restrict__ b1, const unsigned short *__restrict__ b2, const fmc_dims d) {
  const int fmc_gid = (int)((blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x);
  if ((fmc_gid < ((int)d.v[0]))) {
    int32_t i_0 = fmc_gid;
    b0[i_0] = fmc_st_h(fmc_mul_h(fmc_exp_h(fmc_ld_h(b1[i_0])), fmc_ld_h(b2[i_0])));
  }
}

/* fmc_k1: k1_ew: binary %4 */
extern "C" __global__ void __launch_bounds__(64, 16) fmc_k1(unsigned short *__restrict__ b0, const unsigned short *__restrict__ b1, const unsigned short *__restrict__ b2, const fmc_dims d) {
  const int fmc_gid = (int)((blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x);
  if ((fmc_gid < ((int)d.v[0]))) {
    int32_t i_0 = fmc_gid;
    b0[i_0] = fmc_st_h(fmc_add_h(fmc_ld_h(b1[i_0]), fmc_ld_h(b2[i_0])));
  }
}

/* fmc_k2: k2_ew: cast %5 */
extern "C" __global__ void __launch_bounds__(64, 16) fmc_k2(float *__restrict__ b0, const unsigned short *__restrict__ b1, const fmc_dims d) {
  const int fmc_gid = (int)((blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x);
  if ((fmc_gid < ((int)d.v[0]))) {
    int32_t i_0 = fmc_gid;
    b0[i_0] = (float)(fmc_ld_h(b1[i_0]));
  }
}
