// Pictures of a graph for `fmc inspect --graph`: Graphviz DOT text, and a self-contained
// SVG (layered by depth, no external tools) that an HTML page can wrap.

import { dimToString } from './dims.js';
import { type Graph, liveNodes, type Node } from './graph.js';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function label(n: Node): string {
  const what =
    n.op === 'unary' || n.op === 'binary' || n.op === 'reduce'
      ? `${n.op} ${n.args.fn}`
      : n.op === 'input'
        ? `input ${n.args.name}`
        : n.op === 'param'
          ? `${n.args.role} ${n.args.path}`
          : n.op === 'einsum'
            ? `einsum ${n.args.spec}`
            : n.op;
  return `${what}\n${n.type.dtype}[${n.type.shape.map(dimToString).join(', ')}]`;
}

/** Graphviz DOT; nodes grouped into clusters by their top-level block. */
export function toDot(g: Graph): string {
  const nodes = liveNodes(g);
  const id = new Map(nodes.map((n, i) => [n, i]));
  const lines = [
    `digraph ${JSON.stringify(g.name)} {`,
    '  rankdir=TB;',
    '  node [shape=box, fontname="monospace", fontsize=10];',
  ];
  const groups = new Map<string, Node[]>();
  for (const n of nodes) {
    const top = n.path.split('.')[0] ?? '';
    groups.set(top, [...(groups.get(top) ?? []), n]);
  }
  let c = 0;
  for (const [top, ns] of groups) {
    const body = ns.map((n) => `    n${id.get(n)} [label=${JSON.stringify(label(n))}];`);
    if (top) lines.push(`  subgraph cluster_${c++} {`, `    label=${JSON.stringify(top)};`, ...body, '  }');
    else lines.push(...body.map((b) => b.slice(2)));
  }
  for (const n of nodes) for (const i of n.inputs) lines.push(`  n${id.get(i)} -> n${id.get(n)};`);
  g.outputs.forEach((o, k) => {
    lines.push(
      `  out${k} [label=${JSON.stringify(`output ${o.name}`)}, shape=oval];`,
      `  n${id.get(o.node)} -> out${k};`,
    );
  });
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

const W = 170;
const H = 34;
const GAP_X = 20;
const GAP_Y = 30;

/** A standalone SVG: one row per depth (longest path from a leaf), edges as lines. */
export function toSvg(g: Graph): string {
  const nodes = liveNodes(g);
  const depth = new Map<Node, number>();
  for (const n of nodes) depth.set(n, n.inputs.length ? Math.max(...n.inputs.map((i) => depth.get(i)! + 1)) : 0);
  const rows: Node[][] = [];
  for (const n of nodes) (rows[depth.get(n)!] ??= []).push(n);
  const pos = new Map<Node, { x: number; y: number }>();
  rows.forEach((row, r) => row.forEach((n, i) => pos.set(n, { x: 10 + i * (W + GAP_X), y: 10 + r * (H + GAP_Y) })));
  const width = 20 + Math.max(1, ...rows.map((r) => r.length)) * (W + GAP_X);
  const height = 20 + rows.length * (H + GAP_Y);
  const parts: string[] = [];
  for (const n of nodes) {
    const b = pos.get(n)!;
    for (const i of n.inputs) {
      const a = pos.get(i)!;
      parts.push(`<line x1="${a.x + W / 2}" y1="${a.y + H}" x2="${b.x + W / 2}" y2="${b.y}" stroke="#999"/>`);
    }
  }
  const fill: Record<string, string> = { input: '#d6eaff', param: '#fff1c6', einsum: '#ffd9d2' };
  for (const n of nodes) {
    const { x, y } = pos.get(n)!;
    const [l1, l2] = label(n).split('\n');
    const title = n.path ? `${n.path}: ` : '';
    parts.push(
      `<g><title>${esc(title + label(n).replace('\n', ' '))}</title>` +
        `<rect x="${x}" y="${y}" width="${W}" height="${H}" rx="4" fill="${fill[n.op] ?? '#eeeeee'}" stroke="#555"/>` +
        `<text x="${x + 4}" y="${y + 14}" font-size="10" font-family="monospace">${esc(clip(l1!))}</text>` +
        `<text x="${x + 4}" y="${y + 27}" font-size="10" font-family="monospace">${esc(clip(l2!))}</text></g>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n${parts.join('\n')}\n</svg>\n`;
}

const clip = (s: string): string => (s.length > 27 ? `${s.slice(0, 26)}…` : s);

/** An HTML page holding the SVG (hover a box for its block path). */
export function toHtml(g: Graph, title: string): string {
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${esc(title)}</title></head>\n<body style="font-family:sans-serif">\n<h1>${esc(title)}</h1>\n<p>Blue: inputs, yellow: params, red: contractions. Hover a box for its block path.</p>\n${toSvg(g)}</body></html>\n`;
}
