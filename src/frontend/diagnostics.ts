// Diagnostics: the one error object shared by the CLI and the language server, and the
// renderer that turns it into `file:line:col: error FM0123: message` plus a code frame.

import { type Code, formatMessage } from './messages.js';
import type { SourceFile, Span } from './source.js';

export type Severity = 'error' | 'warning';

export interface Note {
  readonly message: string;
  readonly span: Span | undefined;
  /** Set on "in X, instantiated here" notes: the error was found in one instantiation. */
  readonly frame?: boolean;
}

export interface Diagnostic {
  readonly code: Code;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  readonly notes: readonly Note[];
  /** A suggestion shown as `help: ...`. */
  readonly help: string | undefined;
}

export function diag(
  code: Code,
  span: Span,
  args: readonly (string | number)[] = [],
  extra: { notes?: readonly Note[]; help?: string | undefined; severity?: Severity } = {},
): Diagnostic {
  return {
    code,
    severity: extra.severity ?? 'error',
    message: formatMessage(code, args),
    span,
    notes: extra.notes ?? [],
    help: extra.help,
  };
}

export function note(message: string, span?: Span): Note {
  return { message, span };
}

/**
 * Sorts by file, then position, then code, and drops repeats: the same error, or the same
 * code at the same place found again in another instantiation of a block (whose message
 * differs only by the hyperparameter values).
 */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const exact = new Set<string>();
  const framed = new Map<string, boolean>();
  const out: Diagnostic[] = [];
  for (const d of ds) {
    const at = `${d.span.file}\0${d.span.start}\0${d.span.end}\0${d.code}`;
    const key = `${at}\0${d.message}`;
    const hasFrame = d.notes.some((n) => n.frame);
    if (exact.has(key)) continue;
    if (framed.has(at) && (hasFrame || framed.get(at))) continue;
    exact.add(key);
    framed.set(at, (framed.get(at) ?? false) || hasFrame);
    out.push(d);
  }
  return out.sort(
    (a, b) =>
      (a.span.file < b.span.file ? -1 : a.span.file > b.span.file ? 1 : 0) ||
      a.span.start - b.span.start ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
}

const TAB = '    ';
const MAX_FRAME = 160;

/**
 * Control characters made visible: C0 except newline and tab, DEL, C1 and the bidirectional
 * controls (U+061C, U+200E/U+200F, U+202A–U+202E, U+2066–U+2069) become `\u001b`-style
 * escapes, so text from a .fm file or a file name (an ESC sequence, a BEL, a carriage return,
 * a RIGHT-TO-LEFT OVERRIDE that reorders what follows: "Trojan Source") can never drive the
 * terminal a diagnostic is printed on. Every rendered part goes through it.
 */
export function escapeControls(s: string): string {
  return s.replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Source text as a frame shows it: tabs expanded, control characters escaped. */
const shownText = (s: string): string => escapeControls(s.replace(/\t/g, TAB));

/** Renders one source line with a caret underline below the part covered by [start, end). */
function frame(src: SourceFile, span: Span): string[] {
  const { line, col } = src.lineCol(span.start);
  const text = src.lineText(line);
  const endOnLine = Math.min(span.end, span.start - (col - 1) + text.length);
  const width = Math.max(1, endOnLine - span.start);
  // Long lines (generated code, minified junk) are cut to a window around the span.
  const from = text.length > MAX_FRAME ? Math.max(0, col - 1 - 40) : 0;
  const to = text.length > MAX_FRAME ? Math.min(text.length, from + MAX_FRAME) : text.length;
  const cut = (from > 0 ? '…' : '') + text.slice(from, to) + (to < text.length ? '…' : '');
  const shown = shownText(cut);
  const before = shownText((from > 0 ? '…' : '') + text.slice(from, col - 1)).length;
  const under = shownText(text.slice(col - 1, Math.min(col - 1 + width, to))).length;
  const gutter = String(line).length;
  const pad = ' '.repeat(gutter);
  return [` ${String(line)} | ${shown}`, ` ${pad} | ${' '.repeat(before)}${'^'.repeat(Math.max(1, under))}`];
}

export type SourceLookup = (file: string) => SourceFile | undefined;

function location(span: Span, lookup: SourceLookup): string {
  const src = lookup(span.file);
  const file = escapeControls(span.file);
  if (!src) return file;
  const { line, col } = src.lineCol(span.start);
  return `${file}:${line}:${col}`;
}

/** The exact text a user sees for one diagnostic. */
export function renderDiagnostic(d: Diagnostic, lookup: SourceLookup): string {
  const out: string[] = [`${location(d.span, lookup)}: ${d.severity} ${d.code}: ${escapeControls(d.message)}`];
  const src = lookup(d.span.file);
  if (src) out.push(...frame(src, d.span));
  for (const n of d.notes) {
    if (n.span) {
      out.push(`${location(n.span, lookup)}: note: ${escapeControls(n.message)}`);
      const nsrc = lookup(n.span.file);
      if (nsrc) out.push(...frame(nsrc, n.span));
    } else {
      out.push(`  = note: ${escapeControls(n.message)}`);
    }
  }
  if (d.help) out.push(`  = help: ${escapeControls(d.help)}`);
  return out.join('\n');
}

/** JSON shape of a diagnostic for `fmc check --json` (1-based lines and columns). */
export function diagnosticToJson(d: Diagnostic, lookup: SourceLookup): object {
  const pos = (s: Span) => {
    const src = lookup(s.file);
    const a = src?.lineCol(s.start) ?? { line: 1, col: 1 };
    const b = src?.lineCol(s.end) ?? a;
    return { file: s.file, line: a.line, col: a.col, endLine: b.line, endCol: b.col };
  };
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    ...pos(d.span),
    notes: d.notes.map((n) => ({ message: n.message, ...(n.span ? pos(n.span) : {}) })),
    ...(d.help ? { help: d.help } : {}),
  };
}

/** Closest candidate by edit distance, for "did you mean" help. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const limit = Math.max(1, Math.floor(name.length / 3));
  for (const c of candidates) {
    if (c === name) continue;
    const dist = editDistance(name.toLowerCase(), c.toLowerCase());
    if (dist < bestD || (dist === bestD && best !== undefined && c < best)) {
      bestD = dist;
      best = c;
    }
  }
  if (bestD <= limit) return best;
  // An abbreviation of a longer name (`std/attn` for `std/attention`, `ln` for `layer_norm`).
  const lower = name.toLowerCase();
  const longer = [...candidates]
    .filter((c) => name.length >= 2 && c.length > name.length && abbreviates(lower, c.toLowerCase()))
    .sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  return longer[0];
}

/** Whether `short` is `long` with letters left out (same first letter). */
function abbreviates(short: string, long: string): boolean {
  if (short[0] !== long[0]) return false;
  let j = 0;
  for (const ch of long) if (ch === short[j]) j++;
  return j === short.length;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prevPrev: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      // An adjacent transposition counts as one edit.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, prevPrev[j - 2]! + 1);
      }
      cur.push(v);
    }
    prevPrev = prev;
    prev = cur;
  }
  return prev[b.length]!;
}
