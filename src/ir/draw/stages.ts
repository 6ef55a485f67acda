// Boxes without cycles: a box whose nodes depend on themselves through another box is cut
// into stages (see splitStages).

import type { Node } from '../graph.js';

/**
 * Splits each box whose nodes depend on themselves through another box (a routing function
 * that sends tokens to the experts and gathers their results) into stages, so that no box is
 * both before and after another: a node's stage is one more than the latest stage of its own
 * box that it reaches through nodes outside the box.
 */
export function splitStages(nodes: readonly Node[], base: Map<Node, string>): void {
  const byKey = new Map<string, Node[]>();
  for (const n of nodes) {
    const k = base.get(n);
    if (k !== undefined && !k.startsWith('op:') && !k.startsWith('in:')) byKey.set(k, [...(byKey.get(k) ?? []), n]);
  }
  const index = new Map(nodes.map((n, i) => [n, i]));
  for (const [k, members] of byKey) {
    if (members.length < 2) continue;
    // dep: the latest stage of a member that a node reaches (-1: none), over the nodes in between.
    const dep = new Map<Node, number>();
    const stage = new Map<Node, number>();
    for (let i = index.get(members[0]!)!; i <= index.get(members[members.length - 1]!)!; i++) {
      const n = nodes[i]!;
      if (base.get(n) === k) {
        let s = 0;
        for (const x of n.inputs) s = Math.max(s, base.get(x) === k ? (stage.get(x) ?? 0) : (dep.get(x) ?? -1) + 1);
        stage.set(n, s);
        dep.set(n, s);
      } else dep.set(n, Math.max(-1, ...n.inputs.map((x) => dep.get(x) ?? -1)));
    }
    for (const [n, s] of stage) if (s > 0) base.set(n, `${k}@${s}`);
  }
}
