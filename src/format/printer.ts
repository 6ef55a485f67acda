// The canonical `.fm` layout as prettier docs. The printer never adds, drops or reorders a
// token in a way that changes the parse: parentheses are `Paren` nodes and are printed as
// written, numbers keep their source text, strings are re-escaped to the same value, and
// trailing commas are added only where the grammar allows them (hyperparameters, fn params,
// results, call args). plugin.ts attaches comments and prints leading and trailing ones;
// comments inside empty brackets and bodies are printed here.

import { doc, util, type AstPath, type Doc, type ParserOptions } from 'prettier';
import type * as A from '../frontend/ast.js';
import type { Span } from '../frontend/source.js';

const { group, indent, line, softline, hardline, join, ifBreak, breakParent } = doc.builders;

/** A comment as handed to prettier (converted from the lexer's comment tokens). */
export interface FmComment {
  readonly type: 'LineComment' | 'BlockComment';
  readonly value: string;
  readonly start: number;
  readonly end: number;
  leading?: boolean;
  trailing?: boolean;
  printed?: boolean;
  /** Printed on the line of the node it trails, even if it was on a line of its own. */
  inline?: boolean;
}

/** Any AST node (or the `{key, value, span}` train entries), as prettier sees it. */
export interface FmNode {
  readonly kind?: string;
  readonly span?: Span;
  readonly annotations?: readonly A.Annotation[];
  comments?: FmComment[];
  readonly [key: string]: unknown;
}

// prettier's AstPath typing is per key; the printer switches on `kind` and reads fields loosely.
type Path = AstPath<any>;
type Print = (selector?: string | number | (string | number)[] | Path) => Doc;

/** Nodes printed as part of their parent's chain (`a + b + c`, `x |> f |> g`). */
export const chained = new WeakSet<object>();

const PREC: Record<A.BinaryOp, number> = {
  or: 1,
  and: 2,
  '==': 4,
  '!=': 4,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
  '@': 6,
  '**': 8,
};

/** Nodes that always start (end) an output line: comments next to them keep their own line. */
export const lineStarts = new WeakSet<object>();
export const lineEnds = new WeakSet<object>();

/**
 * Marks the nested left operands of same-precedence binary chains and pipe chains, and the
 * nodes printed at the start or end of a line.
 */
export function prepare(node: unknown): void {
  if (Array.isArray(node)) {
    for (const x of node) prepare(x);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const n = node as any;
  const both = (xs: readonly object[]) => {
    for (const x of xs) {
      lineStarts.add(x);
      lineEnds.add(x);
    }
  };
  if (n.kind === 'Binary') {
    if (n.left.kind === 'Binary' && n.op !== '**' && PREC[n.left.op as A.BinaryOp] === PREC[n.op as A.BinaryOp]) {
      chained.add(n.left);
    }
  } else if (n.kind === 'Pipe') {
    if (n.value.kind === 'Pipe') chained.add(n.value);
  } else if (n.kind === 'File') both(n.items);
  else if (n.kind === 'Block') both(n.members);
  else if (n.kind === 'Fn') both(n.body);
  else if (n.kind === 'Branch' && n.stmts.length > 0) {
    both(n.stmts);
    lineStarts.add(n.value);
  } else if (n.kind === 'Train') {
    for (const e of n.entries) {
      lineStarts.add(e.key);
      lineEnds.add(e.value);
    }
  }
  if (n.annotations) both(n.annotations);
  for (const k of Object.keys(n)) if (!SPAN_KEYS.has(k) && k !== 'comments') prepare(n[k]);
}

export const SPAN_KEYS = new Set(['span', 'opSpan', 'pathSpan', 'endSpan', 'callSpan']);

export function locStart(n: FmNode | FmComment): number {
  if ('span' in n && n.span) return Math.min(n.annotations?.[0]?.span.start ?? Infinity, n.span.start);
  return (n as FmComment).start;
}

export function locEnd(n: FmNode | FmComment): number {
  return 'span' in n && n.span ? n.span.end : (n as FmComment).end;
}

/** The source between two offsets with comments blanked out (where no strings occur). */
export function code(text: string, from: number, to: number): string {
  return text.slice(from, to).replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, ' ');
}

