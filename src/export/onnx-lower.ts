// Lowering of each primitive op to ONNX nodes (opset 18). Shapes in op args go through the
// DimCompiler, so they are computed at run time from the inputs' shapes.

import { type Dim, dimAdd, dimConst, dimConstValue, dimEquals, dimMul, dimSub, dimToString } from '../ir/dims.js';
import { type Dtype, isFloat, isInt } from '../ir/dtype.js';
import type { Node, NodeOf } from '../ir/graph.js';
import { numel } from '../ir/infer.js';
import type { BinaryFn, OpName, UnaryFn } from '../ir/ops.js';
import { type HostTensor, roundTo } from '../ir/value.js';
import type { DimCompiler } from './onnx-dims.js';
import {
  type Attr,
  attrInt,
  attrInts,
  attrString,
  type Emitter,
  encodeData,
  ExportError,
  onnxDtype,
} from './onnx-emit.js';

const UNARY: Readonly<Record<UnaryFn, readonly string[]>> = {
  neg: ['Neg'],
  exp: ['Exp'],
  log: ['Log'],
  sqrt: ['Sqrt'],
  rsqrt: ['Sqrt', 'Reciprocal'],
  sin: ['Sin'],
  cos: ['Cos'],
  tanh: ['Tanh'],
  erf: ['Erf'],
  abs: ['Abs'],
  recip: ['Reciprocal'],
  floor: ['Floor'],
  not: ['Not'],
};

const BINARY: Readonly<Record<BinaryFn, string>> = {
  add: 'Add',
  sub: 'Sub',
  mul: 'Mul',
  div: 'Div',
  mod: 'Mod',
  pow: 'Pow',
  max: 'Max',
  min: 'Min',
  eq: 'Equal',
  ne: 'Equal', // then Not
  lt: 'Less',
  le: 'LessOrEqual',
  gt: 'Greater',
  ge: 'GreaterOrEqual',
  and: 'And',
  or: 'Or',
};

/**
 * Ops computed in a wider dtype, then cast back: ONNX Runtime's CPU provider has no bf16
 * kernels for arithmetic (and TopK has no bf16 in the ONNX schema), few i8 ones, and no f16
 * ScatterElements add; einsum accumulates half-precision products in f32 as fmc defines. One
 * rounding of an f32 (or wrapping of an i32) result matches the interpreter's semantics.
 */
const BF16: Partial<Record<Dtype, Dtype>> = { bf16: 'f32' };
const HALF: Partial<Record<Dtype, Dtype>> = { bf16: 'f32', f16: 'f32' };
const BF16_I8: Partial<Record<Dtype, Dtype>> = { bf16: 'f32', i8: 'i32' };
const WIDEN: Partial<Record<OpName, Partial<Record<Dtype, Dtype>>>> = {
  unary: BF16_I8,
  binary: BF16_I8,
  where: BF16_I8,
  reduce: BF16_I8,
  expand: BF16,
  pad: BF16,
  topk: BF16_I8,
  einsum: { ...HALF, i8: 'i32' },
  scatter_add: { ...HALF, i8: 'i32' },
};

/** The op with its fn (`binary add`), for messages and doc strings. */
export function opText(n: Node): string {
  return 'fn' in n.args ? `${n.op} ${n.args.fn}` : n.op;
}

/** "cannot export <op> (node %id) in block '<path>'": the start of an ExportError message. */
export function context(n: Node): string {
  return `cannot export ${opText(n)} (node %${n.id}) in ${n.path ? `block '${n.path}'` : 'the top-level function'}`;
}

export class Lowering {
  /** Param paths already made initializers. */
  private readonly done = new Set<string>();

  constructor(
    private readonly em: Emitter,
    private readonly dims: DimCompiler,
    private readonly values: ReadonlyMap<number, string>,
    private readonly params: ReadonlyMap<string, HostTensor>,
  ) {}

  private v(n: Node): string {
    return this.values.get(n.id)!;
  }

