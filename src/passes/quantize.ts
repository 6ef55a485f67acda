// Weight-only quantization: each float param with a quantize hint (`@quantize`, or a
// `--quantize` rule, which wins) is replaced by its quantized params (q, scale, and zero when
// asymmetric; layout and names in src/ir/quantize.ts) and the expression that dequantizes
// them, which its readers (a GEMM's weight operand) then compute inline: the fusion pass
// leaves a weight-only expression unbuffered and the GEMM reads q and scale while packing or
// streaming its B operand (docs/ir.md, "Quantized weights"). The runtime derives q and scale
// from the f32 weights where it binds them. Inference only: a grad or train graph keeps its
// f32 params, which quantization-aware training reads fake-quantized (qat.ts).
//
// int4 bytes unpack with f32 arithmetic, exact on the integers involved: b = f32(byte) =
// 16·hi + lo' (lo' the unsigned low nibble), hi = floor(b / 16), and the signed low nibble
// lo = b - 16·floor((b + 8) / 16) (lo' - 16 when lo' ≥ 8), branch-free (below).
// So the IR needs no bit primitive for it (a shift or bitcast would have to be carried
// through every target, the WGSL i64 legalization and autodiff for this one use).

import type { Builder } from '../ir/build.js';
import { dimConstValue } from '../ir/dims.js';
import { isFloat } from '../ir/dtype.js';
import type { Node, NodeOf } from '../ir/graph.js';
import { type Hints, type ParamDecl, paramHint } from '../ir/module.js';
import { INT4_BLOCK, type QuantSpec, groupOf, quantNames } from '../ir/quantize.js';
import { rewrite } from '../ir/rewrite.js';
import { type Pass, PassError, type QuantRule } from './pass.js';
import { contractionSites, int8Contraction, scaleParam } from './quantize-act.js';

/**
 * Whether rule path `rule` covers param `path`: `all`, the param itself, or a block path
 * whose parts appear adjacent and in order in the param's block path (`ffn` covers
 * `blocks.3.ffn.up.w`, `blocks.3` covers everything in that block).
 */
export function covers(rule: string, path: string): boolean {
  if (rule === 'all' || rule === path) return true;
  const r = rule.split('.');
  const p = path.split('.').slice(0, -1);
  for (let i = 0; i + r.length <= p.length; i++) if (r.every((x, j) => p[i + j] === x)) return true;
  return false;
}

/** The spec for a param: the last rule that covers it, else its hint; undefined: stays f32. */
export function quantSpecOf(p: ParamDecl, rules: readonly QuantRule[], hint?: QuantSpec): QuantSpec | undefined {
  const fits = p.role === 'param' && p.shape.length >= 2 && isFloat(p.dtype);
  const rule = [...rules].reverse().find((r) => covers(r.path, p.path));
  if (rule) return rule.spec === 'none' || !fits ? undefined : rule.spec;
  return hint;
}

/** The shape of quantized param `n`: N rows of K values in groups of g. */
function sizesOf(n: NodeOf<'param'>, s: QuantSpec): { N: number; K: number; g: number } {
  const shape = n.args.shape.map((d) => dimConstValue(d));
  if (shape.some((d) => d === undefined))
    throw new PassError(`quantizing '${n.args.path}': its shape must be known at compile time`);
  const [N, ...rest] = shape as number[];
  const K = rest.reduce((a, c) => a * c, 1);
  const g = groupOf(s, K);
  if (typeof g === 'string') throw new PassError(`quantizing '${n.args.path}': ${g}`);
  return { N: N!, K, g };
}

