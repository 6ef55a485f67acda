// Text → AST with syntax diagnostics: lexing, delimiter balance, parsing with recovery,
// and the CST → AST conversion. Never throws for any input text.

import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import { AstBuilder } from './ast-builder.js';
import { type Diagnostic, diag, note } from './diagnostics.js';
import { fmLexer, UnterminatedComment, UnterminatedStr } from './lexer.js';
import { fmParser } from './parser.js';
import { SourceFile, type Span } from './source.js';

export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_BRACKET_DEPTH = 64;
export const MAX_SYNTAX_ERRORS = 50;

export interface ParseResult {
  readonly source: SourceFile;
  readonly ast: A.File;
  /** Comment tokens, in order (for the formatter). */
  readonly comments: readonly IToken[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Tokens that start a declaration or a block member: where recovery is back in step. */
const SYNC = new Set(['import', 'const', 'fn', 'block', 'model', 'param', 'buffer', 'train']);
/** Statement keywords: back in step when one starts a line. */
const STMT = new Set(['let', 'return', 'set', 'require']);
/** Habits from other languages, and what .fm says instead. */
const FOREIGN = new Map([
  ['def', 'functions are declared with `fn`'],
  ['class', 'reusable units are declared with `block` (or `model` for a compilation root)'],
  ['self', 'members are in scope by name: write `proj(x)`, not `self.proj(x)`'],
  ['var', 'bindings are declared with `let`'],
  ['val', 'bindings are declared with `let`'],
  [';', 'statements need no `;`'],
]);

/** A token's offset; the EOF token (NaN) sorts last. */
function offsetOf(t: IToken): number {
  return Number.isFinite(t.startOffset) ? t.startOffset : Infinity;
}

function startsLine(text: string, prev: IToken | undefined, t: IToken): boolean {
  const from = prev ? prev.startOffset + prev.image.length : 0;
  return text.slice(from, t.startOffset).includes('\n');
}

const OPEN = new Map([
  ['(', ')'],
  ['[', ']'],
  ['{', '}'],
]);
const CLOSE = new Set([')', ']', '}']);

/** A byte count as a user reads it in FM0701: `4.2 MiB`. */
export function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function parseSource(path: string, text: string): ParseResult {
  const source = new SourceFile(path, text);
  const diagnostics: Diagnostic[] = [];
  const empty: A.File = { kind: 'File', items: [], span: source.span(0, text.length) };
  const sp = (start: number, end: number): Span => source.span(start, Math.min(end, text.length));

  if (text.length > MAX_FILE_BYTES) {
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
      ch < 32 || ch === 0x7f || ch === 0x60
        ? `U+${ch.toString(16).toUpperCase().padStart(4, '0')}${ch === 0x60 ? ' (a backtick)' : ''}`
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
    if (t.tokenType === UnterminatedStr)
      diagnostics.push(diag('FM0102', sp(t.startOffset, t.startOffset + t.image.length)));
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
  // After a syntax error the parser's recovery often misreads what follows (a function
  // body as block members): report the next error only after a token that starts a new
  // declaration or member, where the parser is back in step.
  const syncPoints = tokens
    .filter(
      (t, i) =>
        SYNC.has(t.image) || t.image.startsWith('@') || (STMT.has(t.image) && startsLine(text, tokens[i - 1], t)),
    )
    .map((t) => t.startOffset);
  const prevToken = new Map(tokens.map((t, i) => [t.startOffset, tokens[i - 1]]));
  let lastKept = -1;
  let count = 0;
  for (const e of [...parser.errors].sort((a, b) => offsetOf(a.token) - offsetOf(b.token))) {
    const t = e.token;
    const atEof = !Number.isFinite(t.startOffset) || t.tokenType.name === 'EOF';
    if (atEof && unclosed) continue;
    const at = atEof ? text.length : t.startOffset;
    if (lastKept >= 0 && !syncPoints.some((p) => p > lastKept && p <= at)) continue;
    lastKept = at;
    const [expected = '', found = ''] = e.message.split('\u0000');
    const code = e.name === 'MismatchedTokenException' ? 'FM0103' : 'FM0104';
    const span = atEof ? sp(text.length, text.length) : sp(t.startOffset, (t.endOffset ?? t.startOffset) + 1);
    const foreign = FOREIGN.get(t.image) ?? FOREIGN.get(prevToken.get(t.startOffset)?.image ?? '');
    diagnostics.push(diag(code, span, [expected, found], { help: foreign }));
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
