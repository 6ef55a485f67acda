// Between the compiler's spans (display path + UTF-16 offsets) and LSP locations (URI +
// 0-based line/character, also UTF-16), and from the compiler's Diagnostic to the LSP one.

import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type Diagnostic as LspDiagnostic,
  DiagnosticSeverity,
  type DiagnosticRelatedInformation,
  type Location,
  type Position,
  type Range,
} from 'vscode-languageserver';
import type { Diagnostic } from '../frontend/diagnostics.js';
import type { Span } from '../frontend/source.js';
import { docLink } from './doc-links.js';

/** Where documents live: the absolute path a URI names, and back. */
export class Uris {
  /** URIs as the client spelled them, by absolute path (so replies reuse its spelling). */
  private readonly given = new Map<string, string>();

  constructor(readonly root: string) {}

  /** The absolute path of a document URI; documents that are not files get a path under the root. */
  toPath(uri: string): string {
    let abs: string;
    if (uri.startsWith('file:')) {
      abs = fileURLToPath(uri);
    } else {
      // `untitled:Untitled-1` and the like: a made-up path, so relative imports resolve from the root.
      const name = uri.replace(/^[a-z][\w+.-]*:/i, '').replace(/[^\w.-]+/g, '_') || 'untitled';
      abs = path.join(this.root, `${name}${name.endsWith('.fm') ? '' : '.fm'}`);
    }
    this.given.set(abs, uri);
    return abs;
  }

  toUri(abs: string): string {
    return this.given.get(abs) ?? pathToFileURL(abs).href;
  }

  /** How diagnostics name a file: relative to the root when inside it, like `fmc check` from there. */
  display(abs: string): string {
    const rel = path.relative(this.root, abs);
    return rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  }
}

/**
 * Line starts as LSP counts them: a line ends at `\n`, `\r\n` or a lone `\r` (SourceFile
 * counts `\n` only, which differs for old Mac line endings).
 */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 13 && text.charCodeAt(i + 1) === 10) continue;
      if (c === 10 || c === 13) this.starts.push(i + 1);
    }
  }

  position(offset: number): Position {
    const off = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= off) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: off - this.starts[lo]! };
  }

  /** The offset of a position (clamped to its line and into the text). */
  offset(pos: Position): number {
    if (pos.line < 0) return 0;
    const start = this.starts[pos.line];
    if (start === undefined) return this.text.length;
    let end = this.starts[pos.line + 1] ?? this.text.length;
    if (end > start && this.text.charCodeAt(end - 1) === 10) end--;
    if (end > start && this.text.charCodeAt(end - 1) === 13) end--;
    return Math.min(end, start + Math.max(0, pos.character));
  }

  range(span: { start: number; end: number }): Range {
    return { start: this.position(span.start), end: this.position(Math.max(span.start, span.end)) };
  }
}

export interface SpanResolver {
  /** The line index of a display path's text. */
  lines(file: string): LineIndex | undefined;
  /** The URI of a display path. */
  uri(file: string): string;
}

export function location(r: SpanResolver, span: Span): Location | undefined {
  const lines = r.lines(span.file);
  if (!lines) return undefined;
  return { uri: r.uri(span.file), range: lines.range(span) };
}

/**
 * The LSP form of a diagnostic: exactly the code and message of `fmc check`; notes become
 * related information (at their place, or at the diagnostic's when they have none), and so
 * does the help (`help: ...`).
 */
export function toLspDiagnostic(d: Diagnostic, r: SpanResolver, at?: { range: Range; prefix: string }): LspDiagnostic {
  const lines = r.lines(d.span.file);
  const related: DiagnosticRelatedInformation[] = [];
  const here = location(r, d.span);
  for (const n of d.notes) {
    const loc = n.span ? location(r, n.span) : undefined;
    if (loc) related.push({ location: loc, message: n.message });
    else if (here) related.push({ location: here, message: `note: ${n.message}` });
  }
  if (d.help && here) related.push({ location: here, message: `help: ${d.help}` });
  if (at && here) related.unshift({ location: here, message: d.message });
  const href = docLink(d.code);
  return {
    range: at?.range ?? lines?.range(d.span) ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    ...(href ? { codeDescription: { href } } : {}),
    source: 'fmc',
    message: (at?.prefix ?? '') + d.message,
    ...(related.length ? { relatedInformation: related } : {}),
  };
}
