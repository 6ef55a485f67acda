// Fitting kernel groups to a device's storage-buffer limit (WGSL target): KernelGroup[] →
// KernelGroup[]. A group's kernel binds one buffer per buffered node it reads (inputs,
// params, other groups' stores) and one for its store; where that is more than the device
// allows, the group is split: a fused group (GEMM epilogue, rows) is first taken apart into
// its unfused kernels (its reductions and contractions alone, its elementwise nodes computed
// inline by the kernel that stores), then a node that the kernel computes inline and that
// reads several buffers is given a buffer and a kernel of its own (before the first kernel
// that reads it), until every kernel fits or no node is left to split off. The counts are an
// upper bound of the lowered kernel's params; limits.ts checks the lowered kernels themselves.

import type { Graph, KernelGroup, Node, NodeOf } from '../ir/graph.js';
import { liveNodes } from '../ir/graph.js';
import { OP_KIND, prologueOf } from '../passes/fusion/index.js';
import { CONCAT_PART, concatPart } from './concat-parts.js';

const kindAlone = (n: Node): string => (OP_KIND[n.op] as (n: Node) => string)(n);

/** The nodes a group's kernel computes (a concat part: its input, not the whole concat). */
const ownNodes = (k: KernelGroup): Node[] =>
  k.kind === CONCAT_PART ? [...k.members] : [...new Set([k.root, ...k.members, ...k.epilogue, k.store])];

/** The nodes without a buffer that a group's kernel computes inline. */
function inlineOf(k: KernelGroup, mat: ReadonlySet<Node>): Node[] {
  if (k.kind !== CONCAT_PART) return prologueOf(k, mat);
  const x = k.members[0]!;
  return mat.has(x) ? prologueOf(alone(x), mat) : [x, ...prologueOf(alone(x), mat)];
}

/** The buffered nodes that `nodes` (computed in one kernel) read. */
function readsOf(nodes: readonly Node[], mat: ReadonlySet<Node>): Set<Node> {
  const own = new Set(nodes);
  const out = new Set<Node>();
  for (const n of nodes) for (const i of n.inputs) if (mat.has(i) && !own.has(i)) out.add(i);
  return out;
}

/** Storage buffers of a group's kernel: what it reads and its store. */
export function groupBuffers(k: KernelGroup, mat: ReadonlySet<Node>): number {
  const reads = readsOf(k.kind === CONCAT_PART ? k.prologue : [...ownNodes(k), ...k.prologue], mat);
  reads.delete(k.store);
  return reads.size + 1;
}

const alone = (n: Node): KernelGroup => ({
  kind: kindAlone(n),
  root: n,
  members: [],
  epilogue: [],
  prologue: [],
  store: n,
});

/** A fused group's unfused kernels: its non-elementwise nodes and its store, each alone. */
function unfuse(k: KernelGroup): KernelGroup[] {
  const own = ownNodes(k).sort((a, b) => a.id - b.id);
  return own.filter((n) => n === k.store || kindAlone(n) !== 'ew').map(alone);
}

/** The inline node of `k` to give a buffer: it reads the most buffers short of `max` (at least 2). */
function splitPoint(k: KernelGroup, mat: ReadonlySet<Node>, max: number): Node | undefined {
  let best: { n: Node; reads: number } | undefined;
  for (const n of k.prologue) {
    if (kindAlone(n) !== 'ew') continue;
    const reads = readsOf([n, ...prologueOf(alone(n), mat)], mat).size;
    if (reads < 2 || reads > max - 1) continue;
    if (!best || reads > best.reads) best = { n, reads };
  }
  return best?.n;
}

/** A concat the group's kernel computes (or stores) whose inputs are too many for one kernel. */
function wideConcat(k: KernelGroup, max: number): NodeOf<'concat'> | undefined {
  const wide = (n: Node): n is NodeOf<'concat'> => n.op === 'concat' && n.inputs.length > max - 1;
  if (k.kind !== CONCAT_PART && wide(k.store)) return k.store;
  return k.prologue.find(wide);
}

/**
 * The groups of `g` with every kernel binding at most `maxBuffers` storage buffers where a
 * split can get it there; the others are left as they are (limits.ts reports them).
 */
export function fitGroups(g: Graph, groups: readonly KernelGroup[], maxBuffers: number): KernelGroup[] {
  const mat = new Set<Node>(groups.map((k) => k.store));
  for (const n of liveNodes(g)) if (n.op === 'input' || n.op === 'param') mat.add(n);
  let out = [...groups];
  // Nodes given a buffer change the prologues that computed them inline, and only those.
  const refresh = (added: readonly Node[]): void => {
    for (const n of added) mat.add(n);
    out = out.map((k) =>
      added.some((n) => k.prologue.includes(n)) || k.prologue.length === 0 ? { ...k, prologue: inlineOf(k, mat) } : k,
    );
  };
  for (let i = 0; i < out.length;) {
    const k = out[i]!;
    if (groupBuffers(k, mat) <= maxBuffers) {
      i++;
      continue;
    }
    if (k.kind !== CONCAT_PART && k.members.length + k.epilogue.length > 0) {
      const parts = unfuse(k);
      out.splice(i, 1, ...parts);
      refresh(parts.map((p) => p.store));
      continue;
    }
    const n = splitPoint(k, mat, maxBuffers);
    if (!n) {
      const c = wideConcat(k, maxBuffers);
      if (!c) {
        i++;
        continue;
      }
      // A concat: one kernel per input, where its first reader (or its own group) was.
      const parts = c.inputs.map((_, p) => concatPart(c, p));
      const at = c === k.store ? i : out.findIndex((x) => x.prologue.includes(c));
      out.splice(at, c === k.store ? 1 : 0, ...parts);
      refresh([c]);
      i = Math.min(i, at);
      continue;
    }
    // Before the first kernel that computes it inline: everything it reads is stored by then.
    const first = out.findIndex((x) => x.prologue.includes(n));
    out.splice(first, 0, alone(n));
    refresh([n]);
    i = Math.min(i, first);
  }
  return out;
}
