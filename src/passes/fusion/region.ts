// Growing a fused region forward from a seed node (a contraction, a reduction): its
// consumers are taken in, lowest id first, while each is eligible and reads nothing else
// that depends on the region (that would be a cycle between kernels). A region is valid
// when every node but its last is read only inside it and is no result of the graph; the
// largest valid region found is the kernel, its last node the one stored.

import type { Graph, KernelGroup, Node } from '../../ir/graph.js';

/** A fused kernel as a matcher finds it (the pass adds the prologue). */
export type FusedGroup = Omit<KernelGroup, 'prologue'>;

/**
 * A fusion matcher (epilogue.ts, rows.ts; an attention or MoE matcher is one more): tried on
 * every live node in order, after the matchers listed before it in groups.ts, skipping
 * nodes an earlier kernel claimed. It returns the kernel that `seed` starts, and nodes
 * outside it that only it reads and that lose their buffer to be computed inline there.
 */
export interface Matcher {
  readonly name: string;
  match(
    seed: Node,
    uses: Uses,
    claimed: ReadonlySet<Node>,
  ): { group: FusedGroup; unbuffer?: readonly Node[] } | undefined;
}

/** Who reads each live node, and which nodes the graph returns or updates. */
export interface Uses {
  readonly consumers: ReadonlyMap<Node, readonly Node[]>;
  readonly roots: ReadonlySet<Node>;
}

export function usesOf(g: Graph, live: readonly Node[]): Uses {
  const consumers = new Map<Node, Node[]>();
  for (const n of live)
    for (const i of new Set(n.inputs)) {
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  const roots = new Set([...g.outputs.map((o) => o.node), ...g.updates.map((u) => u.node)]);
  return { consumers, roots };
}

export interface Grow {
  /** Whether `n` may join the region (its op and shape); `region` holds the nodes so far. */
  readonly eligible: (n: Node, region: ReadonlySet<Node>) => boolean;
  /** Whether the region may end with (store) `n`. */
  readonly storable: (n: Node) => boolean;
  /** Nodes another kernel already owns. */
  readonly claimed: ReadonlySet<Node>;
  /** The most nodes in a region. */
  readonly limit: number;
}

/** The largest valid region grown from `seed` (topological order, at least two nodes), or undefined. */
export function growRegion(seed: Node, uses: Uses, grow: Grow): Node[] | undefined {
  const region: Node[] = [seed];
  const inside = new Set<Node>([seed]);
  const dependsOnSeed = dependsOn(seed);
  let best: Node[] | undefined;
  while (region.length < grow.limit) {
    let next: Node | undefined;
    for (const x of region)
      for (const c of uses.consumers.get(x) ?? [])
        if (!inside.has(c) && (next === undefined || c.id < next.id)) next = c;
    if (next === undefined || grow.claimed.has(next) || !grow.eligible(next, inside)) break;
    if (next.inputs.some((i) => !inside.has(i) && dependsOnSeed(i))) break;
    region.push(next);
    inside.add(next);
    if (valid(region, inside, uses) && grow.storable(next)) best = [...region];
  }
  return best;
}

function valid(region: readonly Node[], inside: ReadonlySet<Node>, uses: Uses): boolean {
  for (let i = 0; i < region.length - 1; i++) {
    const x = region[i]!;
    if (uses.roots.has(x)) return false;
    if ((uses.consumers.get(x) ?? []).some((c) => !inside.has(c))) return false;
  }
  return true;
}

/** A memoized test of whether a node depends on `seed` (only nodes created after it can). */
function dependsOn(seed: Node): (n: Node) => boolean {
  const memo = new Map<Node, boolean>([[seed, true]]);
  return (n) => {
    const stack = [n];
    while (stack.length > 0) {
      const x = stack[stack.length - 1]!;
      if (memo.has(x)) {
        stack.pop();
        continue;
      }
      if (x.id < seed.id) {
        memo.set(x, false);
        stack.pop();
        continue;
      }
      const pending = x.inputs.filter((i) => !memo.has(i));
      if (pending.length > 0) {
        stack.push(...pending);
        continue;
      }
      memo.set(
        x,
        x.inputs.some((i) => memo.get(i)),
      );
      stack.pop();
    }
    return memo.get(n)!;
  };
}
