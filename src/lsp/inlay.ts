// Inlay hints: the dtype and shape the checker inferred for each name a `let` binds without
// a declared type, after the name (`let h: f32[B, T, 256] = ...`). The value is the one a
// hover leads with: the generic one (symbolic dims), or the only instantiation's; a binding
// whose value depends on the instantiation, or that holds no tensor, gets no hint.

import { type InlayHint, InlayHintKind } from 'vscode-languageserver';
import type { Module } from '../frontend/program.js';
import type { V } from '../frontend/types.js';
import type { Analysis } from './analysis.js';
import type { LineIndex } from './convert.js';
import { bindingValue } from './hover.js';
import { valueText } from './values.js';

/** The hints for the `let`s of `m` whose names lie in [start, end]. */
export function inlayHints(a: Analysis, m: Module, lines: LineIndex, start: number, end: number): InlayHint[] {
  const out: InlayHint[] = [];
  for (const d of a.index(m).defs) {
    if (d.kind !== 'let' || d.span.end < start || d.span.start > end) continue;
    if ((d.node.kind === 'Let' && d.node.type) || d.node.kind !== 'Let') continue;
    const v = bindingValue(a, d);
    if (!v || !holdsTensor(v)) continue;
    out.push({ position: lines.position(d.span.end), label: `: ${valueText(v)}`, kind: InlayHintKind.Type });
  }
  return out.sort((x, y) => x.position.line - y.position.line || x.position.character - y.position.character);
}

function holdsTensor(v: V): boolean {
  if (v.kind === 'tensor') return true;
  return (v.kind === 'tuple' || v.kind === 'list') && v.items.length > 0 && v.items.every(holdsTensor);
}
