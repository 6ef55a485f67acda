// The reference interpreter of the graph IR: evaluates a graph on host tensors, computing in
// float64. It is the oracle the compiled kernels are tested against, so it is written to be
// obviously correct rather than fast. Semantics per op are in ops.ts and docs/language.md; the
// interpreter's own choices:
// - precision (EvalOptions.precision): 'dtype', the default, rounds every float result to its
//   dtype (each unary, binary, reduce, einsum and cumsum node's output; each add of a
//   scatter_add) as the targets store it, so overflow gives ±Inf where C and ONNX Runtime do:
//   this is the oracle role (C, ONNX Runtime, `fmc run --target reference`). Sums inside one
//   node are still accumulated in float64 and rounded once, except cumsum's running sums,
//   which are each rounded to f32 as the targets accumulate them. 'float64' rounds nothing but `cast`: the
//   high-precision mode for finite-difference gradient checks and the float64 PyTorch oracles
//   (test/passes, test/oracle), where rounding to f32 would swamp the differences measured;
// - constants (`full`, `iota`, the `pad` value) are stored in their dtype;
// - integer results wrap to their width (two's complement), integer `/` and `%` by zero give 0;
//   i64 is computed exactly in bigint (HostTensor.exact) and wraps at 2^63 as C does;
// - `random` is uniformStream(seed, key, step): the same numbers at every call of one step.

import type { DimRequire } from './module.js';
import {
  type Dim,
  dimConst,
  dimConstFrac,
  dimConstValue,
  dimSolveLinear,
  dimSubst,
  dimSymbols,
  dimToString,
} from './dims.js';
import { isFloat } from './dtype.js';
import { type Graph, IRError, type Node, type TType, liveNodes } from './graph.js';
import * as K from './interp-ops.js';
import { EvalError } from './interp-ops.js';
import { einsum } from './interp-einsum.js';
import { uniformStream } from './philox.js';
import { type HostTensor, i64Of, i64Tensor, roundTo, shapeSize, showDims } from './value.js';

export { EvalError } from './interp-ops.js';

/** What a graph is evaluated with: inputs by name, params and buffers by path, dim values by symbol. */
export interface Bindings {
  inputs: ReadonlyMap<string, HostTensor>;
  params: ReadonlyMap<string, HostTensor>;
  dims: ReadonlyMap<string, number>;
}

/**
 * How float results are computed: 'dtype' rounds each node's float result to its dtype (the
 * oracle for the targets); 'float64' keeps them unrounded (gradient checks, float64 oracles).
 */
export type Precision = 'dtype' | 'float64';

export interface EvalOptions {
  /** Default 'dtype'. */
  readonly precision?: Precision;
  /** Called before each live node is evaluated (progress). */
  readonly onNode?: (done: number, total: number, n: Node) => void;
}

/** Ops whose float results are new values (others move, select or already round theirs). */
const COMPUTING_OPS: ReadonlySet<Node['op']> = new Set(['unary', 'binary', 'reduce', 'einsum', 'cumsum']);

/** Rounds a freshly computed float result to its dtype in place. */
function roundInPlace(t: HostTensor): HostTensor {
  const d = t.data;
  if (t.dtype === 'f32') for (let i = 0; i < d.length; i++) d[i] = Math.fround(d[i]!);
  else for (let i = 0; i < d.length; i++) d[i] = roundTo(t.dtype, d[i]!);
  return t;
}

const bindingText = (syms: readonly string[], dims: ReadonlyMap<string, number>): string =>
  syms.map((s) => `${s} = ${dims.get(s)}`).join(', ');

/**
 * The run-time checks of `require`s over dims the inputs bind (Module.requires): an EvalError
 * with the first failing one's message and the dims, as the C plan reports its checks.
 */
export function checkRequires(requires: readonly DimRequire[] | undefined, dims: ReadonlyMap<string, number>): void {
  for (const r of requires ?? [])
    if (concreteInt(r.value, dims) < 0)
      throw new EvalError(`${r.what} with ${[...dims].map(([k, v]) => `${k} = ${v}`).join(', ')}`);
}

