@group(0) @binding(0) var<storage, read_write> b0: array<atomic<i32>>;
@group(0) @binding(1) var<storage, read> b1: array<i32>;
@group(0) @binding(2) var<storage, read> b2: array<i32>;
@group(1) @binding(0) var<uniform> d: array<vec4<i32>, 1>;
var<workgroup> as_8: array<f32, 1024>;
var<workgroup> bs_9: array<f32, 1024>;
var<workgroup> stage_10: array<f32, 1536>;

/* k0_gemm: einsum %2 */
@compute @workgroup_size(128)
fn main(@builtin(workgroup_id) fmc_wg: vec3<u32>, @builtin(num_workgroups) fmc_nwg: vec3<u32>,
        @builtin(local_invocation_index) fmc_l: u32) {
  let fmc_gid = i32((fmc_wg.y * fmc_nwg.x + fmc_wg.x) * 128u + fmc_l);
  var wg_0: i32 = i32(fmc_wg.y * fmc_nwg.x + fmc_wg.x);
  if ((wg_0 < 2i)) {
    var b_1: i32 = (wg_0 / 2i);
    var t_2: i32 = (wg_0 % 2i);
    var m0_3: i32 = ((t_2 / 2i) * 64i);
    var n0_4: i32 = ((t_2 % 2i) * 64i);
    var l_5: i32 = i32(fmc_l);
    var wm_6: i32 = ((l_5 / 32i) / 2i);
    var wn_7: i32 = ((l_5 / 32i) % 2i);
    var fa_16: array<f32, 8>;
    var fa_17: array<f32, 8>;
    var fb_18: array<f32, 4>;
    var fb_19: array<f32, 4>;
    var fb_20: array<f32, 4>;
    var fb_21: array<f32, 4>;
    var fc_22: array<f32, 4>;
    for (var fi0: i32 = 0i; fi0 < 4i; fi0 += 1) {
      fc_22[fi0] = 0x0p+0f;
    }
    var fc_23: array<f32, 4>;
    for (var fi1: i32 = 0i; fi1 < 4i; fi1 += 1) {
      fc_23[fi1] = 0x0p+0f;
    }
    var fc_24: array<f32, 4>;
    for (var fi2: i32 = 0i; fi2 < 4i; fi2 += 1) {
      fc_24[fi2] = 0x0p+0f;
    }
    var fc_25: array<f32, 4>;
    for (var fi3: i32 = 0i; fi3 < 4i; fi3 += 1) {
      fc_25[fi3] = 0x0p+0f;
    }
    var fc_26: array<f32, 4>;
    for (var fi4: i32 = 0i; fi4 < 4i; fi4 += 1) {
      fc_26[fi4] = 0x0p+0f;
    }
    var fc_27: array<f32, 4>;
    for (var fi5: i32 = 0i; fi5 < 4i; fi5 += 1) {
      fc_27[fi5] = 0x0p+0f;
    }
    var fc_28: array<f32, 4>;
    for (var fi6: i32 = 0i; fi6 < 4i; fi6 += 1) {
      fc_28[fi6] = 0x0p+0f;
    }
    var fc_29: array<f32, 4>;
    for (var fi7: i32 = 0i; fi7 < 4i; fi7 += 1) {
      fc_29[fi7] = 0x0p+0f;
    }
    for (var k0_11: i32 = 0i; k0_11 < 45i; k0_11 += 16) {
      for (var e_12: i32 = 0i; e_12 < 8i; e_12 += 1) {
        var idx_13: i32 = (l_5 + (e_12 * 128i));
        as_8[(((idx_13 / 16i) * 16i) + (idx_13 % 16i))] = select(0x0p+0f, fmc_h2f((bitcast<i32>(bitcast<u32>(b1[((((m0_3 + (idx_13 / 16i)) * 45i) + (k0_11 + (idx_13 % 16i))) / 2i)]) >> u32((((((m0_3 + (idx_13 / 16i)) * 45i) + (k0_11 + (idx_13 % 16i))) & 1i) << u32(4i)))) & 65535i)), (((m0_3 + (idx_13 / 16i)) < 37i) && ((k0_11 + (idx_13 % 16i)) < 45i)));
      }
      for (var e_14: i32 = 0i; e_14 < 8i; e_14 += 1) {
        var idx_15: i32 = (l_5 + (e_14 * 128i));
        bs_9[(((idx_15 / 64i) * 64i) + (idx_15 % 64i))] = select(0x0p+0f, fmc_h2f((bitcast<i32>(bitcast<u32>(b2[(((n0_4 + (idx_15 % 64i)) + ((k0_11 + (idx_15 / 64i)) * 70i)) / 2i)]) >> u32(((((n0_4 + (idx_15 % 64i)) + ((k0_11 + (idx_15 / 64i)) * 70i)) & 1i) << u32(4i)))) & 65535i)), (((n0_4 + (idx_15 % 64i)) < 70i) && ((k0_11 + (idx_15 / 64i)) < 45i)));
      }
      workgroupBarrier();
      for (var fi8: i32 = 0i; fi8 < 8i; fi8 += 1) {
        fa_16[fi8] = as_8[(((wm_6 * 32i) * 16i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * ((fi8 / 2i) % 2i))) * 16i) + (((2i * (i32(fmc_l) % 4i)) + (fi8 % 2i)) + (8i * (fi8 / 4i)))))];
      }
      for (var fi9: i32 = 0i; fi9 < 8i; fi9 += 1) {
        fa_17[fi9] = as_8[((((wm_6 * 32i) + 16i) * 16i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * ((fi9 / 2i) % 2i))) * 16i) + (((2i * (i32(fmc_l) % 4i)) + (fi9 % 2i)) + (8i * (fi9 / 4i)))))];
      }
      for (var fi10: i32 = 0i; fi10 < 4i; fi10 += 1) {
        fb_18[fi10] = bs_9[((wn_7 * 32i) + (((((2i * (i32(fmc_l) % 4i)) + (fi10 % 2i)) + (8i * (fi10 / 2i))) * 64i) + ((i32(fmc_l) % 32i) / 4i)))];
      }
      for (var fi11: i32 = 0i; fi11 < 4i; fi11 += 1) {
        fb_19[fi11] = bs_9[(((wn_7 * 32i) + 8i) + (((((2i * (i32(fmc_l) % 4i)) + (fi11 % 2i)) + (8i * (fi11 / 2i))) * 64i) + ((i32(fmc_l) % 32i) / 4i)))];
      }
      for (var fi12: i32 = 0i; fi12 < 4i; fi12 += 1) {
        fb_20[fi12] = bs_9[(((wn_7 * 32i) + 16i) + (((((2i * (i32(fmc_l) % 4i)) + (fi12 % 2i)) + (8i * (fi12 / 2i))) * 64i) + ((i32(fmc_l) % 32i) / 4i)))];
      }
      for (var fi13: i32 = 0i; fi13 < 4i; fi13 += 1) {
        fb_21[fi13] = bs_9[(((wn_7 * 32i) + 24i) + (((((2i * (i32(fmc_l) % 4i)) + (fi13 % 2i)) + (8i * (fi13 / 2i))) * 64i) + ((i32(fmc_l) % 32i) / 4i)))];
      }
      for (var fi17: i32 = 0i; fi17 < 8i; fi17 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * ((fi17 / 2i) % 2i))) * 16i) + (((2i * (i32(fmc_l) % 4i)) + (fi17 % 2i)) + (8i * (fi17 / 4i)))))] = fa_16[fi17];
      }
      for (var fi18: i32 = 0i; fi18 < 4i; fi18 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + (((((2i * (i32(fmc_l) % 4i)) + (fi18 % 2i)) + (8i * (fi18 / 2i))) * 8i) + ((i32(fmc_l) % 32i) / 4i))))] = fb_18[fi18];
      }
      workgroupBarrier();
      for (var fi14: i32 = 0i; fi14 < 4i; fi14 += 1) {
        var fs16: f32 = fc_22[fi14];
        for (var fk15: i32 = 0i; fk15 < 16i; fk15 += 1) {
          fs16 = fma(stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * (fi14 / 2i))) * 16i) + fk15))], stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + ((fk15 * 8i) + ((2i * (i32(fmc_l) % 4i)) + (fi14 % 2i)))))], fs16);
        }
        fc_22[fi14] = fs16;
      }
      workgroupBarrier();
      for (var fi22: i32 = 0i; fi22 < 8i; fi22 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * ((fi22 / 2i) % 2i))) * 16i) + (((2i * (i32(fmc_l) % 4i)) + (fi22 % 2i)) + (8i * (fi22 / 4i)))))] = fa_16[fi22];
      }
      for (var fi23: i32 = 0i; fi23 < 4i; fi23 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + (((((2i * (i32(fmc_l) % 4i)) + (fi23 % 2i)) + (8i * (fi23 / 2i))) * 8i) + ((i32(fmc_l) % 32i) / 4i))))] = fb_19[fi23];
      }
      workgroupBarrier();
      for (var fi19: i32 = 0i; fi19 < 4i; fi19 += 1) {
        var fs21: f32 = fc_23[fi19];
        for (var fk20: i32 = 0i; fk20 < 16i; fk20 += 1) {
          fs21 = fma(stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * (fi19 / 2i))) * 16i) + fk20))], stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + ((fk20 * 8i) + ((2i * (i32(fmc_l) % 4i)) + (fi19 % 2i)))))], fs21);
        }
        fc_23[fi19] = fs21;
      }
      workgroupBarrier();
      for (var fi27: i32 = 0i; fi27 < 8i; fi27 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * ((fi27 / 2i) % 2i))) * 16i) + (((2i * (i32(fmc_l) % 4i)) + (fi27 % 2i)) + (8i * (fi27 / 4i)))))] = fa_16[fi27];
      }
      for (var fi28: i32 = 0i; fi28 < 4i; fi28 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + (((((2i * (i32(fmc_l) % 4i)) + (fi28 % 2i)) + (8i * (fi28 / 2i))) * 8i) + ((i32(fmc_l) % 32i) / 4i))))] = fb_20[fi28];
      }
      workgroupBarrier();
      for (var fi24: i32 = 0i; fi24 < 4i; fi24 += 1) {
        var fs26: f32 = fc_24[fi24];
        for (var fk25: i32 = 0i; fk25 < 16i; fk25 += 1) {
          fs26 = fma(stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * (fi24 / 2i))) * 16i) + fk25))], stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + ((fk25 * 8i) + ((2i * (i32(fmc_l) % 4i)) + (fi24 % 2i)))))], fs26);
        }
        fc_24[fi24] = fs26;
      }
      workgroupBarrier();
      for (var fi32: i32 = 0i; fi32 < 8i; fi32 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * ((fi32 / 2i) % 2i))) * 16i) + (((2i * (i32(fmc_l) % 4i)) + (fi32 % 2i)) + (8i * (fi32 / 4i)))))] = fa_16[fi32];
      }
      for (var fi33: i32 = 0i; fi33 < 4i; fi33 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + (((((2i * (i32(fmc_l) % 4i)) + (fi33 % 2i)) + (8i * (fi33 / 2i))) * 8i) + ((i32(fmc_l) % 32i) / 4i))))] = fb_21[fi33];
      }
      workgroupBarrier();
      for (var fi29: i32 = 0i; fi29 < 4i; fi29 += 1) {
        var fs31: f32 = fc_25[fi29];
        for (var fk30: i32 = 0i; fk30 < 16i; fk30 += 1) {
          fs31 = fma(stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * (fi29 / 2i))) * 16i) + fk30))], stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + ((fk30 * 8i) + ((2i * (i32(fmc_l) % 4i)) + (fi29 % 2i)))))], fs31);
        }
        fc_25[fi29] = fs31;
      }
      workgroupBarrier();
      for (var fi37: i32 = 0i; fi37 < 8i; fi37 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * ((fi37 / 2i) % 2i))) * 16i) + (((2i * (i32(fmc_l) % 4i)) + (fi37 % 2i)) + (8i * (fi37 / 4i)))))] = fa_17[fi37];
      }
      for (var fi38: i32 = 0i; fi38 < 4i; fi38 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + (((((2i * (i32(fmc_l) % 4i)) + (fi38 % 2i)) + (8i * (fi38 / 2i))) * 8i) + ((i32(fmc_l) % 32i) / 4i))))] = fb_18[fi38];
      }
      workgroupBarrier();
      for (var fi34: i32 = 0i; fi34 < 4i; fi34 += 1) {
        var fs36: f32 = fc_26[fi34];
        for (var fk35: i32 = 0i; fk35 < 16i; fk35 += 1) {
          fs36 = fma(stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * (fi34 / 2i))) * 16i) + fk35))], stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + ((fk35 * 8i) + ((2i * (i32(fmc_l) % 4i)) + (fi34 % 2i)))))], fs36);
        }
        fc_26[fi34] = fs36;
      }
      workgroupBarrier();
      for (var fi42: i32 = 0i; fi42 < 8i; fi42 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * ((fi42 / 2i) % 2i))) * 16i) + (((2i * (i32(fmc_l) % 4i)) + (fi42 % 2i)) + (8i * (fi42 / 4i)))))] = fa_17[fi42];
      }
      for (var fi43: i32 = 0i; fi43 < 4i; fi43 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + (((((2i * (i32(fmc_l) % 4i)) + (fi43 % 2i)) + (8i * (fi43 / 2i))) * 8i) + ((i32(fmc_l) % 32i) / 4i))))] = fb_19[fi43];
      }
      workgroupBarrier();
      for (var fi39: i32 = 0i; fi39 < 4i; fi39 += 1) {
        var fs41: f32 = fc_27[fi39];
        for (var fk40: i32 = 0i; fk40 < 16i; fk40 += 1) {
          fs41 = fma(stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * (fi39 / 2i))) * 16i) + fk40))], stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + ((fk40 * 8i) + ((2i * (i32(fmc_l) % 4i)) + (fi39 % 2i)))))], fs41);
        }
        fc_27[fi39] = fs41;
      }
      workgroupBarrier();
      for (var fi47: i32 = 0i; fi47 < 8i; fi47 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * ((fi47 / 2i) % 2i))) * 16i) + (((2i * (i32(fmc_l) % 4i)) + (fi47 % 2i)) + (8i * (fi47 / 4i)))))] = fa_17[fi47];
      }
      for (var fi48: i32 = 0i; fi48 < 4i; fi48 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + (((((2i * (i32(fmc_l) % 4i)) + (fi48 % 2i)) + (8i * (fi48 / 2i))) * 8i) + ((i32(fmc_l) % 32i) / 4i))))] = fb_20[fi48];
      }
      workgroupBarrier();
      for (var fi44: i32 = 0i; fi44 < 4i; fi44 += 1) {
        var fs46: f32 = fc_28[fi44];
        for (var fk45: i32 = 0i; fk45 < 16i; fk45 += 1) {
          fs46 = fma(stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * (fi44 / 2i))) * 16i) + fk45))], stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + ((fk45 * 8i) + ((2i * (i32(fmc_l) % 4i)) + (fi44 % 2i)))))], fs46);
        }
        fc_28[fi44] = fs46;
      }
      workgroupBarrier();
      for (var fi52: i32 = 0i; fi52 < 8i; fi52 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * ((fi52 / 2i) % 2i))) * 16i) + (((2i * (i32(fmc_l) % 4i)) + (fi52 % 2i)) + (8i * (fi52 / 4i)))))] = fa_17[fi52];
      }
      for (var fi53: i32 = 0i; fi53 < 4i; fi53 += 1) {
        stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + (((((2i * (i32(fmc_l) % 4i)) + (fi53 % 2i)) + (8i * (fi53 / 2i))) * 8i) + ((i32(fmc_l) % 32i) / 4i))))] = fb_21[fi53];
      }
      workgroupBarrier();
      for (var fi49: i32 = 0i; fi49 < 4i; fi49 += 1) {
        var fs51: f32 = fc_29[fi49];
        for (var fk50: i32 = 0i; fk50 < 16i; fk50 += 1) {
          fs51 = fma(stage_10[(((i32(fmc_l) / 32i) * 384i) + (((((i32(fmc_l) % 32i) / 4i) + (8i * (fi49 / 2i))) * 16i) + fk50))], stage_10[(((i32(fmc_l) / 32i) * 384i) + (256i + ((fk50 * 8i) + ((2i * (i32(fmc_l) % 4i)) + (fi49 % 2i)))))], fs51);
        }
        fc_29[fi49] = fs51;
      }
      workgroupBarrier();
      workgroupBarrier();
    }
    for (var fi54: i32 = 0i; fi54 < 4i; fi54 += 1) {
      var r_30: i32 = (((i32(fmc_l) % 32i) / 4i) + (8i * (fi54 / 2i)));
      var c_31: i32 = ((2i * (i32(fmc_l) % 4i)) + (fi54 % 2i));
      var v_32: f32 = fc_22[fi54];
      var m_33: i32 = (m0_3 + ((wm_6 * 32i) + r_30));
      var n_34: i32 = (n0_4 + ((wn_7 * 32i) + c_31));
      if (((m_33 < 37i) && (n_34 < 70i))) {
        var lgw_0: i32 = ((m_33 * 70i) + n_34);
        var lgw_1: i32 = fmc_f2h(v_32);
        atomicAnd(&b0[(lgw_0 / 2i)], ~(65535i << u32(((lgw_0 & 1i) << u32(4i))))); atomicOr(&b0[(lgw_0 / 2i)], (lgw_1 << u32(((lgw_0 & 1i) << u32(4i)))));
      }
    }
    for (var fi55: i32 = 0i; fi55 < 4i; fi55 += 1) {
      var r_35: i32 = (((i32(fmc_l) % 32i) / 4i) + (8i * (fi55 / 2i)));
      var c_36: i32 = ((2i * (i32(fmc_l) % 4i)) + (fi55 % 2i));
      var v_37: f32 = fc_23[fi55];
      var m_38: i32 = (m0_3 + ((wm_6 * 32i) + r_35));
      var n_39: i32 = (n0_4 + (((wn_7 * 32i) + 8i) + c_36));
      if (((m_38 < 37i) && (n_39 < 70i))) {
        var lgw_2: i32 = ((m_38 * 70i) + n_39);
        var lgw_3: i32 = fmc_f2h(v_37);
        atomicAnd(&b0[(lgw_2 / 2i)], ~(65535i << u32(((lgw_2 & 1i) << u32(4i))))); atomicOr(&b0[(lgw_2 / 2i)], (lgw_3 << u32(((lgw_2 & 1i) << u32(4i)))));
      }
    }
    for (var fi56: i32 = 0i; fi56 < 4i; fi56 += 1) {
      var r_40: i32 = (((i32(fmc_l) % 32i) / 4i) + (8i * (fi56 / 2i)));
      var c_41: i32 = ((2i * (i32(fmc_l) % 4i)) + (fi56 % 2i));
      var v_42: f32 = fc_24[fi56];
      var m_43: i32 = (m0_3 + ((wm_6 * 32i) + r_40));
      var n_44: i32 = (n0_4 + (((wn_7 * 32i) + 16i) + c_41));
      if (((m_43 < 37i) && (n_44 < 70i))) {
        var lgw_4: i32 = ((m_43 * 70i) + n_44);
        var lgw_5: i32 = fmc_f2h(v_42);
        atomicAnd(&b0[(lgw_4 / 2i)], ~(65535i << u32(((lgw_4 & 1i) << u32(4i))))); atomicOr(&b0[(lgw_4 / 2i)], (lgw_5 << u32(((lgw_4 & 1i) << u32(4i)))));
      }
    }
    for (var fi57: i32 = 0i; fi57 < 4i; fi57 += 1) {
      var r_45: i32 = (((i32(fmc_l) % 32i) / 4i) + (8i * (fi57 / 2i)));
      var c_46: i32 = ((2i * (i32(fmc_l) % 4i)) + (fi57 % 2i));
      var v_47: f32 = fc_25[fi57];
      var m_48: i32 = (m0_3 + ((wm_6 * 32i) + r_45));
      var n_49: i32 = (n0_4 + (((wn_7 * 32i) + 24i) + c_46));
      if (((m_48 < 37i) && (n_49 < 70i))) {
        var lgw_6: i32 = ((m_48 * 70i) + n_49);
        var lgw_7: i32 = fmc_f2h(v_47);
        atomicAnd(&b0[(lgw_6 / 2i)], ~(65535i << u32(((lgw_6 & 1i) << u32(4i))))); atomicOr(&b0[(lgw_6 / 2i)], (lgw_7 << u32(((lgw_6 & 1i) << u32(4i)))));
      }
    }
    for (var fi58: i32 = 0i; fi58 < 4i; fi58 += 1) {
      var r_50: i32 = (((i32(fmc_l) % 32i) / 4i) + (8i * (fi58 / 2i)));
      var c_51: i32 = ((2i * (i32(fmc_l) % 4i)) + (fi58 % 2i));
      var v_52: f32 = fc_26[fi58];
      var m_53: i32 = (m0_3 + (((wm_6 * 32i) + 16i) + r_50));
      var n_54: i32 = (n0_4 + ((wn_7 * 32i) + c_51));
      if (((m_53 < 37i) && (n_54 < 70i))) {
        var lgw_8: i32 = ((m_53 * 70i) + n_54);
        var lgw_9: i32 = fmc_f2h(v_52);
        atomicAnd(&b0[(lgw_8 / 2i)], ~(65535i << u32(((lgw_8 & 1i) << u32(4i))))); atomicOr(&b0[(lgw_8 / 2i)], (lgw_9 << u32(((lgw_8 & 1i) << u32(4i)))));
      }
    }
    for (var fi59: i32 = 0i; fi59 < 4i; fi59 += 1) {
      var r_55: i32 = (((i32(fmc_l) % 32i) / 4i) + (8i * (fi59 / 2i)));
      var c_56: i32 = ((2i * (i32(fmc_l) % 4i)) + (fi59 % 2i));
      var v_57: f32 = fc_27[fi59];
      var m_58: i32 = (m0_3 + (((wm_6 * 32i) + 16i) + r_55));
      var n_59: i32 = (n0_4 + (((wn_7 * 32i) + 8i) + c_56));
      if (((m_58 < 37i) && (n_59 < 70i))) {
        var lgw_10: i32 = ((m_58 * 70i) + n_59);
        var lgw_11: i32 = fmc_f2h(v_57);
        atomicAnd(&b0[(lgw_10 / 2i)], ~(65535i << u32(((lgw_10 & 1i) << u32(4i))))); atomicOr(&b0[(lgw_10 / 2i)], (lgw_11 << u32(((lgw_10 & 1i) << u32(4i)))));
      }
    }
    for (var fi60: i32 = 0i; fi60 < 4i; fi60 += 1) {
      var r_60: i32 = (((i32(fmc_l) % 32i) / 4i) + (8i * (fi60 / 2i)));
      var c_61: i32 = ((2i * (i32(fmc_l) % 4i)) + (fi60 % 2i));
      var v_62: f32 = fc_28[fi60];
      var m_63: i32 = (m0_3 + (((wm_6 * 32i) + 16i) + r_60));
      var n_64: i32 = (n0_4 + (((wn_7 * 32i) + 16i) + c_61));
      if (((m_63 < 37i) && (n_64 < 70i))) {
        var lgw_12: i32 = ((m_63 * 70i) + n_64);
        var lgw_13: i32 = fmc_f2h(v_62);
        atomicAnd(&b0[(lgw_12 / 2i)], ~(65535i << u32(((lgw_12 & 1i) << u32(4i))))); atomicOr(&b0[(lgw_12 / 2i)], (lgw_13 << u32(((lgw_12 & 1i) << u32(4i)))));
      }
    }
    for (var fi61: i32 = 0i; fi61 < 4i; fi61 += 1) {
      var r_65: i32 = (((i32(fmc_l) % 32i) / 4i) + (8i * (fi61 / 2i)));
      var c_66: i32 = ((2i * (i32(fmc_l) % 4i)) + (fi61 % 2i));
      var v_67: f32 = fc_29[fi61];
      var m_68: i32 = (m0_3 + (((wm_6 * 32i) + 16i) + r_65));
      var n_69: i32 = (n0_4 + (((wn_7 * 32i) + 24i) + c_66));
      if (((m_68 < 37i) && (n_69 < 70i))) {
        var lgw_14: i32 = ((m_68 * 70i) + n_69);
        var lgw_15: i32 = fmc_f2h(v_67);
        atomicAnd(&b0[(lgw_14 / 2i)], ~(65535i << u32(((lgw_14 & 1i) << u32(4i))))); atomicOr(&b0[(lgw_14 / 2i)], (lgw_15 << u32(((lgw_14 & 1i) << u32(4i)))));
      }
    }
  }
}
