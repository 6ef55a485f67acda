// Pictures of a model's graph for `fmc inspect --graph`: boxes people know (Linear, ReLU,
// Softmax) in nested block groups, laid out by ELK, as SVG, HTML or Graphviz DOT.
//   units.ts   what is drawn: boxes, edges, groups (no coordinates)
//   names.ts   the names of boxes and the shape labels of edges
//   layout.ts  coordinates, by elkjs
//   svg.ts     the SVG and the HTML page; dot.ts  the DOT text

import type { Module } from '../module.js';
import { pictureDot } from './dot.js';
import { layoutPicture } from './layout.js';
import { layoutHtml, layoutSvg } from './svg.js';
import { pictureOf, type PictureOptions } from './units.js';

export { layoutPicture, type Layout } from './layout.js';
export { pictureOf, type Picture, type PictureOptions } from './units.js';
export { layoutSvg } from './svg.js';

export type PictureFormat = 'dot' | 'svg' | 'html';

/** The picture of a module's graph in one format. */
export async function drawModule(m: Module, format: PictureFormat, opts: PictureOptions = {}): Promise<string> {
  const p = pictureOf(m, opts);
  if (format === 'dot') return pictureDot(p, m.graph.name);
  const svg = layoutSvg(await layoutPicture(p));
  return format === 'svg' ? svg : layoutHtml(p.title, svg);
}