/** The integer value of a dim under `dims` (may be negative: pad widths); EvalError if unbound or fractional. */
export function concreteInt(d: Dim, dims: ReadonlyMap<string, number>): number {
  const syms = dimSymbols(d);
  const env = new Map<string, Dim>();
  for (const s of syms) {
    const v = dims.get(s);
    if (v === undefined) throw new EvalError(`dim '${s}' is not bound (in ${dimToString(d)})`);
    if (!Number.isSafeInteger(v)) throw new EvalError(`dim '${s}' = ${v} is not an integer`);
    env.set(s, dimConst(v));
  }
  let v: number | undefined;
  try {
    v = dimConstValue(dimSubst(d, env));
  } catch (e) {
    if (e instanceof RangeError) throw new EvalError(`${dimToString(d)} with ${bindingText(syms, dims)}: ${e.message}`);
    throw e;
  }
  if (v === undefined || !Number.isInteger(v)) {
    const at = `${dimToString(d)}${syms.length > 0 ? ` with ${bindingText(syms, dims)}` : ''}`;
    const c = dimConstFrac(dimSubst(d, env));
    if (c && c.den === 1n)
      throw new EvalError(`${at} is ${c.num}, beyond 2^53 - 1 (the largest size the runtime holds exactly)`);
    throw new EvalError(`${at} is not an integer`);
  }
  return v;
}

/** Concrete dims of a symbolic shape; EvalError if a symbol is unbound or a dim is not a non-negative integer. */
export function concreteShape(shape: readonly Dim[], dims: ReadonlyMap<string, number>): number[] {
  return shape.map((d) => {
    const v = concreteInt(d, dims);
    if (v < 0) throw new EvalError(`dim ${dimToString(d)} is ${v} with ${bindingText(dimSymbols(d), dims)}`);
    return v;
  });
}

/**
 * Binds a graph's symbolic dims from concrete input shapes, merged with `given` (given wins).
 * An input dim with one unbound symbol in a linear form (`T`, `2*T`, `T + 1`) binds it;
 * this repeats until nothing changes. Then every input dim is checked: an unsolvable one is an
 * EvalError naming the dim, a contradiction one naming the input, the axis and both values.
 */
export function bindDims(
  g: { readonly inputs: readonly { readonly args: { readonly name: string; readonly shape: readonly Dim[] } }[] },
  inputShapes: ReadonlyMap<string, readonly number[]>,
  given?: ReadonlyMap<string, number>,
): Map<string, number> {
  const out = new Map(given ?? []);
  for (const [s, v] of out)
    if (!Number.isSafeInteger(v) || v < 0) throw new EvalError(`dim '${s}' = ${v} is not a non-negative integer`);
  const axes: { input: string; axis: number; dim: Dim; size: number }[] = [];
  for (const n of g.inputs) {
    const { name, shape } = n.args;
    const actual = inputShapes.get(name);
    if (!actual) continue;
    if (actual.length !== shape.length)
      throw new EvalError(
        `input '${name}' has rank ${actual.length}, expected ${shape.length} ([${shape.map(dimToString).join(', ')}])`,
      );
    shape.forEach((dim, axis) => axes.push({ input: name, axis, dim, size: actual[axis]! }));
  }
  const free = (d: Dim): string[] => dimSymbols(d).filter((s) => !out.has(s));
  for (let progress = true; progress;) {
    progress = false;
    for (const a of axes) {
      const [sym, ...more] = free(a.dim);
      if (sym === undefined || more.length > 0) continue;
      const known = new Map([...out].map(([s, v]) => [s, dimConst(v)]));
      const sol = dimSolveLinear(dimSubst(a.dim, known), dimConst(a.size), sym);
      const v = sol && dimConstValue(sol);
      if (v === undefined || !Number.isSafeInteger(v) || v < 0) continue;
      out.set(sym, v);
      progress = true;
    }
  }
  for (const a of axes) {
    const where = `input '${a.input}' axis ${a.axis}`;
    const unbound = free(a.dim);
    if (unbound.length > 0)
      throw new EvalError(
        `cannot bind dim ${unbound.map((s) => `'${s}'`).join(', ')} from ${where}: ` +
          `${dimToString(a.dim)} = ${a.size} has no single non-negative integer solution`,
      );
    const v = concreteInt(a.dim, out);
    const expected = dimSymbols(a.dim).length > 0 ? `${dimToString(a.dim)} = ${v}` : `${v}`;
    if (v !== a.size) throw new EvalError(`${where}: expected ${expected}, got ${a.size}`);
  }
  return out;
}

