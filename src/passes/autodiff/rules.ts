// One reverse-mode rule per primitive, in one table keyed by every op: a new primitive
// does not compile until it has a gradient rule. A rule gets the node, the cotangent `g`
// of its result and the values it may read (`x(i)`, `y()`: recomputed ones inside a
// `@checkpoint` block), and returns one cotangent per input, undefined where an input
// gets none (integers, bools, conditions, indices).

import type { Builder } from '../../ir/build.js';
import { dimAdd, dimConst, dimSub } from '../../ir/dims.js';
import { isFloat } from '../../ir/dtype.js';
import type { Node, NodeOf } from '../../ir/graph.js';
import { parseEinsum } from '../../ir/infer.js';
import type { BinaryFn, OpName, UnaryFn } from '../../ir/ops.js';
import { lenNode, sliceAdjoint, topkAdjoint, unbroadcast, windowAdjoint } from './adjoints.js';
import { transposedConv } from './conv-adjoint.js';

export interface RuleCtx {
  readonly b: Builder;
  /** The value of input i (recomputed inside a checkpointed block). */
  x(i: number): Node;
  /** The node's own value (recomputed inside a checkpointed block). */
  y(): Node;
}

type Cotangents = readonly (Node | undefined)[];
export type GradRule<K extends OpName> = (n: NodeOf<K>, g: Node, c: RuleCtx) => Cotangents;

const leaf = (): Cotangents => [];

/** d(fn x)/dx times g, from x and y = fn(x); undefined: no gradient (not, floor). */
const UNARY: Readonly<Record<UnaryFn, (b: Builder, g: Node, x: () => Node, y: () => Node) => Node | undefined>> = {
  neg: (b, g) => b.neg(g),
  exp: (b, g, _x, y) => b.mul(g, y()),
  log: (b, g, x) => b.div(g, x()),
  sqrt: (b, g, _x, y) => b.div(b.mul(g, 0.5), y()),
  rsqrt: (b, g, _x, y) => b.mul(g, b.mul(b.mul(b.mul(y(), y()), y()), -0.5)),
  sin: (b, g, x) => b.mul(g, b.cos(x())),
  cos: (b, g, x) => b.neg(b.mul(g, b.sin(x()))),
  tanh: (b, g, _x, y) => b.mul(g, b.sub(1, b.mul(y(), y()))),
  erf: (b, g, x) => b.mul(g, mulConst(b, b.exp(b.neg(b.mul(x(), x()))), 2 / Math.sqrt(Math.PI))),
  abs: (b, g, x) => b.where(b.gt(x(), 0), g, b.where(b.lt(x(), 0), b.neg(g), 0)),
  recip: (b, g, _x, y) => b.neg(b.mul(g, b.mul(y(), y()))),
  floor: () => undefined,
  not: () => undefined,
};

/**
 * x · c for a constant that f32 cannot hold: c as the pair hi + lo of f32 constants. A `full`
 * is rounded to its dtype (the interpreter rounds too), so a plain 2/√π would make even the
 * float64 oracle's gradient of erf 5e-8 off (hi + lo holds c to 1e-15).
 */
function mulConst(b: Builder, x: Node, c: number): Node {
  const hi = Math.fround(c);
  return b.add(b.mul(x, hi), b.mul(x, c - hi));
}

