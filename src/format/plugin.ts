// The prettier plugin for `.fm` files: `prettier --plugin ./dist/src/format/plugin.js`.
//
// Comments: prettier finds the nodes around each one; `attach` decides where it belongs and
// `print` prints leading and trailing comments (a `//` comment always ends its line). Every
// comment is printed, and formatting twice changes nothing (test/format checks both on
// random programs with comments between any two tokens).

import {
  doc,
  util,
  type AstPath,
  type Doc,
  type Parser,
  type ParserOptions,
  type Plugin,
  type Printer,
  type SupportLanguage,
} from 'prettier';
import { renderDiagnostic } from '../frontend/diagnostics.js';
import { fmLexer } from '../frontend/lexer.js';
import { parseSource } from '../frontend/parse.js';
import {
  type FmComment,
  type FmNode,
  SPAN_KEYS,
  chained,
  code,
  commentText,
  isBlockComment,
  locEnd,
  locStart,
  lineEnds,
  lineStarts,
  prepare,
  printFm,
} from './printer.js';

const { hardline, lineSuffix, breakParent } = doc.builders;
type Print = Parameters<Printer<FmNode>['print']>[2];

/** The canonical layout is not configurable: these win over any prettier configuration. */
export const CANONICAL_OPTIONS = { printWidth: 100, tabWidth: 2, useTabs: false } as const;

function parse(text: string, options: ParserOptions<FmNode>): FmNode {
  Object.assign(options, CANONICAL_OPTIONS);
  const file = options.filepath ?? 'input.fm';
  const r = parseSource(file, text);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const lookup = (f: string) => (f === r.source.path ? r.source : undefined);
    const rendered = errors.map((d) => renderDiagnostic(d, lookup)).join('\n\n');
    // With `loc`, the prettier CLI reports the error without a stack trace (adding its own
    // code frame to the message; `diagnostics` keeps the text without it).
    const { line, col } = r.source.lineCol(errors[0]!.span.start);
    throw Object.assign(new Error(rendered), { loc: { start: { line, column: col } }, diagnostics: rendered });
  }
  checkAnnotationsKept(r.ast, text, file);
  prepare(r.ast);
  const comments: FmComment[] = r.comments.map((t) => ({
    type: t.image.startsWith('//') ? 'LineComment' : 'BlockComment',
    value: t.image,
    start: t.startOffset,
    end: t.startOffset + t.image.length,
  }));
  return Object.assign(r.ast as unknown as FmNode, { comments });
}

/**
 * The parser accepts annotations before `require` members but does not keep them in the
 * AST; formatting would silently delete them, so such files are refused.
 */
function checkAnnotationsKept(ast: unknown, text: string, file: string): void {
  const ats = fmLexer.tokenize(text).tokens.filter((t) => t.image.startsWith('@')).length;
  let kept = 0;
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) return x.forEach(walk);
    if (x === null || typeof x !== 'object') return;
    const n = x as Record<string, unknown>;
    if (n.kind === 'Annotation' || (n.kind === 'Binary' && n.op === '@')) kept++;
    for (const [k, v] of Object.entries(n)) if (!SPAN_KEYS.has(k)) walk(v);
  };
  walk(ast);
  if (kept !== ats) {
    throw new Error(`${file}: cannot format: an annotation before a \`require\` member is ignored by fmc; remove it`);
  }
}

interface Placed extends FmComment {
  placement: 'ownLine' | 'endOfLine' | 'remaining';
  enclosingNode?: FmNode;
  precedingNode?: FmNode;
  followingNode?: FmNode;
}

/** Nodes with a `{ body }`: comments in an empty body are printed inside it. */
const BODIES: Record<string, string> = { Block: 'members', Fn: 'body', Train: 'entries' };
/** Nodes ending in brackets that may be empty: comments in `f()`, `@a()`, `f32[]` go inside. */
const BRACKETS: Record<string, string> = {
  Call: 'args',
  Pipe: 'args',
  Child: 'args',
  Annotation: 'args',
  TensorType: 'dims',
};

/** A comment before `(`, `[` or `{` of a bracketed node goes inside, before its first child. */
function descend(node: FmNode): FmNode {
  for (;;) {
    const n = node as Record<string, any>;
    const first: FmNode | undefined =
      n.kind === 'Branch'
        ? (n.stmts[0] ?? n.value)
        : n.kind === 'List' || n.kind === 'Tuple' || n.kind === 'PatTuple'
          ? n.items[0]
          : n.kind === 'Paren'
            ? n.inner
            : undefined;
    if (!first) return node;
    node = first;
  }
}

const isEmpty = (n: FmNode, key: string | undefined) =>
  key !== undefined && (n[key] as unknown[] | undefined)?.length === 0;

/** Commas, binary operators and `|>` (after which, or before which, a list or chain breaks). */
const isSeparators = (code: string) =>
  !code.includes('->') && /^(?:\s|,|\|>|\*\*|==|!=|<=|>=|[-+*/%@<>]|\band\b|\bor\b)*$/.test(code);

/**
 * Where a comment goes. The choice depends on the tokens around the comment, not on line
 * breaks that the layout may move, so that formatting twice gives the same text:
 * - a `/* *\/` comment sticks to the node it touches (the next one when it touches both,
 *   unless that one starts a line and the comment ends the previous one's line);
 * - a `//` comment ends a line. It stays after the node before it when only commas, binary
 *   operators or `|>` come between (the layout breaks there), and before a list's closing
 *   bracket; otherwise it goes before the next node (inside it when that is bracketed), so
 *   it is never carried past `=`, `(`, `{` or a keyword;
 * - comments in empty brackets and bodies, and in tails that are not nodes (the message of
 *   `require`, the colons of a slice), are placed there.
 */
