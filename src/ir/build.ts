// The graph builder API: typed shortcuts over the hash-consing GraphBuilder, for passes
// and tests. Every method infers the result type (an IRError on a malformed op), accepts
// plain numbers where a dim or a scalar is meant, and never makes a no-op node (a reshape
// to the same shape, a cast to the same dtype, an identity permute return their input).
// Nodes get the builder's current provenance (`within`).

import { type Dim, dimConst, dimSym } from './dims.js';
import type { Dtype } from './dtype.js';
import { type Graph, GraphBuilder, type Node, type NodeOf, usedSymbols, liveNodes } from './graph.js';
import { dimsEqual } from './infer.js';
import type { BinaryFn, Init, OpArgs, OpName, UnaryFn } from './ops.js';

export type DimLike = number | string | Dim;
/** A dim from a number (a constant), a string (a symbol) or a dim. */
export const toDim = (d: DimLike): Dim => (typeof d === 'number' ? dimConst(d) : typeof d === 'string' ? dimSym(d) : d);
const dims = (s: readonly DimLike[]): Dim[] => s.map(toDim);

/** A tensor operand, or a number taken as a scalar of the other operand's dtype. */
export type Operand = Node | number;

export class Builder {
  readonly core: GraphBuilder;
  /** Graph inputs made through `input`, in order. */
  readonly inputs: NodeOf<'input'>[] = [];
  private path = '';
  private scope = '';

  constructor(core = new GraphBuilder()) {
    this.core = core;
  }

  /** Creates (or finds) a node with the current provenance. */
  node<K extends OpName>(op: K, args: OpArgs[K], inputs: readonly Node[]): NodeOf<K> {
    return this.core.node(op, args, inputs, this.path, this.scope);
  }

  /** Runs `f` with nodes attributed to `path` and `scope`. */
  within<T>(path: string, scope: string, f: () => T): T {
    const [p, s] = [this.path, this.scope];
    [this.path, this.scope] = [path, scope];
    try {
      return f();
    } finally {
      [this.path, this.scope] = [p, s];
    }
  }

  // ---------- leaves ----------

  input(name: string, dtype: Dtype, shape: readonly DimLike[]): NodeOf<'input'> {
    const n = this.node('input', { name, index: this.inputs.length, dtype, shape: dims(shape) }, []);
    this.inputs.push(n);
    return n;
  }
  param(
    path: string,
    dtype: Dtype,
    shape: readonly DimLike[],
    role: 'param' | 'buffer' = 'param',
    init: Init = { fn: 'normal', args: {} },
  ): NodeOf<'param'> {
    return this.node('param', { path, role, dtype, shape: dims(shape), init }, []);
  }
  full(value: number, dtype: Dtype, shape: readonly DimLike[] = []): Node {
    return this.node('full', { value, dtype, shape: dims(shape) }, []);
  }
  /** A scalar of `like`'s dtype. */
  scalar(value: number, like: Node | Dtype): Node {
    return this.full(value, typeof like === 'string' ? like : like.type.dtype);
  }
  zerosLike(x: Node, dtype: Dtype = x.type.dtype): Node {
    return this.full(0, dtype, x.type.shape);
  }
  dim(value: DimLike, dtype: Dtype): Node {
    return this.node('dim', { value: toDim(value), dtype }, []);
  }
  iota(axis: number, dtype: Dtype, shape: readonly DimLike[]): Node {
    return this.node('iota', { axis, dtype, shape: dims(shape) }, []);
  }
  /** Uniform numbers; `step` (an i64 scalar) selects a new stream per train step. */
  random(seed: number, key: string, shape: readonly DimLike[], step?: Node): Node {
    return this.node('random', { seed, key, shape: dims(shape) }, step ? [step] : []);
  }

  // ---------- elementwise ----------

  unary(fn: UnaryFn, x: Node): Node {
    return this.node('unary', { fn }, [x]);
  }
  neg = (x: Node): Node => this.unary('neg', x);
  exp = (x: Node): Node => this.unary('exp', x);
  log = (x: Node): Node => this.unary('log', x);
  sqrt = (x: Node): Node => this.unary('sqrt', x);
  rsqrt = (x: Node): Node => this.unary('rsqrt', x);
  sin = (x: Node): Node => this.unary('sin', x);
  cos = (x: Node): Node => this.unary('cos', x);
  tanh = (x: Node): Node => this.unary('tanh', x);
  recip = (x: Node): Node => this.unary('recip', x);
  not = (x: Node): Node => this.unary('not', x);