export function isBlockComment(c: FmComment): boolean {
  return c.type === 'BlockComment';
}

export function commentText(c: FmComment): string {
  return c.type === 'LineComment' ? c.value.trimEnd() : c.value;
}

/** Prints a comment that prettier did not place (dangling) and marks it printed. */
export function own(c: FmComment): Doc {
  c.printed = true;
  return commentText(c);
}

export function dangling(node: FmNode): FmComment[] {
  return (node.comments ?? []).filter((c) => !c.leading && !c.trailing && !c.printed);
}

export function quote(s: string): string {
  const esc: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t' };
  return `"${s.replace(/[\\"\n\t]/g, (c) => esc[c]!)}"`;
}

/**
 * `open items close`, one item per line with a trailing comma (where allowed) when too long.
 * `owner`'s dangling comments are printed between empty brackets.
 */
function list(open: string, items: Doc[], close: string, trailingComma: boolean, owner?: FmNode): Doc {
  const inside = items.length === 0 && owner ? dangling(owner) : [];
  if (inside.length > 0) {
    const lineComment = inside.some((c) => !isBlockComment(c));
    return group([
      open,
      indent([softline, join(line, inside.map(own))]),
      softline,
      close,
      lineComment ? breakParent : '',
    ]);
  }
  if (items.length === 0) return [open, close];
  const sep = [',', line];
  return group([open, indent([softline, join(sep, items)]), trailingComma ? ifBreak(',') : '', softline, close]);
}

/** Whether a node's leading comments include a `//` one, which puts the node on a new line. */
function startsOnNewLine(node: unknown): boolean {
  return ((node as FmNode | undefined)?.comments ?? []).some((c) => c.leading && !isBlockComment(c));
}

