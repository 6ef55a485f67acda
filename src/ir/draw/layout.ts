// Places a picture's boxes with ELK (elkjs, the Eclipse Layout Kernel compiled to
// JavaScript): the layered algorithm top to bottom across nested groups, orthogonal edges
// with their shape labels placed beside them. Coordinates come back absolute.

import elk, { type ElkExtendedEdge, type ElkNode } from 'elkjs/lib/elk.bundled.js';
import { parentPath, type Picture, type Unit } from './units.js';

// The bundle is CommonJS: its module.exports is the constructor, with a `default` to itself.
const ELK = elk.default;

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}
export interface PlacedUnit extends Box {
  readonly unit: Unit;
}
export interface PlacedGroup extends Box {
  readonly path: string;
  readonly title: string;
  /** Nesting depth: 1 for a group at the top level. */
  readonly depth: number;
}
export interface PlacedEdge {
  readonly from: string;
  readonly to: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
  readonly label: string;
  readonly labelBox: Box | undefined;
}
export interface Layout {
  readonly title: string;
  readonly width: number;
  readonly height: number;
  readonly units: readonly PlacedUnit[];
  readonly groups: readonly PlacedGroup[];
  readonly edges: readonly PlacedEdge[];
}

/** Text metrics of the monospace fonts the SVG asks for (0.6 em per character, with a margin). */
export const FONT = { box: 12, sub: 10, edge: 9, title: 11 };
export const textWidth = (s: string, size: number): number => Math.ceil([...s].length * size * 0.62);
const PAD = 10;
const TITLE_H = 22;

export function unitSize(u: Unit): { w: number; h: number } {
  const w = Math.max(textWidth(u.label, FONT.box), textWidth(u.sub, FONT.sub)) + 2 * PAD;
  return { w: Math.max(w, 56), h: u.sub ? 38 : 26 };
}

const options = (extra: Record<string, string> = {}): Record<string, string> => ({
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.spacing.nodeNode': '18',
  'elk.layered.spacing.nodeNodeBetweenLayers': '26',
  'elk.layered.spacing.edgeNodeBetweenLayers': '12',
  'elk.spacing.edgeLabel': '2',
  'elk.edgeLabels.placement': 'CENTER',
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
  ...extra,
});

/** Lays a picture out (elkjs runs in this thread; bert's picture takes about a second). */
export async function layoutPicture(p: Picture): Promise<Layout> {
  const elkNodes = new Map<string, ElkNode>();
  const root: ElkNode = {
    id: 'root',
    layoutOptions: options({
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.json.shapeCoords': 'ROOT',
      'elk.json.edgeCoords': 'ROOT',
      'elk.padding': '[top=12,left=12,bottom=12,right=12]',
    }),
    children: [],
    edges: [],
  };
  elkNodes.set('', root);
  for (const g of p.groups) {
    const n: ElkNode = {
      id: `g:${g.path}`,
      layoutOptions: options({ 'elk.padding': `[top=${TITLE_H + 6},left=10,bottom=10,right=10]` }),
      children: [],
      edges: [],
      // The title must fit: a group is at least as wide as its title.
      width: textWidth(g.title, FONT.title) + 20,
    };
    n.layoutOptions!['elk.nodeSize.constraints'] = 'MINIMUM_SIZE';
    n.layoutOptions!['elk.nodeSize.minimum'] = `(${textWidth(g.title, FONT.title) + 20}, 40)`;
    elkNodes.set(g.path, n);
    elkNodes.get(g.parent)!.children!.push(n);
  }
  const groupOf = new Map<string, string>();
  for (const u of p.units) {
    const { w, h } = unitSize(u);
    elkNodes.get(u.group)!.children!.push({ id: u.id, width: w, height: h });
    groupOf.set(u.id, u.group);
  }
  p.edges.forEach((e, i) => {
    const edge: ElkExtendedEdge = {
      id: `e${i}`,
      sources: [e.from],
      targets: [e.to],
      labels: [{ text: e.label, width: textWidth(e.label, FONT.edge) + 4, height: FONT.edge + 3 }],
    };
    elkNodes.get(commonGroup(groupOf.get(e.from)!, groupOf.get(e.to)!))!.edges!.push(edge);
  });
  const out = await new ELK().layout(root);
  const units: PlacedUnit[] = [];
  const groups: PlacedGroup[] = [];
  const edges: PlacedEdge[] = [];
  const byId = new Map(p.units.map((u) => [u.id, u]));
  const titles = new Map(p.groups.map((g) => [`g:${g.path}`, g]));
  const visit = (n: ElkNode, depth: number): void => {
    for (const c of n.children ?? []) {
      const box = { x: c.x ?? 0, y: c.y ?? 0, w: c.width ?? 0, h: c.height ?? 0 };
      const g = titles.get(c.id);
      if (g) groups.push({ ...box, path: g.path, title: g.title, depth });
      else units.push({ ...box, unit: byId.get(c.id)! });
      visit(c, depth + 1);
    }
    for (const e of n.edges ?? []) {
      const s = e.sections?.[0];
      const pe = p.edges[Number(e.id.slice(1))]!;
      const points = s ? [s.startPoint, ...(s.bendPoints ?? []), s.endPoint] : [];
      const l = e.labels?.[0];
      const labelBox = l ? { x: l.x ?? 0, y: l.y ?? 0, w: l.width ?? 0, h: l.height ?? 0 } : undefined;
      edges.push({ from: pe.from, to: pe.to, points, label: pe.label, labelBox });
    }
  };
  visit(out, 1);
  return { title: p.title, width: Math.ceil(out.width ?? 0), height: Math.ceil(out.height ?? 0), units, groups, edges };
}

/** The innermost group holding both groups (where ELK wants an edge between them declared). */
function commonGroup(a: string, b: string): string {
  const up = (p: string): string[] => (p === '' ? [''] : [p, ...up(parentPath(p))]);
  const bs = new Set(up(b));
  return up(a).find((p) => bs.has(p)) ?? '';
}