  /** The ONNX value of `n`, computed in a wider dtype where ORT's CPU kernels need one (see WIDEN). */
  node(n: Node): string {
    const xs = n.inputs.map((i) => this.v(i));
    const wide = WIDEN[n.op];
    const w = (d: Dtype): Dtype => wide?.[d] ?? d;
    if (![n, ...n.inputs].some((i) => w(i.type.dtype) !== i.type.dtype)) return this.lower(n, xs);
    const retype = <N extends Node>(m: N): N => ({ ...m, type: { ...m.type, dtype: w(m.type.dtype) } });
    const wn = { ...retype(n), inputs: n.inputs.map(retype) } as Node;
    const out = this.lower(
      wn,
      xs.map((v, k) =>
        wn.inputs[k]!.type.dtype === n.inputs[k]!.type.dtype ? v : this.cast(v, w(n.inputs[k]!.type.dtype)),
      ),
    );
    return wn.type.dtype === n.type.dtype ? out : this.cast(out, n.type.dtype);
  }

  private lower(n: Node, xs: readonly string[]): string {
    const em = this.em;
    const x = n.inputs[0];
    switch (n.op) {
      case 'input':
        return n.args.name;
      case 'param':
        return this.param(n);
      case 'random':
        throw new ExportError(
          `${context(n)}: random numbers (dropout in training) cannot be exported; export an inference function`,
        );
      case 'full': {
        const { value, dtype, shape } = n.args;
        const d = dtype === 'bf16' ? 'f32' : dtype; // ConstantOfShape has no bf16 before opset 20
        const v = roundTo(dtype, value); // exact in f32 for bf16
        const out = em.op('ConstantOfShape', [this.dims.shape(shape)], [em.tensorAttr('value', d, v)]);
        return dtype === d ? out : this.cast(out, dtype);
      }
      case 'dim': {
        // The run-time value of a dim expression as a scalar of the node's dtype.
        const v = this.dims.scalar(n.args.value);
        return n.args.dtype === 'i64' ? v : this.cast(v, n.args.dtype);
      }
      case 'iota': {
        const { axis, dtype, shape } = n.args;
        let r = em.op('Range', [em.i64Scalar(0), this.dims.scalar(shape[axis]!), em.i64Scalar(1)]);
        if (dtype !== 'i64') r = this.cast(r, dtype);
        if (shape.length === 1) return r;
        const others = shape.map((_, i) => i).filter((i) => i !== axis);
        r = em.op('Unsqueeze', [r, em.i64(others)]);
        return em.op('Expand', [r, this.dims.shape(shape)]);
      }
      case 'unary':
        return UNARY[n.args.fn].reduce((a, op) => em.op(op, [a]), xs[0]!);
      case 'binary': {
        const { fn } = n.args;
        const out = em.op(BINARY[fn], xs, fn === 'mod' ? [attrInt('fmod', 1)] : []);
        return fn === 'ne' ? em.op('Not', [out]) : out;
      }
      case 'where':
        return em.op('Where', xs);
      case 'reduce': {
        const { fn, axes, keepdim } = n.args;
        if (axes.length === 0) return em.op('Identity', xs);
        return em.op(
          fn === 'sum' ? 'ReduceSum' : 'ReduceMax',
          [xs[0]!, em.i64(axes)],
          [attrInt('keepdims', keepdim ? 1 : 0)],
        );
      }
      case 'reshape':
        return em.op('Reshape', [xs[0]!, this.dims.shape(n.args.shape)], [attrInt('allowzero', 1)]);
      case 'permute':
        return em.op('Transpose', xs, [attrInts('perm', n.args.axes)]);
      case 'expand':
        return em.op('Expand', [xs[0]!, this.dims.shape(n.args.shape)]);
      case 'pad': {
        const { pads, value } = n.args;
        if (pads.every(([lo, hi]) => dimConstValue(lo) === 0 && dimConstValue(hi) === 0)) return em.op('Identity', xs);
        const widths = this.dims.shape([...pads.map((p) => p[0]), ...pads.map((p) => p[1])]);
        return em.op('Pad', [xs[0]!, widths, em.scalar(n.type.dtype, value)], [attrString('mode', 'constant')]);
      }
      case 'slice':
        return this.slice(xs[0]!, x!.type.shape, n.args);
      case 'window':
        return this.window(n as NodeOf<'window'>, xs[0]!);
      case 'concat':
        return em.op('Concat', xs, [attrInt('axis', n.args.axis)]);
      case 'einsum':
        return em.op('Einsum', xs, [attrString('equation', n.args.spec)]);
      case 'gather': {
        const { axis } = n.args;
        const len = x!.type.shape[axis]!;
        const idx = this.toI64(xs[1]!, n.inputs[1]!.type.dtype);
        const clamped = em.op('Clip', [idx, em.i64Scalar(0), this.dims.scalar(dimSub(len, dimConst(1)))]);
        return em.op('Gather', [xs[0]!, clamped], [attrInt('axis', axis)]);
      }
      case 'scatter_add':
        return this.scatterAdd(n as NodeOf<'scatter_add'>, xs as [string, string, string]);
      case 'cast': {
        const [from, to] = [x!.type.dtype, n.args.dtype];
        return isFloat(from) && isInt(to) ? this.floatToInt(xs[0]!, from, to) : this.cast(xs[0]!, to);
      }
      case 'barrier':
        return em.op('Identity', xs);
      case 'topk': {
        const { k, axis, output } = n.args;
        const attrs: Attr[] = [attrInt('axis', axis), attrInt('largest', 1), attrInt('sorted', 1)];
        const [vals, idx] = em.ops('TopK', [xs[0]!, em.i64([k])], attrs, 2) as [string, string];
        return output === 'values' ? vals : this.cast(idx, 'i32');
      }
    }
    throw new ExportError(`${context(n)}: unknown op`);
  }

