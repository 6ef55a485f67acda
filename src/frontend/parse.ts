// Text → AST with syntax diagnostics: lexing, delimiter balance, parsing with recovery,
// and the CST → AST conversion. Never throws for any input text.

import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import { AstBuilder } from './ast-builder.js';
import { type Diagnostic, diag, note } from './diagnostics.js';
import { fmLexer, UnterminatedComment, UnterminatedStr } from './lexer.js';
import { fmParser } from './parser.js';
import { SourceFile, type Span } from './source.js';

export const MAX_FILE_BYTES = 4 * 1024 * 1024;
export const MAX_BRACKET_DEPTH = 128;
export const MAX_SYNTAX_ERRORS = 50;

export interface ParseResult {
  readonly source: SourceFile;
  readonly ast: A.File;
  /** Comment tokens, in order (for the formatter). */
  readonly comments: readonly IToken[];
  readonly diagnostics: readonly Diagnostic[];
}

const OPEN = new Map([
  ['(', ')'],
  ['[', ']'],
  ['{', '}'],
]);
const CLOSE = new Set([')', ']', '}']);

export function parseSource(path: string, text: string): ParseResult {
  const source = new SourceFile(path, text);
  const diagnostics: Diagnostic[] = [];
  const empty: A.File = { kind: 'File', items: [], span: source.span(0, text.length) };
  const sp = (start: number, end: number): Span => source.span(start, Math.min(end, text.length));

  if (text.length > MAX_FILE_BYTES) {
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    return {
      source,
      ast: empty,
      comments: [],
      diagnostics: [diag('FM0701', sp(0, 0), [mib(text.length), mib(MAX_FILE_BYTES)])],
    };
  }

  const lexed = fmLexer.tokenize(text);
  for (const e of lexed.errors) {
    const ch = text.codePointAt(e.offset) ?? 0;
    const shown =
      ch < 32 || ch === 0x7f
        ? `U+${ch.toString(16).toUpperCase().padStart(4, '0')}`
        : `\`${String.fromCodePoint(ch)}\``;
    diagnostics.push(diag('FM0100', sp(e.offset, e.offset + Math.max(1, e.length)), [shown]));
    if (diagnostics.length >= MAX_SYNTAX_ERRORS) break;
  }
  // An unterminated comment swallows the rest of the file: what is unclosed then is its fault.
  let swallowed = false;
  for (const t of lexed.groups.errors ?? []) {
    if (t.tokenType === UnterminatedComment) {
      diagnostics.push(diag('FM0101', sp(t.startOffset, t.startOffset + 2)));
      swallowed = true;
    }
  }
  // An unterminated string stays a string token (so parsing goes on) and is reported here.
  for (const t of lexed.tokens) {
    if (t.tokenType === UnterminatedStr) diagnostics.push(diag('FM0102', sp(t.startOffset, t.startOffset + t.image.length)));
  }
  const tokens = lexed.tokens;
  const comments = lexed.groups.comments ?? [];

  // Delimiter balance and nesting depth, before the (recursive) parser sees the tokens.
  const stack: IToken[] = [];
  let unclosed = false;
  for (const t of tokens) {
    if (OPEN.has(t.image)) {
      stack.push(t);
      if (stack.length > MAX_BRACKET_DEPTH) {
        diagnostics.push(diag('FM0109', sp(t.startOffset, t.startOffset + 1), [MAX_BRACKET_DEPTH]));
        return { source, ast: empty, comments, diagnostics };
      }
    } else if (CLOSE.has(t.image)) {
      // Pop to the matching opener when there is one; stray closers are the parser's to report.
      for (let i = stack.length - 1; i >= 0; i--) {
        if (OPEN.get(stack[i]!.image) === t.image) {
          stack.length = i;
          break;
        }
      }
    }
  }
  if (stack.length > 0 && swallowed) {
    unclosed = true;
  } else if (stack.length > 0) {
    unclosed = true;
    const open = stack[0]!;
    const more =
      stack.length > 1
        ? [
            note(
              `and ${stack.length - 1} more unclosed delimiter(s), the last here`,
              sp(stack.at(-1)!.startOffset, stack.at(-1)!.startOffset + 1),
            ),
          ]
        : [];
    diagnostics.push(
      diag('FM0105', sp(open.startOffset, open.startOffset + 1), [`\`${open.image}\``], {
        notes: more,
        help: `add \`${OPEN.get(open.image)}\` where it ends`,
      }),
    );
  }

  const parser = fmParser();
  parser.input = tokens;
  let cst;
  try {
    cst = parser.file();
  } catch (e) {
    if (e instanceof RangeError) {
      diagnostics.push(diag('FM0109', sp(0, 0), [MAX_BRACKET_DEPTH]));
      return { source, ast: empty, comments, diagnostics };
    }
    throw e;
  }
  let count = 0;
  for (const e of parser.errors) {
    const t = e.token;
    const atEof = !Number.isFinite(t.startOffset) || t.tokenType.name === 'EOF';
    if (atEof && unclosed) continue;
    const [expected = '', found = ''] = e.message.split('\u0000');
    const code = e.name === 'MismatchedTokenException' ? 'FM0103' : 'FM0104';
    const span = atEof ? sp(text.length, text.length) : sp(t.startOffset, (t.endOffset ?? t.startOffset) + 1);
    diagnostics.push(diag(code, span, [expected, found]));
    if (++count >= MAX_SYNTAX_ERRORS) {
      diagnostics.push(diag('FM0108', span, [MAX_SYNTAX_ERRORS]));
      break;
    }
  }
  const builder = new AstBuilder(path, text.length);
  let ast: A.File;
  try {
    ast = builder.file(cst);
  } catch (e) {
    if (e instanceof RangeError) {
      diagnostics.push(diag('FM0109', sp(0, 0), [MAX_BRACKET_DEPTH]));
      return { source, ast: empty, comments, diagnostics };
    }
    throw e;
  }
  diagnostics.push(...builder.diagnostics);
  return { source, ast, comments, diagnostics };
}
