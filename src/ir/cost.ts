// Static costs of graph nodes for `fmc inspect`: FLOPs and the bytes of the tensor each
// node produces, at concrete dims.

import { dtypeBytes } from './dtype.js';
import type { Node } from './graph.js';
import { parseEinsum } from './infer.js';
import { concreteShape } from './interp.js';

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Floating-point (or integer) operations a node performs; views and leaves cost 0. */
export function nodeFlops(n: Node, dims: ReadonlyMap<string, number>): number {
  const out = size(concreteShape(n.type.shape, dims));
  switch (n.op) {
    case 'unary':
    case 'binary':
    case 'where':
    case 'cast':
      return out;
    case 'reduce':
    case 'topk':
      return size(concreteShape(n.inputs[0]!.type.shape, dims));
    case 'scatter_add':
      return size(concreteShape(n.inputs[2]!.type.shape, dims));
    case 'einsum': {
      // One multiply and one add per point of the full index space.
      const { ins } = parseEinsum(n.args.spec, n.inputs.length);
      const sizes = new Map<string, number>();
      n.inputs.forEach((x, k) => {
        const s = concreteShape(x.type.shape, dims);
        [...ins[k]!].forEach((c, i) => sizes.set(c, s[i]!));
      });
      const points = [...sizes.values()].reduce((a, b) => a * b, 1);
      return n.inputs.length === 2 ? 2 * points : points;
    }
    default:
      return 0;
  }
}

/** Bytes of the tensor a node produces (0 for params and inputs, which are not activations). */
export function activationBytes(n: Node, dims: ReadonlyMap<string, number>): number {
  if (n.op === 'param' || n.op === 'input') return 0;
  return dtypeBytes(n.type.dtype, size(concreteShape(n.type.shape, dims)));
}
