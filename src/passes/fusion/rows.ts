// Row fusion: a reduction over the innermost axis with its elementwise neighbours (softmax,
// log-softmax, layer norm, RMS norm, and their backward patterns) becomes one kernel that
// runs over the rows in parallel and, inside a row, computes each reduction as a scalar in
// one pass over the row, the per-row scalars between them as locals, and the row values
// where they are read (src/kernels/rows.ts). Nothing row-sized is stored but the result.
//
// Members share one row space: the seed reduction's input shape [...O, L] ("row" nodes, L
// the innermost axis) and the per-row shapes [...O, 1] and [...O] ("scalar" nodes). Members
// are reductions over the last axis of a row-shaped value, elementwise nodes of row or
// scalar shape, reshapes between scalar shapes and expands of a scalar to a row.
// It pays when a row stays in cache between its passes: rows of a constant length above
// MAX_ROW fall back to separate kernels; a symbolic length (a sequence) is taken.

import { isFloat } from '../../ir/dtype.js';
import { dimConst, dimConstValue } from '../../ir/dims.js';
import type { Node, NodeOf } from '../../ir/graph.js';
import { dimsEqual } from '../../ir/infer.js';
import { ELEMENTWISE } from './epilogue.js';
import { type Matcher, type Uses, growRegion } from './region.js';

/** The longest constant row fused (floats: 256 KiB, a core's L2 share). */
export const MAX_ROW = 65536;
const ROWS_LIMIT = 64;

/** The row space of a seed: whether `n` is a reduction over its input's innermost axis that can start a row kernel. */
export function rowSeed(n: Node): n is NodeOf<'reduce'> {
  if (n.op !== 'reduce') return false;
  const x = n.inputs[0]!;
  const r = x.type.shape.length;
  if (r === 0 || n.args.axes.length !== 1 || n.args.axes[0] !== r - 1 || !isFloat(x.type.dtype)) return false;
  const L = dimConstValue(x.type.shape[r - 1]!);
  return L === undefined || (L > 1 && L <= MAX_ROW);
}

/** Which shapes of a row space a node has: the row, a per-row scalar, or neither. */
export function rowShapeOf(seed: NodeOf<'reduce'>, n: Node): 'row' | 'scalar' | undefined {
  const row = seed.inputs[0]!.type.shape;
  const outer = row.slice(0, -1);
  if (dimsEqual(n.type.shape, row)) return 'row';
  if (dimsEqual(n.type.shape, [...outer, dimConst(1)]) || dimsEqual(n.type.shape, outer)) return 'scalar';
  return undefined;
}

function eligible(seed: NodeOf<'reduce'>, n: Node): boolean {
  const shape = rowShapeOf(seed, n);
  if (shape === undefined) return false;
  if (n.op === 'reduce') return rowSeed(n) && rowShapeOf(seed, n.inputs[0]!) === 'row';
  if (ELEMENTWISE.has(n.op)) {
    // A value of shape [...O] (a reduction without keepdim) meets a row [...O, L] by NumPy
    // broadcasting, which aligns the trailing axes: it is not the row's scalar there (fuzzer
    // seed 700710: `minimum(mean(x, 2), x)` with x [3, 3, 3]).
    const outer = seed.inputs[0]!.type.shape.slice(0, -1);
    return !(shape === 'row' && outer.length > 0 && n.inputs.some((i) => dimsEqual(i.type.shape, outer)));
  }
  const from = rowShapeOf(seed, n.inputs[0]!);
  if (n.op === 'reshape') return shape === 'scalar' && from === 'scalar';
  if (n.op === 'expand')
    return shape === 'row' && from === 'scalar' && n.inputs[0]!.type.shape.length === n.type.shape.length;
  return false;
}

/** The row kernel grown from reduction `seed`: its nodes in order, the last one stored; undefined when none pays. */
export function matchRows(seed: NodeOf<'reduce'>, uses: Uses, claimed: ReadonlySet<Node>): Node[] | undefined {
  return growRegion(seed, uses, {
    eligible: (n) => eligible(seed, n),
    storable: (n) => n.op !== 'expand' && n.op !== 'reshape',
    claimed,
    limit: ROWS_LIMIT,
  });
}

/**
 * Elementwise row values that only a row kernel's members read but that read twice got a
 * buffer by the base rules (a softmax's masked scores `where(mask, x, -inf)`): the kernel
 * recomputes them in each loop over the row instead of reading a stored copy.
 */
export function rowPrologue(
  seed: NodeOf<'reduce'>,
  region: readonly Node[],
  uses: Uses,
  claimed: ReadonlySet<Node>,
): Node[] {
  const inside = new Set(region);
  const out: Node[] = [];
  for (const m of region)
    for (const p of m.inputs)
      if (
        !inside.has(p) &&
        !out.includes(p) &&
        // Not another kernel's stored value, and made before the seed (so not computed from it).
        !claimed.has(p) &&
        p.id < seed.id &&
        ELEMENTWISE.has(p.op) &&
        rowShapeOf(seed, p) === 'row' &&
        !uses.roots.has(p) &&
        (uses.consumers.get(p) ?? []).every((c) => inside.has(c))
      )
        out.push(p);
  return out;
}

/** Row kernels: a reduction over the innermost axis with its neighbours. */
export const rowKernels: Matcher = {
  name: 'rows',
  match: (n, uses, claimed) => {
    const region = rowSeed(n) ? matchRows(n, uses, claimed) : undefined;
    if (!region) return undefined;
    const store = region[region.length - 1]!;
    const group = { kind: 'rows', root: n, members: region.slice(1, -1), epilogue: [], store };
    return { group, unbuffer: rowPrologue(n as NodeOf<'reduce'>, region, uses, claimed) };
  },
};
