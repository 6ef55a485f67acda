// What a picture of a graph shows, before any layout: boxes (units) in nested block groups,
// and edges between boxes labelled with the tensor that flows. Primitive nodes are gathered
// into the things a person wrote: a leaf block (Linear, LayerNorm, Embedding, Conv2d) is one
// box named by its type; a call of a std or user function in a block's own code (relu,
// masked_softmax, split_heads) is one box named by the function; what is left is one box per
// primitive. Instances 1, 2, ... of a `repeat`/`stack` member are one box each unless
// `expand` is set. Scalar constants are not drawn.

import { type Graph, liveNodes, type Node, provenance } from '../graph.js';
import type { BlockInfo, Module } from '../module.js';
import { callName, opName, typeText } from './names.js';
import { splitStages } from './stages.js';

export type UnitKind = 'input' | 'output' | 'param' | 'layer' | 'call' | 'op' | 'collapsed';

export interface Unit {
  readonly id: string;
  readonly kind: UnitKind;
  /** The name shown in bold (`Linear`, `ReLU`, `tokens`). */
  readonly label: string;
  /** A second line (the member name `q`, `input`), '' for none. */
  readonly sub: string;
  /** The block path of the group the box sits in ('' for the top level). */
  readonly group: string;
  /** Hover text: where it comes from, what is inside. */
  readonly tip: string;
}

export interface UnitEdge {
  readonly from: string;
  readonly to: string;
  /** The producer's type (`f32[B, T, 256]`). */
  readonly label: string;
}

export interface Group {
  readonly path: string;
  /** The enclosing group's path ('' for the top level). */
  readonly parent: string;
  readonly title: string;
}

export interface Picture {
  readonly title: string;
  readonly units: readonly Unit[];
  readonly edges: readonly UnitEdge[];
  /** Every group, enclosing ones before the groups inside them. */
  readonly groups: readonly Group[];
}

export interface PictureOptions {
  /** Draw every instance of a repeated block, not only the first. */
  readonly expand?: boolean;
  /** Concrete sizes of the dims: edges then show `f32[2, 16, 256]`. */
  readonly dims?: ReadonlyMap<string, number>;
}

export const parentPath = (p: string): string => (p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '');
const lastName = (p: string): string => p.slice(p.lastIndexOf('.') + 1);
/** `q`, or `layers.3` for an instance of a repeated block (its name alone is a number). */
const memberName = (p: string): string => (/^\d+$/.test(lastName(p)) ? p.split('.').slice(-2).join('.') : lastName(p));
/** Long symbolic shapes (`f32[B, floor((256*T + 799)/800), 512]`) are cut: --dims gives short concrete ones. */
const clip = (s: string): string => ([...s].length > 32 ? `${[...s].slice(0, 30).join('')}…]` : s);
const hidden = (n: Node): boolean => n.op === 'full' || n.op === 'dim';