  private cast(v: string, to: Dtype): string {
    return this.em.op('Cast', [v], [attrInt('to', onnxDtype(to))]);
  }

  /**
   * fmc's float -> int cast: truncation saturating at the int range, NaN -> 0 (a bare ORT Cast
   * gives INT_MIN for those). Computed on f32: NaN replaced by 0, clipped to the range's
   * f32-representable part, cast, then values at or above 2^31 (2^63) patched.
   */
  private floatToInt(v: string, from: Dtype, to: Dtype): string {
    const em = this.em;
    const f = from === 'f32' ? v : this.cast(v, 'f32');
    const x = em.op('Where', [em.op('IsNaN', [f]), em.scalar('f32', 0), f]); // on f32: ORT has no i8 Where
    const bits = to === 'i8' ? 8 : to === 'i32' ? 32 : 64;
    const [lo, top] = [-(2 ** (bits - 1)), 2 ** (bits - 1)]; // top: the first value out of range
    const hi = bits === 8 ? top - 1 : top - 2 ** (bits - 25); // the largest f32 below top
    const out = this.cast(em.op('Clip', [x, em.scalar('f32', lo), em.scalar('f32', hi)]), to);
    if (bits === 8) return out;
    return em.op('Where', [em.op('GreaterOrEqual', [x, em.scalar('f32', top)]), em.scalar(to, top - 1), out]);
  }

  private toI64(v: string, from: Dtype): string {
    return from === 'i64' ? v : this.cast(v, 'i64');
  }

  private param(n: NodeOf<'param'>): string {
    const { path, dtype, shape } = n.args;
    const host = this.params.get(path);
    const bad = (msg: string) => new ExportError(`${context(n)}: parameter '${path}' ${msg}`);
    if (!host) throw bad('has no value');
    const want = `[${shape.map(dimToString).join(', ')}]`;
    if (
      host.shape.length !== shape.length ||
      shape.some((d, i) => (dimConstValue(d) ?? host.shape[i]) !== host.shape[i])
    )
      throw bad(`has shape [${host.shape.join(', ')}], expected ${want}`);
    if (host.dtype !== dtype) throw bad(`is ${host.dtype}, expected ${dtype}`);
    if (this.done.has(path)) return path;
    this.done.add(path);
    this.em.initializers.push({
      name: path,
      dataType: onnxDtype(dtype),
      dims: [...host.shape],
      rawData: encodeData(dtype, host.data),
    });
    return path;
  }

