/* fmc_k0 grid: {"invocations":{"k":"ix","op":"*","a":{"k":"dim","slot":0},"b":{"k":"const","t":"i64","v":8}},"workgroup":64} */
/* golden_cuda_bf16_elementwise */
/* cudaPrelude(1, false) (src/codegen/prelude-cuda.ts) */

/* fmc_k0: k0_ew: cast %4 */
extern "C" __global__ void __launch_bounds__(64, 16) fmc_k0(unsigned short *__restrict__ b0, const float *__restrict__ b1, const fmc_dims d) {
  const int fmc_gid = (int)((blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x);
  if ((fmc_gid < (((int)d.v[0]) * 8))) {
    int32_t i_0 = (fmc_gid / 8);
    int32_t i_1 = (fmc_gid % 8);
    b0[((i_0 * 8) + i_1)] = fmc_f2bf(fmc_bf2f(fmc_f2bf(__fmul_rn(fmc_tanh_f(b1[((i_0 * 8) + i_1)]), 0x1.000000p-1f))));
  }
}