/** The integer values q of quantized param `n` as an f32 [N, K] node (read from its bytes). */
function quantValues(b: Builder, n: NodeOf<'param'>, s: QuantSpec): Node {
  const { N, K } = sizesOf(n, s);
  // The runtime derives the values from the f32 weights; the initializers only serve graphs
  // run with seeded params (tests): any byte, scales of a typical weight's size.
  const bytesInit = { fn: 'uniform', args: { low: -128, high: 127 } } as const;
  // int4: blocks of 64 values in 32 bytes, value i in the low nibble of byte i and value
  // 32 + i in its high nibble (INT4_BLOCK), K padded to whole blocks.
  const [blocks, half] = [Math.ceil(K / INT4_BLOCK), INT4_BLOCK / 2];
  const W = s.dtype === 'int4' ? half * blocks : K;
  const bytes = b.cast(b.param(quantNames(n.args.path, s).q, 'i8', [N, W], 'param', bytesInit), 'f32');
  if (s.dtype !== 'int4') return bytes;
  // Each byte at both of its k, then its high nibble in the second half of a block (h = 1)
  // and its low one in the first (h = 0), with one floor and no branch (a `where` kept GCC
  // 12 from vectorizing the GEMV): t = floor((b + 8·(1 - h)) / 16) is hi when h = 1, and
  // lo = b - 16·t when h = 0, so w = h·t + (1 - h)·(b - 16·t) = t·(17·h - 16) + (1 - h)·b.
  const byte = b.reshape(b.expand(b.reshape(bytes, [N, blocks, 1, half]), [N, blocks, 2, half]), [
    N,
    INT4_BLOCK * blocks,
  ]);
  const h = b.reshape(b.iota(2, 'f32', [N, blocks, 2, half]), [N, INT4_BLOCK * blocks]);
  const low = b.sub(1, h);
  const t = b.unary('floor', b.mul(b.add(byte, b.mul(low, 8)), 1 / 16));
  const q = b.add(b.mul(t, b.sub(b.mul(h, 17), 16)), b.mul(low, byte));
  return INT4_BLOCK * blocks > K ? b.slice(q, [0, 0], [N, K]) : q;
}

/** The integer values of quantized param `n` as i8 [N, K] (int8: its q param itself). */
function int8Values(b: Builder, n: NodeOf<'param'>, s: QuantSpec): Node {
  const q = quantValues(b, n, s);
  return s.dtype === 'int8' ? q.inputs[0]! : b.cast(q, 'i8');
}

/** The dequantized value of param `n` (f32 math, cast to its dtype at the end); the C GEMV matches it (kernels/gemm-quant.ts). */
export function dequantize(b: Builder, n: NodeOf<'param'>, s: QuantSpec): Node {
  const { N, K, g } = sizesOf(n, s);
  const G = K / g;
  const names = quantNames(n.args.path, s);
  let q = quantValues(b, n, s);
  /** A [N, G] param read at [n, k] (index math only). */
  const perGroup = (p: Node): Node => b.reshape(b.expand(b.reshape(p, [N, G, 1]), [N, G, g]), [N, K]);
  if (names.zero)
    q = b.sub(q, perGroup(b.param(names.zero, 'f32', [N, G], 'param', { fn: 'uniform', args: { low: 0, high: 8 } })));
  const w = b.reshape(b.mul(q, perGroup(scaleParam(b, names.scale, N, G))), n.args.shape);
  return b.cast(w, n.args.dtype);
}

/** The spec of each param under `--quantize` rules over a model's `@quantize` hints. */
export const specsOf =
  (hints: Hints, rules: readonly QuantRule[]) =>
  (p: NodeOf<'param'>): QuantSpec | undefined =>
    quantSpecOf(p.args, rules, paramHint(hints, p.args, 'quantize'));

export const quantize: Pass = {
  name: 'quantize',
  run: (graph, ctx) => {
    if (ctx.mode !== 'inference') return graph;
    const specOf = specsOf(ctx.hints, ctx.options.quantize ?? []);
    const calib = ctx.options.calibration;
    // With a calibration, each site (src/passes/quantize-act.ts) computes int8 × int8.
    const sites = new Map(calib ? contractionSites(graph, specOf).sites.map((s) => [s.einsum as Node, s]) : []);
    let changed = false;
    const out = rewrite(graph, {
      param: (n, _ins, b) => {
        const s = specOf(n);
        if (!s) return undefined;
        changed = true;
        return b.within(n.path, 'dequantize', () => dequantize(b, n, s));
      },
      einsum: (n, ins, b) => {
        const site = sites.get(n);
        if (!site || !calib) return undefined;
        const e = calib.entries[site.key];
        if (!e) throw new PassError(`the calibration has no entry for '${site.key}'`);
        return b.within(n.path, 'int8', () =>
          int8Contraction(b, site, ins[0]!, int8Values(b, site.param, site.spec), e.scale),
        );
      },
    }).graph;
    return changed ? out : graph;
  },
};