/** The picture of a module's graph: its boxes, edges and block groups. */
export function pictureOf(m: Module, opts: PictureOptions = {}): Picture {
  const g: Graph = m.graph;
  const nodes = liveNodes(g);
  const blocks = m.blocks ?? derivedBlocks(nodes);
  const info = (p: string): BlockInfo | undefined => blocks.get(p);
  const paths = new Set([...blocks.keys(), ...nodes.map((n) => n.path)]);
  const hasChild = new Set<string>();
  for (const p of paths) for (let q = p; q !== '';) hasChild.add((q = parentPath(q)));
  const isLeaf = (p: string): boolean => p !== '' && !hasChild.has(p);
  /** The outermost instance (index ≥ 1 of a repeated member) enclosing `p`, when not expanded. */
  const collapsedAt = (p: string): string | undefined => {
    if (opts.expand) return undefined;
    const parts = p ? p.split('.') : [];
    for (let k = 1; k <= parts.length; k++) {
      const at = parts.slice(0, k).join('.');
      if (info(parentPath(at))?.count !== undefined && Number(parts[k - 1]) >= 1) return at;
    }
    return undefined;
  };
  // The key each node's box is found by; layer and call keys are split below into connected parts.
  const base = new Map<Node, string>();
  for (const n of nodes) {
    if (hidden(n)) continue;
    const c = collapsedAt(n.path);
    if (n.op === 'input') base.set(n, `in:${n.id}`);
    else if (c !== undefined) base.set(n, `col:${c}`);
    else if (isLeaf(n.path)) base.set(n, `layer:${n.path}`);
    else if (n.op === 'param') base.set(n, `param:${n.id}`);
    else {
      const fn = ownScope(n, info(n.path))[0];
      base.set(n, fn === undefined ? `op:${n.id}` : `call:${n.path}/${fn}`);
    }
  }
  splitStages(nodes, base);
  // Two calls of one function in one block are two boxes: split by connectivity (params and
  // constants shared by both do not join them).
  const root = new Map<Node, Node>();
  const find = (n: Node): Node => {
    let r = n;
    while (root.get(r) !== r) r = root.get(r)!;
    root.set(n, r);
    return r;
  };
  for (const n of nodes) if (base.has(n)) root.set(n, n);
  for (const n of nodes) {
    if (!base.has(n) || n.op === 'param') continue;
    for (const i of n.inputs)
      if (i.op !== 'param' && base.get(i) === base.get(n)) {
        const [a, b] = [find(i), find(n)];
        if (a !== b) root.set(b, a);
      }
  }
  const key = new Map<Node, string>();
  const firstOf = new Map<string, string>();
  for (const n of nodes)
    if (base.has(n) && n.op !== 'param') {
      key.set(n, `${base.get(n)}#${find(n).id}`);
      if (!firstOf.has(base.get(n)!)) firstOf.set(base.get(n)!, key.get(n)!);
    }
  // A layer's params join the box of their first user inside the layer (or its first box).
  const users = new Map<Node, Node[]>();
  for (const n of nodes) for (const i of n.inputs) users.set(i, [...(users.get(i) ?? []), n]);
  for (const n of nodes) {
    if (n.op !== 'param' || !base.has(n)) continue;
    const b = base.get(n)!;
    const user = users.get(n)?.find((u) => base.get(u) === b);
    key.set(n, user ? key.get(user)! : (firstOf.get(b) ?? `${b}#${n.id}`));
  }
  // Boxes, in topological order of their first node.
  const members = new Map<string, Node[]>();
  for (const n of nodes) if (key.has(n)) members.set(key.get(n)!, [...(members.get(key.get(n)!) ?? []), n]);
  const units: Unit[] = [];
  const unitOf = new Map<string, Unit>();
  for (const [k, ns] of members) {
    const u = makeUnit(`u${units.length}`, k, ns, info, opts);
    units.push(u);
    unitOf.set(k, u);
  }
  const edges = new Map<string, UnitEdge>();
  const link = (from: Unit, to: Unit, n: Node): void => {
    const id = `${from.id}>${to.id}`;
    if (from !== to && !edges.has(id)) edges.set(id, { from: from.id, to: to.id, label: clip(typeText(n, opts.dims)) });
  };
  // A value every repeated instance reads (a mask, positions: built once, in the first) is
  // drawn into the first collapsed instance only, not as one long line to each.
  const intoCollapsed = new Map<Node, Unit>();
  for (const n of nodes)
    for (const i of n.inputs) {
      if (!key.has(n) || !key.has(i)) continue;
      const [from, to] = [unitOf.get(key.get(i)!)!, unitOf.get(key.get(n)!)!];
      if (to.kind !== 'collapsed' || from.kind === 'collapsed') link(from, to, i);
      else if (!intoCollapsed.has(i) || Number(to.id.slice(1)) < Number(intoCollapsed.get(i)!.id.slice(1)))
        intoCollapsed.set(i, to);
    }
  for (const [i, to] of intoCollapsed) link(unitOf.get(key.get(i)!)!, to, i);
  g.outputs.forEach((o, k) => {
    const u: Unit = { id: `out${k}`, kind: 'output', label: o.name, sub: 'output', group: '', tip: `output ${o.name}` };
    units.push(u);
    const from = key.get(o.node);
    if (from !== undefined) link(unitOf.get(from)!, u, o.node);
  });
  return { title: `${m.model}.${g.name}`, units, edges: [...edges.values()], groups: groupsOf(units, info) };
}

