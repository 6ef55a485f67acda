// Finds attention in a graph: softmax(scores(Q Kᵀ)) V as the standard library lowers it,
//   qk = einsum(Q, K)                       one query letter t, one key letter s, one contracted d
//   xm = f(qk, …)                           elementwise (scale, bias, where(mask, ·, -inf), …)
//   m  = max(xm, s, keepdim)                [guarded: m' = where(m == -inf, 0, m)]
//   e  = exp(xm - m')
//   l  = sum(e, s, keepdim)                 [guarded: l' = where(l == 0, 1, l)]
//   p  = e / l'
//   out = einsum(p, V)                      s contracted, one value letter e
// so that the whole chain can run as one flash-style kernel (attention.ts) that never stores
// the T×S scores. `xm` stays a graph expression: the kernel computes it per element with qk
// replaced by the tile's dot product. The masks' `where(c, ·, -inf)` conditions are read for
// linear bounds on the key index (causal: s ≤ t, sliding window: t - s < W), which give each
// query tile its range of key tiles. Only matched when every intermediate node is read only
// inside the chain (a training graph's backward reads the probabilities: no match).

import { type Dim, dimConstValue } from '../../ir/dims.js';
import { isFloat } from '../../ir/dtype.js';
import type { Graph, Node, NodeOf } from '../../ir/graph.js';
import { parseEinsum } from '../../ir/infer.js';
import { type KeyBound, isConst, keyBounds } from './attention-bounds.js';

/** What an axis of the scores (or an operand) stands for: a batch letter, t, s, d or e. */
export type Role = { readonly k: 'batch'; readonly i: number } | { readonly k: 't' | 's' | 'd' | 'e' };

export interface AttentionMatch {
  /** The P·V einsum: the node whose value the kernel computes. */
  readonly out: NodeOf<'einsum'>;
  readonly qk: NodeOf<'einsum'>;
  readonly q: Node;
  readonly k: Node;
  readonly v: Node;
  /** The masked, scaled scores: computed per element with qk replaced by the dot product. */
  readonly scores: Node;
  /** Axis roles of q, k, v, the scores (qk's shape) and out. */
  readonly roles: { readonly [K in 'q' | 'k' | 'v' | 'scores' | 'out']: readonly Role[] };
  /** Sizes of the batch letters (in qk's output order), t, s, d and e. */
  readonly sizes: {
    readonly batch: readonly Dim[];
    readonly t: Dim;
    readonly s: Dim;
    readonly d: Dim;
    readonly e: Dim;
  };
  /** masked_softmax (a row with no visible key gives 0) rather than softmax (NaN). */
  readonly guarded: boolean;
  /** Conjuncts of the masks that bound the key index (an empty list: every key tile). */
  readonly bounds: readonly KeyBound[];
  /** The nodes the kernel replaces (out included): none of them gets a buffer but out. */
  readonly members: ReadonlySet<Node>;
}

type Uses = ReadonlyMap<Node, readonly Node[]>;

/** Users of every live node. */
export function usersOf(live: readonly Node[]): Map<Node, Node[]> {
  const users = new Map<Node, Node[]>();
  for (const n of live)
    for (const i of n.inputs) {
      const us = users.get(i);
      if (us) us.push(n);
      else users.set(i, [n]);
    }
  return users;
}

/** The graph's outputs and updates: read from outside. */
export const rootsOf = (g: Graph): Set<Node> => new Set([...g.outputs, ...g.updates].map((o) => o.node));

/** Every attention chain of the graph whose intermediates are read only inside it. */
export function matchAttention(live: readonly Node[], g: Graph): AttentionMatch[] {
  const users = usersOf(live);
  const roots = rootsOf(g);
  const out: AttentionMatch[] = [];
  for (const n of live) {
    if (n.op !== 'einsum') continue;
    const m = matchAttentionAt(n, users, roots);
    if (m) out.push(m);
  }
  return out;
}

const isBin = (n: Node, fn: string): n is NodeOf<'binary'> => n.op === 'binary' && n.args.fn === fn;

/** `where(x == c, r, x)` → x (the guards of masked_softmax), else undefined. */
function unguard(n: Node, c: number, r: number): Node | undefined {
  if (n.op !== 'where') return undefined;
  const [cond, a, b] = n.inputs as [Node, Node, Node];
  if (!isBin(cond, 'eq') || cond.inputs[0] !== b || !isConst(cond.inputs[1]!, c) || !isConst(a, r)) return undefined;
  return b;
}

/**
 * The attention chain that ends at `out`, or undefined. With `users` and `roots` empty the
 * check that the chain's intermediates are read only inside it is skipped (the lowering
 * rebuilds a match the fusion pass already checked).
 */
