// The WGSL prelude: the scalar functions every generated WGSL module starts with, the
// interpreter's element semantics (as the C prelude, prelude-c.ts) on WGSL's compute types:
// floats in f32, indices in i32, integer values in 64 bits as vec2<u32> (WGSL has no 64-bit
// integers: prelude-wgsl-i64.ts, appended here), bool. NaN and Inf are tested through bit patterns
// (SwiftShader's `x != x` is false for a NaN) and made through fmc_bits_f32, a function call
// (a NaN or Inf in a constant expression is a WGSL compile error). fmod is exact (long
// division: each step subtracts y·2^k with y·2^k <= x < 2·y·2^k, exact by Sterbenz); sin and
// cos reduce by π/2 in three parts (accurate up to |x| ~ 2^24; WGSL's builtins are not even
// near 0 on SwiftShader) and evaluate minimax polynomials; pow of a non-integer exponent is
// within a few ulp of the interpreter, not bit-exact.

import { WGSL_POLY, POLYNOMIALS as P, horner } from './polynomials.js';
import { WGSL_I64_PRELUDE } from './prelude-wgsl-i64.js';

export const WGSL_PRELUDE = `
fn fmc_bits_f32(b: u32) -> f32 { return bitcast<f32>(b); }
fn fmc_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn fmc_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn fmc_nan() -> f32 { return fmc_bits_f32(0x7fc00000u); }
fn fmc_inf() -> f32 { return fmc_bits_f32(0x7f800000u); }
fn fmc_truth_f(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) != 0u; }
fn fmc_ordered(a: f32, b: f32) -> bool { return !fmc_isnan(a) && !fmc_isnan(b); }
fn fmc_eq_f(a: f32, b: f32) -> bool { return fmc_ordered(a, b) && a == b; }
fn fmc_ne_f(a: f32, b: f32) -> bool { return !fmc_eq_f(a, b); }
fn fmc_lt_f(a: f32, b: f32) -> bool { return fmc_ordered(a, b) && a < b; }
fn fmc_le_f(a: f32, b: f32) -> bool { return fmc_ordered(a, b) && a <= b; }
fn fmc_gt_f(a: f32, b: f32) -> bool { return fmc_ordered(a, b) && a > b; }
fn fmc_ge_f(a: f32, b: f32) -> bool { return fmc_ordered(a, b) && a >= b; }
fn fmc_min_ix(a: i32, b: i32) -> i32 { return min(a, b); }
fn fmc_max_ix(a: i32, b: i32) -> i32 { return max(a, b); }
fn fmc_wrap_i(x: i32, bits: i32) -> i32 {
  if (bits >= 32) { return x; }
  let s = u32(32 - bits);
  return (x << s) >> s;
}
fn fmc_sign(y: f32, x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(y) | (bitcast<u32>(x) & 0x80000000u)); }

fn fmc_neg_f(x: f32) -> f32 { return -x; }
fn fmc_exp_f(x: f32) -> f32 {
  if (fmc_isnan(x)) { return x; }
  let c = clamp(x, -104.0, 89.0);
  let t = fma(c, 1.44269502, 12582912.0);
  let k = t - 12582912.0;
  var r = fma(k, -0.693145751953125, c);
  r = fma(k, -1.42860677e-6, r);
${horner('q', 'r', P.exp, WGSL_POLY, true)}
  let p = fma(r * r, q, r) + 1.0;
  let e = bitcast<u32>(t) - 0x4b3fff6au;
  let h = e >> 1u;
  return p * fmc_bits_f32((h + 52u) << 23u) * fmc_bits_f32((e - h + 52u) << 23u);
}
fn fmc_log_f(x: f32) -> f32 {
  let ax = bitcast<u32>(x);
  if ((ax & 0x7fffffffu) >= 0x7f800000u && (ax == 0x7f800000u || fmc_isnan(x))) { return x; }
  if ((ax & 0x7fffffffu) == 0u) { return -fmc_inf(); }
  if ((ax >> 31u) == 1u) { return fmc_nan(); }
  let tiny = ax < 0x00800000u;
  let u = bitcast<u32>(select(x, x * 8388608.0, tiny)) + 0x00cafb0du;
  let k = f32(i32(u >> 23u)) - select(128.0, 151.0, tiny);
  let f = fmc_bits_f32((u & 0x7fffffu) + 0x3f3504f3u) - 1.0;
${horner('q', 'f', P.log, WGSL_POLY)}
  return fma(k, 0.693145751953125, fma(k, 1.42860677e-6, fma(f * f, q, f)));
}
fn fmc_sqrt_f(x: f32) -> f32 { return sqrt(x); }
fn fmc_rsqrt_f(x: f32) -> f32 { return 1.0 / sqrt(x); }
fn fmc_trig(x: f32, quarter: u32) -> f32 {
  if ((bitcast<u32>(x) & 0x7fffffffu) >= 0x7f800000u) { return fmc_nan(); }
  let k = round(x * 0.636619772);
  var r = fma(-k, 1.57079637, x);
  r = fma(-k, -4.37113883e-8, r);
  r = fma(-k, -1.71512451e-15, r);
  let q = (bitcast<u32>(i32(k)) + quarter) & 3u;
  let s = r * r;
  let sn = fma(r * s, fma(s, fma(s, -1.9515295891e-4, 8.3321608736e-3), -1.6666654611e-1), r);
  let cs = fma(s * s, fma(s, fma(s, 2.443315711809948e-5, -1.388731625493765e-3), 4.166664568298827e-2), fma(-0.5, s, 1.0));
  let v = select(sn, cs, (q & 1u) == 1u);
  return select(v, -v, q >= 2u);
}
fn fmc_sin_f(x: f32) -> f32 { return fmc_trig(x, 0u); }
fn fmc_cos_f(x: f32) -> f32 { return fmc_trig(x, 1u); }
fn fmc_tanh_f(x: f32) -> f32 {
  if (fmc_isnan(x)) { return x; }
  let a = abs(x);
  let s = a * a;
  let t = min(a, 10.0);
${horner('p', 's', P.tanh, WGSL_POLY)}
  let big = fma(-2.0, 1.0 / (fmc_exp_f(t + t) + 1.0), 1.0);
  return fmc_sign(select(big, fma(a, s * p, a), a < 0.625), x);
}
fn fmc_erf_f(x: f32) -> f32 {
  if (fmc_isnan(x)) { return x; }
  let a = abs(x);
  let s = a * a;
  let t = min(a, 4.0);
${horner('p', 's', P.erfSmall, WGSL_POLY)}
${horner('q', 't', P.erfLarge, WGSL_POLY)}
  return fmc_sign(select(1.0 - fmc_exp_f(q), fma(a, p, a), a < 0.921875), x);
}
fn fmc_abs_f(x: f32) -> f32 { return abs(x); }
fn fmc_recip_f(x: f32) -> f32 { return 1.0 / x; }
fn fmc_floor_f(x: f32) -> f32 { return floor(x); }
fn fmc_neg_i(x: i32) -> i32 { return -x; }
fn fmc_abs_i(x: i32) -> i32 { return select(x, -x, x < 0); }

fn fmc_add_f(a: f32, b: f32) -> f32 { return a + b; }
fn fmc_sub_f(a: f32, b: f32) -> f32 { return a - b; }
fn fmc_mul_f(a: f32, b: f32) -> f32 { return a * b; }
fn fmc_div_f(a: f32, b: f32) -> f32 { return a / b; }
fn fmc_mod_f(a: f32, b: f32) -> f32 {
  if (fmc_isnan(a) || fmc_isnan(b) || fmc_isinf(a) || b == 0.0) { return fmc_nan(); }
  if (fmc_isinf(b)) { return a; }
  let y = abs(b);
  let ey = frexp(y).exp;
  var x = abs(a);
  for (var i = 0; i < 300 && x >= y; i++) {
    var t = ldexp(y, frexp(x).exp - ey);
    if (t > x) { t = t * 0.5; }
    x = x - t;
  }
  return fmc_sign(x, a);
}
fn fmc_powi_f(a: f32, n: u32) -> f32 {
  var r = 1.0;
  var base = a;
  var e = n;
  loop {
    if (e == 0u) { break; }
    if ((e & 1u) == 1u) { r = r * base; }
    base = base * base;
    e = e >> 1u;
  }
  return r;
}
fn fmc_pow_f(a: f32, b: f32) -> f32 {
  if (fmc_isnan(b) || (abs(a) == 1.0 && fmc_isinf(b))) { return fmc_nan(); }
  if (b == 0.0) { return 1.0; }
  if (fmc_isnan(a)) { return a; }
  let integral = !fmc_isinf(b) && floor(b) == b;
  if (integral && abs(b) <= 64.0) {
    let r = fmc_powi_f(a, u32(abs(b)));
    return select(r, 1.0 / r, b < 0.0);
  }
  let m = abs(a);
  var r: f32;
  if (m == 0.0) { r = select(0.0, fmc_inf(), b < 0.0); }
  else if (fmc_isinf(m)) { r = select(fmc_inf(), 0.0, b < 0.0); }
  else if (fmc_isinf(b)) { r = select(select(0.0, fmc_inf(), m > 1.0), select(fmc_inf(), 0.0, m > 1.0), b < 0.0); }
  else { r = exp2(b * log2(m)); }
  if ((bitcast<u32>(a) >> 31u) == 1u && !fmc_isinf(b)) {
    if (!integral) { return select(fmc_nan(), r, m == 0.0 || fmc_isinf(m)); }
    if (abs(b) < 16777216.0 && (i32(abs(b)) & 1) == 1) { return -r; }
  }
  return r;
}
fn fmc_max_f(a: f32, b: f32) -> f32 {
  if (fmc_isnan(a) || fmc_isnan(b)) { return fmc_nan(); }
  if (a == b) { return select(a, b, (bitcast<u32>(a) >> 31u) == 1u); }
  return select(b, a, a > b);
}
fn fmc_min_f(a: f32, b: f32) -> f32 {
  if (fmc_isnan(a) || fmc_isnan(b)) { return fmc_nan(); }
  if (a == b) { return select(b, a, (bitcast<u32>(a) >> 31u) == 1u); }
  return select(b, a, a < b);
}

fn fmc_add_i(a: i32, b: i32) -> i32 { return a + b; }
fn fmc_sub_i(a: i32, b: i32) -> i32 { return a - b; }
fn fmc_mul_i(a: i32, b: i32) -> i32 { return a * b; }
fn fmc_div_i(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  if (b == -1) { return -a; }
  return a / b;
}
fn fmc_mod_i(a: i32, b: i32) -> i32 {
  if (b == 0 || b == -1) { return 0; }
  return a % b;
}
fn fmc_pow_i(a: i32, b: i32) -> i32 {
  if (b < 0) {
    if (a == 1) { return 1; }
    if (a == -1) { return select(1, -1, (b & 1) == 1); }
    return 0;
  }
  var r = 1u;
  var base = bitcast<u32>(a);
  var e = u32(b);
  loop {
    if (e == 0u) { break; }
    if ((e & 1u) == 1u) { r = r * base; }
    base = base * base;
    e = e >> 1u;
  }
  return bitcast<i32>(r);
}
fn fmc_max_i(a: i32, b: i32) -> i32 { return max(a, b); }
fn fmc_min_i(a: i32, b: i32) -> i32 { return min(a, b); }

fn fmc_h2f(hi: i32) -> f32 {
  let h = u32(hi) & 0xffffu;
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) { return fmc_sign(f32(m) * 5.9604644775390625e-8, fmc_bits_f32(sign)); }
  if (e == 31u) { return fmc_bits_f32(sign | 0x7f800000u | select(0u, 0x400000u | (m << 13u), m != 0u)); }
  return fmc_bits_f32(sign | ((e + 112u) << 23u) | (m << 13u));
}
fn fmc_f2h(x: f32) -> i32 {
  let b = bitcast<u32>(x);
  let sign = (b >> 16u) & 0x8000u;
  let a = b & 0x7fffffffu;
  if (a > 0x7f800000u) { return 0x7e00; }
  if (a >= 0x477ff000u) { return i32(sign | 0x7c00u); }
  if (a < 0x38800000u) {
    if (a <= 0x33000000u) { return i32(sign); }
    let mant = (a & 0x7fffffu) | 0x800000u;
    let shift = 126u - (a >> 23u);
    var q = mant >> shift;
    let rem = mant & ((1u << shift) - 1u);
    let half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u) == 1u)) { q = q + 1u; }
    return i32(sign | q);
  }
  var h = (a - 0x38000000u) >> 13u;
  let rem = a & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) == 1u)) { h = h + 1u; }
  return i32(sign | h);
}
fn fmc_bf2f(h: i32) -> f32 { return fmc_bits_f32(u32(h) << 16u); }
fn fmc_f2bf(x: f32) -> i32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return i32(((b >> 16u) | 0x40u) & 0xffffu); }
  return i32((b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u);
}
fn fmc_f2i(x: f32, lo: i32, hi: i32) -> i32 {
  if (fmc_isnan(x)) { return 0; }
  if (x >= f32(hi)) { return hi; }
  if (x <= f32(lo)) { return lo; }
  return i32(x);
}

fn fmc_mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let lh = al * bh;
  let hl = ah * bl;
  let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}
fn fmc_uniform(k0i: i32, k1i: i32, i: i32, s_lo: i32, s_hi: i32) -> f32 {
  var k0 = bitcast<u32>(k0i);
  var k1 = bitcast<u32>(k1i);
  var c0 = u32(i) >> 2u;
  var c1 = select(0u, 0x3fffffffu, i < 0);
  var c2 = bitcast<u32>(s_lo);
  var c3 = bitcast<u32>(s_hi);
  for (var r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = k0 + 0x9e3779b9u;
      k1 = k1 + 0xbb67ae85u;
    }
    let hi0 = fmc_mulhi(0xd2511f53u, c0);
    let lo0 = 0xd2511f53u * c0;
    let hi1 = fmc_mulhi(0xcd9e8d57u, c2);
    let lo1 = 0xcd9e8d57u * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  let w = array<u32, 4>(c0, c1, c2, c3);
  return f32(w[u32(i) & 3u] >> 8u) * 5.9604644775390625e-8;
}
${WGSL_I64_PRELUDE}`;