function attach(comment: unknown, text: string): boolean {
  const c = comment as Placed;
  const { enclosingNode: e, precedingNode: p, followingNode: f } = c;
  const anns = e?.annotations;
  const lastAnn = anns?.[anns.length - 1];
  if (e?.span && lastAnn && c.start >= lastAnn.span.end && c.end <= e.span.start) {
    return util.addTrailingComment(lastAnn, c); // between the annotations and the keyword
  }
  if (e && p && !f && (isEmpty(e, BODIES[e.kind ?? '']) || isEmpty(e, BRACKETS[e.kind ?? '']))) {
    return util.addDanglingComment(e, c, undefined); // in (or just before) an empty body or `()`
  }
  if (e?.kind === 'Require' && p && !f) return util.addDanglingComment(e, c, undefined); // before the message
  if (e?.kind === 'Slice' && !f) {
    c.inline = true; // before a slice's last `:`: printed after it, on the same line
    return util.addTrailingComment(e, c);
  }
  if (isBlockComment(c)) {
    const touchesP = p !== undefined && /^\s*$/.test(code(text, locEnd(p), c.start));
    const touchesF = f !== undefined && /^\s*$/.test(code(text, c.end, locStart(f)));
    const endsPLine =
      touchesP &&
      lineStarts.has(f!) &&
      !code(text, locEnd(p!), c.start).includes('\n') &&
      code(text, c.end, locStart(f!)).includes('\n');
    if (f && (touchesF ? !endsPLine : !touchesP)) return util.addLeadingComment(f, c);
    return p ? util.addTrailingComment(p, c) : false;
  }
  // A `//` comment on the line of the node before it, with only separators in between,
  // stays there when the layout breaks the line right after that node: in a list, before its
  // closing bracket, or at a binary operator or `|>`.
  if (f && p) {
    const before = code(text, locEnd(p), c.start);
    const after = code(text, c.end, locStart(f));
    if (!before.includes('\n') && isSeparators(before)) {
      if (/^[\s,]*[)\]]/.test(after)) return util.addTrailingComment(p, c);
      if (isSeparators(after) && (/\S/.test(before + after) || lineStarts.has(f))) return util.addTrailingComment(p, c);
    }
  }
  if (f) return util.addLeadingComment(descend(f), c);
  return p ? util.addTrailingComment(p, c) : false;
}

const blankAfter = (text: string, c: FmComment) => /^[ \t]*\n[ \t]*\n/.test(text.slice(c.end));

/** A leading comment: `//` ones and own-line block comments before a line-start node end the line. */
function printLeading(c: FmComment, node: FmNode, text: string): Doc {
  c.printed = true;
  const ownLine = util.hasNewline(text, c.start, { backwards: true }) && util.hasNewline(text, c.end);
  if (isBlockComment(c) && !(ownLine && lineStarts.has(node))) return [commentText(c), ' '];
  return [commentText(c), hardline, blankAfter(text, c) ? hardline : ''];
}

/** Trailing comments: inline, or at the end of the line, or on lines of their own after it. */
function printTrailing(cs: readonly FmComment[], node: FmNode, text: string): Doc[] {
  let pendingLine = false; // a `//` comment waits for the end of the line
  return cs.map((c) => {
    c.printed = true;
    const ownLine = !c.inline && util.hasNewline(text, c.start, { backwards: true });
    if (isBlockComment(c) && !(ownLine && lineEnds.has(node))) return [' ', commentText(c)];
    if (ownLine || pendingLine) {
      pendingLine = true;
      const blank = ownLine && util.isPreviousLineEmpty(text, c.start);
      return [lineSuffix([hardline, blank ? hardline : '', commentText(c)]), breakParent];
    }
    pendingLine = !isBlockComment(c);
    return [lineSuffix([' ', commentText(c)]), breakParent];
  });
}

function print(path: AstPath<FmNode>, options: ParserOptions<FmNode>, print: Print): Doc {
  const node = path.node;
  const printed = printFm(path, options, print);
  const cs = node.comments ?? [];
  if (cs.length === 0) return printed;
  const text = options.originalText;
  const leading = cs.filter((c) => c.leading).map((c) => printLeading(c, node, text));
  // Trailing comments, then dangling ones the node's printer did not place (printed alike).
  const trailing = printTrailing(
    cs.filter((c) => c.trailing || (!c.leading && !c.printed)),
    node,
    text,
  );
  return [leading, printed, trailing];
}

const printer: Printer<FmNode> = {
  print,
  willPrintOwnComments: () => true,
  printComment: (path) => commentText(path.node as unknown as FmComment),
  isBlockComment: (c) => isBlockComment(c as unknown as FmComment),
  canAttachComment: (n) => typeof n.kind === 'string' && n.kind !== 'File' && !chained.has(n),
  getVisitorKeys: (n, skip) =>
    Object.keys(n).filter(
      (k) => !SPAN_KEYS.has(k) && !skip.has(k) && k !== 'comments' && typeof n[k] === 'object' && n[k] !== null,
    ),
  handleComments: { ownLine: attach, endOfLine: attach, remaining: attach },
};

const fmParser: Parser<FmNode> = { parse, astFormat: 'fm-ast', locStart, locEnd };

export const languages: SupportLanguage[] = [{ name: 'fm', parsers: ['fm'], extensions: ['.fm'] }];
export const parsers = { fm: fmParser };
export const printers = { 'fm-ast': printer };

export const plugin: Plugin<FmNode> = { languages, parsers, printers };
export default plugin;