  binary(fn: BinaryFn, a: Operand, b: Operand): Node {
    const [x, y] = this.operands(a, b);
    return this.node('binary', { fn }, [x, y]);
  }
  add = (a: Operand, b: Operand): Node => this.binary('add', a, b);
  sub = (a: Operand, b: Operand): Node => this.binary('sub', a, b);
  mul = (a: Operand, b: Operand): Node => this.binary('mul', a, b);
  div = (a: Operand, b: Operand): Node => this.binary('div', a, b);
  pow = (a: Operand, b: Operand): Node => this.binary('pow', a, b);
  max = (a: Operand, b: Operand): Node => this.binary('max', a, b);
  min = (a: Operand, b: Operand): Node => this.binary('min', a, b);
  eq = (a: Operand, b: Operand): Node => this.binary('eq', a, b);
  ne = (a: Operand, b: Operand): Node => this.binary('ne', a, b);
  lt = (a: Operand, b: Operand): Node => this.binary('lt', a, b);
  le = (a: Operand, b: Operand): Node => this.binary('le', a, b);
  gt = (a: Operand, b: Operand): Node => this.binary('gt', a, b);
  ge = (a: Operand, b: Operand): Node => this.binary('ge', a, b);
  and = (a: Operand, b: Operand): Node => this.binary('and', a, b);
  or = (a: Operand, b: Operand): Node => this.binary('or', a, b);

  where(cond: Node, a: Operand, b: Operand): Node {
    const [x, y] = this.operands(a, b);
    return this.node('where', {}, [cond, x, y]);
  }
  cast(x: Node, dtype: Dtype): Node {
    return x.type.dtype === dtype ? x : this.node('cast', { dtype }, [x]);
  }

  // ---------- reductions and contractions ----------

  sum(x: Node, axes: readonly number[], keepdim = false): Node {
    return axes.length === 0
      ? x
      : this.node('reduce', { fn: 'sum', axes: [...axes].sort((a, b) => a - b), keepdim }, [x]);
  }
  amax(x: Node, axes: readonly number[], keepdim = false): Node {
    return axes.length === 0
      ? x
      : this.node('reduce', { fn: 'max', axes: [...axes].sort((a, b) => a - b), keepdim }, [x]);
  }
  einsum(spec: string, ...xs: Node[]): Node {
    return this.node('einsum', { spec }, xs);
  }
  topk(x: Node, k: number, axis: number, output: 'values' | 'indices'): Node {
    return this.node('topk', { k, axis, output }, [x]);
  }
  /** Prefix sum along `axis` (see OpArgs['cumsum']). */
  cumsum(x: Node, axis: number, exclusive = false, reverse = false): Node {
    return this.node('cumsum', { axis, exclusive, reverse }, [x]);
  }

  // ---------- movement ----------

  reshape(x: Node, shape: readonly DimLike[]): Node {
    const s = dims(shape);
    return dimsEqual(s, x.type.shape) ? x : this.node('reshape', { shape: s }, [x]);
  }
  permute(x: Node, axes: readonly number[]): Node {
    return axes.every((a, i) => a === i) ? x : this.node('permute', { axes }, [x]);
  }
  expand(x: Node, shape: readonly DimLike[]): Node {
    const s = dims(shape);
    return dimsEqual(s, x.type.shape) ? x : this.node('expand', { shape: s }, [x]);
  }
  pad(x: Node, pads: readonly (readonly [DimLike, DimLike])[], value = 0): Node {
    const p = pads.map(([lo, hi]) => [toDim(lo), toDim(hi)] as const);
    return this.node('pad', { pads: p, value }, [x]);
  }
  slice(x: Node, starts: readonly DimLike[], sizes: readonly DimLike[], steps?: readonly number[]): Node {
    const st = steps ?? starts.map(() => 1);
    return this.node('slice', { starts: dims(starts), sizes: dims(sizes), steps: st }, [x]);
  }
  window(
    x: Node,
    axes: readonly number[],
    size: readonly number[],
    stride: readonly number[],
    dilation: readonly number[],
  ): Node {
    return this.node('window', { axes, size, stride, dilation }, [x]);
  }
  concat(xs: readonly Node[], axis: number): Node {
    return xs.length === 1 ? xs[0]! : this.node('concat', { axis }, xs);
  }
  gather(x: Node, idx: Node, axis: number): Node {
    return this.node('gather', { axis }, [x, idx]);
  }
  scatterAdd(x: Node, idx: Node, src: Node, axis: number): Node {
    return this.node('scatter_add', { axis }, [x, idx, src]);
  }
  /** An identity that hash-consing never merges with a node of another `key` (recomputation). */
  barrier(x: Node, key: string): Node {
    return this.node('barrier', { key }, [x]);
  }

  // ---------- graphs ----------

  /** Closes a graph over the builder's inputs; its dims are the symbols its live nodes use. */
  graph(
    name: string,
    outputs: Readonly<Record<string, Node>> | readonly { readonly name: string; readonly node: Node }[],
    updates: readonly { readonly path: string; readonly node: Node }[] = [],
    inputs: readonly NodeOf<'input'>[] = this.inputs,
  ): Graph {
    const outs = Array.isArray(outputs)
      ? [...(outputs as readonly { name: string; node: Node }[])]
      : Object.entries(outputs as Record<string, Node>).map(([n, node]) => ({ name: n, node }));
    const g = { name, dims: [] as string[], inputs, outputs: outs, updates };
    return { ...g, dims: usedSymbols(liveNodes(g)) };
  }

  private operands(a: Operand, b: Operand): [Node, Node] {
    if (typeof a === 'number' && typeof b === 'number') throw new Error('builder: two numbers as operands');
    const x = typeof a === 'number' ? this.scalar(a, b as Node) : a;
    const y = typeof b === 'number' ? this.scalar(b, x) : b;
    return [x, y];
  }
}
