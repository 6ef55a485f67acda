// A laid-out picture as a self-contained SVG (no fonts, scripts or styles from elsewhere:
// generic font families only), and the HTML page that holds it.

import { FONT, type Layout, type PlacedUnit } from './layout.js';
import type { UnitKind } from './units.js';

export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const STYLE: Readonly<Record<UnitKind, { fill: string; stroke: string; rx: number }>> = {
  input: { fill: '#cfe5ff', stroke: '#2f6db3', rx: 19 },
  output: { fill: '#d4f2d0', stroke: '#2f8a3a', rx: 19 },
  param: { fill: '#fff1c6', stroke: '#b38f1d', rx: 0 },
  layer: { fill: '#ffe2cc', stroke: '#c0662b', rx: 5 },
  call: { fill: '#eadcff', stroke: '#7a4fbf', rx: 5 },
  op: { fill: '#f2f2f2', stroke: '#777777', rx: 3 },
  collapsed: { fill: '#ffe2cc', stroke: '#c0662b', rx: 5 },
};
const GROUP_FILLS = ['#f7f9fc', '#eef3f9', '#e6edf6', '#dee7f2'];
const FAMILY = 'font-family="ui-monospace, Menlo, Consolas, \'DejaVu Sans Mono\', monospace"';
const n1 = (v: number): string => String(Math.round(v * 10) / 10);

function unitSvg(p: PlacedUnit): string {
  const { unit: u, x, y, w, h } = p;
  const s = STYLE[u.kind];
  const rx = Math.min(s.rx, h / 2);
  const parts = [`<g class="unit ${u.kind}"><title>${esc(u.tip)}</title>`];
  // A collapsed instance looks like a stack of cards.
  if (u.kind === 'collapsed')
    parts.push(
      `<rect x="${n1(x + 4)}" y="${n1(y - 4)}" width="${n1(w)}" height="${n1(h)}" rx="${rx}" fill="${s.fill}" stroke="${s.stroke}"/>`,
    );
  const dash = u.kind === 'param' ? ' stroke-dasharray="4 2"' : '';
  parts.push(
    `<rect x="${n1(x)}" y="${n1(y)}" width="${n1(w)}" height="${n1(h)}" rx="${rx}" fill="${s.fill}" stroke="${s.stroke}"${dash}/>`,
  );
  const cx = n1(x + w / 2);
  const first = u.sub ? y + 16 : y + h / 2 + 4;
  parts.push(
    `<text x="${cx}" y="${n1(first)}" text-anchor="middle" font-size="${FONT.box}" font-weight="bold">${esc(u.label)}</text>`,
  );
  if (u.sub)
    parts.push(
      `<text x="${cx}" y="${n1(y + 30)}" text-anchor="middle" font-size="${FONT.sub}" fill="#444">${esc(u.sub)}</text>`,
    );
  parts.push('</g>');
  return parts.join('');
}

/** The SVG of a laid-out picture: groups, boxes, then edges (with arrowheads) and their shape labels. */
export function layoutSvg(l: Layout): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height}" viewBox="0 0 ${l.width} ${l.height}" ${FAMILY}>`,
    `<title>${esc(l.title)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    `<rect width="${l.width}" height="${l.height}" fill="#ffffff"/>`,
  ];
  for (const g of l.groups) {
    const fill = GROUP_FILLS[Math.min(g.depth - 1, GROUP_FILLS.length - 1)];
    out.push(
      `<g class="group"><title>${esc(g.path)}</title><rect x="${n1(g.x)}" y="${n1(g.y)}" width="${n1(g.w)}" height="${n1(g.h)}" rx="6" fill="${fill}" stroke="#8da2bd"/>` +
        `<text x="${n1(g.x + 8)}" y="${n1(g.y + 16)}" font-size="${FONT.title}" font-weight="bold" fill="#2d4466">${esc(g.title)}</text></g>`,
    );
  }
  // Boxes before edges: an arrowhead is never hidden under a box's border (or a collapsed stack).
  for (const u of l.units) out.push(unitSvg(u));
  for (const e of l.edges) {
    if (e.points.length < 2) continue;
    const d = e.points.map((p, i) => `${i ? 'L' : 'M'}${n1(p.x)} ${n1(p.y)}`).join(' ');
    out.push(`<path class="edge" d="${d}" fill="none" stroke="#555" stroke-width="1.1" marker-end="url(#arrow)"/>`);
  }
  for (const e of l.edges) {
    const b = e.labelBox;
    if (!b) continue;
    out.push(
      `<g class="shape"><rect x="${n1(b.x)}" y="${n1(b.y)}" width="${n1(b.w)}" height="${n1(b.h)}" fill="#ffffff" fill-opacity="0.85"/>` +
        `<text x="${n1(b.x + 2)}" y="${n1(b.y + b.h - 3)}" font-size="${FONT.edge}" fill="#1f5f8b">${esc(e.label)}</text></g>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const LEGEND = [
  ['input', 'inputs'],
  ['output', 'outputs'],
  ['layer', 'layers (std and user blocks)'],
  ['call', 'function calls (ReLU, Softmax, ...)'],
  ['op', 'primitive ops'],
  ['param', 'params used directly'],
] as const;

/** An HTML page holding the SVG, with a legend; hover a box for where it comes from. */
export function layoutHtml(title: string, svg: string): string {
  const legend = LEGEND.map(
    ([k, text]) =>
      `<span style="display:inline-block;margin-right:14px"><span style="display:inline-block;width:12px;height:12px;border:1px solid ${STYLE[k].stroke};background:${STYLE[k].fill};vertical-align:middle"></span> ${text}</span>`,
  ).join('');
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${esc(title)}</title></head>\n<body style="font-family:sans-serif;margin:16px">\n<h1 style="font-size:20px">${esc(title)}</h1>\n<p style="font-size:13px">${legend}<br>Edges carry the producer's dtype and shape. Hover a box for its block path; repeated blocks after the first are drawn collapsed (<code>--expand</code> draws them all).</p>\n${svg}</body></html>\n`;
}