export function matchAttentionAt(
  out: NodeOf<'einsum'>,
  users: Uses,
  roots: ReadonlySet<Node>,
): AttentionMatch | undefined {
  if (out.inputs.length !== 2 || (out.type.dtype !== 'f32' && out.type.dtype !== 'bf16')) return undefined;
  // In a bf16 model (the precision pass) the f32 probabilities are cast to bf16 for P·V; the
  // kernel keeps them in f32 (as it computes Σ e·v / l rather than Σ (e / l)·v), a difference
  // far inside bf16's tolerance. Not f16: there the unrounded p differs from the graph's by
  // about the f16 tolerance through a whole model (test/kernels/precision-models.test.ts),
  // so f16 attention runs as its GEMMs and a row kernel.
  const [pc, v] = out.inputs as [Node, Node];
  const p = pc.op === 'cast' && isFloat(pc.inputs[0]!.type.dtype) ? pc.inputs[0]! : pc;
  // p = e / l' with l = sum(e, axis), optionally guarded.
  if (!isBin(p, 'div')) return undefined;
  const [e, lg] = p.inputs as [Node, Node];
  const l = unguard(lg, 0, 1) ?? lg;
  const guarded = l !== lg;
  if (l.op !== 'reduce' || l.args.fn !== 'sum' || !l.args.keepdim || l.inputs[0] !== e) return undefined;
  const axis = p.type.shape.length - 1;
  if (l.args.axes.length !== 1 || l.args.axes[0] !== axis) return undefined;
  // e = exp(xm - m'), m = max(xm, axis), guarded the same way.
  if (e.op !== 'unary' || e.args.fn !== 'exp' || !isBin(e.inputs[0]!, 'sub')) return undefined;
  const [xm, mg] = e.inputs[0]!.inputs as [Node, Node];
  const m = unguard(mg, -Infinity, 0) ?? mg;
  if ((m !== mg) !== guarded) return undefined;
  if (m.op !== 'reduce' || m.args.fn !== 'max' || !m.args.keepdim || m.inputs[0] !== xm) return undefined;
  if (m.args.axes.length !== 1 || m.args.axes[0] !== axis) return undefined;
  if (![p, e, xm].every((x) => x.type.dtype === 'f32' && sameShape(x.type.shape, p.type.shape))) return undefined;
  // The scores chain: elementwise nodes from xm down to the one qk einsum.
  const chain = scoreChain(xm);
  if (!chain) return undefined;
  const roles = letterRoles(chain.qk, out);
  // The softmax runs over the keys.
  if (!roles || roles.roles.scores[axis]!.k !== 's') return undefined;
  const members = new Set<Node>([out, pc, p, lg, l, e, e.inputs[0]!, mg, m, ...chain.nodes]);
  for (const g of [lg, mg]) if (g.op === 'where') members.add(g.inputs[0]!);
  for (const x of members)
    if (x !== out && (roots.has(x) || (users.get(x) ?? []).some((u) => !members.has(u)))) return undefined;
  const bounds = keyBounds(xm, roles.roles.scores);
  return {
    out,
    qk: chain.qk,
    q: chain.qk.inputs[0]!,
    k: chain.qk.inputs[1]!,
    v,
    scores: xm,
    guarded,
    bounds,
    members,
    ...roles,
  };
}

const sameShape = (a: readonly Dim[], b: readonly Dim[]): boolean =>
  a.length === b.length && a.every((d, i) => d.key === b[i]!.key);

// Casts too: an f16/bf16 model's scores are computed in its type and cast to f32 for the softmax.
const ELEMENTWISE = new Set(['unary', 'binary', 'where', 'cast']);

/** The nodes between `xm` and the single einsum below it that they depend on. */
function scoreChain(xm: Node): { qk: NodeOf<'einsum'>; nodes: Node[] } | undefined {
  // The qk einsum: the deepest einsum reached through elementwise ops of xm's shape.
  let qk: NodeOf<'einsum'> | undefined;
  const nodes: Node[] = [];
  const seen = new Set<Node>();
  const stack = [xm];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (!sameShape(n.type.shape, xm.type.shape) || !isFloat(n.type.dtype)) continue;
    if (n.op === 'einsum') {
      if (qk && qk !== n) return undefined;
      qk = n;
    } else if (ELEMENTWISE.has(n.op)) stack.push(...n.inputs);
  }
  if (!qk) return undefined;
  // Members: nodes on a path from xm to qk (ids grow from inputs to users).
  const dep = new Map<Node, boolean>();
  const depends = (n: Node): boolean => {
    if (n === qk) return true;
    if (n.id < qk!.id) return false;
    let d = dep.get(n);
    if (d === undefined) dep.set(n, (d = n.inputs.some(depends)));
    return d;
  };
  for (const n of seen) {
    if (n === qk || !depends(n)) continue;
    // A node that depends on qk must be elementwise over xm's shape, its qk-side inputs too.
    if (!ELEMENTWISE.has(n.op) || !sameShape(n.type.shape, xm.type.shape)) return undefined;
    if (n.inputs.some((i) => depends(i) && !sameShape(i.type.shape, xm.type.shape))) return undefined;
    nodes.push(n);
  }
  if (!depends(xm)) return undefined;
  return { qk, nodes: [qk, ...nodes] };
}

