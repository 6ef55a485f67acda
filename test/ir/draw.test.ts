// Pictures of seed models (`fmc inspect --graph`): facts about the layout that a person
// reading it relies on (arrows, no overlaps, groups around their boxes), the names of the
// boxes, the collapsed repeats, and a size bound for bert.

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerFile } from '../../src/frontend/lower.js';
import { drawModule, layoutPicture, layoutSvg, pictureOf } from '../../src/ir/draw/index.js';
import type { Layout } from '../../src/ir/draw/layout.js';
import type { Module } from '../../src/ir/module.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function lower(model: string): Module {
  const r = lowerFile(path.join(ROOT, 'models', `${model}.fm`));
  if (!r.ok) throw new Error(`${model} does not lower`);
  return r.lowered;
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}
const overlap = (a: Rect, b: Rect): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const inside = (a: Rect, b: Rect): boolean =>
  a.x >= b.x - 0.5 && a.y >= b.y - 0.5 && a.x + a.w <= b.x + b.w + 0.5 && a.y + a.h <= b.y + b.h + 0.5;

/** The layout facts: every check names what broke. */
function layoutFaults(l: Layout): string[] {
  const faults: string[] = [];
  const groups = new Map(l.groups.map((g) => [g.path, g]));
  const parent = (p: string): string => (p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '');
  // Siblings: the boxes and groups directly in one group.
  const siblings = new Map<string, { name: string; r: Rect }[]>();
  const add = (at: string, name: string, r: Rect) => siblings.set(at, [...(siblings.get(at) ?? []), { name, r }]);
  for (const u of l.units) add(u.unit.group, `${u.unit.label} ${u.unit.sub}`, u);
  for (const g of l.groups) add(parent(g.path), g.title, g);
  for (const [at, list] of siblings)
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++)
        if (overlap(list[i]!.r, list[j]!.r)) faults.push(`in '${at}': ${list[i]!.name} overlaps ${list[j]!.name}`);
  for (const u of l.units) {
    const g = groups.get(u.unit.group);
    if (u.unit.group !== '' && (!g || !inside(u, g)))
      faults.push(`${u.unit.label} is outside its group ${u.unit.group}`);
    if (!inside(u, { x: 0, y: 0, w: l.width, h: l.height })) faults.push(`${u.unit.label} is outside the picture`);
  }
  for (const g of l.groups) {
    const p = groups.get(parent(g.path));
    if (p && !inside(g, p)) faults.push(`group ${g.path} is outside ${p.path}`);
  }
  // Every edge ends on the border of its target box, coming from its source box.
  const box = new Map(l.units.map((u) => [u.unit.id, u]));
  for (const e of l.edges) {
    const [a, b] = [e.points[0], e.points[e.points.length - 1]];
    const [from, to] = [box.get(e.from)!, box.get(e.to)!];
    if (!a || !b) faults.push(`edge ${e.from} -> ${e.to} has no route`);
    else if (!inside({ x: a.x, y: a.y, w: 0, h: 0 }, from) || !inside({ x: b.x, y: b.y, w: 0, h: 0 }, to))
      faults.push(`edge ${e.from} -> ${e.to} does not join its boxes`);
  }
  return faults;
}

describe('graph pictures', () => {
  it('mlp: Linear and ReLU boxes, arrows on every edge, shapes on edges', async () => {
    const m = lower('mlp');
    const l = await layoutPicture(pictureOf(m));
    expect(layoutFaults(l)).toEqual([]);
    const labels = l.units.map((u) => u.unit.label);
    expect(labels).toEqual(['images', 'Linear', 'ReLU', 'Linear', 'ReLU', 'Linear', 'logits']);
    expect(l.units.map((u) => u.unit.kind)).toEqual(['input', 'layer', 'call', 'layer', 'call', 'layer', 'output']);
    expect(l.edges.map((e) => e.label)).toContain('f32[B, 512]');
    const svg = layoutSvg(l);
    const paths = svg.match(/<path class="edge"[^>]*>/g) ?? [];
    expect(paths.length).toBe(l.edges.length);
    expect(paths.length).toBe(6);
    for (const p of paths) expect(p).toContain('marker-end="url(#arrow)"');
    expect(svg).toContain('<marker id="arrow"');
    // Self-contained: nothing fetched from elsewhere.
    expect(svg).not.toMatch(/href=|@import|url\((?!#)/);
  });

  it('bert: nested block groups, repeats collapsed after the first, a page a person reads', async () => {
    const m = lower('bert');
    const p = pictureOf(m);
    const l = await layoutPicture(p);
    expect(layoutFaults(l)).toEqual([]);
    const titles = new Map(p.groups.map((g) => [g.path, g.title]));
    expect(titles.get('encoder')).toBe('encoder: repeat 4 × EncoderLayer');
    expect(titles.get('encoder.0.attn')).toBe('attn: MultiHeadAttention');
    expect(titles.has('encoder.1')).toBe(false);
    const collapsed = p.units.filter((u) => u.kind === 'collapsed').map((u) => u.sub);
    expect(collapsed).toEqual(['encoder.1 (collapsed)', 'encoder.2 (collapsed)', 'encoder.3 (collapsed)']);
    const labels = p.units.map((u) => u.label);
    for (const known of ['Embedding', 'LayerNorm', 'Linear', 'GELU', 'Attention', 'split heads', 'merge heads'])
      expect(labels).toContain(known);
    expect(p.units.filter((u) => u.kind === 'output').map((u) => u.label)).toEqual(['hidden', 'mlm_logits']);
    // Before elkjs: 16,550 × 16,532 px.
    expect(l.width).toBeLessThan(1200);
    expect(l.height).toBeLessThan(3600);
    // --expand draws every layer: four instance groups, nothing collapsed.
    const all = pictureOf(m, { expand: true });
    expect(all.units.some((u) => u.kind === 'collapsed')).toBe(false);
    expect(all.groups.filter((g) => /^encoder\.\d$/.test(g.path)).length).toBe(4);
  }, 60_000);

  it('moe_lm: a routing function that calls the experts is cut in two, without cycles', async () => {
    const p = pictureOf(lower('moe_lm'));
    expect(p.units.filter((u) => u.label === 'MoE routing' && u.group === 'blocks.0.moe').length).toBe(2);
    const ids = new Map(p.units.map((u, i) => [u.id, i]));
    // Boxes are in the order of their first node: an edge that goes back is a cycle.
    const back = p.edges.filter((e) => ids.get(e.from)! > ids.get(e.to)! && !e.to.startsWith('out'));
    expect(back).toEqual([]);
    expect(layoutFaults(await layoutPicture(p))).toEqual([]);
  }, 60_000);

  it('DOT nests block clusters as the SVG nests groups', async () => {
    const dot = await drawModule(lower('bert'), 'dot');
    const lines = dot.split('\n');
    const at = (s: string): number => lines.findIndex((l) => l.includes(s));
    const indent = (i: number): number => lines[i]!.length - lines[i]!.trimStart().length;
    const [enc, enc0, attn] = [
      at('label="encoder: repeat'),
      at('label="encoder.0: EncoderLayer"'),
      at('label="attn: '),
    ];
    expect(enc).toBeGreaterThan(0);
    expect(enc0).toBeGreaterThan(enc);
    expect(attn).toBeGreaterThan(enc0);
    expect(indent(enc0)).toBe(indent(enc) + 2);
    expect(indent(attn)).toBe(indent(enc0) + 2);
    expect(dot).toMatch(/-> u\d+ \[label="f32\[B, T, 256\]"\]/);
  }, 60_000);
});
