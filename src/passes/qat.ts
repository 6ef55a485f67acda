// Quantization-aware training (`fmc train --qat`): in the train and accumulate modes (and
// `grad`, which the tests use), when PassOptions.qat is set, every read of a param
// that has a quantization policy (`@quantize`, or a `--quantize` rule: quantSpecOf) becomes a
// read of its fake-quantized value fq(w) = dequantize(quantize(w)), with the scheme and
// rounding of src/ir/quantize.ts and scales from the current f32 master weights at every step.
//
// The straight-through estimator comes from where the pass runs: after autodiff, on the
// gradient graph, it replaces the param in the forward and in the backward alike, so the
// loss and the gradients are the plain ones evaluated at fq(w), and the gradient with respect
// to fq(w) is applied to w as it is (d fq(w)/dw = 1 everywhere; no clip mask: the scales come
// from each group's own max|w| or [min, max], so no weight lies outside the range, bar the
// asymmetric zero point's clamp). The train-step pass that follows updates the f32 master
// param, which nothing but fq reads any more. No stop-gradient primitive is needed.
//
// Rounding: round(w / scale) is decided exactly (half to even on the real quotient, as the
// host quantizer's float64 division does), not on the f32 quotient: the sign of
// w - (floor(w / scale) + 1/2)·scale is computed without rounding error by splitting the scale
// into two 12-bit halves (Veltkamp), which needs the targets not to contract a·b - c into an
// FMA (the C target compiles with -std=c11: no contraction). The scales are the host's f32
// scales exactly: max|w| / QMAX is one f32 division; (max - min) / (2·QMAX + 1), which the host
// computes from the float64 difference, is decided exactly as well (asymScale).

import type { Builder } from '../ir/build.js';
import { dimConstValue } from '../ir/dims.js';
import type { Node, NodeOf } from '../ir/graph.js';
import { paramHint } from '../ir/module.js';
import { type QuantSpec, groupOf, qmax } from '../ir/quantize.js';
import { rewrite } from '../ir/rewrite.js';
import { type Pass, type PassContext, PassError } from './pass.js';
import { quantSpecOf } from './quantize.js';

/** 2^12 + 1: Veltkamp's splitter for f32 (24 bits: two halves of 12). */
const SPLIT = 4097;

/**
 * round-half-even(w / s) on the real quotient, for f32 w and s > 0 with |w / s| below 2^9:
 * f = floor(w / s) in f32, then the exact sign of w - (f + 1/2)·s decides between f and f + 1
 * (f's parity on a tie). (f + 1/2) has at most 10 bits and each half of s 12, so both products
 * are exact, and w - m·sHi is exact where it matters (near the midpoint, by Sterbenz).
 */
export function roundQuotient(b: Builder, w: Node, s: Node): Node {
  const f = b.unary('floor', b.div(w, s));
  const m = b.add(f, 0.5);
  const sHi = splitHigh(b, s);
  const sLo = b.sub(s, sHi);
  const t = b.sub(b.sub(w, b.mul(m, sHi)), b.mul(m, sLo));
  const odd = b.eq(b.sub(f, b.mul(b.unary('floor', b.mul(f, 0.5)), 2)), 1);
  const up = b.or(b.gt(t, 0), b.and(b.eq(t, 0), odd));
  return b.add(f, b.where(up, b.full(1, 'f32'), b.full(0, 'f32')));
}

/** The high half of f32 `x` (12 bits; x - hi is exact and has the other 12). */
function splitHigh(b: Builder, x: Node): Node {
  const c = b.mul(x, SPLIT);
  return b.sub(c, b.sub(c, x));
}

/** u·(1 + 2u), u = 2^-24: fl(y + fl(φ·y)) is the next f32 above a normal y > 0 (Rump et al., 2009). */
const PHI = 2 ** -24 * (1 + 2 ** -23);

/**
 * The asymmetric scale fround((hi - lo) / c) for f32 hi ≥ lo and odd c (15, 255), as the host
 * computes it from the float64 difference: hi - lo = s + err exactly (TwoSum), y = fl(s / c),
 * and the exact sign of (s + err) - c·(y ± half an ulp) decides between y and its neighbours
 * (c·y exact through the split of y; c·ulp/2 is an odd multiple of half an ulp, so a tie
 * needs err, and goes to the even one).
 */
