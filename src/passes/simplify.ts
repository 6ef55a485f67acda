// Algebraic simplification: identities that hold bit for bit (so every target computes the
// same numbers with or without the pass), applied bottom-up by the rewriter, whose
// hash-consing also merges what the rules make equal (CSE). Autodiff's output is full of
// them: reshapes of reshapes, products with one, expands of expands.

import type { Builder } from '../ir/build.js';
import { dimConst, dimConstValue } from '../ir/dims.js';
import type { Node } from '../ir/graph.js';
import { dimsEqual } from '../ir/infer.js';
import { rewrite } from '../ir/rewrite.js';
import type { Pass } from './pass.js';

const isFull = (n: Node, v: number): boolean => n.op === 'full' && Object.is(n.args.value, v);

/** `x * 1` and `1 * x` where the product has x's shape: x (exact in IEEE, NaN and -0 included). */
function timesOne(n: Node, [a, c]: readonly Node[]): Node | undefined {
  if (isFull(c!, 1) && dimsEqual(a!.type.shape, n.type.shape)) return a;
  if (isFull(a!, 1) && dimsEqual(c!.type.shape, n.type.shape)) return c;
  return undefined;
}

/**
 * A crop of a zero-free pad, pad(pad(x, a), b) with every a ≥ 0 and b ≤ 0 (constants) and
 * a + b ≥ 0: pad(x, a + b), or x where a + b is 0 (the transposed convolution's interior
 * padded back out, then cropped by the convolution's own pad adjoint).
 */
function cropOfPad(n: Node & { op: 'pad' }, x: Node, b: Builder): Node | undefined {
  if (x.op !== 'pad') return undefined;
  const sum: [number, number][] = [];
  for (const [i, side] of n.args.pads.entries()) {
    const [a0, a1] = x.args.pads[i]!.map(dimConstValue);
    const [b0, b1] = side.map(dimConstValue);
    if (a0 === undefined || a1 === undefined || b0 === undefined || b1 === undefined) return undefined;
    if (a0 < 0 || a1 < 0 || b0 > 0 || b1 > 0 || a0 + b0 < 0 || a1 + b1 < 0) return undefined;
    sum.push([a0 + b0, a1 + b1]);
  }
  if (sum.every(([lo, hi]) => lo === 0 && hi === 0)) return x.inputs[0]!;
  return b.pad(
    x.inputs[0]!,
    sum.map(([lo, hi]) => [dimConst(lo), dimConst(hi)]),
    x.args.value,
  );
}

export const simplify: Pass = {
  name: 'simplify',
  run: (g) =>
    rewrite(g, {
      // A constant reshaped or broadcast is the constant at the new shape.
      reshape: (n, [x], b) =>
        x!.op === 'full'
          ? b.full(x!.args.value, x!.type.dtype, n.args.shape)
          : b.reshape(x!.op === 'reshape' ? x!.inputs[0]! : x!, n.args.shape),
      permute: (n, [x], b) =>
        x!.op === 'permute'
          ? b.permute(
              x!.inputs[0]!,
              n.args.axes.map((a) => (x as Node & { op: 'permute' }).args.axes[a]!),
            )
          : b.permute(x!, n.args.axes),
      expand: (n, [x], b) =>
        x!.op === 'full'
          ? b.full(x!.args.value, x!.type.dtype, n.args.shape)
          : b.expand(x!.op === 'expand' ? x!.inputs[0]! : x!, n.args.shape),
      unary: (n, [x]) => (n.args.fn === 'neg' && x!.op === 'unary' && x!.args.fn === 'neg' ? x!.inputs[0] : undefined),
      binary: (n, ins) => (n.args.fn === 'mul' ? timesOne(n, ins) : undefined),
      where: (n, [, a, c]) => (a === c && dimsEqual(a!.type.shape, n.type.shape) ? a : undefined),
      pad: (n, [x], b) => cropOfPad(n, x!, b),
      // A sum over axes that all have size 1 moves no data: a reshape.
      reduce: (n, [x], b: Builder) =>
        n.args.fn === 'sum' && n.args.axes.every((a) => dimConstValue(x!.type.shape[a]!) === 1)
          ? b.reshape(x!, n.type.shape)
          : undefined,
    }).graph,
};
