// The adjoint of a convolution's window as a transposed convolution. A convolution is
// einsum(window(x), w); the cotangent of its window is then einsum(dy, w) with the window's
// offset letters from w and its position letters from dy: a tensor K^m times the size of
// x (the column gradient), which the generic window adjoint sums back onto x (col2im).
// With stride 1 the same sum is a convolution of dy, padded by dilation·(K - 1) on both
// sides, with w flipped along the window axes:
//
//   dx[p] = Σ_i dcol[p - d·i, i] = Σ_i Σ_o dy[p - d·i, o] w[o, i]
//         = Σ_i' Σ_o pad(dy)[p + d·i', o] w[o, K - 1 - i']          (i' = K - 1 - i)
//
// one contraction of the same cost that reads dy through a window (fused into its packing)
// and writes x's size, instead of a product K^m times larger and a sum over its slices.
//
// When x is itself a pad (a convolution's zero padding), the pad's adjoint crops dx back to
// the unpadded size and nothing else reads dx's border (the cotangent of x goes to the pad's
// adjoint alone): only the interior is computed, dy padded by d·(K - 1) less x's pad on each
// side, then zero-padded back to x's shape, a pad that simplify folds into the crop. A 28×28
// same convolution's input gradient computes 28×28 pixels instead of 30×30 (7×7: not 9×9).

import type { Builder } from '../../ir/build.js';
import { type Dim, dimConst, dimConstValue, dimMul, dimSub } from '../../ir/dims.js';
import type { Node, NodeOf } from '../../ir/graph.js';
import { dimsEqual, parseEinsum } from '../../ir/infer.js';

const product = (ds: readonly Dim[]): Dim => ds.reduce((a, d) => dimMul(a, d), dimConst(1));

/**
 * Per window axis, the [lo, hi] padding of x that dx need not compute: x's own pad there when
 * x is a pad with constant sides no wider than the window's reach d·(K - 1), else [0, 0].
 */
function croppedBorder(n: NodeOf<'window'>): (readonly [number, number])[] {
  const { axes, size, dilation } = n.args;
  const x = n.inputs[0]!;
  return axes.map((axis, j) => {
    if (x.op !== 'pad') return [0, 0];
    const [lo, hi] = x.args.pads[axis]!.map(dimConstValue);
    const reach = dilation[j]! * (size[j]! - 1);
    const fits = (v: number | undefined): v is number => v !== undefined && v >= 0 && v <= reach;
    return fits(lo) && fits(hi) ? [lo, hi] : [0, 0];
  });
}

/**
 * dx for `window` n with cotangent g, as a transposed convolution when g is a contraction
 * of that form (reached through reshapes of its leading axes); undefined otherwise.
 */
export function transposedConv(b: Builder, n: NodeOf<'window'>, g: Node): Node | undefined {
  const { axes, size, stride, dilation } = n.args;
  if (stride.some((s) => s !== 1)) return undefined;
  let e = g;
  while (e.op === 'reshape') e = e.inputs[0]!;
  if (e.op !== 'einsum' || e.inputs.length !== 2) return undefined;
  const x = n.inputs[0]!.type.shape;
  // g's axes from the first window axis on are e's last axes, one for one; before it a
  // reshape may have regrouped them (a grouped convolution's (g c) channels).
  const lead = Math.min(...axes);
  const tail = g.type.shape.length - lead;
  const es = e.type.shape;
  if (es.length < tail || !dimsEqual(es.slice(es.length - tail), g.type.shape.slice(lead))) return undefined;
  if (!dimsEqual([product(es.slice(0, es.length - tail))], [product(g.type.shape.slice(0, lead))])) return undefined;
  const { ins, out } = parseEinsum(e.args.spec, 2);
  const at = (axis: number): string => out[es.length - tail + axis - lead]!;
  const pos = axes.map(at);
  const off = axes.map((_, j) => at(x.length + j));
  const has = (s: string, ls: readonly string[]): boolean => ls.every((c) => s.includes(c));
  const none = (s: string, ls: readonly string[]): boolean => ls.every((c) => !s.includes(c));
  const ai = ins.findIndex((s) => has(s, pos) && none(s, off));
  if (ai < 0) return undefined;
  const [aSpec, bSpec] = [ins[ai]!, ins[1 - ai]!];
  if (!has(bSpec, off) || !none(bSpec, pos)) return undefined;
  const [a, w] = [e.inputs[ai]!, e.inputs[1 - ai]!];

  // pad(dy) along the position axes, then its window: offset i' of position p reads
  // dy[p + d·i' - d·(K - 1)] (the border x's pad crops away not computed).
  const border = croppedBorder(n);
  const aAxes = pos.map((c) => aSpec.indexOf(c));
  const order = aAxes.map((_, j) => j).sort((i, j) => aAxes[i]! - aAxes[j]!);
  const pads = a.type.shape.map((_, i) => {
    const j = aAxes.indexOf(i);
    const p = j < 0 ? 0 : dilation[j]! * (size[j]! - 1);
    return j < 0 ? ([0, 0] as const) : ([p - border[j]![0], p - border[j]![1]] as const);
  });
  const aw = b.window(
    b.pad(a, pads),
    order.map((j) => aAxes[j]!),
    order.map((j) => size[j]!),
    order.map(() => 1),
    order.map((j) => dilation[j]!),
  );
  // w flipped along each offset axis (K - 1 - i'), its offsets renamed to fresh letters.
  const used = new Set(e.args.spec);
  const fresh = [...'abcdefghijklmnopqrstuvwxyz'].filter((c) => !used.has(c)).slice(0, off.length);
  if (fresh.length < off.length) return undefined;
  let flipped = w;
  off.forEach((c, j) => {
    const k = size[j]!;
    const idx = b.sub(b.full(k - 1, 'i64', [k]), b.iota(0, 'i64', [k]));
    flipped = b.gather(flipped, idx, bSpec.indexOf(c));
  });
  const wSpec = [...bSpec].map((c) => (off.includes(c) ? fresh[off.indexOf(c)]! : c)).join('');
  const awSpec = aSpec + order.map((j) => fresh[j]!).join('');
  const outSpec = [...out].filter((c) => !off.includes(c)).join('');
  const dxp = b.einsum(`${awSpec},${wSpec}->${outSpec}`, aw, flipped);
  if (border.every(([lo, hi]) => lo === 0 && hi === 0)) return b.reshape(dxp, x);
  // The interior at x's shape less the border, zero-padded back to x's shape.
  const sides = x.map((_, i) => border[axes.indexOf(i)] ?? ([0, 0] as const));
  const interior = x.map((d, i) => dimSub(d, dimConst(sides[i]![0] + sides[i]![1])));
  return b.pad(b.reshape(dxp, interior), sides, 0);
}
