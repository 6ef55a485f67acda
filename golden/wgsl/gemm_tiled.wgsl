/* grid: {"invocations":{"k":"ix","op":"*","a":{"k":"ix","op":"/","a":{"k":"ix","op":"+","a":{"k":"dim","slot":0},"b":{"k":"const","t":"i64","v":63}},"b":{"k":"const","t":"i64","v":64}},"b":{"k":"const","t":"i64","v":256}},"workgroup":256,"tiled":true}; dims vec4s 1 */
/* golden_wgsl_gemm_tiled */
/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */

@group(0) @binding(0) var<storage, read_write> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(0) @binding(2) var<storage, read> b2: array<f32>;
@group(0) @binding(3) var<storage, read> b3: array<f32>;
@group(0) @binding(4) var<storage, read> b4: array<f32>;
@group(1) @binding(0) var<uniform> d: array<vec4<i32>, 1>;
var<workgroup> as_8: array<f32, 1024>;
var<workgroup> bs_9: array<f32, 1024>;

/* k0_gemm: einsum %4 + 11 fused, stores %19 in ffn */
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) fmc_wg: vec3<u32>, @builtin(num_workgroups) fmc_nwg: vec3<u32>,
        @builtin(local_invocation_index) fmc_l: u32) {
  let fmc_gid = i32((fmc_wg.y * fmc_nwg.x + fmc_wg.x) * 256u + fmc_l);
  var wg_0: i32 = i32(fmc_wg.y * fmc_nwg.x + fmc_wg.x);
  if ((wg_0 < ((d[0][0] + 63i) / 64i))) {
    var b_1: i32 = (wg_0 / ((d[0][0] + 63i) / 64i));
    var t_2: i32 = (wg_0 % ((d[0][0] + 63i) / 64i));
    var m0_3: i32 = (t_2 * 64i);
    var n0_4: i32 = 0i;
    var l_5: i32 = i32(fmc_l);
    var tx_6: i32 = (l_5 % 16i);
    var ty_7: i32 = (l_5 / 16i);
    var acc_10: array<f32, 16>;
    var ra_11: array<f32, 4>;
    var rb_12: array<f32, 4>;
    for (var i_15: i32 = 0i; i_15 < 16i; i_15 += 1) {
      acc_10[i_15] = 0x0p+0f;
    }
    for (var k0_13: i32 = 0i; k0_13 < 64i; k0_13 += 16) {
      for (var e_17: i32 = 0i; e_17 < 4i; e_17 += 1) {
        var idx_18: i32 = (l_5 + (e_17 * 256i));
        as_8[(((idx_18 % 16i) * 64i) + (idx_18 / 16i))] = select(0x0p+0f, b1[(((m0_3 + (idx_18 / 16i)) * 64i) + (k0_13 + (idx_18 % 16i)))], (((m0_3 + (idx_18 / 16i)) < d[0][0]) && ((k0_13 + (idx_18 % 16i)) < 64i)));
      }
      for (var e_19: i32 = 0i; e_19 < 4i; e_19 += 1) {
        var idx_20: i32 = (l_5 + (e_19 * 256i));
        bs_9[(((idx_20 % 16i) * 64i) + (idx_20 / 16i))] = select(0x0p+0f, b2[(((n0_4 + (idx_20 / 16i)) * 64i) + (k0_13 + (idx_20 % 16i)))], (((n0_4 + (idx_20 / 16i)) < 48i) && ((k0_13 + (idx_20 % 16i)) < 64i)));
      }
      workgroupBarrier();
      for (var kk_14: i32 = 0i; kk_14 < 16i; kk_14 += 1) {
        for (var i_15: i32 = 0i; i_15 < 4i; i_15 += 1) {
          ra_11[i_15] = as_8[((kk_14 * 64i) + (ty_7 + (i_15 * 16i)))];
        }
        for (var j_16: i32 = 0i; j_16 < 4i; j_16 += 1) {
          rb_12[j_16] = bs_9[((kk_14 * 64i) + (tx_6 + (j_16 * 16i)))];
        }
        for (var i_15: i32 = 0i; i_15 < 4i; i_15 += 1) {
          for (var j_16: i32 = 0i; j_16 < 4i; j_16 += 1) {
            acc_10[((i_15 * 4i) + j_16)] = fma(ra_11[i_15], rb_12[j_16], acc_10[((i_15 * 4i) + j_16)]);
          }
        }
      }
      workgroupBarrier();
    }
    for (var i_15: i32 = 0i; i_15 < 4i; i_15 += 1) {
      for (var j_16: i32 = 0i; j_16 < 4i; j_16 += 1) {
        var m_21: i32 = (m0_3 + (ty_7 + (i_15 * 16i)));
        var n_22: i32 = (n0_4 + (tx_6 + (j_16 * 16i)));
        if (((m_21 < d[0][0]) && (n_22 < 48i))) {
          var c_23: f32 = acc_10[((i_15 * 4i) + j_16)];
          var v_24: f32 = fmc_add_f(c_23, b3[n_22]);
          var v_25: f32 = fmc_mul_f(v_24, v_24);
          var v_26: f32 = fmc_mul_f(v_25, v_24);
          var v_27: f32 = fmc_mul_f(0x1.6e4e26p-5f, v_26);
          var v_28: f32 = fmc_add_f(v_24, v_27);
          var v_29: f32 = fmc_mul_f(0x1.988454p-1f, v_28);
          var v_30: f32 = fmc_mul_f(0x1.000000p-1f, v_24);
          var v_31: f32 = fmc_tanh_f(v_29);
          var v_32: f32 = fmc_add_f(0x1.000000p+0f, v_31);
          var v_33: f32 = fmc_mul_f(v_30, v_32);
          var v_34: f32 = fmc_add_f(v_33, b4[((m_21 * 48i) + n_22)]);
          b0[((m_21 * 48i) + n_22)] = v_34;
        }
      }
    }
  }
}
