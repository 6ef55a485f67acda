// Static costs of graph nodes: FLOPs and the bytes of the tensor each node produces. `fmc
// inspect` counts them at concrete dims; the language server's hovers count FLOPs
// symbolically, as polynomials over the graph's dims (`72*B`).

import { type Dim, dimAdd, dimConst, dimMul } from './dims.js';
import { dtypeBytes } from './dtype.js';
import { type Graph, liveNodes, type Node, type NodeOf } from './graph.js';
import { parseEinsum } from './infer.js';
import { concreteShape } from './interp.js';
import type { OpName } from './ops.js';

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A node performs `factor` times the product of `sizes` operations. */
export interface Flops {
  readonly factor: number;
  readonly sizes: readonly Dim[];
}

const none = (): Flops => ({ factor: 0, sizes: [] });
const perOutput = (n: Node): Flops => ({ factor: 1, sizes: n.type.shape });
const perInput = (n: Node): Flops => ({ factor: 1, sizes: n.inputs[0]!.type.shape });

/**
 * The rule both FLOP counts follow, per op. Elementwise ops and casts: one per output
 * element; reductions, prefix sums and topk: one per input element; scatter_add: one per source element;
 * einsum: one multiply and one add per point of the full index space (one op per point with
 * a single operand). Views, leaves and data movement (reshape, permute, slice, pad, concat,
 * gather, ...) cost 0.
 */
export const FLOPS: { readonly [K in OpName]: (n: NodeOf<K>) => Flops } = {
  input: none,
  param: none,
  full: none,
  dim: none,
  iota: none,
  random: none,
  unary: perOutput,
  binary: perOutput,
  where: perOutput,
  reduce: perInput,
  reshape: none,
  permute: none,
  expand: none,
  pad: none,
  slice: none,
  window: none,
  concat: none,
  einsum: (n) => {
    const { ins } = parseEinsum(n.args.spec, n.inputs.length);
    const sizes = new Map<string, Dim>();
    n.inputs.forEach((x, k) => [...ins[k]!].forEach((c, i) => sizes.set(c, x.type.shape[i]!)));
    return { factor: n.inputs.length === 2 ? 2 : 1, sizes: [...sizes.values()] };
  },
  gather: none,
  scatter_add: (n) => ({ factor: 1, sizes: n.inputs[2]!.type.shape }),
  cumsum: perOutput,
  cast: perOutput,
  topk: perInput,
  barrier: none,
};

const flopsRule = (n: Node): Flops => (FLOPS[n.op] as (n: Node) => Flops)(n);

/** Floating-point (or integer) operations a node performs at concrete dims; views and leaves cost 0. */
export function nodeFlops(n: Node, dims: ReadonlyMap<string, number>): number {
  const { factor, sizes } = flopsRule(n);
  return factor === 0 ? 0 : factor * size(concreteShape(sizes, dims));
}

/**
 * The same count as a polynomial over the graph's symbolic dims (`2*B*T*65536` prints as
 * `131072*B*T`). Throws DimTooComplex when the product exceeds the dim algebra's term limit.
 */
export function nodeFlopsDim(n: Node): Dim {
  const { factor, sizes } = flopsRule(n);
  return factor === 0 ? dimConst(0) : sizes.reduce((acc, d) => dimMul(acc, d), dimConst(factor));
}

/** Bytes of the tensor a node produces (0 for params and inputs, which are not activations). */
export function activationBytes(n: Node, dims: ReadonlyMap<string, number>): number {
  if (n.op === 'param' || n.op === 'input') return 0;
  return dtypeBytes(n.type.dtype, size(concreteShape(n.type.shape, dims)));
}

/** A block path and every enclosing one, outermost first: `a.b` → `''`, `a`, `a.b`. */
export function blockPaths(path: string): string[] {
  const parts = path ? path.split('.') : [];
  return ['', ...parts.map((_, k) => parts.slice(0, k + 1).join('.'))];
}

/** Symbolic FLOPs per block path: each live node counts in its path and every enclosing one. */
export function flopsByPath(g: Graph): Map<string, Dim> {
  const out = new Map<string, Dim>();
  for (const n of liveNodes(g))
    for (const p of blockPaths(n.path)) out.set(p, dimAdd(out.get(p) ?? dimConst(0), nodeFlopsDim(n)));
  return out;
}
