// Quick fixes from the checker's help: "did you mean `x`?" replaces the misspelled name (an
// identifier, an `@annotation` or an import path), and "`softmax` is defined in `std/math`"
// imports the name from that module (added to an `import { ... }` of it, or a new import).

import { type CodeAction, CodeActionKind, type Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import type { Diagnostic } from '../frontend/diagnostics.js';
import type { Module } from '../frontend/program.js';
import type { Analysis } from './analysis.js';
import type { LineIndex } from './convert.js';
import { importEdit, type TextChange } from './imports.js';

/** The quick fixes for the diagnostics of `m` that overlap [start, end]. */
export function codeActions(
  a: Analysis,
  m: Module,
  lines: LineIndex,
  uri: string,
  start: number,
  end: number,
  lsp: (d: Diagnostic) => LspDiagnostic,
): CodeAction[] {
  const out: CodeAction[] = [];
  const text = m.parse.source.text;
  for (const d of a.diagnostics) {
    if (d.span.file !== m.path || d.span.end < start || d.span.start > end || !d.help) continue;
    const fix = quickFix(d, m, text);
    if (!fix) continue;
    out.push({
      title: fix.title,
      kind: CodeActionKind.QuickFix,
      diagnostics: [lsp(d)],
      isPreferred: true,
      edit: { changes: { [uri]: [{ range: lines.range(fix.change), newText: fix.change.newText }] } },
    });
  }
  return out;
}

function quickFix(d: Diagnostic, m: Module, text: string): { title: string; change: TextChange } | undefined {
  const written = text.slice(d.span.start, d.span.end);
  const std = /^`([^`]+)` is defined in `(std\/[\w/]+)`/.exec(d.help ?? '');
  if (std && std[1] === written) {
    const change = importEdit(m, written, std[2]!);
    return change ? { title: `Import \`${written}\` from "${std[2]}"`, change } : undefined;
  }
  const mean = /did you mean `([^`]+)`\?/.exec(d.help ?? '');
  if (!mean) return undefined;
  const s = mean[1]!.replace(/\(\)$/, '');
  let newText: string | undefined;
  if (/^[A-Za-z_]\w*$/.test(written) && /^[A-Za-z_]\w*$/.test(s)) newText = s;
  else if (/^@[A-Za-z_]\w*$/.test(written) && /^@[A-Za-z_]\w*$/.test(s)) newText = s;
  else if (/^"[^"]*"$/.test(written) && !s.includes('"')) newText = JSON.stringify(s);
  if (newText === undefined || newText === written) return undefined;
  return {
    title: `Change \`${written}\` to \`${newText.replace(/^"|"$/g, '')}\``,
    change: { start: d.span.start, end: d.span.end, newText },
  };
}
