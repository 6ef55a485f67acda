// Updates in place: a train step's new param values and optimizer state (and a model's `set`
// buffers) are written by their kernel straight into the persistent buffer they replace,
// instead of into a transient that is copied over it after the launches. That saves a copy
// and, more, the memory: without it every new param, moment and velocity is a live transient
// at the end of the step (three times the params for Adam).
//
// An update `P ← u` is done in place when
// - u gets an elementwise kernel of its own (no GEMM, reduction or other kind), is no output,
//   and has P's dtype and shape;
// - inside u's kernel, P is only read at the element being written: every path from u to P
//   through the ops fused into the kernel is unary, binary, where, cast or barrier at u's
//   shape (no broadcast, movement or reduction);
// - every other kernel that reads P comes no later than u's, and no output is P itself;
// - u is the value of no other update, and P is the value of none (those are copied after
//   the launches, from before the call).
// The launch order puts the kernels that outputs need first, then those only updates need,
// and among those the ones that read nothing (a zeroed accumulator) last, so that these
// conditions hold for the updates of a train step.

import { type Graph, type Node, type NodeOf } from '../ir/graph.js';
import { dimsEqual } from '../ir/infer.js';

export { launchOrder } from '../passes/fusion/order.js';

const SAME_INDEX = new Set(['unary', 'binary', 'where', 'cast', 'barrier']);

/**
 * The updates to do in place, as value node → param node, for nodes launched in `order` with
 * materialized set `mat` and `kindOf` giving a node's kernel kind (`ew` for elementwise).
 */
export function inPlaceUpdates(
  g: Graph,
  order: readonly Node[],
  mat: ReadonlySet<Node>,
  kindOf: (n: Node) => string,
): Map<Node, NodeOf<'param'>> {
  const params = new Map<string, NodeOf<'param'>>();
  for (const n of order) if (n.op === 'param') params.set(n.args.path, n);
  const outputs = new Set(g.outputs.map((o) => o.node));
  // A value that two updates share (hash-consing makes every zeroed accumulator of one shape
  // one node) can be written into one buffer only; so can a param that is another update's value.
  const count = new Map<Node, number>();
  for (const u of g.updates) count.set(u.node, (count.get(u.node) ?? 0) + 1);
  const position = new Map(order.map((n, i) => [n, i]));
  /** The materialized nodes a node's kernel reads (through the ops fused into it). */
  const readsCache = new Map<Node, Set<Node>>();
  const reads = (n: Node): Set<Node> => {
    let r = readsCache.get(n);
    if (r) return r;
    r = new Set<Node>();
    const stack = [...n.inputs];
    const seen = new Set<Node>();
    while (stack.length > 0) {
      const i = stack.pop()!;
      if (seen.has(i)) continue;
      seen.add(i);
      if (mat.has(i)) r.add(i);
      else stack.push(...i.inputs);
    }
    readsCache.set(n, r);
    return r;
  };
  const kernels = order.filter((n) => mat.has(n) && n.op !== 'input' && n.op !== 'param');
  const out = new Map<Node, NodeOf<'param'>>();
  for (const { path, node: u } of g.updates) {
    const p = params.get(path);
    if (!p || u === p || !mat.has(u) || outputs.has(u) || outputs.has(p) || count.get(u) !== 1 || count.has(p))
      continue;
    if (u.op === 'param' || u.op === 'input' || kindOf(u) !== 'ew') continue;
    if (u.type.dtype !== p.type.dtype || !dimsEqual(u.type.shape, p.type.shape)) continue;
    if (!sameIndexOnly(u, p, mat)) continue;
    const at = position.get(u)!;
    if (kernels.some((k) => k !== u && reads(k).has(p) && position.get(k)! > at)) continue;
    out.set(u, p);
  }
  return out;
}

/** Whether u's kernel reads p only at the element it writes. */
function sameIndexOnly(u: Node, p: Node, mat: ReadonlySet<Node>): boolean {
  const memo = new Map<Node, boolean>();
  const reaches = (n: Node): boolean => {
    if (n === p) return true;
    if (n !== u && mat.has(n)) return false;
    let r = memo.get(n);
    if (r === undefined) {
      memo.set(n, false);
      r = n.inputs.some(reaches);
      memo.set(n, r);
    }
    return r;
  };
  const ok = (n: Node): boolean => {
    if (n === p) return true;
    if (!reaches(n)) return true;
    if (!SAME_INDEX.has(n.op) || !dimsEqual(n.type.shape, u.type.shape)) return false;
    return n.inputs.every(ok);
  };
  return ok(u);
}
