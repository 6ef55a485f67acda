// The 64-bit integers of the WGSL prelude: WGSL has no i64, so an integer value computes as
// vec2<u32> (x the low word, y the high word, two's complement), with the C prelude's
// semantics (prelude-c.ts): add, sub, mul and neg wrap at 2^64; `/` truncates and `%` takes
// the dividend's sign, by zero both give 0, INT64_MIN / -1 wraps; a float converts by
// truncation, NaN to 0, saturating at the target's bounds; an integer converts to f32 rounded
// to nearest even. Legalization (legalize-wgsl.ts) turns every integer value of a kernel into
// these calls; index arithmetic stays in i32 (the host proves its bounds).

export const WGSL_I64_PRELUDE = `
fn fmc_i64(lo: i32, hi: i32) -> vec2<u32> { return vec2<u32>(bitcast<u32>(lo), bitcast<u32>(hi)); }
fn fmc_l_i(x: i32) -> vec2<u32> { return vec2<u32>(bitcast<u32>(x), select(0u, 0xffffffffu, x < 0)); }
fn fmc_lo(x: vec2<u32>) -> i32 { return bitcast<i32>(x.x); }
fn fmc_hi(x: vec2<u32>) -> i32 { return bitcast<i32>(x.y); }
fn fmc_truth_l(x: vec2<u32>) -> bool { return (x.x | x.y) != 0u; }
fn fmc_neg_l(a: vec2<u32>) -> vec2<u32> { return vec2<u32>(0u - a.x, 0u - a.y - select(0u, 1u, a.x != 0u)); }
fn fmc_add_l(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}
fn fmc_sub_l(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x));
}
fn fmc_mul_l(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(a.x * b.x, fmc_mulhi(a.x, b.x) + a.x * b.y + a.y * b.x);
}
fn fmc_neg64(x: vec2<u32>) -> bool { return (x.y >> 31u) == 1u; }
fn fmc_ltu_l(a: vec2<u32>, b: vec2<u32>) -> bool { return a.y < b.y || (a.y == b.y && a.x < b.x); }
fn fmc_lt_l(a: vec2<u32>, b: vec2<u32>) -> bool {
  return bitcast<i32>(a.y) < bitcast<i32>(b.y) || (a.y == b.y && a.x < b.x);
}
fn fmc_eq_l(a: vec2<u32>, b: vec2<u32>) -> bool { return a.x == b.x && a.y == b.y; }
fn fmc_ne_l(a: vec2<u32>, b: vec2<u32>) -> bool { return !fmc_eq_l(a, b); }
fn fmc_le_l(a: vec2<u32>, b: vec2<u32>) -> bool { return !fmc_lt_l(b, a); }
fn fmc_gt_l(a: vec2<u32>, b: vec2<u32>) -> bool { return fmc_lt_l(b, a); }
fn fmc_ge_l(a: vec2<u32>, b: vec2<u32>) -> bool { return !fmc_lt_l(a, b); }
fn fmc_max_l(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> { return select(b, a, fmc_lt_l(b, a)); }
fn fmc_min_l(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> { return select(b, a, fmc_lt_l(a, b)); }
fn fmc_abs_l(a: vec2<u32>) -> vec2<u32> { return select(a, fmc_neg_l(a), fmc_neg64(a)); }
fn fmc_shl1_l(a: vec2<u32>) -> vec2<u32> { return vec2<u32>(a.x << 1u, (a.y << 1u) | (a.x >> 31u)); }
fn fmc_shr_l(a: vec2<u32>, s: u32) -> vec2<u32> {
  if (s == 0u) { return a; }
  if (s >= 32u) { return vec2<u32>(a.y >> (s - 32u), 0u); }
  return vec2<u32>((a.x >> s) | (a.y << (32u - s)), a.y >> s);
}
// Unsigned a / b and a % b (b != 0) by shift and subtract: (q.x, q.y, r.x, r.y).
fn fmc_divmodu_l(a: vec2<u32>, b: vec2<u32>) -> vec4<u32> {
  var q = vec2<u32>(0u, 0u);
  var r = vec2<u32>(0u, 0u);
  for (var i = 63; i >= 0; i--) {
    let bit = (select(a.x, a.y, i >= 32) >> (u32(i) & 31u)) & 1u;
    r = fmc_shl1_l(r) | vec2<u32>(bit, 0u);
    q = fmc_shl1_l(q);
    if (!fmc_ltu_l(r, b)) {
      r = fmc_sub_l(r, b);
      q = q | vec2<u32>(1u, 0u);
    }
  }
  return vec4<u32>(q, r);
}
fn fmc_div_l(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  if (!fmc_truth_l(b)) { return vec2<u32>(0u, 0u); }
  let qr = fmc_divmodu_l(fmc_abs_l(a), fmc_abs_l(b));
  return select(qr.xy, fmc_neg_l(qr.xy), fmc_neg64(a) != fmc_neg64(b));
}
fn fmc_mod_l(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  if (!fmc_truth_l(b)) { return vec2<u32>(0u, 0u); }
  let qr = fmc_divmodu_l(fmc_abs_l(a), fmc_abs_l(b));
  return select(qr.zw, fmc_neg_l(qr.zw), fmc_neg64(a));
}
fn fmc_pow_l(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let one = vec2<u32>(1u, 0u);
  if (fmc_neg64(b)) {
    if (fmc_eq_l(a, one)) { return one; }
    if (fmc_eq_l(a, vec2<u32>(0xffffffffu, 0xffffffffu))) { return select(one, a, (b.x & 1u) == 1u); }
    return vec2<u32>(0u, 0u);
  }
  var r = one;
  var base = a;
  var e = b;
  loop {
    if (!fmc_truth_l(e)) { break; }
    if ((e.x & 1u) == 1u) { r = fmc_mul_l(r, base); }
    base = fmc_mul_l(base, base);
    e = fmc_shr_l(e, 1u);
  }
  return r;
}
fn fmc_wrap_l(x: vec2<u32>, bits: i32) -> vec2<u32> {
  if (bits >= 64) { return x; }
  return fmc_l_i(fmc_wrap_i(bitcast<i32>(x.x), bits));
}
// Truncation toward zero, NaN to 0, saturating at [-2^(bits-1), 2^(bits-1) - 1].
fn fmc_f2l(x: f32, bits: i32) -> vec2<u32> {
  if (fmc_isnan(x)) { return vec2<u32>(0u, 0u); }
  if (bits < 64) {
    let m = 1 << u32(bits - 1);
    return fmc_l_i(fmc_f2i(x, select(-m, -2147483647 - 1, bits == 32), select(m - 1, 2147483647, bits == 32)));
  }
  if (x >= 9223372036854775808.0) { return vec2<u32>(0xffffffffu, 0x7fffffffu); }
  if (x < -9223372036854775808.0) { return vec2<u32>(0u, 0x80000000u); }
  let a = abs(x);
  if (a < 2147483648.0) { return fmc_l_i(i32(x)); }
  let b = bitcast<u32>(a);
  let mant = (b & 0x7fffffu) | 0x800000u;
  let s = (b >> 23u) - 150u; // a = mant * 2^s, 8 <= s <= 39
  var v: vec2<u32>;
  if (s >= 32u) { v = vec2<u32>(0u, mant << (s - 32u)); } else { v = vec2<u32>(mant << s, mant >> (32u - s)); }
  return select(v, fmc_neg_l(v), x < 0.0);
}
// Rounded to nearest even, as C's (float)(int64_t).
fn fmc_l2f(x: vec2<u32>) -> f32 {
  let a = fmc_abs_l(x);
  var n: u32;
  if (a.y != 0u) { n = 32u + firstLeadingBit(a.y); } else { n = firstLeadingBit(a.x); }
  var m: f32;
  if (a.y == 0u && a.x < 0x1000000u) {
    m = f32(a.x);
  } else {
    let s = n - 23u;
    var q = fmc_shr_l(a, s).x;
    let rest = fmc_sub_l(a, fmc_shl_l(vec2<u32>(q, 0u), s));
    let half = fmc_shl_l(vec2<u32>(1u, 0u), s - 1u);
    if (fmc_ltu_l(half, rest) || (fmc_eq_l(rest, half) && (q & 1u) == 1u)) { q = q + 1u; }
    m = ldexp(f32(q), i32(s));
  }
  return select(m, -m, fmc_neg64(x));
}
fn fmc_shl_l(a: vec2<u32>, s: u32) -> vec2<u32> {
  if (s == 0u) { return a; }
  if (s >= 32u) { return vec2<u32>(0u, a.x << (s - 32u)); }
  return vec2<u32>(a.x << s, (a.y << s) | (a.x >> (32u - s)));
}
`;
