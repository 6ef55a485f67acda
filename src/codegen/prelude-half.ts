// The f16 and bf16 sections of the C and WGSL preludes: the compute types f16 and bf16 of the
// kernel IR (src/ir/kernel.ts). Every unary and binary fn on them gives its result rounded to
// the format, round to nearest even, as the reference interpreter rounds each node's result
// (src/ir/interp.ts; it computes in float64 and rounds once). The functions are `fmc_<fn>_h`
// (f16) and `fmc_<fn>_b` (bf16), printed from one table for both targets. A file gets these
// sections only when its kernels use the types (f32-only output is unchanged).
//
// How each fn reaches the reference's bits:
// - neg, abs, floor, max, min and mod are exact in f32; add, sub, mul, div, sqrt and recip are
//   correctly rounded in f32, and rounding that again to f16 or bf16 is correct too (24 >=
//   2p + 2 bits: double rounding is innocuous for the basic operations): computed in f32 and
//   rounded once to the format. On C, f16 add, sub, mul and div are `_Float16` arithmetic where
//   the compiler has the type (native with AVX-512 FP16; elsewhere GCC computes in float and
//   rounds at the cast: the same bits).
// - On C, f16 exp, log, sin, cos, tanh, erf, rsqrt and pow are computed in double by libm and
//   rounded once to f16 (LIBM): the f32 functions rounded again to f16 differ from the
//   reference at a few inputs (of the 65536: exp 2, log 1, sin 4, cos 2; an f32 result that
//   lands on an f16 tie: double rounding is not innocuous for them). The reference rounds bf16
//   through f32 (value.ts bf16Bits), so bf16 uses the f32 functions (equal over all inputs).
// - WGSL has no double: its f16 transcendental fns are the f32 ones rounded (within the
//   documented tolerance, not bit-exact), and WGSL's f32 division is not correctly rounded.

import { ARITH_FNS, UNARY_FNS } from '../ir/ops.js';

const UNARY = UNARY_FNS.filter((f) => f !== 'not');
/** The fns computed in double on C for f16 (see above), of a double `x`. */
const LIBM: Partial<Record<string, (x: string) => string>> = {
  exp: (x) => `exp(${x})`,
  log: (x) => `log(${x})`,
  sin: (x) => `sin(${x})`,
  cos: (x) => `cos(${x})`,
  tanh: (x) => `tanh(${x})`,
  erf: (x) => `erf(${x})`,
  rsqrt: (x) => `1.0 / sqrt(${x})`,
};
/** Native arithmetic operators of the f16 type. */
const OPERATOR: Partial<Record<string, string>> = { add: '+', sub: '-', mul: '*', div: '/' };

const C_F16_TYPE = `/* ---------- f16 and bf16 compute types (src/codegen/prelude-half.ts) ---------- */

/* fmc_f16 is _Float16 where the compiler has it (GCC 12 on x86-64, ARM64; FMC_NO_FLOAT16 turns */
/* it off), else a float holding an f16 value; either way each op below rounds to f16. */
#if defined(__FLT16_MANT_DIG__) && !defined(FMC_NO_FLOAT16)
__extension__ typedef _Float16 fmc_f16; /* __extension__: not ISO C (-Wpedantic) */
FMC_FN fmc_f16 fmc_ld_h(uint16_t b) { fmc_f16 x; memcpy(&x, &b, sizeof x); return x; }
FMC_FN uint16_t fmc_st_h(fmc_f16 x) { uint16_t b; memcpy(&b, &x, sizeof b); return b; }
FMC_FN fmc_f16 fmc_rnd_h(float x) { return (fmc_f16)x; }
FMC_FN fmc_f16 fmc_dbl_h(double x) { return (fmc_f16)x; }
#define FMC_H_ARITH(x) ((fmc_f16)(x))
#else
typedef float fmc_f16;
FMC_FN fmc_f16 fmc_ld_h(uint16_t b) { return fmc_h2f(b); }
FMC_FN uint16_t fmc_st_h(fmc_f16 x) { return fmc_f2h(x); }
FMC_FN fmc_f16 fmc_rnd_h(float x) { return fmc_h2f(fmc_f2h(x)); }
/* double to f16 in one rounding: to float rounding to odd (toward zero, last bit set when */
/* inexact), which then rounds to f16 correctly (24 >= 11 + 2 bits). */
FMC_FN fmc_f16 fmc_dbl_h(double x) {
  float f = (float)x;
  if (x != x || (double)f == x) return fmc_rnd_h(f);
  uint32_t b = fmc_f32_bits(f);
  if (fabs((double)f) > fabs(x)) b -= 1u;
  return fmc_rnd_h(fmc_bits_f32(b | 1u));
}
#define FMC_H_ARITH(x) fmc_rnd_h(x)
#endif

/* JavaScript's Math.pow in double (as fmc_pow_f). */
FMC_FN double fmc_pow_d(double a, double b) {
  if (b != b || (fabs(a) == 1.0 && fabs(b) == HUGE_VAL)) return (double)NAN;
  return pow(a, b);
}

typedef float fmc_bf16;
FMC_FN fmc_bf16 fmc_rnd_b(float x) { return fmc_bf2f(fmc_f2bf(x)); }
`;