type Pair = readonly [Node | undefined, Node | undefined];
/** The cotangents of a binary op's two operands, at the broadcast shape. */
const BINARY: Readonly<Record<BinaryFn, (b: Builder, g: Node, a: Node, c: Node, y: () => Node) => Pair>> = {
  add: (_b, g) => [g, g],
  sub: (b, g) => [g, b.neg(g)],
  mul: (b, g, a, c) => [b.mul(g, c), b.mul(g, a)],
  div: (b, g, a, c) => [b.div(g, c), b.neg(b.div(b.mul(g, a), b.mul(c, c)))],
  // fmod: a - trunc(a / c) * c, and trunc(a / c) = (a - y) / c.
  mod: (b, g, a, c, y) => [g, b.neg(b.mul(g, b.div(b.sub(a, y()), c)))],
  // PyTorch's conventions: no gradient through a zero exponent, nor into the exponent at a = 0.
  pow: (b, g, a, c, y) => [
    b.where(b.eq(c, 0), 0, b.mul(g, b.mul(c, b.pow(a, b.sub(c, 1))))),
    b.where(b.and(b.eq(a, 0), b.ge(c, 0)), 0, b.mul(g, b.mul(y(), b.log(a)))),
  ],
  // Ties split the gradient evenly.
  max: (b, g, a, c) => split(b, g, b.gt(a, c), b.eq(a, c), b.ge(a, c)),
  min: (b, g, a, c) => split(b, g, b.lt(a, c), b.eq(a, c), b.le(a, c)),
  eq: none,
  ne: none,
  lt: none,
  le: none,
  gt: none,
  ge: none,
  and: none,
  or: none,
};
function none(): Pair {
  return [undefined, undefined];
}
/**
 * `first`: a wins, `tie`: they are equal, `atLeast`: either (with a NaN: neither, and c takes
 * g). Each side reads g once (g scaled by 1 or ½, else 0), so that g, a relu's incoming
 * gradient, fuses into the one kernel that reads it instead of getting a buffer.
 */
function split(b: Builder, g: Node, first: Node, tie: Node, atLeast: Node): Pair {
  const [one, half] = [b.scalar(1, g), b.scalar(0.5, g)];
  return [
    b.where(atLeast, b.mul(g, b.where(first, one, half)), 0),
    b.where(first, 0, b.mul(g, b.where(tie, half, one))),
  ];
}

/** The node under a chain of reshapes. */
function viewed(n: Node): Node {
  let e = n;
  while (e.op === 'reshape') e = e.inputs[0]!;
  return e;
}

/** The cotangent of an einsum operand: a contraction of g with the other operand. */
function einsumOperand(b: Builder, n: NodeOf<'einsum'>, g: Node, xs: readonly Node[], k: number): Node {
  const { ins, out } = parseEinsum(n.args.spec, xs.length);
  const mine = ins[k]!;
  const other = ins.length === 2 ? ins[1 - k]! : '';
  // Letters only this operand has were summed away: the gradient is broadcast over them.
  const kept = [...mine].filter((c) => out.includes(c) || other.includes(c)).join('');
  // A convolution's weight gradient (the other operand a window: im2col) reads the window
  // first, so that the GEMM's rows are the kernel's in_ch·K² letters (hundreds) and its
  // columns the output channels: with g first its rows would be the output channels alone
  // (32: a quarter of the register tiles padding, and two threads splitting three blocks).
  const im2col = ins.length === 2 && viewed(xs[1 - k]!).op === 'window';
  const spec = ins.length !== 2 ? `${out}->${kept}` : im2col ? `${other},${out}->${kept}` : `${out},${other}->${kept}`;
  const operands = ins.length !== 2 ? [g] : im2col ? [xs[1 - k]!, g] : [g, xs[1 - k]!];
  const part = spec === `${out}->${out}` ? g : b.einsum(spec, ...operands);
  if (kept === mine) return part;
  const x = xs[k]!.type.shape;
  const withOnes = [...mine].map((c, i) => (kept.includes(c) ? x[i]! : dimConst(1)));
  return b.expand(b.reshape(part, withOnes), x);
}