/** Axis roles from the two einsum specs; undefined unless they have the attention form. */
function letterRoles(qk: NodeOf<'einsum'>, out: NodeOf<'einsum'>): Pick<AttentionMatch, 'roles' | 'sizes'> | undefined {
  if (qk.inputs.length !== 2 || qk.inputs.some((x) => !isFloat(x.type.dtype))) return undefined;
  const { ins: qkIns, out: so } = parseEinsum(qk.args.spec, 2);
  const [qs, ks] = qkIns as [string, string];
  const batch = [...so].filter((c) => qs.includes(c) && ks.includes(c));
  const ts = [...so].filter((c) => qs.includes(c) && !ks.includes(c));
  const ss = [...so].filter((c) => ks.includes(c) && !qs.includes(c));
  const ds = [...qs].filter((c) => !so.includes(c));
  if (ts.length !== 1 || ss.length !== 1 || ds.length !== 1 || !ks.includes(ds[0]!)) return undefined;
  if ([...ks].some((c) => !so.includes(c) && c !== ds[0])) return undefined;
  const [t, s, d] = [ts[0]!, ss[0]!, ds[0]!];
  const role = (c: string): Role | undefined =>
    c === t
      ? { k: 't' }
      : c === s
        ? { k: 's' }
        : c === d
          ? { k: 'd' }
          : batch.includes(c)
            ? { k: 'batch', i: batch.indexOf(c) }
            : undefined;
  const scores = [...so].map((c) => role(c)!);
  // P·V: p's axes are the scores' axes; its s letter is contracted with V, e is V's own.
  const { ins: pvIns, out: po } = parseEinsum(out.args.spec, 2);
  const [ps, vs] = pvIns as [string, string];
  const pRole = new Map<string, Role>([...ps].map((c, i) => [c, scores[i]!]));
  const es = [...vs].filter((c) => !ps.includes(c));
  if (es.length !== 1 || !po.includes(es[0]!)) return undefined;
  const pvRole = (c: string): Role | undefined => (c === es[0] ? { k: 'e' } : pRole.get(c));
  const vRoles = [...vs].map(pvRole);
  const oRoles = [...po].map(pvRole);
  // V holds every batch letter and s, not t; out holds every batch letter, t and e, not s.
  const kinds = (rs: readonly (Role | undefined)[]): string =>
    rs
      .map((r) => (r === undefined ? '?' : r.k === 'batch' ? `b${r.i}` : r.k))
      .sort()
      .join(',');
  const want = (extra: string[]): string => [...batch.map((_, i) => `b${i}`), ...extra].sort().join(',');
  if (kinds(vRoles) !== want(['e', 's']) || kinds(oRoles) !== want(['e', 't'])) return undefined;
  const sizeOf = (node: Node, spec: string, c: string): Dim => node.type.shape[spec.indexOf(c)]!;
  const Q = qk.inputs[0]!;
  const sizes = {
    batch: batch.map((c) => sizeOf(qk, so, c)),
    t: sizeOf(qk, so, t),
    s: sizeOf(qk, so, s),
    d: sizeOf(Q, qs, d),
    e: sizeOf(out.inputs[1]!, vs, es[0]!),
  };
  return {
    roles: {
      q: [...qs].map((c) => role(c)!),
      k: [...ks].map((c) => role(c)!),
      v: vRoles as Role[],
      scores,
      out: oRoles as Role[],
    },
    sizes,
  };
}

/** The head sizes D and E as constants up to MAX_HEAD (the tiles are local arrays), when they are. */
export function headSizes(m: AttentionMatch): { D: number; E: number } | undefined {
  const [D, E] = [dimConstValue(m.sizes.d), dimConstValue(m.sizes.e)];
  const ok = (x: number | undefined): x is number =>
    x !== undefined && Number.isSafeInteger(x) && x > 0 && x <= MAX_HEAD;
  return ok(D) && ok(E) ? { D, E } : undefined;
}

/** The largest head size the kernel takes (its tiles are BQ·D, BK·D and BQ·E floats per thread). */
const MAX_HEAD = 512;
