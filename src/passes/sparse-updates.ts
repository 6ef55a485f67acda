// Masked updates (train mode, after the train-step pass): the new value of a param that the
// sparsity pass masked is multiplied by its mask, so a pruned weight stays exactly 0 whatever
// the optimizer does (its gradient is already 0 there: src/passes/sparsity.ts). The mask is
// read, never updated: fine-tuning keeps the masks of one-shot pruning.

import { liveNodes, type Node } from '../ir/graph.js';
import { maskedParam } from '../ir/sparsity.js';
import { rewrite } from '../ir/rewrite.js';
import type { Pass } from './pass.js';

export const sparseUpdates: Pass = {
  name: 'sparse-updates',
  run: (g) => {
    const masks = new Map<string, Node>();
    for (const n of liveNodes(g)) {
      const p = n.op === 'param' ? maskedParam(n.args.path) : undefined;
      if (p !== undefined) masks.set(p, n);
    }
    if (!g.updates.some((u) => masks.has(u.path))) return g;
    const { graph, map, builder: b } = rewrite(g);
    const updates = graph.updates.map((u) => {
      const mask = masks.get(u.path);
      return mask ? { path: u.path, node: b.within(u.path, 'sparse', () => b.mul(u.node, map.get(mask)!)) } : u;
    });
    return b.graph(graph.name, graph.outputs, updates, graph.inputs);
  },
};
