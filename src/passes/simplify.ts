// Algebraic simplification: identities that hold bit for bit (so every target computes the
// same numbers with or without the pass), applied bottom-up by the rewriter, whose
// hash-consing also merges what the rules make equal (CSE). Autodiff's output is full of
// them: reshapes of reshapes, products with one, expands of expands.

import type { Builder } from '../ir/build.js';
import { dimConstValue } from '../ir/dims.js';
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
      // A sum over axes that all have size 1 moves no data: a reshape.
      reduce: (n, [x], b: Builder) =>
        n.args.fn === 'sum' && n.args.axes.every((a) => dimConstValue(x!.type.shape[a]!) === 1)
          ? b.reshape(x!, n.type.shape)
          : undefined,
    }).graph,
};
