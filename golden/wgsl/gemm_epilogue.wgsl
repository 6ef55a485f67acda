/* grid: {"invocations":{"k":"ix","op":"*","a":{"k":"dim","slot":0},"b":{"k":"const","t":"i64","v":48}},"workgroup":64}; dims vec4s 1 */
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
  if ((fmc_gid < (d[0][0] * 48i))) {
    var b_0: i32 = (fmc_gid / (48i * d[0][0]));
    var m_1: i32 = ((fmc_gid / 48i) % d[0][0]);
    var n_2: i32 = (fmc_gid % 48i);
    var acc_4: f32 = 0x0p+0f;
    for (var k_3: i32 = 0i; k_3 < 64i; k_3 += 1) {
      acc_4 = fma(b1[((m_1 * 64i) + k_3)], b2[((n_2 * 64i) + k_3)], acc_4);
    }
    var c_5: f32 = acc_4;
    var v_6: f32 = fmc_add_f(c_5, b3[n_2]);
    var v_7: f32 = fmc_mul_f(v_6, v_6);
    var v_8: f32 = fmc_mul_f(v_7, v_6);
    var v_9: f32 = fmc_mul_f(0x1.6e4e26p-5f, v_8);
    var v_10: f32 = fmc_add_f(v_6, v_9);
    var v_11: f32 = fmc_mul_f(0x1.988454p-1f, v_10);
    var v_12: f32 = fmc_mul_f(0x1.000000p-1f, v_6);
    var v_13: f32 = fmc_tanh_f(v_11);
    var v_14: f32 = fmc_add_f(0x1.000000p+0f, v_13);
    var v_15: f32 = fmc_mul_f(v_12, v_14);
    var v_16: f32 = fmc_add_f(v_15, b4[((m_1 * 48i) + n_2)]);
    b0[((m_1 * 48i) + n_2)] = v_16;
  }
}
