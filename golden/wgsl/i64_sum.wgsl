/* grid: {"invocations":{"k":"const","t":"i64","v":4096},"workgroup":64,"tiled":true}; dims vec4s 1 */
/* golden_wgsl_i64_sum */
/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */

@group(0) @binding(0) var<storage, read_write> b0: array<i32>;
@group(0) @binding(1) var<storage, read> b1: array<i32>;
@group(1) @binding(0) var<uniform> d: array<vec4<i32>, 1>;
var<workgroup> sh_4: array<vec2<u32>, 64>;

/* k0_reduce: partials of a split reduction */
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) fmc_wg: vec3<u32>, @builtin(num_workgroups) fmc_nwg: vec3<u32>,
        @builtin(local_invocation_index) fmc_l: u32) {
  let fmc_gid = i32((fmc_wg.y * fmc_nwg.x + fmc_wg.x) * 64u + fmc_l);
  var wg_2: i32 = i32(fmc_wg.y * fmc_nwg.x + fmc_wg.x);
  if ((wg_2 < 64i)) {
    var l_3: i32 = i32(fmc_l);
    var acc_0: vec2<u32> = fmc_i64(0i, 0i);
    for (var r_1: i32 = (((wg_2 % 64i) * 64i) + l_3); r_1 < d[0][0]; r_1 += 4096) {
      acc_0 = fmc_add_l(acc_0, fmc_i64(b1[(r_1 * 2i)], b1[((r_1 * 2i) + 1i)]));
    }
    sh_4[l_3] = acc_0;
    workgroupBarrier();
    if ((l_3 < 32i)) {
      sh_4[l_3] = fmc_add_l(sh_4[l_3], sh_4[(l_3 + 32i)]);
    }
    workgroupBarrier();
    if ((l_3 < 16i)) {
      sh_4[l_3] = fmc_add_l(sh_4[l_3], sh_4[(l_3 + 16i)]);
    }
    workgroupBarrier();
    if ((l_3 < 8i)) {
      sh_4[l_3] = fmc_add_l(sh_4[l_3], sh_4[(l_3 + 8i)]);
    }
    workgroupBarrier();
    if ((l_3 < 4i)) {
      sh_4[l_3] = fmc_add_l(sh_4[l_3], sh_4[(l_3 + 4i)]);
    }
    workgroupBarrier();
    if ((l_3 < 2i)) {
      sh_4[l_3] = fmc_add_l(sh_4[l_3], sh_4[(l_3 + 2i)]);
    }
    workgroupBarrier();
    if ((l_3 < 1i)) {
      sh_4[l_3] = fmc_add_l(sh_4[l_3], sh_4[(l_3 + 1i)]);
    }
    workgroupBarrier();
    acc_0 = sh_4[0i];
    if ((l_3 == 0i)) {
      var lgw_0: i32 = wg_2;
      var lgw_1: vec2<u32> = acc_0;
      b0[(lgw_0 * 2i)] = fmc_lo(lgw_1);
      b0[((lgw_0 * 2i) + 1i)] = fmc_hi(lgw_1);
    }
  }
}

/* grid: {"invocations":{"k":"const","t":"i64","v":64},"workgroup":64,"tiled":true}; dims vec4s 1 */
/* golden_wgsl_i64_sum */
/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */

@group(0) @binding(0) var<storage, read_write> b0: array<i32>;
@group(0) @binding(1) var<storage, read> b1: array<i32>;
@group(1) @binding(0) var<uniform> d: array<vec4<i32>, 1>;
var<workgroup> sh_4: array<vec2<u32>, 64>;

/* k1_reduce: reduce %1 */
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) fmc_wg: vec3<u32>, @builtin(num_workgroups) fmc_nwg: vec3<u32>,
        @builtin(local_invocation_index) fmc_l: u32) {
  let fmc_gid = i32((fmc_wg.y * fmc_nwg.x + fmc_wg.x) * 64u + fmc_l);
  var wg_2: i32 = i32(fmc_wg.y * fmc_nwg.x + fmc_wg.x);
  if ((wg_2 < 1i)) {
    var l_3: i32 = i32(fmc_l);
    var acc_0: vec2<u32> = fmc_i64(0i, 0i);
    for (var r_1: i32 = l_3; r_1 < 64i; r_1 += 64) {
      acc_0 = fmc_add_l(acc_0, fmc_i64(b1[(((wg_2 * 64i) + r_1) * 2i)], b1[((((wg_2 * 64i) + r_1) * 2i) + 1i)]));
    }
    sh_4[l_3] = acc_0;
    workgroupBarrier();
    if ((l_3 < 32i)) {
      sh_4[l_3] = fmc_add_l(sh_4[l_3], sh_4[(l_3 + 32i)]);
    }
    workgroupBarrier();
    if ((l_3 < 16i)) {
      sh_4[l_3] = fmc_add_l(sh_4[l_3], sh_4[(l_3 + 16i)]);
    }
    workgroupBarrier();
    if ((l_3 < 8i)) {
      sh_4[l_3] = fmc_add_l(sh_4[l_3], sh_4[(l_3 + 8i)]);
    }
    workgroupBarrier();
    if ((l_3 < 4i)) {
      sh_4[l_3] = fmc_add_l(sh_4[l_3], sh_4[(l_3 + 4i)]);
    }
    workgroupBarrier();
    if ((l_3 < 2i)) {
      sh_4[l_3] = fmc_add_l(sh_4[l_3], sh_4[(l_3 + 2i)]);
    }
    workgroupBarrier();
    if ((l_3 < 1i)) {
      sh_4[l_3] = fmc_add_l(sh_4[l_3], sh_4[(l_3 + 1i)]);
    }
    workgroupBarrier();
    acc_0 = sh_4[0i];
    if ((l_3 == 0i)) {
      var lgw_0: i32 = 0i;
      var lgw_1: vec2<u32> = acc_0;
      b0[(lgw_0 * 2i)] = fmc_lo(lgw_1);
      b0[((lgw_0 * 2i) + 1i)] = fmc_hi(lgw_1);
    }
  }
}
