// The base rules of which nodes get a buffer: what every kernel needs, before the matchers
// (epilogue.ts, rows.ts) take nodes into fused kernels.
//
// Materialized: inputs, params, contractions, reductions, topk, scatter_add, outputs and
// updates, and nodes read more than once unless recomputing them is only index math (or a
// comparison of two such views). A
// movement op read more than once (a convolution's window, read by the forward product and
// by the weight gradient's) keeps no copy: the node under its movement chain is materialized
// and each reader indexes into that (a 3×3 window would copy 9× the data). The buffer of
// such a chain is at its pad when it has one (the padded copy is small; readers then need
// no bounds tests).
// Operands of contractions and topk, which are read many times, are materialized unless
// they are such index math over a buffer (then the computed node below the index math is).
// A conversion between float types over a buffer counts as index math here.

import { dimConstValue } from '../../ir/dims.js';
import { isFloat } from '../../ir/dtype.js';
import type { Node } from '../../ir/graph.js';
import { isGemmNode } from './gemm-shape.js';
import { inlineWeights } from './weights.js';

export const ALWAYS = new Set(['input', 'param', 'einsum', 'reduce', 'topk', 'scatter_add', 'cumsum']);
const CONST = new Set(['full', 'iota', 'dim']);
export const MOVEMENT = new Set(['reshape', 'permute', 'expand', 'slice', 'window', 'pad']);
const COMPARE = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);
/**
 * The most ops fused into one element expression along a chain of inputs. A longer chain
 * (thousands of `let`s, each used once) gets a buffer every this many ops, so kernel
 * expressions stay shallow: the expression trees are walked recursively here and in the C
 * renderer, and C compilers limit nesting too. No model comes near it.
 */
export const MAX_FUSED_DEPTH = 64;

/** How many times each node is read by the live nodes. */
export function useCounts(live: readonly Node[]): Map<Node, number> {
  const uses = new Map<Node, number>();
  for (const n of live) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  return uses;
}

/** Which nodes get a buffer by the base rules. */
export function chooseMaterialized(live: readonly Node[], roots: readonly Node[]): Set<Node> {
  const uses = useCounts(live);
  const m = new Set<Node>();
  const cheap = (n: Node): boolean =>
    !m.has(n) &&
    (CONST.has(n.op) || ((MOVEMENT.has(n.op) || isFloatCast(n)) && (m.has(n.inputs[0]!) || cheap(n.inputs[0]!))));
  const isView = (n: Node): boolean => m.has(n) || cheap(n);
  // A comparison of views (a max pooling's mask of its maxima, read by their count and by
  // the gradient) is recomputed by each reader: two loads and a compare cost less than a
  // bool buffer in the window's layout, written and read back.
  const recomputed = (n: Node): boolean => n.op === 'binary' && COMPARE.has(n.args.fn) && n.inputs.every(isView);
  // Fused ops along the deepest chain of inputs of each node that is not materialized.
  const depth = new Map<Node, number>();
  // Weight expressions (a dequantization) that only GEMMs read: computed inline (weights.ts).
  const inline = inlineWeights(live, roots);
  for (const n of live) {
    if (inline.has(n)) continue;
    if (ALWAYS.has(n.op)) m.add(n);
    else if ((uses.get(n) ?? 0) > 1 && !cheap(n) && !recomputed(n)) m.add(MOVEMENT.has(n.op) ? below(n) : n);
    let d = 1;
    for (const i of n.inputs) if (!m.has(i)) d = Math.max(d, (depth.get(i) ?? 0) + 1);
    if (d >= MAX_FUSED_DEPTH) m.add(n);
    depth.set(n, d);
    // Operands read many times get a buffer; under movement ops (a convolution's pad and
    // window) the buffer goes below them, so the window stays a view and is not copied. A
    // GEMM's operand padded on the way gets the padded copy, even over a buffer: the GEMM
    // packs it with no bounds test per element (the depthwise kernel tests them itself).
    // gcc 12 (-O2 and up with -fopenmp) miscompiles an `omp simd` loop whose load address is
    // computed from a comparison (a gather index `(int64_t)(x >= c)` reads -1 for true): an
    // index that a bool feeds is computed into a buffer of its own first.
    if ((n.op === 'gather' || n.op === 'scatter_add') && !m.has(n.inputs[1]!) && fedByBool(n.inputs[1]!, m))
      m.add(n.inputs[1]!);
    if (n.op === 'einsum' || n.op === 'topk')
      for (const i of n.inputs) {
        const b = below(i);
        if (isGemmNode(n) && b !== i && b.op === 'pad') m.add(b); // even over a buffer
        if (isView(i) || inline.has(i)) continue;
        m.add(b);
        if (!isView(i)) m.add(i);
      }
  }
  for (const r of roots) m.add(r);
  return m;
}

/**
 * A conversion between float types (the precision pass's casts of params and inputs): as
 * cheap as index math to recompute in each reader (a GEMM converts while it packs), so a
 * cast of a buffer gets no buffer (no cast kernel) however many kernels read it.
 */
const isFloatCast = (n: Node): boolean => n.op === 'cast' && isFloat(n.type.dtype) && isFloat(n.inputs[0]!.type.dtype);

/**
 * Where a chain of movement ops (a convolution's pad and window) gets its buffer: at its
 * first pad, so that what reads through the rest computes an address with no bounds test
 * (a GEMM's packing splits it into a row and a k part: src/kernels/separable.ts), else at
 * the node under the chain.
 */
function below(n: Node): Node {
  let base = n;
  while (MOVEMENT.has(base.op) && !grows(base)) base = base.inputs[0]!;
  return base;
}

/** A pad that adds elements (one that only crops is a slice: reading through it tests nothing). */
const grows = (n: Node): boolean =>
  n.op === 'pad' && n.args.pads.some(([lo, hi]) => [lo, hi].some((d) => (dimConstValue(d) ?? 1) > 0));

/** Whether a bool value is computed into `n` by the ops that would fuse into its reader. */
function fedByBool(n: Node, m: ReadonlySet<Node>): boolean {
  const seen = new Set<Node>();
  const stack = [n];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    if (x.type.dtype === 'bool') return true;
    if (x === n || !m.has(x)) stack.push(...x.inputs);
  }
  return false;
}