function asymScale(b: Builder, hi: Node, lo: Node, c: number): Node {
  const nlo = b.neg(lo);
  const s = b.add(hi, nlo);
  const v = b.sub(s, hi);
  const err = b.add(b.sub(hi, b.sub(s, v)), b.sub(nlo, v));
  const y = b.div(s, c);
  const e = b.mul(y, PHI);
  const [up, down] = [b.add(y, e), b.sub(y, e)];
  const yHi = splitHigh(b, y);
  const r = b.sub(b.sub(s, b.mul(yHi, c)), b.mul(b.sub(y, yHi), c));
  const above = b.add(b.sub(r, b.mul(b.sub(up, y), c / 2)), err);
  const below = b.add(b.add(r, b.mul(b.sub(y, down), c / 2)), err);
  const m = b.div(y, b.sub(up, y));
  const odd = b.eq(b.sub(m, b.mul(b.unary('floor', b.mul(m, 0.5)), 2)), 1);
  const tie = (t: Node): Node => b.and(b.eq(t, 0), odd);
  return b.where(b.or(b.gt(above, 0), tie(above)), up, b.where(b.or(b.lt(below, 0), tie(below)), down, y));
}

const clamp = (b: Builder, x: Node, lo: number, hi: number): Node => b.min(b.max(x, lo), hi);

/** fq(w): param `w` quantized to `s` and dequantized, in f32 (cast back to w's dtype). */
export function fakeQuantize(b: Builder, w: NodeOf<'param'>, s: QuantSpec): Node {
  const shape = w.args.shape.map((d) => dimConstValue(d));
  if (shape.some((d) => d === undefined))
    throw new PassError(`quantization-aware training of '${w.args.path}': its shape must be known at compile time`);
  const [N, ...rest] = shape as number[];
  const K = rest.reduce((a, c) => a * c, 1);
  const g = groupOf(s, K);
  if (typeof g === 'string') throw new PassError(`quantization-aware training of '${w.args.path}': ${g}`);
  const Q = qmax(s);
  const x = b.reshape(b.cast(w, 'f32'), [N!, K / g, g]);
  let hi = b.amax(x, [2], true);
  let lo = b.neg(b.amax(b.neg(x), [2], true));
  // The asymmetric range holds 0 (src/ir/quantize.ts), so a constant group keeps its value.
  if (!s.symmetric) [lo, hi] = [b.min(lo, 0), b.max(hi, 0)];
  const scale = s.symmetric ? b.div(b.max(hi, b.neg(lo)), Q) : asymScale(b, hi, lo, 2 * Q + 1);
  // A group of zeros has scale 0 and dequantizes to 0 (src/ir/quantize.ts): divide by 1 there
  // instead, and the product with the scale below gives the 0.
  const safe = b.where(b.eq(scale, 0), b.full(1, 'f32'), scale);
  const zero = s.symmetric ? undefined : clamp(b, b.sub(roundQuotient(b, b.neg(lo), safe), Q + 1), -Q - 1, Q);
  let q = roundQuotient(b, x, safe);
  q = clamp(b, zero ? b.add(q, zero) : q, s.symmetric ? -Q : -Q - 1, Q);
  const deq = b.mul(zero ? b.sub(q, zero) : q, scale);
  return b.cast(b.reshape(deq, w.args.shape), w.args.dtype);
}

/** Whether the pass runs: QAT asked for, in a mode with a backward. */
const active = (ctx: PassContext): boolean => ctx.options.qat === true && ctx.mode !== 'inference';

export const qat: Pass = {
  name: 'qat',
  run: (g, ctx) => {
    if (!active(ctx)) return g;
    const rules = ctx.options.quantize ?? [];
    let changed = false;
    const out = rewrite(g, {
      param: (n, _ins, b) => {
        const s = quantSpecOf(n.args, rules, paramHint(ctx.hints, n.args, 'quantize'));
        if (!s) return undefined;
        changed = true;
        const w = b.node('param', n.args, []);
        return b.within(n.path, 'fake_quantize', () => fakeQuantize(b, w, s));
      },
    }).graph;
    if (!changed)
      throw new PassError(
        'quantization-aware training: no weight has a quantization policy (`@quantize`, or --quantize PATH=SPEC)',
      );
    return out;
  },
};
