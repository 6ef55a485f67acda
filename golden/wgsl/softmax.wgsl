/* grid: {"invocations":{"k":"ix","op":"*","a":{"k":"dim","slot":1},"b":{"k":"dim","slot":0}},"workgroup":64}; dims vec4s 1 */
/* golden_wgsl_softmax */
/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */

@group(0) @binding(0) var<storage, read_write> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(1) @binding(0) var<uniform> d: array<vec4<i32>, 1>;

/* k0_rows: reduce %1 + 3 fused, stores %5 in attn */
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) fmc_wg: vec3<u32>, @builtin(num_workgroups) fmc_nwg: vec3<u32>,
        @builtin(local_invocation_index) fmc_l: u32) {
  let fmc_gid = i32((fmc_wg.y * fmc_nwg.x + fmc_wg.x) * 64u + fmc_l);
  if ((fmc_gid < (d[0][1] * d[0][0]))) {
    var i_0: i32 = (fmc_gid / d[0][0]);
    var i_1: i32 = (fmc_gid % d[0][0]);
    var acc_2: f32 = fmc_bits_f32(0xff800000u);
    var nan_5: f32 = 0x0p+0f;
    for (var j_3: i32 = 0i; j_3 < d[0][0]; j_3 += 1) {
      var x_4: f32 = b1[(((i_0 * (d[0][0] * d[0][0])) + (i_1 * d[0][0])) + j_3)];
      acc_2 = fmc_max_f(acc_2, x_4);
      nan_5 = fmc_add_f(nan_5, select(0x0p+0f, 0x1.000000p+0f, fmc_ne_f(x_4, x_4)));
    }
    acc_2 = select(acc_2, fmc_bits_f32(0x7fc00000u), fmc_gt_f(nan_5, 0x0p+0f));
    var acc_6: f32 = 0x0p+0f;
    for (var j_7: i32 = 0i; j_7 < d[0][0]; j_7 += 1) {
      var v_8: f32 = fmc_sub_f(b1[(((i_0 * (d[0][0] * d[0][0])) + (i_1 * d[0][0])) + j_7)], acc_2);
      var v_9: f32 = fmc_exp_f(v_8);
      b0[(((i_0 * (d[0][0] * d[0][0])) + (i_1 * d[0][0])) + j_7)] = v_9;
      var x_10: f32 = v_9;
      acc_6 = fmc_add_f(acc_6, x_10);
    }
    for (var j_12: i32 = 0i; j_12 < d[0][0]; j_12 += 1) {
      b0[(((i_0 * (d[0][0] * d[0][0])) + (i_1 * d[0][0])) + j_12)] = fmc_div_f(b0[(((i_0 * (d[0][0] * d[0][0])) + (i_1 * d[0][0])) + j_12)], acc_6);
    }
  }
}
