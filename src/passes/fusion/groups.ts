// The kernel groups of a graph: which kernels there are, in launch order, and what each
// computes. The base rules (materialize.ts) give every node that needs a buffer a kernel of
// its own, with the nodes it reads computed inline (prologue); the matchers then take
// nodes into fused kernels: GEMM epilogues (epilogue.ts), then row kernels (rows.ts). With
// `fusion: false` only the base rules apply (the kernels of fmc before the fusion pass).
// The pass (index.ts) and the lowering of a graph that arrives without groups both call
// planGroups, so there is one source of truth.

import { type Graph, type KernelGroup, type Node, type NodeOf, liveNodes } from '../../ir/graph.js';
import type { OpName } from '../../ir/ops.js';
import { attentionMatcher } from './attention.js';
import { gemmEpilogues } from './epilogue.js';
import { isGemm } from './gemm-shape.js';
import { chooseMaterialized } from './materialize.js';
import { launchOrder } from './order.js';
import { type FusedGroup, type Matcher, usesOf } from './region.js';
import { rowKernels } from './rows.js';

export interface FusionOptions {
  /** Fuse GEMM epilogues and rows (default true); false keeps one kernel per buffered node. */
  readonly fusion?: boolean;
  /** Attention as one flash-style kernel (default: on unless FMC_ATTENTION=0; needs fusion). */
  readonly attention?: boolean;
}

const ew = (): string => 'ew';

/** Each op's kernel kind when it is a group alone. */
export const OP_KIND: { readonly [K in OpName]: (n: NodeOf<K>) => string } = {
  input: (n) => n.op,
  param: (n) => n.op,
  full: ew,
  dim: ew,
  iota: ew,
  random: ew,
  unary: ew,
  binary: ew,
  where: ew,
  reduce: () => 'reduce',
  reshape: ew,
  permute: ew,
  expand: ew,
  pad: ew,
  slice: ew,
  window: ew,
  concat: ew,
  einsum: (n) => (isGemm(n) ? 'gemm' : 'einsum'),
  gather: ew,
  scatter_add: () => 'scatter_add',
  cast: ew,
  topk: () => 'topk',
  cumsum: () => 'cumsum',
  barrier: ew,
};

/**
 * The matchers, in order: a node claimed by one is skipped by the later ones. Attention (one
 * flash kernel from the scores' GEMM to P @ V) goes first, as it claims GEMMs and a softmax
 * that the others would take apart.
 */
const MATCHERS: readonly Matcher[] = [attentionMatcher, gemmEpilogues, rowKernels];

const kindAlone = (n: Node): string => (OP_KIND[n.op] as (n: Node) => string)(n);

/** The kernel groups of `g`, in launch order. */
export function planGroups(g: Graph, opts: FusionOptions = {}): KernelGroup[] {
  const live = liveNodes(g);
  const roots = [...g.outputs.map((o) => o.node), ...g.updates.map((u) => u.node)];
  const mat = chooseMaterialized(live, roots);
  const fused = new Map<Node, FusedGroup>();
  const claimed = new Set<Node>();
  if (opts.fusion ?? true) {
    const uses = usesOf(g, live);
    const attention = opts.attention ?? process.env.FMC_ATTENTION !== '0';
    for (const matcher of MATCHERS.filter((m) => attention || m !== attentionMatcher))
      for (const n of live) {
        if (claimed.has(n)) continue;
        const found = matcher.match(n, uses, claimed);
        if (!found) continue;
        const { group, unbuffer = [] } = found;
        for (const x of [group.root, ...group.members, ...group.epilogue, group.store]) {
          claimed.add(x);
          if (x !== group.store) mat.delete(x);
        }
        for (const x of unbuffer) mat.delete(x);
        mat.add(group.store);
        fused.set(group.store, group);
      }
  }
  const groups: KernelGroup[] = [];
  for (const n of launchOrder(live, g)) {
    if (!mat.has(n) || n.op === 'input' || n.op === 'param') continue;
    const group = fused.get(n) ?? { kind: kindAlone(n), root: n, members: [], epilogue: [], store: n };
    groups.push({ ...group, prologue: prologueOf(group, mat) });
  }
  return groups;
}

/** The nodes without a buffer that a group's kernel computes inline, in topological order. */
export function prologueOf(group: FusedGroup, mat: ReadonlySet<Node>): Node[] {
  const own = new Set([group.root, ...group.members, ...group.epilogue, group.store]);
  const seen = new Set<Node>();
  const stack = [...own].flatMap((n) => n.inputs);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n) || own.has(n) || mat.has(n)) continue;
    seen.add(n);
    stack.push(...n.inputs);
  }
  return [...seen].sort((a, b) => a.id - b.id);
}

/** The nodes that get a buffer: inputs, params and every group's store. */
export function bufferedNodes(g: Graph, groups: readonly KernelGroup[]): Set<Node> {
  const out = new Set<Node>(groups.map((k) => k.store));
  for (const n of liveNodes(g)) if (n.op === 'input' || n.op === 'param') out.add(n);
  return out;
}
