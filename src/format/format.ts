// Formatting `.fm` text with the prettier plugin, plus the check that the result is the same
// program: the formatted text must parse to the same AST (spans aside) with the same comments.

import { format } from 'prettier';
import { parseSource } from '../frontend/parse.js';
import { plugin, CANONICAL_OPTIONS } from './plugin.js';
import { SPAN_KEYS } from './printer.js';

/** Formatting produced a different program: a bug in the formatter, never the input's fault. */
export class FormatterBug extends Error {}

/** The canonical formatting of `text`; rejects with the rendered diagnostics on syntax errors. */
export async function formatFm(text: string, path = 'input.fm'): Promise<string> {
  let out: string;
  try {
    out = await format(text, { parser: 'fm', plugins: [plugin], filepath: path, ...CANONICAL_OPTIONS });
  } catch (e) {
    const diagnostics = (e as { diagnostics?: unknown }).diagnostics;
    throw typeof diagnostics === 'string' ? new Error(diagnostics) : e;
  }
  const why = sameProgram(text, out, path);
  if (why) throw new FormatterBug(`fmc fmt: internal error formatting ${path}: ${why}; the file was left unchanged`);
  return out;
}

/** Why `after` is not the same program as `before` (undefined when it is). */
export function sameProgram(before: string, after: string, path = 'input.fm'): string | undefined {
  const a = parseSource(path, before);
  const b = parseSource(path, after);
  if (b.diagnostics.some((d) => d.severity === 'error')) return 'the output has syntax errors';
  if (!deepEqual(stripSpans(a.ast), stripSpans(b.ast))) return 'the output parses to a different program';
  // Order may change (a `//` comment moves past an inline `/* */` to the end of its line).
  const ca = commentTexts(a.comments.map((t) => t.image)).sort();
  const cb = commentTexts(b.comments.map((t) => t.image)).sort();
  if (ca.join('\0') !== cb.join('\0')) return 'comments were lost or changed';
  return undefined;
}

/** Comment texts in a comparable form: line endings normalized, line comments right-trimmed. */
export function commentTexts(images: readonly string[]): string[] {
  return images.map((s) => {
    const t = s.replace(/\r\n?/g, '\n');
    return t.startsWith('//') ? t.trimEnd() : t;
  });
}

/** A deep copy without span fields (`span`, `opSpan`, `pathSpan`, `endSpan`, `callSpan`). */
export function stripSpans(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(stripSpans);
  if (x === null || typeof x !== 'object') return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) if (!SPAN_KEYS.has(k) && k !== 'comments') out[k] = stripSpans(v);
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