/** Prints one node (its leading and trailing comments are added by plugin.ts). */
export function printFm(path: Path, options: ParserOptions<FmNode>, print: Print): Doc {
  const node = path.node as FmNode;
  const n = node as any;
  /** A value after `=` or a keyword: indented when comments push it onto its own line. */
  const val = (key: string): Doc => (startsOnNewLine((path.node as any)[key]) ? indent(print(key)) : print(key));
  const opt = (key: string, before: string, after = ''): Doc => (n[key] === undefined ? '' : [before, val(key), after]);
  const anns = (): Doc => (n.annotations.length > 0 ? [join(hardline, path.map(print, 'annotations')), hardline] : '');
  const args = (key: string, trailing = true, owner?: FmNode): Doc =>
    list('(', path.map(print, key), ')', trailing, owner);

  switch (node.kind) {
    case 'File': {
      const items = lines(path, options, print, 'items', topLevelBlank);
      const d = dangling(node);
      if (d.length > 0) items.push(items.length > 0 ? hardline : '', join(hardline, d.map(own)));
      return items.length > 0 ? [items, hardline] : '';
    }
    case 'Import':
      return n.names === undefined
        ? ['import ', dangling(node).map((c) => [own(c), isBlockComment(c) ? ' ' : hardline]), quote(n.path)]
        : [
            'import ',
            n.names.length === 0
              ? list('{', [], '}', false, node)
              : group(['{', indent([line, join([',', line], path.map(print, 'names'))]), line, '}']),
            ' from ',
            quote(n.path),
          ];
    case 'Annotation':
      return ['@', print('name'), n.args === undefined ? '' : args('args', false, node)];
    case 'Positional':
    case 'PosArg':
    case 'IndexExpr':
      return print('value');
    case 'Named':
    case 'NamedArg':
      return [print('name'), ' = ', val('value')];
    case 'Ratio':
      return [print('n'), ':', print('m')];
    case 'Const':
      return [anns(), 'const ', print('name'), opt('type', ': '), ' = ', val('value')];
    case 'Block':
      return [
        anns(),
        n.isModel ? 'model ' : 'block ',
        print('name'),
        n.hparams.length > 0 ? args('hparams') : '',
        ' ',
        braces(path, options, print, 'members', memberBlank),
      ];
    case 'HParam':
      return [print('name'), opt('type', ': '), opt('default', ' = ')];
    case 'ScalarType':
      return n.name;
    case 'EnumType':
      return join(' | ', path.map(print, 'options'));
    case 'ListType':
      return list('[', [print('elem')], ']', false, node);
    case 'LetMember':
      return [anns(), 'let ', print('name'), ' = ', val('value')];
    case 'Require':
      return ['require ', val('cond'), n.message === undefined ? '' : [',', commentsBefore(node), quote(n.message)]];
    case 'Param':
      return [
        anns(),
        n.isBuffer ? 'buffer ' : 'param ',
        print('name'),
        ': ',
        print('type'),
        opt('init', ' = '),
        opt('cond', ' if '),
      ];
    case 'Child':
      return [
        anns(),
        print('name'),
        ' = ',
        n.multi ? [n.multi.mode, ' ', print(['multi', 'count']), ' '] : '',
        print('block'),
        args('args', true, node),
        opt('cond', ' if '),
      ];
    case 'Train':
      return [
        anns(),
        'train ',
        braces(
          path,
          options,
          print,
          'entries',
          () => undefined,
          () => [print('key'), ' = ', val('value')],
        ),
      ];
    case 'Fn': {
      // `-> (a: T)` is one named result; only unnamed single results go without parentheses.
      const bare = n.results?.length === 1 && n.results[0].name === undefined;
      const results: Doc = n.results === undefined ? '' : [' -> ', bare ? print(['results', 0]) : args('results')];
      // The results are inside the params' group: a long signature breaks the params first.
      const params = path.map(print, 'params');
      const sig =
        params.length === 0
          ? ['()', results]
          : group(['(', indent([softline, join([',', line], params)]), ifBreak(','), softline, ')', results]);
      return [anns(), 'fn ', print('name'), sig, ' ', braces(path, options, print, 'body')];
    }
    case 'FnParam':
      return [print('name'), ': ', print('type'), opt('default', ' = ')];
    case 'FnResult':
      return n.name ? [print('name'), ': ', print('type')] : print('type');
    case 'TensorType':
      return [print('dtype'), list('[', path.map(print, 'dims'), ']', false, node)];
    case 'DimExpr':
      return print('expr');
    case 'DimAny':
      return '_';
    case 'DimEllipsis':
    case 'IndexEllipsis':
    case 'Ellipsis':
      return '...';
    case 'Let':
      return ['let ', print('pattern'), opt('type', ': '), ' = ', val('value')];
    case 'Set':
      return ['set ', print('target'), ' = ', val('value')];
    case 'Return':
      return ['return ', val('value')];
    case 'PatName':
      return print('name');
    case 'PatTuple':
      return list('(', path.map(print, 'items'), ')', false);
    case 'Ident':
    case 'Name':
      return n.name;
    case 'Int':
    case 'Float':
      return n.text;
    case 'Str':
      return quote(n.value);
    case 'Bool':
      return n.value ? 'true' : 'false';
    case 'Unary':
      return [n.op === 'not' ? 'not ' : '-', print('operand')];
    case 'Binary': {
      const parts = binaryChain(path, print);
      return group([parts[0]!, indent(parts.slice(1))]);
    }
    case 'Pipe': {
      const parts = pipeChain(path, options, print);
      return group([parts[0]!, indent(parts.slice(1))]);
    }
    case 'Call':
      return [print('callee'), args('args', true, node)];
    case 'Member':
      return [print('target'), '.', print('name')];
    case 'Index':
      return [print('target'), list('[', path.map(print, 'indices'), ']', false)];
    case 'Slice':
      return [opt('start', ''), ':', opt('stop', ''), opt('step', ':')];
    case 'Tuple':
      return list('(', path.map(print, 'items'), ')', false, node);
    case 'List':
      return list('[', path.map(print, 'items'), ']', false, node);
    case 'Paren':
      return group(['(', indent([softline, print('inner')]), softline, ')']);
    case 'If': {
      // An else-if continues its parent's group, so a whole chain breaks together.
      const parts = ['if ', print('cond'), ' ', print('then'), ' else ', print('else')];
      return path.parent?.kind === 'If' && path.key === 'else' ? parts : group(parts);
    }
    case 'Branch': {
      const stmts = lines(path, options, print, 'stmts', () => undefined);
      const body = stmts.length > 0 ? [stmts, hardline, print('value')] : print('value');
      return ['{', indent([line, body]), line, '}'];
    }
    default:
      throw new Error(`fmc fmt: cannot print a ${String(node.kind)} node`);
  }
}

