/* grid: {"invocations":{"k":"ix","op":"*","a":{"k":"ix","op":"/","a":{"k":"ix","op":"+","a":{"k":"dim","slot":0},"b":{"k":"const","t":"i64","v":3}},"b":{"k":"const","t":"i64","v":4}},"b":{"k":"const","t":"i64","v":48}},"workgroup":64}; dims vec4s 1 */
/* golden_wgsl_gemm_epilogue */
/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */

@group(0) @binding(0) var<storage, read_write> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(0) @binding(2) var<storage, read> b2: array<f32>;
@group(0) @binding(3) var<storage, read> b3: array<f32>;
@group(0) @binding(4) var<storage, read> b4: array<f32>;
@group(1) @binding(0) var<uniform> d: array<vec4<i32>, 1>;

/* k0_gemm: einsum %4 + 11 fused, stores %19 in ffn */
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) fmc_wg: vec3<u32>, @builtin(num_workgroups) fmc_nwg: vec3<u32>,
        @builtin(local_invocation_index) fmc_l: u32) {
  let fmc_gid = i32((fmc_wg.y * fmc_nwg.x + fmc_wg.x) * 64u + fmc_l);
  if ((fmc_gid < (((d[0][0] + 3i) / 4i) * 48i))) {
    var b_0: i32 = (fmc_gid / (48i * ((d[0][0] + 3i) / 4i)));
    var mt_1: i32 = ((fmc_gid / 48i) % ((d[0][0] + 3i) / 4i));
    var n_2: i32 = (fmc_gid % 48i);
    var acc_5: f32 = 0x0p+0f;
    var acc_6: f32 = 0x0p+0f;
    var acc_7: f32 = 0x0p+0f;
    var acc_8: f32 = 0x0p+0f;
    for (var k_3: i32 = 0i; k_3 < 64i; k_3 += 1) {
      var bv_4: f32 = b1[((n_2 * 64i) + k_3)];
      acc_5 = fma(b2[((fmc_min_ix((mt_1 * 4i), (d[0][0] - 1i)) * 64i) + k_3)], bv_4, acc_5);
      acc_6 = fma(b2[((fmc_min_ix(((mt_1 * 4i) + 1i), (d[0][0] - 1i)) * 64i) + k_3)], bv_4, acc_6);
      acc_7 = fma(b2[((fmc_min_ix(((mt_1 * 4i) + 2i), (d[0][0] - 1i)) * 64i) + k_3)], bv_4, acc_7);
      acc_8 = fma(b2[((fmc_min_ix(((mt_1 * 4i) + 3i), (d[0][0] - 1i)) * 64i) + k_3)], bv_4, acc_8);
    }
    if (((mt_1 * 4i) < d[0][0])) {
      var c_9: f32 = acc_5;
      var v_10: f32 = fmc_add_f(c_9, b3[n_2]);
      var v_11: f32 = fmc_mul_f(v_10, v_10);
      var v_12: f32 = fmc_mul_f(v_11, v_10);
      var v_13: f32 = fmc_mul_f(0x1.6e4e26p-5f, v_12);
      var v_14: f32 = fmc_add_f(v_10, v_13);
      var v_15: f32 = fmc_mul_f(0x1.988454p-1f, v_14);
      var v_16: f32 = fmc_mul_f(0x1.000000p-1f, v_10);
      var v_17: f32 = fmc_tanh_f(v_15);
      var v_18: f32 = fmc_add_f(0x1.000000p+0f, v_17);
      var v_19: f32 = fmc_mul_f(v_16, v_18);
      var v_20: f32 = fmc_add_f(v_19, b4[(((mt_1 * 4i) * 48i) + n_2)]);
      b0[(((mt_1 * 4i) * 48i) + n_2)] = v_20;
    }
    if ((((mt_1 * 4i) + 1i) < d[0][0])) {
      var c_21: f32 = acc_6;
      var v_22: f32 = fmc_add_f(c_21, b3[n_2]);
      var v_23: f32 = fmc_mul_f(v_22, v_22);
      var v_24: f32 = fmc_mul_f(v_23, v_22);
      var v_25: f32 = fmc_mul_f(0x1.6e4e26p-5f, v_24);
      var v_26: f32 = fmc_add_f(v_22, v_25);
      var v_27: f32 = fmc_mul_f(0x1.988454p-1f, v_26);
      var v_28: f32 = fmc_mul_f(0x1.000000p-1f, v_22);
      var v_29: f32 = fmc_tanh_f(v_27);
      var v_30: f32 = fmc_add_f(0x1.000000p+0f, v_29);
      var v_31: f32 = fmc_mul_f(v_28, v_30);
      var v_32: f32 = fmc_add_f(v_31, b4[((((mt_1 * 4i) + 1i) * 48i) + n_2)]);
      b0[((((mt_1 * 4i) + 1i) * 48i) + n_2)] = v_32;
    }
    if ((((mt_1 * 4i) + 2i) < d[0][0])) {
      var c_33: f32 = acc_7;
      var v_34: f32 = fmc_add_f(c_33, b3[n_2]);
      var v_35: f32 = fmc_mul_f(v_34, v_34);
      var v_36: f32 = fmc_mul_f(v_35, v_34);
      var v_37: f32 = fmc_mul_f(0x1.6e4e26p-5f, v_36);
      var v_38: f32 = fmc_add_f(v_34, v_37);
      var v_39: f32 = fmc_mul_f(0x1.988454p-1f, v_38);
      var v_40: f32 = fmc_mul_f(0x1.000000p-1f, v_34);
      var v_41: f32 = fmc_tanh_f(v_39);
      var v_42: f32 = fmc_add_f(0x1.000000p+0f, v_41);
      var v_43: f32 = fmc_mul_f(v_40, v_42);
      var v_44: f32 = fmc_add_f(v_43, b4[((((mt_1 * 4i) + 2i) * 48i) + n_2)]);
      b0[((((mt_1 * 4i) + 2i) * 48i) + n_2)] = v_44;
    }
    if ((((mt_1 * 4i) + 3i) < d[0][0])) {
      var c_45: f32 = acc_8;
      var v_46: f32 = fmc_add_f(c_45, b3[n_2]);
      var v_47: f32 = fmc_mul_f(v_46, v_46);
      var v_48: f32 = fmc_mul_f(v_47, v_46);
      var v_49: f32 = fmc_mul_f(0x1.6e4e26p-5f, v_48);
      var v_50: f32 = fmc_add_f(v_46, v_49);
      var v_51: f32 = fmc_mul_f(0x1.988454p-1f, v_50);
      var v_52: f32 = fmc_mul_f(0x1.000000p-1f, v_46);
      var v_53: f32 = fmc_tanh_f(v_51);
      var v_54: f32 = fmc_add_f(0x1.000000p+0f, v_53);
      var v_55: f32 = fmc_mul_f(v_52, v_54);
      var v_56: f32 = fmc_add_f(v_55, b4[((((mt_1 * 4i) + 3i) * 48i) + n_2)]);
      b0[((((mt_1 * 4i) + 3i) * 48i) + n_2)] = v_56;
    }
  }
}
