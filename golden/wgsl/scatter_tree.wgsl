/* grid: {"invocations":{"k":"const","t":"i64","v":64},"workgroup":64,"tiled":true}; dims vec4s 1 */
/* golden_wgsl_scatter_tree */
/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */

@group(0) @binding(0) var<storage, read_write> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(0) @binding(2) var<storage, read> b2: array<i32>;
@group(0) @binding(3) var<storage, read> b3: array<f32>;
@group(1) @binding(0) var<uniform> d: array<vec4<i32>, 1>;
var<workgroup> sh_1: array<f32, 512>;

/* k0_scatter_add: scatter_add %3 */
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) fmc_wg: vec3<u32>, @builtin(num_workgroups) fmc_nwg: vec3<u32>,
        @builtin(local_invocation_index) fmc_l: u32) {
  let fmc_gid = i32((fmc_wg.y * fmc_nwg.x + fmc_wg.x) * 64u + fmc_l);
  var wg_6: i32 = i32(fmc_wg.y * fmc_nwg.x + fmc_wg.x);
  if ((wg_6 < 1i)) {
    var l_7: i32 = i32(fmc_l);
    var part_0: array<f32, 8>;
    for (var v_2: i32 = 0i; v_2 < 8i; v_2 += 1) {
      part_0[v_2] = 0x0p+0f;
    }
    for (var s_3: i32 = l_7; s_3 < d[0][0]; s_3 += 64) {
      var t_4: vec2<u32> = fmc_l_i(b2[s_3]);
      if ((fmc_ge_l(t_4, fmc_i64(0i, 0i)) && fmc_lt_l(t_4, fmc_i64(8i, 0i)))) {
        part_0[fmc_lo(t_4)] = fmc_add_f(part_0[fmc_lo(t_4)], b3[s_3]);
      }
    }
    for (var v_2: i32 = 0i; v_2 < 8i; v_2 += 1) {
      sh_1[((v_2 * 64i) + l_7)] = part_0[v_2];
    }
    workgroupBarrier();
    if ((l_7 < 32i)) {
      for (var v_2: i32 = 0i; v_2 < 8i; v_2 += 1) {
        sh_1[((v_2 * 64i) + l_7)] = fmc_add_f(sh_1[((v_2 * 64i) + l_7)], sh_1[((v_2 * 64i) + (l_7 + 32i))]);
      }
    }
    workgroupBarrier();
    if ((l_7 < 16i)) {
      for (var v_2: i32 = 0i; v_2 < 8i; v_2 += 1) {
        sh_1[((v_2 * 64i) + l_7)] = fmc_add_f(sh_1[((v_2 * 64i) + l_7)], sh_1[((v_2 * 64i) + (l_7 + 16i))]);
      }
    }
    workgroupBarrier();
    if ((l_7 < 8i)) {
      for (var v_2: i32 = 0i; v_2 < 8i; v_2 += 1) {
        sh_1[((v_2 * 64i) + l_7)] = fmc_add_f(sh_1[((v_2 * 64i) + l_7)], sh_1[((v_2 * 64i) + (l_7 + 8i))]);
      }
    }
    workgroupBarrier();
    if ((l_7 < 4i)) {
      for (var v_2: i32 = 0i; v_2 < 8i; v_2 += 1) {
        sh_1[((v_2 * 64i) + l_7)] = fmc_add_f(sh_1[((v_2 * 64i) + l_7)], sh_1[((v_2 * 64i) + (l_7 + 4i))]);
      }
    }
    workgroupBarrier();
    if ((l_7 < 2i)) {
      for (var v_2: i32 = 0i; v_2 < 8i; v_2 += 1) {
        sh_1[((v_2 * 64i) + l_7)] = fmc_add_f(sh_1[((v_2 * 64i) + l_7)], sh_1[((v_2 * 64i) + (l_7 + 2i))]);
      }
    }
    workgroupBarrier();
    if ((l_7 < 1i)) {
      for (var v_2: i32 = 0i; v_2 < 8i; v_2 += 1) {
        sh_1[((v_2 * 64i) + l_7)] = fmc_add_f(sh_1[((v_2 * 64i) + l_7)], sh_1[((v_2 * 64i) + (l_7 + 1i))]);
      }
    }
    workgroupBarrier();
    for (var lv_5: i32 = l_7; lv_5 < 8i; lv_5 += 64) {
      var v_2: i32 = lv_5;
      b0[v_2] = select(b1[v_2], fmc_add_f(b1[v_2], sh_1[(v_2 * 64i)]), fmc_ne_f(sh_1[(v_2 * 64i)], 0x0p+0f));
    }
  }
}
