/* golden_wgsl_bf16_chain */
/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */
/* WGSL_BF16_PRELUDE (prelude-half.ts) */

@group(0) @binding(0) var<storage, read_write> b0: array<atomic<i32>>;
@group(0) @binding(1) var<storage, read> b1: array<i32>;
@group(0) @binding(2) var<storage, read> b2: array<i32>;
@group(1) @binding(0) var<uniform> d: array<vec4<i32>, 1>;

/* k0_ew: binary %6 */
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) fmc_wg: vec3<u32>, @builtin(num_workgroups) fmc_nwg: vec3<u32>,
        @builtin(local_invocation_index) fmc_l: u32) {
  let fmc_gid = i32((fmc_wg.y * fmc_nwg.x + fmc_wg.x) * 64u + fmc_l);
  if ((fmc_gid < (d[0][0] * 8i))) {
    var i_0: i32 = (fmc_gid / 8i);
    var i_1: i32 = (fmc_gid % 8i);
    var lgw_0: i32 = ((i_0 * 8i) + i_1);
    var lgw_1: i32 = fmc_f2bf(fmc_div_b(fmc_tanh_b(fmc_add_b(fmc_mul_b(fmc_exp_b(bitcast<f32>((bitcast<i32>(bitcast<u32>(b1[(((i_0 * 8i) + i_1) / 2i)]) >> u32(((((i_0 * 8i) + i_1) & 1i) << u32(4i)))) << u32(16i)))), bitcast<f32>((bitcast<i32>(bitcast<u32>(b2[(i_1 / 2i)]) >> u32(((i_1 & 1i) << u32(4i)))) << u32(16i)))), bitcast<f32>((bitcast<i32>(bitcast<u32>(b1[(((i_0 * 8i) + i_1) / 2i)]) >> u32(((((i_0 * 8i) + i_1) & 1i) << u32(4i)))) << u32(16i))))), bitcast<f32>((bitcast<i32>(bitcast<u32>(b2[(i_1 / 2i)]) >> u32(((i_1 & 1i) << u32(4i)))) << u32(16i)))));
    atomicAnd(&b0[(lgw_0 / 2i)], ~(65535i << u32(((lgw_0 & 1i) << u32(4i))))); atomicOr(&b0[(lgw_0 / 2i)], (lgw_1 << u32(((lgw_0 & 1i) << u32(4i)))));
  }
}
