// The launch order of kernels: what the graph's outputs need first, then what only updates
// need, and among those the ones that read nothing (a zeroed accumulator) last, so that a
// train step's updates can be written in place (src/kernels/in-place.ts).

import type { Graph, Node } from '../../ir/graph.js';

/** Nodes in launch order: what outputs need, then what only updates need (reads-nothing ones last). */
export function launchOrder(live: readonly Node[], g: Graph): Node[] {
  const forOutputs = new Set<Node>();
  const stack = g.outputs.map((o) => o.node);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (forOutputs.has(n)) continue;
    forOutputs.add(n);
    stack.push(...n.inputs);
  }
  const rest = live.filter((n) => !forOutputs.has(n));
  return [
    ...live.filter((n) => forOutputs.has(n)),
    ...rest.filter((n) => n.inputs.length > 0),
    ...rest.filter((n) => n.inputs.length === 0),
  ];
}
