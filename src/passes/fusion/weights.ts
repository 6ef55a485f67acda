// Weight expressions read inline by GEMMs: a node computed only from params and constants by
// elementwise and movement ops (a quantized weight's dequantization: src/passes/quantize.ts),
// all of whose readers are such nodes or GEMMs, gets no buffer. The GEMM computes it while
// packing or streaming its operand, so q and scale are what it reads from memory, never a
// dequantized f32 copy of the whole weight per call (a block-sparse weight's mark is one too,
// and so is the decoding of a block table under it, whose gather the sparse GEMM never
// computes: it reads the table in place).
// Read by anything else, it is
// materialized by the base rules as before.

import type { Node } from '../../ir/graph.js';
import { isGemmNode } from './gemm-shape.js';
import { parseTableName } from '../../ir/sparse-table.js';

const LEAVES = new Set(['param', 'full', 'iota']);
const OPS = new Set(['unary', 'binary', 'where', 'cast', 'reshape', 'permute', 'expand', 'slice', 'concat']);
/** The sparsity pass's mark of a block-sparse weight (src/passes/sparsity.ts), an identity. */
const sparseMark = (n: Node): boolean => n.op === 'barrier' && n.args.key.startsWith('sparse:');
/** A read of a block table's values (the sparsity pass's decoding: src/ir/sparse-format.ts). */
const tableGather = (n: Node): boolean => {
  let x = n.op === 'gather' ? n.inputs[0] : undefined;
  while (x?.op === 'reshape') x = x.inputs[0];
  return x?.op === 'param' && parseTableName(x.args.path) !== undefined;
};

/** The weight-only nodes of `live` (topologically ordered) that GEMMs may compute inline. */
export function inlineWeights(live: readonly Node[], roots: readonly Node[]): Set<Node> {
  const weightOnly = new Set<Node>();
  const leaf = (n: Node): boolean =>
    (n.op === 'param' && n.args.role === 'param') || (LEAVES.has(n.op) && n.op !== 'param');
  for (const n of live)
    if ((OPS.has(n.op) || sparseMark(n) || tableGather(n)) && n.inputs.every((i) => leaf(i) || weightOnly.has(i)))
      weightOnly.add(n);
  // Keep those whose readers are all kept ones or GEMMs: readers come later in `live`.
  const readers = new Map<Node, Node[]>();
  for (const n of live) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  const out = new Set<Node>();
  const rootSet = new Set(roots);
  for (let i = live.length - 1; i >= 0; i--) {
    const n = live[i]!;
    if (!weightOnly.has(n) || rootSet.has(n)) continue;
    const rs = readers.get(n) ?? [];
    if (rs.length > 0 && rs.every((r) => out.has(r) || isGemmNode(r))) out.add(n);
  }
  return out;
}
