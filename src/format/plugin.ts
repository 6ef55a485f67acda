// The prettier plugin for `.fm` files: `prettier --plugin ./dist/src/format/plugin.js`.
//
// Comments go through prettier's attachment machinery, with our own rules (`attach`) so that
// a comment keeps its place between the same tokens and formatting twice changes nothing:
// a `//` comment is only ever printed as the last thing on its line.

import { util, type Parser, type ParserOptions, type Plugin, type Printer, type SupportLanguage } from 'prettier';
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
  markChains,
  printFm,
} from './printer.js';

/** The canonical layout is not configurable: these win over any prettier configuration. */
export const CANONICAL_OPTIONS = { printWidth: 100, tabWidth: 2, useTabs: false } as const;

function parse(text: string, options: ParserOptions<FmNode>): FmNode {
  Object.assign(options, CANONICAL_OPTIONS);
  const file = options.filepath ?? 'input.fm';
  const r = parseSource(file, text);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const lookup = (f: string) => (f === r.source.path ? r.source : undefined);
    throw new Error(errors.map((d) => renderDiagnostic(d, lookup)).join('\n\n'));
  }
  checkAnnotationsKept(r.ast, text, file);
  markChains(r.ast);
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
    const n = node as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
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

/**
 * Where a comment goes. A `//` comment is printed at the end of a line, so it must be attached
 * where a line break follows: after the node before it when only commas come between that
 * node and the next one (lists break there), before the next node otherwise (it is never
 * carried past an operator, `=`, `(` or `{`), and inside empty brackets and bodies.
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
  if (c.placement === 'remaining') return false; // inline `/* */`: prettier's default
  if (f && (c.placement === 'ownLine' || !p || /[^\s,]/.test(code(text, locEnd(p), locStart(f))))) {
    return util.addLeadingComment(descend(f), c);
  }
  if (p) return util.addTrailingComment(p, c);
  return false;
}

const printer: Printer<FmNode> = {
  print: printFm,
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
