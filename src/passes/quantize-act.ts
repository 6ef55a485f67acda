// int8 activations (`--calibration`, docs/ir.md "int8 activations"): which contractions of a
// graph can compute int8 × int8 with exact i32 sums, and the IR that does it.
//
// A site is a two-operand float einsum whose second operand is a weight-quantized param
// (read through reshapes and float casts only) quantized symmetrically with one scale per
// output channel (int8, or int4 without a group), whose first axis (after unit axes) is an
// output letter of the einsum and whose other axes are all summed: then every product
// x[.., k] · w[n, k] of the sum has the same weight scale s_w[n], and
//   y[.., n] = Σ_k x·w ≈ (Σ_k qx·qw) · (s_x · s_w[n]),
//   qx = cast(min(max(floor(x / s_x + 0.5), -127), 127), i8)  (round half up, then clamp),
// with the sum an einsum of i32 operands (cast from the i8 values: the C kernel packs them
// as bytes, src/kernels/gemm-int8.ts), exact as long as K·127·127 < 2^31. Every op is an
// ordinary IR op, so the reference interpreter computes the same integers and the C target
// equals it up to f32 rounding of the last two multiplications (the same ops in both).
//
// A site's key is its weight's param path (`fc1.w`), with `#1`, `#2`, ... for the second and
// later contractions reading the same weight, in the graph's topological order: it survives
// recompiling and edits elsewhere in the model (src/passes/calibration.ts has the file).

import type { Builder } from '../ir/build.js';
import { dimConstValue } from '../ir/dims.js';
import { isFloat } from '../ir/dtype.js';
import { type Graph, type Node, type NodeOf, liveNodes } from '../ir/graph.js';
import { parseEinsum } from '../ir/infer.js';
import { type QuantSpec, groupOf, quantNames } from '../ir/quantize.js';
import { PassError } from './pass.js';

/** The largest K whose i32 sums of int8 products cannot overflow: K·127·127 < 2^31. */
export const MAX_INT8_K = Math.floor((2 ** 31 - 1) / (127 * 127));

export interface Site {
  readonly key: string;
  readonly einsum: NodeOf<'einsum'>;
  readonly param: NodeOf<'param'>;
  readonly spec: QuantSpec;
  /** The output axis of the weight's output channels. */
  readonly outAxis: number;
  readonly N: number;
  readonly K: number;
}

export interface Skipped {
  readonly key: string;
  readonly reason: string;
}

/** The param a weight operand reads through reshapes and float casts, or undefined. */
function weightParam(x: Node): NodeOf<'param'> | undefined {
  while (x.op === 'reshape' || (x.op === 'cast' && isFloat(x.type.dtype) && isFloat(x.inputs[0]!.type.dtype)))
    x = x.inputs[0]!;
  return x.op === 'param' ? x : undefined;
}

/** The output axis of `n`'s weight channels when it can take the int8 path, else why not. */
function outAxisOf(n: NodeOf<'einsum'>, w: Node, s: QuantSpec, N: number, K: number): number | string {
  if (!s.symmetric || groupOf(s, K) !== K)
    return 'its weight is quantized in groups or with a zero point; int8 activations need one symmetric scale per output channel (int8, int4)';
  if (!isFloat(n.inputs[0]!.type.dtype)) return 'its activation is not a float';
  const { ins, out } = parseEinsum(n.args.spec, 2);
  const [a, b] = ins as [string, string];
  const once = (t: string): boolean => new Set(t).size === t.length;
  if (!once(a) || !once(b) || !once(out)) return 'a letter repeats in its einsum';
  const shape = w.type.shape.map((d) => dimConstValue(d));
  const j = shape.findIndex((d) => d !== 1);
  const rest = [...b.slice(j + 1)];
  if (shape[j] !== N || !out.includes(b[j]!) || rest.some((c) => out.includes(c) || !a.includes(c)))
    return "the weight's output channels are not an output axis of the contraction with the rest summed";
  if ([...a].some((c) => !out.includes(c) && !b.includes(c))) return 'it sums a letter of the activation alone';
  return out.indexOf(b[j]!);
}

/** The contractions of `g` that read a weight-quantized param (`specOf`), as sites or skipped with a reason. */
export function contractionSites(
  g: Graph,
  specOf: (p: NodeOf<'param'>) => QuantSpec | undefined,
): { sites: Site[]; skipped: Skipped[] } {
  const sites: Site[] = [];
  const skipped: Skipped[] = [];
  const seen = new Map<string, number>();
  for (const n of liveNodes(g)) {
    if (n.op !== 'einsum' || n.inputs.length !== 2 || !isFloat(n.type.dtype)) continue;
    const p = weightParam(n.inputs[1]!);
    const s = p && specOf(p);
    if (!p || !s) continue;
    const count = seen.get(p.args.path) ?? 0;
    seen.set(p.args.path, count + 1);
    const key = count === 0 ? p.args.path : `${p.args.path}#${count}`;
    const [N = 0, ...rest] = p.args.shape.map((d) => dimConstValue(d) ?? -1);
    const K = rest.reduce((x, y) => x * y, 1);
    const outAxis = outAxisOf(n, n.inputs[1]!, s, N, K);
    if (typeof outAxis === 'string') skipped.push({ key, reason: outAxis });
    else sites.push({ key, einsum: n, param: p, spec: s, outAxis, N, K });
  }
  return { sites, skipped };
}

/** The f32 scale param of a quantized weight's groups ([N, G]), as the dequantization reads it. */
export function scaleParam(b: Builder, path: string, N: number, G: number): Node {
  return b.param(path, 'f32', [N, G], 'param', { fn: 'uniform', args: { low: 0, high: 0.01 } });
}

/** x quantized with scale `s`: clamp(floor(x / s + 0.5), -127, 127) as i8. */
export function quantizeActivation(b: Builder, x: Node, s: number): Node {
  const r = b.unary('floor', b.add(b.div(b.cast(x, 'f32'), s), 0.5));
  return b.cast(b.min(b.max(r, -127), 127), 'i8');
}

/**
 * The int8 form of site `site` on activation `x`: `values` are the weight's integer values
 * (i8, [N, K]) and `sx` the activation's scale.
 */
export function int8Contraction(b: Builder, site: Site, x: Node, values: Node, sx: number): Node {
  const { einsum: n, N, K } = site;
  if (K > MAX_INT8_K)
    throw new PassError(
      `'${site.key}': int8 activations sum K = ${K} products of up to 127·127, which can overflow i32 (K must be at most ${MAX_INT8_K})`,
    );
  const w = b.cast(b.reshape(values, n.inputs[1]!.type.shape), 'i32');
  const acc = b.einsum(n.args.spec, b.cast(quantizeActivation(b, x, sx), 'i32'), w);
  const rank = n.type.shape.length;
  const sw = b.reshape(
    scaleParam(b, quantNames(site.param.args.path, site.spec).scale, N, 1),
    Array.from({ length: rank }, (_, i) => (i === site.outAxis ? N : 1)),
  );
  return b.cast(b.mul(b.cast(acc, 'f32'), b.mul(sw, sx)), n.type.dtype);
}
