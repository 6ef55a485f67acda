// The bottom-up graph rewriter. Every live node is rebuilt, inputs first, into a fresh
// Builder (so the result is hash-consed: two nodes a rule makes equal become one node);
// a rule for the node's op may return a replacement, built from the already rewritten
// inputs, or undefined to keep the op as it is. `copyGraph` is a rewrite with no rules.

import { Builder } from './build.js';
import type { Graph, Node, NodeOf } from './graph.js';
import { IRError, liveNodes } from './graph.js';
import type { OpName } from './ops.js';

/** Each node a rewrite made, to the node it was made for (the first one, where hash-consing merged two). */
const ORIGIN = new WeakMap<Node, Node>();

/** The node of the graph before a rewrite that `n` was made for (undefined for a node no rewrite made). */
export const originOf = (n: Node): Node | undefined => ORIGIN.get(n);

/** A rule for one op: the node, its rewritten inputs, and the builder of the new graph. */
export type Rule<K extends OpName> = (n: NodeOf<K>, inputs: readonly Node[], b: Builder) => Node | undefined;
/** Rules keyed by op; an op without a rule is copied. */
export type Rules = { readonly [K in OpName]?: Rule<K> };

export interface Rewritten {
  readonly graph: Graph;
  /** Each live node of the old graph to its replacement in the new one. */
  readonly map: ReadonlyMap<Node, Node>;
  /** The builder of the new graph: more nodes can be added to it. */
  readonly builder: Builder;
}

/**
 * Rewrites `g` bottom-up with `rules`. Graph inputs must stay input ops (a rule may rename
 * or retype them); outputs and buffer updates follow their nodes. Nodes keep their
 * provenance unless a rule sets another (Builder.within).
 */
export function rewrite(g: Graph, rules: Rules = {}, b: Builder = new Builder()): Rewritten {
  const map = new Map<Node, Node>();
  for (const n of liveNodes(g)) {
    const ins = n.inputs.map((i) => map.get(i)!);
    const rule = rules[n.op] as Rule<OpName> | undefined;
    const made = b.within(n.path, n.scope, () => rule?.(n, ins, b) ?? b.node(n.op, n.args, ins));
    if (made !== n && !ORIGIN.has(made)) ORIGIN.set(made, n);
    map.set(n, made);
  }
  const inputs = g.inputs.map((n) => {
    const m = map.get(n)!;
    if (m.op !== 'input') throw new IRError(`rewrite: graph input ${n.args.name} became a ${m.op}`);
    return m as NodeOf<'input'>;
  });
  const graph = b.graph(
    g.name,
    g.outputs.map((o) => ({ name: o.name, node: map.get(o.node)! })),
    g.updates.map((u) => ({ path: u.path, node: map.get(u.node)! })),
    inputs,
  );
  return { graph, map, builder: b };
}

/** A copy of `g` in a fresh builder (same ops, args, types and provenance). */
export function copyGraph(g: Graph): Rewritten {
  return rewrite(g);
}
