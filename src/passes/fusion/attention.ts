// The attention matcher: softmax(scores(Q Kᵀ)) V as one flash-style kernel (the chain that
// src/kernels/attention-match.ts recognizes, built by src/kernels/attention.ts), so the T×S
// scores are never stored. It runs before the GEMM-epilogue and row matchers, which would
// take the chain apart. The kernel's group: root the Q·Kᵀ einsum, members the chain's other
// nodes, store the P·V einsum. Q, K and V keep their buffers (the kernel packs them); index
// math that only the chain reads (a causal or sliding-window mask shared by every layer)
// loses its buffer and is computed per visited element instead.

import type { Node } from '../../ir/graph.js';
import { headSizes, matchAttentionAt } from './attention-match.js';
import type { Matcher, Uses } from './region.js';

/** Ops recomputed inside the kernel rather than stored, when only the chain reads them. */
const INLINE = new Set(['full', 'iota', 'dim', 'unary', 'binary', 'where', 'expand', 'reshape', 'permute', 'cast']);

/** Index math outside the chain that only the chain (or other such math) reads. */
function inlinedMath(inside: Set<Node>, uses: Uses): Node[] {
  const out: Node[] = [];
  const stack = [...inside].flatMap((n) => n.inputs);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (inside.has(n) || uses.roots.has(n) || !INLINE.has(n.op)) continue;
    const readers = uses.consumers.get(n) ?? [];
    if (readers.length === 0 || readers.some((u) => !inside.has(u))) continue;
    inside.add(n);
    out.push(n);
    stack.push(...n.inputs);
  }
  return out;
}

export const attentionMatcher: Matcher = {
  name: 'attention',
  match(seed, uses, claimed) {
    if (seed.op !== 'einsum') return undefined;
    const m = matchAttentionAt(seed, uses.consumers, uses.roots);
    if (!m || headSizes(m) === undefined) return undefined;
    const members = [...m.members].filter((x) => x !== m.out && x !== m.qk);
    if ([m.qk, m.out, ...members].some((x) => claimed.has(x))) return undefined;
    // The chain's nodes between Q·Kᵀ and P·V are computed per element inside the kernel; what
    // Q·Kᵀ and P·V read (Q, K, V) keeps its buffer.
    const unbuffer = inlinedMath(new Set<Node>(members), uses);
    return { group: { kind: 'attention', root: m.qk, members, epilogue: [], store: m.out }, unbuffer };
  },
};
