/* grid: {"invocations":{"k":"ix","op":"*","a":{"k":"ix","op":"*","a":{"k":"ix","op":"*","a":{"k":"dim","slot":2},"b":{"k":"const","t":"i64","v":2}},"b":{"k":"ix","op":"/","a":{"k":"ix","op":"+","a":{"k":"dim","slot":0},"b":{"k":"const","t":"i64","v":15}},"b":{"k":"const","t":"i64","v":16}}},"b":{"k":"const","t":"i64","v":64}},"workgroup":64,"tiled":true}; dims vec4s 1 */
/* golden_wgsl_attention_window */
/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */

@group(0) @binding(0) var<storage, read> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(0) @binding(2) var<storage, read> b2: array<f32>;
@group(0) @binding(3) var<storage, read_write> b3: array<f32>;
@group(1) @binding(0) var<uniform> d: array<vec4<i32>, 1>;
var<workgroup> qs_14: array<f32, 512>;
var<workgroup> ks_15: array<f32, 528>;
var<workgroup> vs_16: array<f32, 512>;
var<workgroup> ss_17: array<f32, 272>;
var<workgroup> mx_18: array<f32, 16>;
var<workgroup> ls_19: array<f32, 16>;
var<workgroup> al_20: array<f32, 16>;

/* k0_attention: einsum %3 + 11 fused, stores %27 */
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) fmc_wg: vec3<u32>, @builtin(num_workgroups) fmc_nwg: vec3<u32>,
        @builtin(local_invocation_index) fmc_l: u32) {
  let fmc_gid = i32((fmc_wg.y * fmc_nwg.x + fmc_wg.x) * 64u + fmc_l);
  var wg_0: i32 = i32(fmc_wg.y * fmc_nwg.x + fmc_wg.x);
  if ((wg_0 < ((d[0][2] * 2i) * ((d[0][0] + 15i) / 16i)))) {
    var b_1: i32 = (wg_0 / ((d[0][0] + 15i) / 16i));
    var q0_2: i32 = ((wg_0 % ((d[0][0] + 15i) / 16i)) * 16i);
    var lo_3: i32 = fmc_max_ix(0i, (fmc_min_ix((q0_2 + (-8i)), ((fmc_min_ix((q0_2 + 16i), d[0][0]) - 1i) + (-8i))) + 1i));
    var hi_4: i32 = fmc_min_ix(d[0][1], fmc_max_ix((0i - (((-1i) * q0_2) + (-1i))), (0i - (((-1i) * (fmc_min_ix((q0_2 + 16i), d[0][0]) - 1i)) + (-1i)))));
    var l_6: i32 = i32(fmc_l);
    var o_21: array<f32, 8>;
    for (var z_13: i32 = 0i; z_13 < 8i; z_13 += 1) {
      o_21[z_13] = 0x0p+0f;
    }
    for (var t_10: i32 = l_6; t_10 < 512i; t_10 += 64) {
      var i_8: i32 = (t_10 / 32i);
      var d_11: i32 = (t_10 % 32i);
      qs_14[t_10] = select(0x0p+0f, b0[(((((b_1 / 2i) * ((32i * d[0][0]) * 2i)) + ((b_1 % 2i) * (32i * d[0][0]))) + ((q0_2 + i_8) * 32i)) + d_11)], ((q0_2 + i_8) < d[0][0]));
    }
    if ((l_6 < 16i)) {
      mx_18[l_6] = fmc_bits_f32(0xff800000u);
      ls_19[l_6] = 0x0p+0f;
    }
    workgroupBarrier();
    for (var k0_5: i32 = lo_3; k0_5 < hi_4; k0_5 += 16) {
      for (var t_10: i32 = l_6; t_10 < 512i; t_10 += 64) {
        var j_9: i32 = (t_10 / 32i);
        var d_11: i32 = (t_10 % 32i);
        ks_15[((j_9 * 33i) + d_11)] = select(0x0p+0f, b1[(((((b_1 / 2i) * ((32i * d[0][1]) * 2i)) + ((b_1 % 2i) * (32i * d[0][1]))) + ((k0_5 + j_9) * 32i)) + d_11)], ((k0_5 + j_9) < hi_4));
      }
      for (var t_10: i32 = l_6; t_10 < 512i; t_10 += 64) {
        var j_9: i32 = (t_10 / 32i);
        var d_11: i32 = (t_10 % 32i);
        vs_16[t_10] = select(0x0p+0f, b2[(((((b_1 / 2i) * ((32i * d[0][1]) * 2i)) + ((b_1 % 2i) * (32i * d[0][1]))) + ((k0_5 + j_9) * 32i)) + d_11)], ((k0_5 + j_9) < hi_4));
      }
      workgroupBarrier();
      for (var t_10: i32 = l_6; t_10 < 256i; t_10 += 64) {
        var i_8: i32 = (t_10 / 16i);
        var j_9: i32 = (t_10 % 16i);
        var x_23: f32 = fmc_bits_f32(0xff800000u);
        if ((((k0_5 + j_9) < hi_4) && ((q0_2 + i_8) < d[0][0]))) {
          var dot_22: f32 = 0x0p+0f;
          for (var d_11: i32 = 0i; d_11 < 32i; d_11 += 1) {
            dot_22 = fma(qs_14[((i_8 * 32i) + d_11)], ks_15[((j_9 * 33i) + d_11)], dot_22);
          }
          x_23 = select(fmc_bits_f32(0xff800000u), fmc_mul_f(dot_22, 0x1.6a09e6p-3f), (fmc_le_l(fmc_wrap_l(fmc_l_i((k0_5 + j_9)), 32i), fmc_wrap_l(fmc_l_i((q0_2 + i_8)), 32i)) && fmc_lt_l(fmc_wrap_l(fmc_sub_l(fmc_wrap_l(fmc_l_i((q0_2 + i_8)), 32i), fmc_wrap_l(fmc_l_i((k0_5 + j_9)), 32i)), 32i), fmc_i64(8i, 0i))));
        }
        ss_17[((i_8 * 17i) + j_9)] = x_23;
      }
      workgroupBarrier();
      if ((l_6 < 16i)) {
        var rm_24: f32 = fmc_bits_f32(0xff800000u);
        var nan_25: f32 = 0x0p+0f;
        for (var j_9: i32 = 0i; j_9 < 16i; j_9 += 1) {
          var x_7: f32 = ss_17[((l_6 * 17i) + j_9)];
          rm_24 = select(rm_24, x_7, fmc_gt_f(x_7, rm_24));
          nan_25 = fmc_add_f(nan_25, select(0x0p+0f, 0x1.000000p+0f, fmc_ne_f(x_7, x_7)));
        }
        var mnew_26: f32 = select(select(mx_18[l_6], rm_24, fmc_gt_f(rm_24, mx_18[l_6])), fmc_bits_f32(0x7fc00000u), fmc_gt_f(nan_25, 0x0p+0f));
        var ms_27: f32 = select(mnew_26, 0x0p+0f, fmc_eq_f(mnew_26, fmc_bits_f32(0xff800000u)));
        var alpha_28: f32 = fmc_exp_f(fmc_sub_f(mx_18[l_6], ms_27));
        var rs_30: f32 = 0x0p+0f;
        for (var j_9: i32 = 0i; j_9 < 16i; j_9 += 1) {
          var p_29: f32 = fmc_exp_f(fmc_sub_f(ss_17[((l_6 * 17i) + j_9)], ms_27));
          ss_17[((l_6 * 17i) + j_9)] = p_29;
          rs_30 = fmc_add_f(rs_30, p_29);
        }
        ls_19[l_6] = fma(ls_19[l_6], alpha_28, rs_30);
        mx_18[l_6] = mnew_26;
        al_20[l_6] = alpha_28;
      }
      workgroupBarrier();
      for (var r_12: i32 = 0i; r_12 < 8i; r_12 += 1) {
        var t_10: i32 = (l_6 + (r_12 * 64i));
        if ((t_10 < 512i)) {
          var i_8: i32 = (t_10 / 32i);
          var d_11: i32 = (t_10 % 32i);
          var acc_31: f32 = fmc_mul_f(o_21[r_12], al_20[i_8]);
          for (var j_9: i32 = 0i; j_9 < 16i; j_9 += 1) {
            acc_31 = fma(ss_17[((i_8 * 17i) + j_9)], vs_16[((j_9 * 32i) + d_11)], acc_31);
          }
          o_21[r_12] = acc_31;
        }
      }
      workgroupBarrier();
    }
    for (var r_12: i32 = 0i; r_12 < 8i; r_12 += 1) {
      var t_10: i32 = (l_6 + (r_12 * 64i));
      if ((t_10 < 512i)) {
        var i_8: i32 = (t_10 / 32i);
        var d_11: i32 = (t_10 % 32i);
        if (((q0_2 + i_8) < d[0][0])) {
          b3[(((((b_1 / 2i) * ((32i * d[0][0]) * 2i)) + ((b_1 % 2i) * (32i * d[0][0]))) + ((q0_2 + i_8) * 32i)) + d_11)] = select(fmc_div_f(o_21[r_12], ls_19[i_8]), 0x0p+0f, fmc_eq_f(ls_19[i_8], 0x0p+0f));
        }
      }
    }
  }
}
