// Primitive ops whose ONNX lowering takes several nodes: slice, window, scatter_add and
// fmc's float -> int cast, and the casts the lowering inserts.

import { type Dim, dimAdd, dimConst, dimConstValue, dimEquals, dimMul, dimSub } from '../ir/dims.js';
import type { Dtype } from '../ir/dtype.js';
import type { NodeOf } from '../ir/graph.js';
import { numel } from '../ir/infer.js';
import type { DimCompiler } from './onnx-dims.js';
import { attrInt, attrInts, attrString, type Emitter, onnxDtype } from './onnx-emit.js';

/** What a lowering writes to: the node list and the run-time shape arithmetic. */
export interface OnnxContext {
  readonly em: Emitter;
  readonly dims: DimCompiler;
}

export function cast(em: Emitter, v: string, to: Dtype): string {
  return em.op('Cast', [v], [attrInt('to', onnxDtype(to))]);
}

export function toI64(em: Emitter, v: string, from: Dtype): string {
  return from === 'i64' ? v : cast(em, v, 'i64');
}

/**
 * fmc's float -> int cast: truncation saturating at the int range, NaN -> 0 (a bare ORT Cast
 * gives INT_MIN for those). Computed on f32: NaN replaced by 0, clipped to the range's
 * f32-representable part, cast, then values at or above 2^31 (2^63) patched.
 */
export function floatToInt(em: Emitter, v: string, from: Dtype, to: Dtype): string {
  const f = from === 'f32' ? v : cast(em, v, 'f32');
  const x = em.op('Where', [em.op('IsNaN', [f]), em.scalar('f32', 0), f]); // on f32: ORT has no i8 Where
  const bits = to === 'i8' ? 8 : to === 'i32' ? 32 : 64;
  const [lo, top] = [-(2 ** (bits - 1)), 2 ** (bits - 1)]; // top: the first value out of range
  const hi = bits === 8 ? top - 1 : top - 2 ** (bits - 25); // the largest f32 below top
  const out = cast(em, em.op('Clip', [x, em.scalar('f32', lo), em.scalar('f32', hi)]), to);
  if (bits === 8) return out;
  return em.op('Where', [em.op('GreaterOrEqual', [x, em.scalar('f32', top)]), em.scalar(to, top - 1), out]);
}

/** out[j] = in[start + j*step] for j < size: ONNX Slice with end = start + (size-1)*step + 1. */
export function slice(c: OnnxContext, x: string, shape: readonly Dim[], args: NodeOf<'slice'>['args']): string {
  const { em, dims } = c;
  const [axes, starts, ends, steps] = [[], [], [], []] as [number[], Dim[], Dim[], number[]];
  let symbolicSize = false;
  shape.forEach((len, i) => {
    const [start, size, step] = [args.starts[i]!, args.sizes[i]!, args.steps[i]!];
    if (dimConstValue(start) === 0 && step === 1 && dimEquals(size, len)) return; // the whole axis
    const sz = dimConstValue(size);
    symbolicSize ||= sz === undefined;
    axes.push(i);
    starts.push(start);
    steps.push(step);
    // An empty slice ends at its start (a negative end would count from the back).
    ends.push(sz === 0 ? start : dimAdd(start, dimAdd(dimMul(dimSub(size, dimConst(1)), dimConst(step)), dimConst(1))));
  });
  if (axes.length === 0) return em.op('Identity', [x]);
  const st = dims.shape(starts);
  let en = dims.shape(ends);
  if (symbolicSize) en = em.op('Max', [en, st]);
  return em.op('Slice', [x, st, en, em.i64(axes), em.i64(steps)]);
}

/** Gather with an index table [out, size] per windowed axis, then window axes moved last. */
export function window(c: OnnxContext, n: NodeOf<'window'>, x: string): string {
  const em = c.em;
  const { axes, size, stride, dilation } = n.args;
  let cur = x;
  const labels: number[] = n.inputs[0]!.type.shape.map((_, i) => i); // window k is labelled -1-k
  axes.forEach((a, k) => {
    const pos = labels.indexOf(a);
    const idx = windowIndex(c, n.type.shape[a]!, size[k]!, stride[k]!, dilation[k]!);
    cur = em.op('Gather', [cur, idx], [attrInt('axis', pos)]);
    labels.splice(pos + 1, 0, -1 - k);
  });
  const want = [...labels.filter((l) => l >= 0), ...axes.map((_, k) => -1 - k)];
  const perm = want.map((l) => labels.indexOf(l));
  return perm.every((p, i) => p === i) ? cur : em.op('Transpose', [cur], [attrInts('perm', perm)]);
}

/** indices[o, k] = o*stride + k*dilation, int64 [out, size]. */
function windowIndex(c: OnnxContext, out: Dim, size: number, stride: number, dilation: number): string {
  const { em, dims } = c;
  const ks = Array.from({ length: size }, (_, k) => k * dilation);
  const o = dimConstValue(out);
  if (o !== undefined && o * size <= 4096) {
    const data = Array.from({ length: o * size }, (_, i) => Math.floor(i / size) * stride + ks[i % size]!);
    return em.constant('i64', [o, size], data);
  }
  const r = em.op('Range', [em.i64Scalar(0), dims.scalar(out), em.i64Scalar(1)]);
  const starts = em.op('Unsqueeze', [em.op('Mul', [r, em.i64Scalar(stride)]), em.i64([1])]);
  return em.op('Add', [starts, em.constant('i64', [1, size], ks)]);
}

/**
 * ScatterElements(reduction=add) along the axis, with idx flattened to [N] and expanded to
 * src reshaped as x.shape[:a] + [N] + x.shape[a+1:]; out-of-range indices add 0 at 0.
 */
export function scatterAdd(c: OnnxContext, n: NodeOf<'scatter_add'>, xs: readonly string[]): string {
  const [x, idx, src] = xs as readonly [string, string, string];
  const { em, dims } = c;
  const a = n.args.axis;
  const shape = n.type.shape;
  const count = numel(n.inputs[1]!.type.shape);
  const one = dimConst(1);
  const flatShape = shape.map((_, i) => (i === a ? count : one));
  const srcShape = shape.map((d, i) => (i === a ? count : d));
  const idx64 = toI64(em, idx, n.inputs[1]!.type.dtype);
  const flat = em.op('Reshape', [idx64, dims.shape(flatShape)], [attrInt('allowzero', 1)]);
  const zero = em.i64Scalar(0);
  const inRange = em.op('And', [em.op('GreaterOrEqual', [flat, zero]), em.op('Less', [flat, dims.scalar(shape[a]!)])]);
  const safeIdx = em.op('Where', [inRange, flat, zero]);
  const src2 = em.op('Reshape', [src, dims.shape(srcShape)], [attrInt('allowzero', 1)]);
  const masked = em.op('Where', [inRange, src2, em.scalar(n.type.dtype, 0)]);
  const idxFull = em.op('Expand', [safeIdx, dims.shape(srcShape)]);
  return em.op('ScatterElements', [x, idxFull, masked], [attrInt('axis', a), attrString('reduction', 'add')]);
}
