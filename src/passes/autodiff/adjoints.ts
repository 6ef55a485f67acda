// Adjoints of the ops that move data, written as index math (reshape, pad, slice, sums)
// that the kernel lowering fuses into whatever reads it: no scatter kernels for slices,
// windows or pads. Also unbroadcasting and the routing of topk's gradient.

import type { Builder } from '../../ir/build.js';
import { type Dim, dimConst, dimConstValue, dimEquals, dimMul, dimSub } from '../../ir/dims.js';
import { type Dtype, isFloat } from '../../ir/dtype.js';
import type { Node, NodeOf } from '../../ir/graph.js';
import { numel } from '../../ir/infer.js';

const ONE = dimConst(1);
const isOne = (d: Dim): boolean => dimConstValue(d) === 1;
const narrow = (t: Dtype): boolean => isFloat(t) && t !== 'f32';

/**
 * Sums `g` (of a broadcast shape) back to `shape`: over prepended axes and over axes that
 * were stretched from a literal 1. Narrow floats (f16, bf16) accumulate in f32 and cast back.
 */
export function unbroadcast(b: Builder, g: Node, shape: readonly Dim[]): Node {
  const gs = g.type.shape;
  const lead = gs.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < gs.length; i++) if (i < lead || (isOne(shape[i - lead]!) && !isOne(gs[i]!))) axes.push(i);
  if (axes.length === 0) return g;
  const dtype = g.type.dtype;
  const acc = narrow(dtype) ? b.cast(g, 'f32') : g;
  return b.cast(b.reshape(b.sum(acc, axes), shape), dtype);
}

/** Inserts `step - 1` zeros after each element along `axis` (length n becomes n * step). */
function spread(b: Builder, g: Node, axis: number, step: number): Node {
  if (step === 1) return g;
  const s = g.type.shape;
  const split = [...s.slice(0, axis + 1), ONE, ...s.slice(axis + 1)];
  const pads = split.map((_, i) => [0, i === axis + 1 ? step - 1 : 0] as const);
  const wide = b.pad(b.reshape(g, split), pads);
  return b.reshape(
    wide,
    s.map((d, i) => (i === axis ? dimMul(d, dimConst(step)) : d)),
  );
}

/** The adjoint of slice: each element back at `start + j * step`, zeros elsewhere. */
export function sliceAdjoint(b: Builder, n: NodeOf<'slice'>, g: Node): Node {
  const { starts, steps } = n.args;
  const full = n.inputs[0]!.type.shape;
  let spreadG = g;
  steps.forEach((s, axis) => (spreadG = spread(b, spreadG, axis, s)));
  const pads = full.map((d, i) => {
    const span = spreadG.type.shape[i]!;
    return [starts[i]!, dimSub(dimSub(d, starts[i]!), span)] as const;
  });
  return b.pad(spreadG, pads);
}

/**
 * The adjoint of a window over one axis whose window offsets are `g`'s last axis: window
 * offset k read input position `i * stride + k * dilation`, so its slice of `g` is spread by
 * the stride and shifted by `k * dilation`; the adjoint is the sum over k.
 */
function windowAxisAdjoint(b: Builder, g: Node, axis: number, n: Dim, stride: number, dilation: number): Node {
  const s = g.type.shape;
  const k = dimConstValue(s[s.length - 1]!)!;
  const rest = s.slice(0, -1);
  if (stride === k && dilation === 1) return tilingAdjoint(b, g, axis, n);
  let sum: Node | undefined;
  for (let o = 0; o < k; o++) {
    const starts = s.map((_, i) => (i === s.length - 1 ? o : 0));
    const sizes = s.map((d, i) => (i === s.length - 1 ? ONE : d));
    const gk = spread(b, b.reshape(b.slice(g, starts, sizes), rest), axis, stride);
    const shift = dimConst(o * dilation);
    const pads = rest.map((_, i) =>
      i === axis ? ([shift, dimSub(dimSub(n, shift), gk.type.shape[i]!)] as const) : ([0, 0] as const),
    );
    const term = b.pad(gk, pads);
    sum = sum ? b.add(sum, term) : term;
  }
  return sum!;
}

/**
 * The adjoint of a window whose windows tile the axis (stride = size, no dilation: a
 * pooling's): position i·k + o is read by window i at offset o only, so the adjoint is a
 * view, g's offset axis moved next to the position axis and merged into it, then zeros for
 * the tail no window reached. The kernel that reads it fuses the view (no sum, no kernel).
 */
function tilingAdjoint(b: Builder, g: Node, axis: number, n: Dim): Node {
  const s = g.type.shape;
  const last = s.length - 1;
  const perm = [...s.keys()].filter((i) => i !== last);
  perm.splice(axis + 1, 0, last);
  const rest = s.slice(0, -1);
  const span = dimMul(s[axis]!, s[last]!);
  const merged = b.reshape(
    b.permute(g, perm),
    rest.map((d, i) => (i === axis ? span : d)),
  );
  return b.pad(
    merged,
    rest.map((_, i) => (i === axis ? ([0, dimSub(n, span)] as const) : ([0, 0] as const))),
  );
}

/**
 * The adjoint of window over several axes. A window over axes a1..am equals single-axis
 * windows over a1, then a2, ... (each appends its offset axis), so its adjoint undoes them
 * from the last to the first.
 */
export function windowAdjoint(b: Builder, n: NodeOf<'window'>, g: Node): Node {
  const { axes, stride, dilation } = n.args;
  const x = n.inputs[0]!.type.shape;
  let cur = g;
  for (let m = axes.length - 1; m >= 0; m--)
    cur = windowAxisAdjoint(b, cur, axes[m]!, x[axes[m]!]!, stride[m]!, dilation[m]!);
  return cur;
}

/**
 * The adjoint of topk's values: each value's gradient goes to the one position topk chose
 * (its index), nowhere else. Rows are flattened so that one scatter_add places them.
 */
export function topkAdjoint(b: Builder, n: NodeOf<'topk'>, x: Node, g: Node): Node {
  const { k, axis } = n.args;
  const shape = x.type.shape;
  const r = shape.length;
  const perm = [...shape.keys()].filter((i) => i !== axis).concat([axis]);
  const inv = perm.map((_, i) => perm.indexOf(i));
  const rows = numel(shape.filter((_, i) => i !== axis));
  const len = shape[axis]!;
  const idx = b.node('topk', { ...n.args, output: 'indices' }, [x]);
  const idxRows = b.reshape(b.cast(b.permute(idx, perm), 'i64'), [rows, k]);
  const offsets = b.mul(b.iota(0, 'i64', [rows, k]), lenNode(b, len));
  const flat = b.reshape(b.add(idxRows, offsets), [dimMul(rows, dimConst(k))]);
  const src = b.reshape(b.permute(g, perm), [dimMul(rows, dimConst(k))]);
  const zeros = b.full(0, g.type.dtype, [dimMul(rows, len)]);
  const placed = b.scatterAdd(zeros, flat, src, 0);
  const permShape = perm.map((i) => shape[i]!);
  return b.permute(b.reshape(placed, permShape), r === 1 ? [0] : inv);
}

/** A scalar i64 node holding a dim's value (a constant when it is one). */
export function lenNode(b: Builder, d: Dim, dtype: Dtype = 'i64'): Node {
  const c = dimConstValue(d);
  return c !== undefined ? b.full(c, dtype) : b.dim(d, dtype);
}

/** Whether two shapes are equal. */
export const sameShape = (a: readonly Dim[], c: readonly Dim[]): boolean =>
  a.length === c.length && a.every((d, i) => dimEquals(d, c[i]!));