/** Comments between `require c,` and its message (which goes on a new line after a `//`). */
function commentsBefore(node: FmNode): Doc {
  const out: Doc[] = [];
  let space = true;
  for (const c of dangling(node)) {
    out.push(space ? ' ' : '', own(c));
    space = isBlockComment(c);
    if (!space) out.push(indent(hardline));
  }
  return [out, space ? ' ' : ''];
}

type Blank = (prev: FmNode, next: FmNode) => boolean | undefined;

/** Imports and constants may be grouped; every other pair of declarations gets a blank line. */
const topLevelBlank: Blank = (a, b) =>
  a.kind === b.kind && (a.kind === 'Import' || a.kind === 'Const') ? undefined : true;

/** Members of different kinds, and functions, are separated by a blank line. */
const memberBlank: Blank = (a, b) => (a.kind !== b.kind || a.kind === 'Fn' ? true : undefined);

/**
 * The children under `key`, one per line; a blank line between two of them when `blank`
 * says so, or (when it returns undefined) when the source had one.
 */
function lines(
  path: Path,
  options: ParserOptions<FmNode>,
  print: Print,
  key: string,
  blank: Blank,
  printItem: () => Doc = () => print(),
): Doc[] {
  const nodes = (path.node as any)[key] as FmNode[];
  const parts: Doc[] = [];
  path.each((_child: Path, i: number) => {
    const prev = nodes[i - 1];
    if (prev) {
      const b = blank(prev, nodes[i]!) ?? util.isNextLineEmpty(options.originalText, locEnd(prev));
      parts.push(b ? [hardline, hardline] : hardline);
    }
    parts.push(printItem());
  }, key);
  return parts;
}

/** `{ ... }` with one child per line; comments in an empty body are printed inside it. */
function braces(
  path: Path,
  options: ParserOptions<FmNode>,
  print: Print,
  key: string,
  blank: Blank = () => undefined,
  printItem?: () => Doc,
): Doc {
  const content = lines(path, options, print, key, blank, printItem);
  const d = dangling(path.node as FmNode);
  if (d.length > 0) content.push(content.length > 0 ? hardline : '', join(hardline, d.map(own)));
  return content.length === 0 ? '{}' : ['{', indent([hardline, content]), hardline, '}'];
}

/** `a + b + c`: the flattened operands and operators of a same-precedence chain. */
function binaryChain(path: Path, print: Print): Doc[] {
  const n = path.node as Extract<A.Expr, { kind: 'Binary' }>;
  const left: Doc[] = chained.has(n.left) ? path.call((p: Path) => binaryChain(p, print), 'left') : [print('left')];
  return [...left, ` ${n.op}`, line, print('right')];
}

/** `x |> f |> g(a)`, breaking before each `|>`. */
function pipeChain(path: Path, options: ParserOptions<FmNode>, print: Print): Doc[] {
  const n = path.node as Extract<A.Expr, { kind: 'Pipe' }>;
  const head: Doc[] = chained.has(n.value)
    ? path.call((p: Path) => pipeChain(p, options, print), 'value')
    : [print('value')];
  // `x |> f()` and `x |> f` are the same pipe: `()` is kept as written (and is needed when
  // the piped function is itself a call, `x |> f(a)()`).
  const parens =
    n.args.length > 0 || n.fn.kind === 'Call' || code(options.originalText, n.fn.span.end, n.span.end).includes('(');
  return [...head, [line, '|> ', print('fn'), parens ? list('(', path.map(print, 'args'), ')', true, path.node) : '']];
}