function cFunctions(): string[] {
  const out: string[] = [];
  for (const f of UNARY) {
    const libm = LIBM[f];
    const h = libm ? `fmc_dbl_h(${libm('(double)x')})` : `fmc_rnd_h(fmc_${f}_f((float)x))`;
    out.push(`FMC_FN fmc_f16 fmc_${f}_h(fmc_f16 x) { return ${h}; }`);
    out.push(`FMC_FN fmc_bf16 fmc_${f}_b(fmc_bf16 x) { return fmc_rnd_b(fmc_${f}_f(x)); }`);
  }
  for (const f of ARITH_FNS) {
    const op = OPERATOR[f];
    const h = op
      ? `FMC_H_ARITH(a ${op} b)`
      : f === 'pow'
        ? 'fmc_dbl_h(fmc_pow_d((double)a, (double)b))'
        : `fmc_rnd_h(fmc_${f}_f((float)a, (float)b))`;
    out.push(`FMC_FN fmc_f16 fmc_${f}_h(fmc_f16 a, fmc_f16 b) { return ${h}; }`);
    out.push(`FMC_FN fmc_bf16 fmc_${f}_b(fmc_bf16 a, fmc_bf16 b) { return fmc_rnd_b(fmc_${f}_f(a, b)); }`);
  }
  return out;
}

/** The C prelude's f16/bf16 section (after C_PRELUDE, whose conversions it uses). */
export const C_HALF_PRELUDE = `${C_F16_TYPE}\n${cFunctions().join('\n')}\n`;

/**
 * The WGSL prelude's f16 section (after WGSL_PRELUDE). With `native` (the device has
 * `shader-f16`; the module starts with `enable f16;`) f16 values are WGSL f16, with native
 * add, sub and mul; otherwise they are f32 values rounded to f16 after each op.
 */
export function wgslF16Prelude(native: boolean): string {
  const H = native ? 'f16' : 'f32';
  const wide = (x: string): string => (native ? `f32(${x})` : x);
  const out = [
    native
      ? 'fn fmc_rnd_h(x: f32) -> f16 { return f16(fmc_h2f(fmc_f2h(x))); }'
      : 'fn fmc_rnd_h(x: f32) -> f32 { return fmc_h2f(fmc_f2h(x)); }',
  ];
  for (const f of UNARY) out.push(`fn fmc_${f}_h(x: ${H}) -> ${H} { return fmc_rnd_h(fmc_${f}_f(${wide('x')})); }`);
  for (const f of ARITH_FNS) {
    const op = OPERATOR[f];
    const h = native && op && f !== 'div' ? `a ${op} b` : `fmc_rnd_h(fmc_${f}_f(${wide('a')}, ${wide('b')}))`;
    out.push(`fn fmc_${f}_h(a: ${H}, b: ${H}) -> ${H} { return ${h}; }`);
  }
  return out.join('\n');
}

/** The WGSL prelude's bf16 section: bf16 values are f32 values rounded to bf16 after each op. */
export const WGSL_BF16_PRELUDE = [
  'fn fmc_rnd_b(x: f32) -> f32 { return fmc_bf2f(fmc_f2bf(x)); }',
  ...UNARY.map((f) => `fn fmc_${f}_b(x: f32) -> f32 { return fmc_rnd_b(fmc_${f}_f(x)); }`),
  ...ARITH_FNS.map((f) => `fn fmc_${f}_b(a: f32, b: f32) -> f32 { return fmc_rnd_b(fmc_${f}_f(a, b)); }`),
].join('\n');

/** Which of the types rendered kernel text uses (their functions or type names: `native` f16). */
export function halvesUsed(text: string): { f16: boolean; bf16: boolean } {
  return {
    f16: /\bfmc_(?:\w+_h|f16)\b|\bf16\b/.test(text),
    bf16: /\bfmc_(?:\w+_b|bf16)\b/.test(text),
  };
}
