// GEMM epilogues: elementwise nodes at the contraction's shape that consume its value (a
// bias add, an activation, a residual add, a scale, a mask through `where`, a cast) are
// applied in the GEMM kernel before its store, instead of a kernel of their own reading the
// product back. Their other operands are read as any kernel reads them (broadcast, computed
// inline, or loaded). The stored node has the product's dtype or f32: the kernel adds its
// register tiles into that buffer across K blocks (f32 partial sums are as exact as the
// register tiles) and applies the epilogue on the last one; so an f16/bf16 product's cast
// back to f32 (a mixed-precision model's output) is stored by the GEMM.

import type { Node, NodeOf } from '../../ir/graph.js';
import { dimsEqual } from '../../ir/infer.js';
import { isGemmNode } from './gemm-shape.js';
import { type Matcher, type Uses, growRegion } from './region.js';

export const ELEMENTWISE = new Set(['unary', 'binary', 'where', 'cast']);

/** The most epilogue nodes of one GEMM. */
const EPILOGUE_LIMIT = 48;

/** The epilogue of GEMM `r` (its nodes in order, the last one stored), or undefined when none fits. */
export function matchEpilogue(r: NodeOf<'einsum'>, uses: Uses, claimed: ReadonlySet<Node>): Node[] | undefined {
  const region = growRegion(r, uses, {
    eligible: (n) => ELEMENTWISE.has(n.op) && dimsEqual(n.type.shape, r.type.shape),
    storable: (n) => n.type.dtype === r.type.dtype || n.type.dtype === 'f32',
    claimed,
    limit: EPILOGUE_LIMIT + 1,
  });
  return region?.slice(1);
}

/** GEMMs with their epilogues. */
export const gemmEpilogues: Matcher = {
  name: 'gemm-epilogue',
  match: (n, uses, claimed) => {
    const epilogue = isGemmNode(n) ? matchEpilogue(n, uses, claimed) : undefined;
    if (!epilogue) return undefined;
    return { group: { kind: 'gemm', root: n, members: [], epilogue, store: epilogue[epilogue.length - 1]! } };
  },
};
