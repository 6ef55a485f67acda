// The C prelude: the scalar functions every generated C file starts with. They reproduce the
// reference interpreter's element semantics (src/ir/interp-ops.ts, value.ts, philox.ts) on
// the C compute types: floats in `float` (the f16 and bf16 compute types have their own
// functions, prelude-half.ts; fmc_h2f and friends here convert their storage), integers (i4,
// i8, i32, i64) in `int64_t` and are wrapped to their width when stored, bool in `uint8_t`.
//
// Every function is `FMC_FN` (`static inline` unless the includer defines it, as a CUDA dialect
// does with `static __device__ __forceinline__`). Only stdint.h, math.h and string.h are used;
// bit casts go through memcpy; there is no undefined behaviour for any input (integer wrap-around
// is done in uint64_t, float-to-int conversion is range-checked first). The functions assume
// IEEE float semantics: never compile them with -ffast-math (NaN tests are `x != x`).
//
// Compares and logic (eq ne lt le gt ge and or not) are C operators in the renderer: on
// float operands they agree with the interpreter (NaN compares unequal to everything, -0 == +0,
// `and`/`or`/`not` treat NaN as true), so they need no function here.

/** Every function the prelude defines, in definition order. */
import { C_POLY, POLYNOMIALS as P, horner } from './polynomials.js';

export const PRELUDE_FUNCTIONS: readonly string[] = [
  // bit casts and integer wrap-around
  'fmc_f32_bits',
  'fmc_bits_f32',
  'fmc_u2i',
  'fmc_wrap',
  // unary float
  'fmc_neg_f',
  'fmc_sel_f',
  'fmc_exp_f',
  'fmc_log_f',
  'fmc_sqrt_f',
  'fmc_rsqrt_f',
  'fmc_sin_f',
  'fmc_cos_f',
  'fmc_tanh_f',
  'fmc_erf_f',
  'fmc_abs_f',
  'fmc_recip_f',
  'fmc_floor_f',
  // unary int
  'fmc_neg_i',
  'fmc_abs_i',
  // binary float
  'fmc_add_f',
  'fmc_sub_f',
  'fmc_mul_f',
  'fmc_div_f',
  'fmc_mod_f',
  'fmc_pow_f',
  'fmc_max_f',
  'fmc_min_f',
  // binary int
  'fmc_add_i',
  'fmc_sub_i',
  'fmc_mul_i',
  'fmc_div_i',
  'fmc_mod_i',
  'fmc_pow_i',
  'fmc_max_i',
  'fmc_min_i',
  // conversions
  'fmc_h2f',
  'fmc_f2h',
  'fmc_bf2f',
  'fmc_f2bf',
  'fmc_f2i',
  // random
  'fmc_philox4x32',
  'fmc_uniform',
];

/**
 * The prelude's functions without its C head (includes, the FMC_FN default): what the CUDA
 * prelude (prelude-cuda.ts) prints after declaring the types and constants they use.
 */
