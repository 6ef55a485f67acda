/* grid: {"invocations":{"k":"ix","op":"*","a":{"k":"ix","op":"*","a":{"k":"dim","slot":1},"b":{"k":"dim","slot":0}},"b":{"k":"const","t":"i64","v":64}},"workgroup":64,"tiled":true}; dims vec4s 1 */
/* golden_wgsl_softmax */
/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */

@group(0) @binding(0) var<storage, read_write> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(1) @binding(0) var<uniform> d: array<vec4<i32>, 1>;
var<workgroup> sh_4: array<f32, 64>;
var<workgroup> sh_9: array<f32, 64>;

/* k0_rows: reduce %1 + 3 fused, stores %5 in attn */
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) fmc_wg: vec3<u32>, @builtin(num_workgroups) fmc_nwg: vec3<u32>,
        @builtin(local_invocation_index) fmc_l: u32) {
  let fmc_gid = i32((fmc_wg.y * fmc_nwg.x + fmc_wg.x) * 64u + fmc_l);
  var wg_0: i32 = i32(fmc_wg.y * fmc_nwg.x + fmc_wg.x);
  if ((wg_0 < (d[0][1] * d[0][0]))) {
    var l_1: i32 = i32(fmc_l);
    var acc_2: f32 = fmc_bits_f32(0xff800000u);
    for (var j_3: i32 = l_1; j_3 < d[0][0]; j_3 += 64) {
      acc_2 = fmc_max_f(acc_2, b1[((((wg_0 / d[0][0]) * (d[0][0] * d[0][0])) + ((wg_0 % d[0][0]) * d[0][0])) + j_3)]);
    }
    sh_4[l_1] = acc_2;
    workgroupBarrier();
    if ((l_1 < 32i)) {
      sh_4[l_1] = fmc_max_f(sh_4[l_1], sh_4[(l_1 + 32i)]);
    }
    workgroupBarrier();
    if ((l_1 < 16i)) {
      sh_4[l_1] = fmc_max_f(sh_4[l_1], sh_4[(l_1 + 16i)]);
    }
    workgroupBarrier();
    if ((l_1 < 8i)) {
      sh_4[l_1] = fmc_max_f(sh_4[l_1], sh_4[(l_1 + 8i)]);
    }
    workgroupBarrier();
    if ((l_1 < 4i)) {
      sh_4[l_1] = fmc_max_f(sh_4[l_1], sh_4[(l_1 + 4i)]);
    }
    workgroupBarrier();
    if ((l_1 < 2i)) {
      sh_4[l_1] = fmc_max_f(sh_4[l_1], sh_4[(l_1 + 2i)]);
    }
    workgroupBarrier();
    if ((l_1 < 1i)) {
      sh_4[l_1] = fmc_max_f(sh_4[l_1], sh_4[(l_1 + 1i)]);
    }
    workgroupBarrier();
    acc_2 = sh_4[0i];
    var acc_5: f32 = 0x0p+0f;
    for (var j_6: i32 = l_1; j_6 < d[0][0]; j_6 += 64) {
      var v_7: f32 = fmc_sub_f(b1[((((wg_0 / d[0][0]) * (d[0][0] * d[0][0])) + ((wg_0 % d[0][0]) * d[0][0])) + j_6)], acc_2);
      var v_8: f32 = fmc_exp_f(v_7);
      b0[((((wg_0 / d[0][0]) * (d[0][0] * d[0][0])) + ((wg_0 % d[0][0]) * d[0][0])) + j_6)] = v_8;
      acc_5 = fmc_add_f(acc_5, v_8);
    }
    sh_9[l_1] = acc_5;
    workgroupBarrier();
    if ((l_1 < 32i)) {
      sh_9[l_1] = fmc_add_f(sh_9[l_1], sh_9[(l_1 + 32i)]);
    }
    workgroupBarrier();
    if ((l_1 < 16i)) {
      sh_9[l_1] = fmc_add_f(sh_9[l_1], sh_9[(l_1 + 16i)]);
    }
    workgroupBarrier();
    if ((l_1 < 8i)) {
      sh_9[l_1] = fmc_add_f(sh_9[l_1], sh_9[(l_1 + 8i)]);
    }
    workgroupBarrier();
    if ((l_1 < 4i)) {
      sh_9[l_1] = fmc_add_f(sh_9[l_1], sh_9[(l_1 + 4i)]);
    }
    workgroupBarrier();
    if ((l_1 < 2i)) {
      sh_9[l_1] = fmc_add_f(sh_9[l_1], sh_9[(l_1 + 2i)]);
    }
    workgroupBarrier();
    if ((l_1 < 1i)) {
      sh_9[l_1] = fmc_add_f(sh_9[l_1], sh_9[(l_1 + 1i)]);
    }
    workgroupBarrier();
    acc_5 = sh_9[0i];
    for (var j_10: i32 = l_1; j_10 < d[0][0]; j_10 += 64) {
      b0[((((wg_0 / d[0][0]) * (d[0][0] * d[0][0])) + ((wg_0 % d[0][0]) * d[0][0])) + j_10)] = fmc_div_f(b0[((((wg_0 / d[0][0]) * (d[0][0] * d[0][0])) + ((wg_0 % d[0][0]) * d[0][0])) + j_10)], acc_5);
    }
  }
}
