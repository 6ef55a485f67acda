// The minimax polynomials of fmc's own exp, log, tanh and erf, shared by the C and WGSL
// preludes: one table of coefficients (highest degree first), and the Horner chain each
// prelude prints from it, one fused multiply-add a coefficient. The coefficients print as
// JavaScript writes them, so every one here stays at or above 1e-6 in magnitude.

export const POLYNOMIALS = {
  /** exp: e^r ≈ 1 + r + r² Q(r) on |r| ≤ ln2 / 2 (Q's two leading terms start the chain). */
  exp: [0.0013814602, 0.008368716, 0.04166839, 0.16666521, 0.49999994],
  /** log1p(f) = f + f² Q(f) on [sqrt(1/2) - 1, sqrt(2) - 1). */
  log: [
    -0.07621779, 0.12904435, -0.13242988, 0.14181826, -0.16609083, 0.20001973, -0.25001583, 0.33333325, -0.49999988,
  ],
  /** tanh(a) = a + a³ P(a²) below 0.625. */
  tanh: [-0.0057049864, 0.020639086, -0.053739715, 0.13331442, -0.3333328],
  /** erf(a) = a (1 + P(a²)) below 0.921875. */
  erfSmall: [-0.0005990852, 0.00499318, -0.026766615, 0.11281816, -0.37612495, 0.12837915],
  /** erf(a) = 1 - exp(Q(a)) on [0.921875, 4]. */
  erfLarge: [0.00019572071, -0.0030410932, 0.022218453, -0.10391403, -0.63720226, -1.1276637, -0.0001985546],
} as const;

/** How a prelude spells a local and a fused multiply-add. */
export interface PolyDialect {
  /** The first line: a local `v` holding `value` (`float q = …;`, `var q = …;`). */
  readonly declare: (v: string, value: string) => string;
  readonly fma: (a: string, b: string, c: string) => string;
  /** A coefficient as a literal (`0.5f`, `0.5`). */
  readonly lit: (c: number) => string;
}

/**
 * The Horner chain of `coeffs` in `x` into local `v`, as indented lines: `v = c0`, then
 * `v = fma(v, x, c)` for each later coefficient; `fused`: the first step is folded into the
 * declaration (`v = fma(c0, x, c1)`).
 */
export function horner(v: string, x: string, coeffs: readonly number[], D: PolyDialect, fused = false): string {
  const [c0, c1, ...rest] = coeffs.map(D.lit);
  const first = fused ? D.declare(v, D.fma(c0!, x, c1!)) : D.declare(v, c0!);
  const steps = (fused ? rest : [c1!, ...rest]).map((c) => `  ${v} = ${D.fma(v, x, c)};`);
  return [`  ${first}`, ...steps].join('\n');
}

export const C_POLY: PolyDialect = {
  declare: (v, value) => `float ${v} = ${value};`,
  fma: (a, b, c) => `fmaf(${a}, ${b}, ${c})`,
  lit: (c) => `${c}f`,
};

export const WGSL_POLY: PolyDialect = {
  declare: (v, value) => `var ${v} = ${value};`,
  fma: (a, b, c) => `fma(${a}, ${b}, ${c})`,
  lit: (c) => `${c}`,
};