export const C_PRELUDE_BODY = `/* ---------- bit casts, integer wrap-around ---------- */

FMC_FN uint32_t fmc_f32_bits(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

FMC_FN float fmc_bits_f32(uint32_t b) {
  float x;
  memcpy(&x, &b, sizeof x);
  return x;
}

/* u as a two's complement int64_t (no implementation-defined conversion; compiles to nothing). */
FMC_FN int64_t fmc_u2i(uint64_t u) {
  return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

/* x wrapped to a signed two's complement width of bits (1..64): i4 4, i8 8, i32 32, i64 64. */
FMC_FN int64_t fmc_wrap(int64_t x, int bits) {
  if (bits >= 64) return x;
  uint64_t half = (uint64_t)1 << (bits - 1);
  uint64_t u = (uint64_t)x & ((half << 1) - 1);
  return u >= half ? (int64_t)(u - half) - (int64_t)half : (int64_t)u;
}

/* ---------- unary float: IEEE, as JavaScript's Math (recip(0) = inf, rsqrt(-1) = nan, log(0) = -inf) ---------- */

FMC_FN float fmc_neg_f(float x) { return -x; }

/* c ? a : b without a branch: an operand computed only for a ternary is sunk into a branch, which */
/* GCC cannot if-convert back when it may raise an FP exception (-ftrapping-math): no vectorization. */
FMC_FN float fmc_sel_f(int c, float a, float b) {
  uint32_t m = 0u - (uint32_t)c;
  return fmc_bits_f32((fmc_f32_bits(a) & m) | (fmc_f32_bits(b) & ~m));
}

/* exp, branch-free: exp(x) = 2^n exp(r), n = round(x / ln2), r = x - n ln2 (Cody-Waite, exact), */
/* exp(r) by a degree-6 minimax polynomial on |r| <= ln2 / 2, 2^n as two normal powers of two (a */
/* subnormal result rounds once, overflow gives inf); x is clamped to [-104, 89] first (exp is 0 */
/* below, inf above; a NaN passes). fmaf, here and below, is exact: the same bits on every target, */
/* one instruction with FMA (x86-64 -march=native on a recent CPU, ARM64, CUDA), else a slow call. */
FMC_FN float fmc_exp_f(float x) {
  float c = fmc_sel_f(x < -104.0f, -104.0f, fmc_sel_f(x > 89.0f, 89.0f, x));
  float t = fmaf(c, 1.44269502f, 12582912.0f); /* 1.5 * 2^23 + n: n is in the low mantissa bits */
  float k = t - 12582912.0f;
  float r = fmaf(k, -0.693145751953125f, c);
  r = fmaf(k, -1.42860677e-6f, r);
${horner('q', 'r', P.exp, C_POLY, true)}
  float p = fmaf(r * r, q, r) + 1.0f;
  uint32_t e = fmc_f32_bits(t) - 0x4b3fff6au; /* n + 150, in [0, 278] */
  uint32_t h = e >> 1;
  return p * fmc_bits_f32((h + 52u) << 23) * fmc_bits_f32((e - h + 52u) << 23);
}

/* log, branch-free: x = 2^k m, m in [sqrt(1/2), sqrt(2)) (a subnormal x scaled by 2^23 first), */
/* log(x) = k ln2 + log1p(f), f = m - 1 exact, log1p(f) = f + f^2 Q(f), Q a degree-8 minimax fit, */
/* k ln2 in two parts (the high one exact); 0, negatives, inf and NaN are selected at the end. */
FMC_FN float fmc_log_f(float x) {
  int tiny = x < 1.17549435e-38f;
  uint32_t u = fmc_f32_bits(fmc_sel_f(tiny, x * 8388608.0f, x)) + 0x00cafb0du; /* - bits(sqrt(1/2)) + 2^30 */
  float k = (float)(int32_t)(u >> 23) - fmc_sel_f(tiny, 151.0f, 128.0f);
  float f = fmc_bits_f32((u & 0x7fffffu) + 0x3f3504f3u) - 1.0f;
${horner('q', 'f', P.log, C_POLY)}
  float y = fmaf(k, 0.693145751953125f, fmaf(k, 1.42860677e-6f, fmaf(f * f, q, f)));
  y = fmc_sel_f(x == 0.0f, -INFINITY, fmc_sel_f(x < 0.0f, NAN, y));
  return fmc_sel_f(!(x <= 3.40282347e38f), x, y); /* inf, NaN */
}

FMC_FN float fmc_sqrt_f(float x) { return sqrtf(x); }
FMC_FN float fmc_rsqrt_f(float x) { return 1.0f / sqrtf(x); }
FMC_FN float fmc_sin_f(float x) { return sinf(x); }
FMC_FN float fmc_cos_f(float x) { return cosf(x); }

/* tanh of |x| with the sign of x put back: |x| + |x|^3 P(x^2) below 0.625, else */
/* 1 - 2 / (exp(2|x|) + 1), |x| clamped to 10 (tanh rounds to 1 from 9.011). */
FMC_FN float fmc_tanh_f(float x) {
  float a = fabsf(x), s = a * a, t = fmc_sel_f(a > 10.0f, 10.0f, a);
${horner('p', 's', P.tanh, C_POLY)}
  float big = fmaf(-2.0f, 1.0f / (fmc_exp_f(t + t) + 1.0f), 1.0f);
  float y = fmc_sel_f(a < 0.625f, fmaf(a, s * p, a), big);
  return fmc_bits_f32(fmc_f32_bits(y) | (fmc_f32_bits(x) & 0x80000000u));
}

/* erf of |x| with the sign of x put back: |x| (1 + P(x^2)) below 0.921875, else 1 - exp(Q(|x|)), */
/* Q a polynomial fit to log(erfc) on [0.921875, 4] (|x| clamped to 4; erf rounds to 1 from 3.92). */
FMC_FN float fmc_erf_f(float x) {
  float a = fabsf(x), s = a * a, t = fmc_sel_f(a > 4.0f, 4.0f, a);
${horner('p', 's', P.erfSmall, C_POLY)}
${horner('q', 't', P.erfLarge, C_POLY)}
  float y = fmc_sel_f(a < 0.921875f, fmaf(a, p, a), 1.0f - fmc_exp_f(q));
  return fmc_bits_f32(fmc_f32_bits(y) | (fmc_f32_bits(x) & 0x80000000u));
}

FMC_FN float fmc_abs_f(float x) { return fabsf(x); }
FMC_FN float fmc_recip_f(float x) { return 1.0f / x; }
/* floorf's result in operations GCC vectorizes without -fno-trapping-math (it keeps floorf scalar). */
/* t is x rounded to an integer (x + m - m, m = 2^23 with x's sign), lowered where above x; a zero */
/* takes x's sign; from 2^23 up (and NaN, Inf) x is its own floor. Bit-exact with floorf on all floats. */
FMC_FN float fmc_floor_f(float x) {
  float m = copysignf(8388608.0f, x);
  float t = (x + m) - m;
  float r = t - (t > x ? 1.0f : 0.0f);
  r = r == 0.0f ? x * 0.0f : r;
  return fabsf(x) < 8388608.0f ? r : x;
}

/* ---------- unary int (neg and abs are the only unary fns on integers), wrapping: -INT64_MIN = INT64_MIN ---------- */

FMC_FN int64_t fmc_neg_i(int64_t x) { return fmc_u2i((uint64_t)0 - (uint64_t)x); }
FMC_FN int64_t fmc_abs_i(int64_t x) { return x < 0 ? fmc_neg_i(x) : x; }

/* ---------- binary float ---------- */

FMC_FN float fmc_add_f(float a, float b) { return a + b; }
FMC_FN float fmc_sub_f(float a, float b) { return a - b; }
FMC_FN float fmc_mul_f(float a, float b) { return a * b; }
FMC_FN float fmc_div_f(float a, float b) { return a / b; }

/* fmod: truncated, with the sign of the dividend (JavaScript's %); mod(x, 0) = nan, mod(x, inf) = x. */
FMC_FN float fmc_mod_f(float a, float b) { return fmodf(a, b); }

/* JavaScript's Math.pow: C's pow except that a NaN exponent always gives NaN and (+-1)^(+-inf) is NaN. */
FMC_FN float fmc_pow_f(float a, float b) {
  if (b != b || (fabsf(a) == 1.0f && fabsf(b) == INFINITY)) return NAN;
  return powf(a, b);
}

/* Math.max / Math.min: NaN if either is NaN, and +0 > -0 (unlike fmaxf / fminf). */
FMC_FN float fmc_max_f(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return signbit(a) ? b : a;
  return a > b ? a : b;
}

FMC_FN float fmc_min_f(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return signbit(a) ? a : b;
  return a < b ? a : b;
}

/* ---------- binary int: two's complement wrap-around; / truncates, % has the dividend's sign, x / 0 = x % 0 = 0 ---------- */

FMC_FN int64_t fmc_add_i(int64_t a, int64_t b) { return fmc_u2i((uint64_t)a + (uint64_t)b); }
FMC_FN int64_t fmc_sub_i(int64_t a, int64_t b) { return fmc_u2i((uint64_t)a - (uint64_t)b); }
FMC_FN int64_t fmc_mul_i(int64_t a, int64_t b) { return fmc_u2i((uint64_t)a * (uint64_t)b); }

FMC_FN int64_t fmc_div_i(int64_t a, int64_t b) {
  if (b == 0) return 0;
  if (b == -1) return fmc_neg_i(a); /* INT64_MIN / -1 wraps to INT64_MIN */
  return a / b;
}

FMC_FN int64_t fmc_mod_i(int64_t a, int64_t b) {
  if (b == 0 || b == -1) return 0; /* INT64_MIN % -1 is undefined in C; the result is 0 */
  return a % b;
}

/* a^b wrapped; a negative exponent gives trunc(1 / a^|b|): 1 for a = 1, +-1 for a = -1, else 0 (0^-1 too). */
FMC_FN int64_t fmc_pow_i(int64_t a, int64_t b) {
  if (b < 0) return a == 1 ? 1 : a == -1 ? (((uint64_t)b & 1u) ? -1 : 1) : 0;
  uint64_t r = 1, base = (uint64_t)a, e = (uint64_t)b;
  for (; e; e >>= 1) {
    if (e & 1u) r *= base;
    base *= base;
  }
  return fmc_u2i(r);
}

FMC_FN int64_t fmc_max_i(int64_t a, int64_t b) { return a > b ? a : b; }
FMC_FN int64_t fmc_min_i(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---------- conversions ---------- */

/* IEEE binary16 bits to float (exact; a NaN stays a NaN, quieted). */
FMC_FN float fmc_h2f(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (uint32_t)(h >> 10) & 0x1fu, m = (uint32_t)h & 0x3ffu;
  if (e == 0) {
    float v = (float)m * 5.9604644775390625e-8f; /* m * 2^-24, exact */
    return sign ? -v : v;
  }
  if (e == 31) return fmc_bits_f32(sign | 0x7f800000u | (m ? 0x400000u | (m << 13) : 0u));
  return fmc_bits_f32(sign | ((e + 112u) << 23) | (m << 13));
}

/* float to IEEE binary16 bits: round to nearest even, subnormals, overflow to +-inf, NaN to 0x7e00. */
FMC_FN uint16_t fmc_f2h(float x) {
  uint32_t b = fmc_f32_bits(x);
  uint32_t sign = (b >> 16) & 0x8000u, a = b & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)0x7e00u;
  if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to inf */
  if (a < 0x38800000u) { /* below 2^-14: a subnormal half, in units of 2^-24 */
    if (a <= 0x33000000u) return (uint16_t)sign; /* <= 2^-25 rounds to zero (the tie to even) */
    uint32_t mant = (a & 0x7fffffu) | 0x800000u, shift = 126u - (a >> 23); /* 14..24 */
    uint32_t q = mant >> shift, rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++; /* may carry into the smallest normal: right */
    return (uint16_t)(sign | q);
  }
  uint32_t h = (a - 0x38000000u) >> 13, rem = a & 0x1fffu; /* rebias 127 -> 15 */
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++; /* a carry into the exponent is right */
  return (uint16_t)(sign | h);
}

FMC_FN float fmc_bf2f(uint16_t h) { return fmc_bits_f32((uint32_t)h << 16); }

/* float to bfloat16 bits: round to nearest even; a NaN keeps its sign and top payload, quieted. */
FMC_FN uint16_t fmc_f2bf(float x) {
  uint32_t b = fmc_f32_bits(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((b >> 16) | 0x40u);
  return (uint16_t)((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}

/* float to integer: NaN gives 0, otherwise truncate toward zero and saturate to [lo, hi]. */
FMC_FN int64_t fmc_f2i(float x, int64_t lo, int64_t hi) {
  int64_t v;
  if (x != x) return 0;
  if (x >= 9223372036854775808.0f) v = INT64_MAX; /* 2^63 */
  else if (x < -9223372036854775808.0f) v = INT64_MIN;
  else v = (int64_t)x; /* in range: truncates */
  return v < lo ? lo : v > hi ? hi : v;
}

/* ---------- random: Philox4x32-10 (src/ir/philox.ts) ---------- */

FMC_FN void fmc_philox4x32(const uint32_t ctr[4], uint32_t k0, uint32_t k1, uint32_t out[4]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k0 += 0x9e3779b9u;
      k1 += 0xbb67ae85u;
    }
    uint64_t p0 = (uint64_t)0xd2511f53u * c0, p1 = (uint64_t)0xcd9e8d57u * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint32_t)p1;
    c3 = (uint32_t)p0;
    c0 = n0;
    c2 = n2;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/* Element i of uniformStream of step s for the stream key (k0, k1) = streamKey(seed, key): a multiple of 2^-24 in [0, 1). */
FMC_FN float fmc_uniform(uint32_t k0, uint32_t k1, uint64_t i, uint64_t s) {
  uint64_t block = i >> 2;
  uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)s, (uint32_t)(s >> 32)}, w[4];
  fmc_philox4x32(ctr, k0, k1, w);
  return (float)(w[i & 3u] >> 8) * 5.9604644775390625e-8f;
}
`;

const C_HEAD = `/* fmc prelude: scalar semantics of the fmc IR (see src/codegen/prelude-c.ts). */
#include <stdint.h>
#include <math.h>
#include <string.h>

#ifndef FMC_FN
#define FMC_FN static inline
#endif

`;

export const C_PRELUDE = C_HEAD + C_PRELUDE_BODY;