/** Checks that a given tensor has the declared dtype and shape (and integer/bool values in range). */
function checkTensor(what: string, t: HostTensor, type: TType, dims: ReadonlyMap<string, number>): HostTensor {
  const shape = concreteShape(type.shape, dims);
  if (t.dtype !== type.dtype) throw new EvalError(`${what} has dtype ${t.dtype}, expected ${type.dtype}`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    throw new EvalError(`${what} has shape ${showDims(t.shape)}, expected ${showDims(shape)}`);
  if (t.data.length !== shapeSize(shape))
    throw new EvalError(`${what} has ${t.data.length} elements for shape ${showDims(shape)}`);
  if (!isFloat(t.dtype) && t.data.some((v) => !Object.is(roundTo(t.dtype, v), v + 0)))
    throw new EvalError(`${what} holds a value that is not a ${t.dtype}`);
  if (t.exact && t.exact.length !== t.data.length)
    throw new EvalError(`${what} has ${t.exact.length} exact i64 values for ${t.data.length} elements`);
  return t;
}

/**
 * Evaluates one non-leaf node (anything but `input` and `param`) on its input values; with
 * precision 'dtype' (the default) a float result is rounded to its dtype.
 */
export function evalNode(
  n: Node,
  args: readonly HostTensor[],
  dims: ReadonlyMap<string, number>,
  precision: Precision = 'dtype',
): HostTensor {
  const v = evalRaw(n, args, dims, precision);
  return precision === 'dtype' && isFloat(v.dtype) && COMPUTING_OPS.has(n.op) ? roundInPlace(v) : v;
}

function evalRaw(
  n: Node,
  args: readonly HostTensor[],
  dims: ReadonlyMap<string, number>,
  precision: Precision,
): HostTensor {
  const shape = concreteShape(n.type.shape, dims);
  const x = args[0]!;
  const int = (d: Dim): number => concreteInt(d, dims);
  switch (n.op) {
    case 'input':
    case 'param':
      throw new IRError(`${n.op} %${n.id} is bound by evaluate, not evaluated`);
    case 'full':
      return {
        dtype: n.type.dtype,
        shape,
        data: new Float64Array(shapeSize(shape)).fill(roundTo(n.type.dtype, n.args.value)),
      };
    case 'dim':
      return { dtype: n.type.dtype, shape, data: Float64Array.of(roundTo(n.type.dtype, int(n.args.value))) };
    case 'iota': {
      const { axis, dtype } = n.args;
      const data = new Float64Array(shapeSize(shape));
      K.forEachIndex(shape, (idx, flat) => (data[flat] = roundTo(dtype, idx[axis]!)));
      return { dtype, shape, data };
    }
    case 'random':
      return { dtype: 'f32', shape, data: uniformStream(n.args.seed, n.args.key, shapeSize(shape), x?.data[0] ?? 0) };
    case 'unary':
      return K.unary(n.args.fn, x);
    case 'binary':
      return K.binary(n.args.fn, x, args[1]!, shape);
    case 'where':
      return K.where(x, args[1]!, args[2]!, shape);
    case 'reduce':
      return K.reduce(x, n.args.fn, n.args.axes, n.args.keepdim, shape);
    case 'reshape':
      return x.dtype === 'i64' ? i64Tensor(shape, i64Of(x).slice()) : { dtype: x.dtype, shape, data: x.data.slice() };
    case 'permute': {
      // Output axis j is input axis axes[j].
      const st = K.strides(x.shape);
      return K.remapAffine(
        x,
        shape,
        0,
        n.args.axes.map((a) => st[a]!),
      );
    }
    case 'expand': {
      const st = K.strides(x.shape);
      const off = shape.length - x.shape.length;
      return K.remapAffine(
        x,
        shape,
        0,
        shape.map((_, j) => (j < off || x.shape[j - off] === 1 ? 0 : st[j - off]!)),
      );
    }
    case 'pad': {
      const lo = n.args.pads.map(([l]) => int(l));
      const fill = roundTo(x.dtype, n.args.value);
      const at = (o: readonly number[]) => o.map((v, k) => v - lo[k]!);
      return K.remap(x, shape, (o) => (at(o).every((v, k) => v >= 0 && v < x.shape[k]!) ? at(o) : undefined), fill);
    }
    case 'slice': {
      const starts = n.args.starts.map(int);
      const { steps } = n.args;
      shape.forEach((size, k) => {
        const last = starts[k]! + (size - 1) * steps[k]!;
        if (size > 0 && (starts[k]! < 0 || last >= x.shape[k]!))
          throw new EvalError(`slice reads index ${starts[k]}..${last} of an axis of ${x.shape[k]}`);
      });
      const st = K.strides(x.shape);
      return K.remapAffine(
        x,
        shape,
        starts.reduce((p, s0, k) => p + s0 * st[k]!, 0),
        steps.map((s1, k) => s1 * st[k]!),
      );
    }
    case 'window': {
      // Input axis i is output axis i (times the stride on a window axis); a window axis m's
      // offset is output axis r + m (times the dilation).
      const { axes, stride, dilation } = n.args;
      const st = K.strides(x.shape);
      const r = x.shape.length;
      const step = shape.map((_, j) => {
        if (j >= r) return dilation[j - r]! * st[axes[j - r]!]!;
        const m = axes.indexOf(j);
        return (m < 0 ? 1 : stride[m]!) * st[j]!;
      });
      return K.remapAffine(x, shape, 0, step);
    }
    case 'concat':
      return K.concat(args, n.args.axis, shape);
    case 'einsum':
      return einsum(n.args.spec, args, shape);
    case 'gather':
      return K.gather(x, args[1]!, n.args.axis, shape);
    case 'scatter_add':
      return K.scatterAdd(x, args[1]!, args[2]!, n.args.axis, precision === 'dtype');
    case 'cumsum':
      return K.cumsum(x, n.args.axis, n.args.exclusive, n.args.reverse, precision === 'dtype');
    case 'cast':
      return K.cast(x, n.args.dtype);
    case 'topk':
      return K.topk(x, n.args.k, n.args.axis, n.args.output, shape);
    case 'barrier':
      return x;
  }
}

/**
 * Evaluates a graph's live nodes (each once). Dims are bound from the input shapes merged with
 * `b.dims` (see bindDims); a missing input or param, a dtype or shape mismatch or an unbound
 * dim is an EvalError. Float results are rounded to their dtype unless `opts.precision` is
 * 'float64' (see the header). Returns the outputs by name and the buffer updates by path.
 */
export function evaluate(
  g: Graph,
  b: Bindings,
  opts: EvalOptions = {},
): { outputs: Map<string, HostTensor>; updates: Map<string, HostTensor> } {
  const { precision = 'dtype', onNode } = opts;
  for (const n of g.inputs) if (!b.inputs.has(n.args.name)) throw new EvalError(`missing input '${n.args.name}'`);
  const dims = bindDims(g, new Map(g.inputs.map((n) => [n.args.name, b.inputs.get(n.args.name)!.shape])), b.dims);
  const values = new Map<Node, HostTensor>();
  const live = liveNodes(g);
  for (const n of live) {
    onNode?.(values.size, live.length, n);
    let v: HostTensor;
    if (n.op === 'input') v = checkTensor(`input '${n.args.name}'`, b.inputs.get(n.args.name)!, n.type, dims);
    else if (n.op === 'param') {
      const t = b.params.get(n.args.path);
      if (!t) throw new EvalError(`missing ${n.args.role} '${n.args.path}'`);
      v = checkTensor(`${n.args.role} '${n.args.path}'`, t, n.type, dims);
    } else
      v = evalNode(
        n,
        n.inputs.map((i) => values.get(i)!),
        dims,
        precision,
      );
    values.set(n, v);
  }
  return {
    outputs: new Map(g.outputs.map((o) => [o.name, values.get(o.node)!])),
    updates: new Map(g.updates.map((u) => [u.path, values.get(u.node)!])),
  };
}
