// A picture as Graphviz DOT text: the same boxes, edges and nested block groups (clusters)
// as the SVG, for those who lay it out with Graphviz themselves.

import type { Picture, Unit, UnitKind } from './units.js';

const SHAPE: Readonly<Record<UnitKind, string>> = {
  input: 'shape=oval, style=filled, fillcolor="#cfe5ff"',
  output: 'shape=oval, style=filled, fillcolor="#d4f2d0"',
  param: 'shape=note, style=filled, fillcolor="#fff1c6"',
  layer: 'shape=box, style="rounded,filled", fillcolor="#ffe2cc"',
  call: 'shape=box, style="rounded,filled", fillcolor="#eadcff"',
  op: 'shape=box, style=filled, fillcolor="#f2f2f2"',
  collapsed: 'shape=box3d, style=filled, fillcolor="#ffe2cc"',
};

const q = (s: string): string => JSON.stringify(s);

/** Graphviz DOT; block groups nest as clusters (`blocks.3.attn` inside `blocks.3` inside `blocks`). */
export function pictureDot(p: Picture, fn: string): string {
  const lines = [
    `digraph ${q(fn)} {`,
    `  label=${q(p.title)}; labelloc=t; rankdir=TB; compound=true;`,
    '  node [fontname="monospace", fontsize=10];',
    '  edge [fontname="monospace", fontsize=8, arrowhead=normal];',
  ];
  const unitsIn = new Map<string, Unit[]>();
  for (const u of p.units) unitsIn.set(u.group, [...(unitsIn.get(u.group) ?? []), u]);
  const node = (u: Unit, pad: string): string =>
    `${pad}${u.id} [label=${q(u.sub ? `${u.label}\n${u.sub}` : u.label)}, tooltip=${q(u.tip)}, ${SHAPE[u.kind]}];`;
  const emit = (path: string, pad: string): void => {
    for (const u of unitsIn.get(path) ?? []) lines.push(node(u, pad));
    p.groups.forEach((g, i) => {
      if (g.parent !== path || g.path === '') return;
      lines.push(
        `${pad}subgraph cluster_${i} {`,
        `${pad}  label=${q(g.title)}; style="rounded"; tooltip=${q(g.path)};`,
      );
      emit(g.path, `${pad}  `);
      lines.push(`${pad}}`);
    });
  };
  emit('', '  ');
  for (const e of p.edges) lines.push(`  ${e.from} -> ${e.to} [label=${q(e.label)}];`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