/**
 * The scope of a node with the leading calls of its own block's `forward*` functions
 * (`forward_masked`, which `forward_padded` calls) left out: they are the block itself.
 * Its other functions (`route_capacity`) are boxes of their own.
 */
function ownScope(n: Node, block: BlockInfo | undefined): string[] {
  const parts = n.scope ? n.scope.split('/') : [];
  let k = 0;
  while (k < parts.length && parts[k]!.startsWith('forward') && block?.fns.includes(parts[k]!)) k++;
  return parts.slice(k);
}

function makeUnit(
  id: string,
  key: string,
  ns: readonly Node[],
  info: (p: string) => BlockInfo | undefined,
  opts: PictureOptions,
): Unit {
  const kind = key.slice(0, key.indexOf(':'));
  const rest = key.slice(key.indexOf(':') + 1, key.lastIndexOf('#')).replace(/@\d+$/, '');
  const first = ns[0]!;
  const ops = ns.filter((n) => n.op !== 'param');
  const params = ns.filter((n) => n.op === 'param').map((n) => `${n.op === 'param' ? n.args.path : ''} ${typeText(n)}`);
  const inside = `${ops.length} op${ops.length === 1 ? '' : 's'}${params.length ? `; params: ${params.join(', ')}` : ''}`;
  switch (kind) {
    case 'in':
      return {
        id,
        kind: 'input',
        label: first.op === 'input' ? first.args.name : '',
        sub: 'input',
        group: '',
        tip: `input ${typeText(first, opts.dims)}`,
      };
    case 'col':
      return {
        id,
        kind: 'collapsed',
        label: info(rest)?.type ?? lastName(rest),
        sub: `${memberName(rest)} (collapsed)`,
        group: parentPath(rest),
        tip: `${rest}: ${inside} (--expand draws it)`,
      };
    case 'layer':
      return {
        id,
        kind: 'layer',
        label: info(rest)?.type ?? lastName(rest),
        sub: memberName(rest),
        group: parentPath(rest),
        tip: `${rest}: ${inside}`,
      };
    case 'param': {
      const p = first.op === 'param' ? first.args : undefined;
      return {
        id,
        kind: 'param',
        label: lastName(p?.path ?? ''),
        sub: p?.role ?? 'param',
        group: first.path,
        tip: `${p?.path} ${typeText(first)}`,
      };
    }
    case 'call': {
      const fn = rest.slice(rest.indexOf('/') + 1);
      return {
        id,
        kind: 'call',
        label: callName(fn),
        sub: '',
        group: first.path,
        tip: `${provenance(first)}: ${inside}`,
      };
    }
    default:
      return {
        id,
        kind: 'op',
        label: opName(first),
        sub: '',
        group: first.path,
        tip: `${provenance(first) || 'top level'}: ${first.op}`,
      };
  }
}

function groupsOf(units: readonly Unit[], info: (p: string) => BlockInfo | undefined): Group[] {
  const paths = new Set<string>();
  for (const u of units) for (let p = u.group; p !== ''; p = parentPath(p)) paths.add(p);
  return [...paths]
    .sort((a, b) => a.split('.').length - b.split('.').length || a.localeCompare(b, 'en', { numeric: true }))
    .map((path) => {
      const b = info(path);
      const title = !b
        ? memberName(path)
        : b.count !== undefined
          ? `${lastName(path)}: ${b.mode ?? 'repeat'} ${b.count} × ${b.type}`
          : `${memberName(path)}: ${b.type}`;
      return { path, parent: parentPath(path), title };
    });
}

/** Block paths from the nodes alone (a module not lowered from source): every prefix, typed by its name. */
function derivedBlocks(nodes: readonly Node[]): Map<string, BlockInfo> {
  const out = new Map<string, BlockInfo>();
  for (const n of nodes) for (let p = n.path; p !== ''; p = parentPath(p)) out.set(p, { type: lastName(p), fns: [] });
  return out;
}
