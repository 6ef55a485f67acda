// Lowering of each primitive op to ONNX nodes (opset 18): one entry per op in ONNX_OPS, the
// longer ones in onnx-compose.ts. Shapes in op args go through the DimCompiler, so they are
// computed at run time from the inputs' shapes.

import { dimConst, dimConstValue, dimSub, dimToString } from '../ir/dims.js';
import { type Dtype, isFloat, isInt } from '../ir/dtype.js';
import type { Node, NodeOf } from '../ir/graph.js';
import type { BinaryFn, OpName, UnaryFn } from '../ir/ops.js';
import { type HostTensor, roundTo, showDims, storedBytes } from '../ir/value.js';
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
import { cast, floatToInt, type OnnxContext, scatterAdd, slice, toI64, window } from './onnx-compose.js';

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
 * ScatterElements add or CumSum; einsum accumulates half-precision products in f32 as fmc defines. One
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
  cumsum: { ...HALF, i8: 'i32' },
};

/** The op with its fn (`binary add`), for messages and doc strings. */
export function opText(n: Node): string {
  return 'fn' in n.args ? `${n.op} ${n.args.fn}` : n.op;
}

/** "cannot export <op> (node %id) in block '<path>'": the start of an ExportError message. */
export function context(n: Node): string {
  return `cannot export ${opText(n)} (node %${n.id}) in ${n.path ? `block '${n.path}'` : 'the top-level function'}`;
}

export class Lowering implements OnnxContext {
  /** Param paths already made initializers. */
  private readonly done = new Set<string>();

  constructor(
    readonly em: Emitter,
    readonly dims: DimCompiler,
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
        wn.inputs[k]!.type.dtype === n.inputs[k]!.type.dtype ? v : cast(this.em, v, w(n.inputs[k]!.type.dtype)),
      ),
    );
    return wn.type.dtype === n.type.dtype ? out : cast(this.em, out, n.type.dtype);
  }

  private lower(n: Node, xs: readonly string[]): string {
    return (ONNX_OPS[n.op] as OnnxRule<OpName>)(this, n, xs);
  }

  /** A param or buffer, made an initializer on first use. */
  param(n: NodeOf<'param'>): string {
    const { path, dtype } = n.args;
    const host = this.host(n);
    if (this.done.has(path)) return path;
    this.done.add(path);
    this.em.initializers.push({
      name: path,
      dataType: onnxDtype(dtype),
      dims: [...host.shape],
      // Weights read from a file (or drawn into storage) as they are stored: raw_data's own
      // little-endian encoding for every dtype but i4 (two a byte in ONNX, one in storage).
      rawData: (dtype !== 'i4' ? storedBytes(host) : undefined) ?? encodeData(dtype, host.data),
    });
    return path;
  }

  /** The value of a param or buffer, checked against its node. */
  host(n: NodeOf<'param'>): HostTensor {
    const { path, dtype, shape } = n.args;
    const host = this.params.get(path);
    const bad = (msg: string) => new ExportError(`${context(n)}: parameter '${path}' ${msg}`);
    if (!host) throw bad('has no value');
    const want = `[${shape.map(dimToString).join(', ')}]`;
    if (
      host.shape.length !== shape.length ||
      shape.some((d, i) => (dimConstValue(d) ?? host.shape[i]) !== host.shape[i])
    )
      throw bad(`has shape ${showDims(host.shape)}, expected ${want}`);
    if (host.dtype !== dtype) throw bad(`is ${host.dtype}, expected ${dtype}`);
    return host;
  }
}

/** How one op becomes ONNX nodes: `xs` are the values of its inputs; returns its value. */
type OnnxRule<K extends OpName> = (l: Lowering, n: NodeOf<K>, xs: readonly string[]) => string;