  /** out[j] = in[start + j*step] for j < size: ONNX Slice with end = start + (size-1)*step + 1. */
  private slice(x: string, shape: readonly Dim[], args: NodeOf<'slice'>['args']): string {
    const em = this.em;
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
      ends.push(
        sz === 0 ? start : dimAdd(start, dimAdd(dimMul(dimSub(size, dimConst(1)), dimConst(step)), dimConst(1))),
      );
    });
    if (axes.length === 0) return em.op('Identity', [x]);
    const st = this.dims.shape(starts);
    let en = this.dims.shape(ends);
    if (symbolicSize) en = em.op('Max', [en, st]);
    return em.op('Slice', [x, st, en, em.i64(axes), em.i64(steps)]);
  }

  /** Gather with an index table [out, size] per windowed axis, then window axes moved last. */
  private window(n: NodeOf<'window'>, x: string): string {
    const em = this.em;
    const { axes, size, stride, dilation } = n.args;
    let cur = x;
    const labels: number[] = n.inputs[0]!.type.shape.map((_, i) => i); // window k is labelled -1-k
    axes.forEach((a, k) => {
      const pos = labels.indexOf(a);
      const idx = this.windowIndex(n.type.shape[a]!, size[k]!, stride[k]!, dilation[k]!);
      cur = em.op('Gather', [cur, idx], [attrInt('axis', pos)]);
      labels.splice(pos + 1, 0, -1 - k);
    });
    const want = [...labels.filter((l) => l >= 0), ...axes.map((_, k) => -1 - k)];
    const perm = want.map((l) => labels.indexOf(l));
    return perm.every((p, i) => p === i) ? cur : em.op('Transpose', [cur], [attrInts('perm', perm)]);
  }

  /** indices[o, k] = o*stride + k*dilation, int64 [out, size]. */
  private windowIndex(out: Dim, size: number, stride: number, dilation: number): string {
    const em = this.em;
    const ks = Array.from({ length: size }, (_, k) => k * dilation);
    const o = dimConstValue(out);
    if (o !== undefined && o * size <= 4096) {
      const data = Array.from({ length: o * size }, (_, i) => Math.floor(i / size) * stride + ks[i % size]!);
      return em.constant('i64', [o, size], data);
    }
    const r = em.op('Range', [em.i64Scalar(0), this.dims.scalar(out), em.i64Scalar(1)]);
    const starts = em.op('Unsqueeze', [em.op('Mul', [r, em.i64Scalar(stride)]), em.i64([1])]);
    return em.op('Add', [starts, em.constant('i64', [1, size], ks)]);
  }

  /**
   * ScatterElements(reduction=add) along the axis, with idx flattened to [N] and expanded to
   * src reshaped as x.shape[:a] + [N] + x.shape[a+1:]; out-of-range indices add 0 at 0.
   */
  private scatterAdd(n: NodeOf<'scatter_add'>, [x, idx, src]: [string, string, string]): string {
    const em = this.em;
    const a = n.args.axis;
    const shape = n.type.shape;
    const count = numel(n.inputs[1]!.type.shape);
    const one = dimConst(1);
    const flatShape = shape.map((_, i) => (i === a ? count : one));
    const srcShape = shape.map((d, i) => (i === a ? count : d));
    const idx64 = this.toI64(idx, n.inputs[1]!.type.dtype);
    const flat = em.op('Reshape', [idx64, this.dims.shape(flatShape)], [attrInt('allowzero', 1)]);
    const zero = em.i64Scalar(0);
    const inRange = em.op('And', [
      em.op('GreaterOrEqual', [flat, zero]),
      em.op('Less', [flat, this.dims.scalar(shape[a]!)]),
    ]);
    const safeIdx = em.op('Where', [inRange, flat, zero]);
    const src2 = em.op('Reshape', [src, this.dims.shape(srcShape)], [attrInt('allowzero', 1)]);
    const masked = em.op('Where', [inRange, src2, em.scalar(n.type.dtype, 0)]);
    const idxFull = em.op('Expand', [safeIdx, this.dims.shape(srcShape)]);
    return em.op('ScatterElements', [x, idxFull, masked], [attrInt('axis', a), attrString('reduction', 'add')]);
  }
}
