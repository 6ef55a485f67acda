enable f16;
/* golden_wgsl_f16_chain */
/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */
fn fmc_rnd_h(x: f32) -> f16 { return f16(fmc_h2f(fmc_f2h(x))); }
fn fmc_neg_h(x: f16) -> f16 { return fmc_rnd_h(fmc_neg_f(f32(x))); }
fn fmc_exp_h(x: f16) -> f16 { return fmc_rnd_h(fmc_exp_f(f32(x))); }
fn fmc_log_h(x: f16) -> f16 { return fmc_rnd_h(fmc_log_f(f32(x))); }
fn fmc_sqrt_h(x: f16) -> f16 { return fmc_rnd_h(fmc_sqrt_f(f32(x))); }
fn fmc_rsqrt_h(x: f16) -> f16 { return fmc_rnd_h(fmc_rsqrt_f(f32(x))); }
fn fmc_sin_h(x: f16) -> f16 { return fmc_rnd_h(fmc_sin_f(f32(x))); }
fn fmc_cos_h(x: f16) -> f16 { return fmc_rnd_h(fmc_cos_f(f32(x))); }
fn fmc_tanh_h(x: f16) -> f16 { return fmc_rnd_h(fmc_tanh_f(f32(x))); }
fn fmc_erf_h(x: f16) -> f16 { return fmc_rnd_h(fmc_erf_f(f32(x))); }
fn fmc_abs_h(x: f16) -> f16 { return fmc_rnd_h(fmc_abs_f(f32(x))); }
fn fmc_recip_h(x: f16) -> f16 { return fmc_rnd_h(fmc_recip_f(f32(x))); }
fn fmc_floor_h(x: f16) -> f16 { return fmc_rnd_h(fmc_floor_f(f32(x))); }
fn fmc_add_h(a: f16, b: f16) -> f16 { return a + b; }
fn fmc_sub_h(a: f16, b: f16) -> f16 { return a - b; }
fn fmc_mul_h(a: f16, b: f16) -> f16 { return a * b; }
fn fmc_div_h(a: f16, b: f16) -> f16 { return fmc_rnd_h(fmc_div_f(f32(a), f32(b))); }
fn fmc_mod_h(a: f16, b: f16) -> f16 { return fmc_rnd_h(fmc_mod_f(f32(a), f32(b))); }
fn fmc_pow_h(a: f16, b: f16) -> f16 { return fmc_rnd_h(fmc_pow_f(f32(a), f32(b))); }
fn fmc_max_h(a: f16, b: f16) -> f16 { return fmc_rnd_h(fmc_max_f(f32(a), f32(b))); }
fn fmc_min_h(a: f16, b: f16) -> f16 { return fmc_rnd_h(fmc_min_f(f32(a), f32(b))); }

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
    var lgw_1: i32 = fmc_f2h(f32(fmc_div_h(fmc_tanh_h(fmc_add_h(fmc_mul_h(fmc_exp_h(f16(fmc_h2f((bitcast<i32>(bitcast<u32>(b1[(((i_0 * 8i) + i_1) / 2i)]) >> u32(((((i_0 * 8i) + i_1) & 1i) << u32(4i)))) & 65535i)))), f16(fmc_h2f((bitcast<i32>(bitcast<u32>(b2[(i_1 / 2i)]) >> u32(((i_1 & 1i) << u32(4i)))) & 65535i)))), f16(fmc_h2f((bitcast<i32>(bitcast<u32>(b1[(((i_0 * 8i) + i_1) / 2i)]) >> u32(((((i_0 * 8i) + i_1) & 1i) << u32(4i)))) & 65535i))))), f16(fmc_h2f((bitcast<i32>(bitcast<u32>(b2[(i_1 / 2i)]) >> u32(((i_1 & 1i) << u32(4i)))) & 65535i))))));
    atomicAnd(&b0[(lgw_0 / 2i)], ~(65535i << u32(((lgw_0 & 1i) << u32(4i))))); atomicOr(&b0[(lgw_0 / 2i)], (lgw_1 << u32(((lgw_0 & 1i) << u32(4i)))));
  }
}