/** The lowering of each op. */
export const ONNX_OPS: { readonly [K in OpName]: OnnxRule<K> } = {
  input: (_l, n) => n.args.name,
  param: (l, n) => l.param(n),
  full: ({ em, dims }, n) => {
    const { value, dtype, shape } = n.args;
    const d = dtype === 'bf16' ? 'f32' : dtype; // ConstantOfShape has no bf16 before opset 20
    const v = roundTo(dtype, value); // exact in f32 for bf16
    const out = em.op('ConstantOfShape', [dims.shape(shape)], [em.tensorAttr('value', d, v)]);
    return dtype === d ? out : cast(em, out, dtype);
  },
  dim: ({ em, dims }, n) => {
    // The run-time value of a dim expression as a scalar of the node's dtype.
    const v = dims.scalar(n.args.value);
    return n.args.dtype === 'i64' ? v : cast(em, v, n.args.dtype);
  },
  iota: ({ em, dims }, n) => {
    const { axis, dtype, shape } = n.args;
    let r = em.op('Range', [em.i64Scalar(0), dims.scalar(shape[axis]!), em.i64Scalar(1)]);
    if (dtype !== 'i64') r = cast(em, r, dtype);
    if (shape.length === 1) return r;
    const others = shape.map((_, i) => i).filter((i) => i !== axis);
    r = em.op('Unsqueeze', [r, em.i64(others)]);
    return em.op('Expand', [r, dims.shape(shape)]);
  },
  random: (_l, n) => {
    throw new ExportError(
      `${context(n)}: random numbers (dropout in training) cannot be exported; export an inference function`,
    );
  },
  unary: ({ em }, n, xs) => UNARY[n.args.fn].reduce((a, op) => em.op(op, [a]), xs[0]!),
  binary: ({ em }, n, xs) => {
    const { fn } = n.args;
    const out = em.op(BINARY[fn], xs, fn === 'mod' ? [attrInt('fmod', 1)] : []);
    return fn === 'ne' ? em.op('Not', [out]) : out;
  },
  where: ({ em }, _n, xs) => em.op('Where', xs),
  reduce: ({ em }, n, xs) => {
    const { fn, axes, keepdim } = n.args;
    if (axes.length === 0) return em.op('Identity', xs);
    return em.op(
      fn === 'sum' ? 'ReduceSum' : 'ReduceMax',
      [xs[0]!, em.i64(axes)],
      [attrInt('keepdims', keepdim ? 1 : 0)],
    );
  },
  reshape: ({ em, dims }, n, xs) => em.op('Reshape', [xs[0]!, dims.shape(n.args.shape)], [attrInt('allowzero', 1)]),
  permute: ({ em }, n, xs) => em.op('Transpose', xs, [attrInts('perm', n.args.axes)]),
  expand: ({ em, dims }, n, xs) => em.op('Expand', [xs[0]!, dims.shape(n.args.shape)]),
  pad: ({ em, dims }, n, xs) => {
    const { pads, value } = n.args;
    if (pads.every(([lo, hi]) => dimConstValue(lo) === 0 && dimConstValue(hi) === 0)) return em.op('Identity', xs);
    const widths = dims.shape([...pads.map((p) => p[0]), ...pads.map((p) => p[1])]);
    return em.op('Pad', [xs[0]!, widths, em.scalar(n.type.dtype, value)], [attrString('mode', 'constant')]);
  },
  slice: (l, n, xs) => slice(l, xs[0]!, n.inputs[0]!.type.shape, n.args),
  window: (l, n, xs) => window(l, n, xs[0]!),
  concat: ({ em }, n, xs) => em.op('Concat', xs, [attrInt('axis', n.args.axis)]),
  einsum: ({ em }, n, xs) => em.op('Einsum', xs, [attrString('equation', n.args.spec)]),
  gather: ({ em, dims }, n, xs) => {
    const { axis } = n.args;
    const len = n.inputs[0]!.type.shape[axis]!;
    const idx = toI64(em, xs[1]!, n.inputs[1]!.type.dtype);
    const clamped = em.op('Clip', [idx, em.i64Scalar(0), dims.scalar(dimSub(len, dimConst(1)))]);
    return em.op('Gather', [xs[0]!, clamped], [attrInt('axis', axis)]);
  },
  scatter_add: (l, n, xs) => scatterAdd(l, n, xs),
  cumsum: ({ em }, n, xs) => {
    const { axis, exclusive, reverse } = n.args;
    const attrs = [attrInt('exclusive', exclusive ? 1 : 0), attrInt('reverse', reverse ? 1 : 0)];
    return em.op('CumSum', [xs[0]!, em.i64Scalar(axis)], attrs);
  },
  cast: ({ em }, n, xs) => {
    const [from, to] = [n.inputs[0]!.type.dtype, n.args.dtype];
    return isFloat(from) && isInt(to) ? floatToInt(em, xs[0]!, from, to) : cast(em, xs[0]!, to);
  },
  topk: ({ em }, n, xs) => {
    const { k, axis, output } = n.args;
    const attrs: Attr[] = [attrInt('axis', axis), attrInt('largest', 1), attrInt('sorted', 1)];
    const [vals, idx] = em.ops('TopK', [xs[0]!, em.i64([k])], attrs, 2) as [string, string];
    return output === 'values' ? vals : cast(em, idx, 'i32');
  },
  barrier: ({ em }, _n, xs) => em.op('Identity', xs),
};