export const GRAD_RULES: { readonly [K in OpName]: GradRule<K> } = {
  input: leaf,
  param: leaf,
  full: leaf,
  dim: leaf,
  iota: leaf,
  random: leaf,
  unary: (n, g, c) => [
    UNARY[n.args.fn](
      c.b,
      g,
      () => c.x(0),
      () => c.y(),
    ),
  ],
  binary: (n, g, c) => {
    const [a, d] = [c.x(0), c.x(1)];
    const [ga, gd] = BINARY[n.args.fn](c.b, g, a, d, () => c.y());
    return [ga && unbroadcast(c.b, ga, a.type.shape), gd && unbroadcast(c.b, gd, d.type.shape)];
  },
  where: (n, g, c) => {
    const [cond, a, d] = [c.x(0), c.x(1), c.x(2)];
    const ga = c.b.where(cond, g, 0);
    const gd = c.b.where(cond, 0, g);
    return [undefined, unbroadcast(c.b, ga, a.type.shape), unbroadcast(c.b, gd, d.type.shape)];
  },
  reduce: (n, g, c) => {
    const b = c.b;
    const x = c.x(0);
    const { axes, keepdim, fn } = n.args;
    const kept = x.type.shape.map((d, i) => (axes.includes(i) ? dimConst(1) : d));
    const gk = keepdim ? g : b.reshape(g, kept);
    if (fn === 'sum') return [b.expand(gk, x.type.shape)];
    // max: the gradient is shared evenly by the tied maxima, counted in f32.
    const yk = keepdim ? c.y() : b.reshape(c.y(), kept);
    const hit = b.eq(x, b.expand(yk, x.type.shape));
    const count = b.sum(b.cast(hit, 'f32'), axes, true);
    const share = b.cast(b.div(b.cast(gk, 'f32'), count), g.type.dtype);
    return [b.where(hit, b.expand(share, x.type.shape), 0)];
  },
  reshape: (n, g, c) => [c.b.reshape(g, n.inputs[0]!.type.shape)],
  permute: (n, g, c) => [
    c.b.permute(
      g,
      n.args.axes.map((_, i) => n.args.axes.indexOf(i)),
    ),
  ],
  expand: (n, g, c) => [unbroadcast(c.b, g, n.inputs[0]!.type.shape)],
  pad: (n, g, c) => [
    c.b.pad(
      g,
      n.args.pads.map(([lo, hi]) => [dimSub(dimConst(0), lo), dimSub(dimConst(0), hi)]),
      0,
    ),
  ],
  slice: (n, g, c) => [sliceAdjoint(c.b, n, g)],
  window: (n, g, c) => [transposedConv(c.b, n, g) ?? windowAdjoint(c.b, n, g)],
  concat: (n, g, c) => {
    const { axis } = n.args;
    let at = dimConst(0);
    return n.inputs.map((x) => {
      const starts = x.type.shape.map((_, i) => (i === axis ? at : dimConst(0)));
      at = dimAdd(at, x.type.shape[axis]!);
      return c.b.slice(g, starts, x.type.shape);
    });
  },
  einsum: (n, g, c) => {
    const xs = n.inputs.map((_, i) => c.x(i));
    return xs.map((_, k) => einsumOperand(c.b, n, g, xs, k));
  },
  gather: (n, g, c) => {
    // gather clamps its indices: the adjoint adds at the clamped positions.
    const b = c.b;
    const [x, idx] = [c.x(0), c.x(1)];
    const last = lenNode(b, dimSub(x.type.shape[n.args.axis]!, dimConst(1)), idx.type.dtype);
    const clamped = b.max(b.min(idx, last), 0);
    return [b.scatterAdd(b.zerosLike(x), clamped, g, n.args.axis), undefined];
  },
  scatter_add: (n, g, c) => {
    // scatter_add drops out-of-range indices: their sources get no gradient.
    const b = c.b;
    const [x, idx] = [c.x(0), c.x(1)];
    const { axis } = n.args;
    const len = lenNode(b, x.type.shape[axis]!, idx.type.dtype);
    const inRange = b.and(b.ge(idx, 0), b.lt(idx, len));
    const r = x.type.shape.length;
    const maskShape = [...Array<number>(axis).fill(1), ...idx.type.shape, ...Array<number>(r - axis - 1).fill(1)];
    return [g, undefined, b.where(b.reshape(inRange, maskShape), b.gather(g, idx, axis), 0)];
  },
  // out = L x with L triangular: the cotangent is Lᵀ g, the prefix sum in the other direction.
  cumsum: (n, g, c) => [c.b.cumsum(g, n.args.axis, n.args.exclusive, !n.args.reverse)],
  cast: (n, g, c) => {
    const from = n.inputs[0]!.type.dtype;
    return [isFloat(from) && isFloat(n.args.dtype) ? c.b.cast(g, from) : undefined];
  },
  topk: (n, g, c) => [n.args.output === 'values' ? topkAdjoint(c.b, n, c.x(0), g) : undefined],
  barrier: (_n, g) => [g],
};
