// Completion: what may be written at the cursor, with its kind and its type or signature.
//   - after `child.`: the members of the child's block;
//   - in a tensor type's brackets: dim variables, int hyperparameters and constants in scope;
//   - after `:` or `->`: dtypes, dtype classes, hyperparameter types and dtype hyperparameters;
//   - in `import { ... } from "std/x"`: the module's declarations;
//   - elsewhere: the names in scope (lets, parameters, dims, members, hyperparameters, the
//     file's declarations and imports), builtins, dtypes, keywords, and the std declarations
//     not imported yet, each with the edit that imports it; at the start of a call's
//     argument, the callee's hyperparameters or parameters not given yet as `name = `.

import { type CompletionItem, CompletionItemKind, type CompletionList, type TextEdit } from 'vscode-languageserver';
import { BUILTIN_NAMES } from '../frontend/checker/builtins.js';
import { DTYPE_CLASSES, DTYPES, KEYWORDS } from '../frontend/lexer.js';
import type { Module, TopDecl } from '../frontend/program.js';
import type { Span } from '../frontend/source.js';
import type { Analysis } from './analysis.js';
import type { LineIndex } from './convert.js';
import { cursorAt } from './cursor.js';
import { describeDef, fnSignature, signatureText } from './hover.js';
import { importEdit, stdNames } from './imports.js';
import { type Def, type DefKind, topDef } from './resolve.js';
import { childBlock, enclosing, memberDefs, visibleAt } from './scope.js';
import { calledAt, parametersOf } from './signature.js';

const KIND: Record<DefKind, CompletionItemKind> = {
  block: CompletionItemKind.Class,
  model: CompletionItemKind.Module,
  function: CompletionItemKind.Function,
  const: CompletionItemKind.Constant,
  hyperparameter: CompletionItemKind.TypeParameter,
  param: CompletionItemKind.Field,
  buffer: CompletionItemKind.Field,
  child: CompletionItemKind.Property,
  let: CompletionItemKind.Variable,
  parameter: CompletionItemKind.Variable,
  dim: CompletionItemKind.TypeParameter,
};

/** Sort groups: named arguments, then local names, then members, file names, builtins, std. */
const GROUP = { arg: '0', local: '1', member: '2', file: '3', builtin: '4', keyword: '5', std: '6' } as const;

export function completionAt(a: Analysis, m: Module, offset: number, lines: LineIndex): CompletionList {
  const text = m.parse.source.text;
  const c = cursorAt(text, offset);
  const items: CompletionItem[] = [];
  const range = lines.range({ start: c.wordStart, end: offset });
  const edit = (newText: string): TextEdit => ({ range, newText });
  const fromDef = (d: Def, group: string): CompletionItem => ({
    label: d.name,
    kind: d.kind === 'function' && d.owner ? CompletionItemKind.Method : KIND[d.kind],
    detail: detailOf(a, d),
    sortText: `${group}${d.name}`,
    textEdit: edit(d.name),
  });
  const done = (): CompletionList => ({ isIncomplete: false, items });
  if (c.inert) return done();

  if (c.member) {
    const target = visibleAt(a, m, c.member.targetStart).find((d) => d.name === c.member!.target);
    const block = target ? childBlock(m, target) : undefined;
    const multi = target?.node.kind === 'Child' && target.node.multi;
    if (block && !multi) for (const d of memberDefs(block)) items.push(fromDef(d, GROUP.member));
    return done();
  }

  if (c.importFrom !== null) {
    const path = c.importFrom;
    for (const s of stdNames().values())
      if (path === undefined || s.module === path) items.push(stdItem(s.name, s.decl, s.file, s.module, edit, []));
    return done();
  }

  const visible = visibleAt(a, m, offset);
  if (c.shape) {
    for (const d of visible)
      if (d.kind === 'dim' || (d.kind === 'hyperparameter' && isIntHParam(d)) || d.kind === 'const')
        items.push(fromDef(d, d.kind === 'dim' ? GROUP.local : GROUP.file));
    return done();
  }

  if (c.type) {
    for (const t of [...DTYPES, ...DTYPE_CLASSES, 'dtype', 'fn'])
      items.push({
        label: t,
        kind: CompletionItemKind.Keyword,
        detail: typeDetail(t),
        sortText: `${GROUP.keyword}${t}`,
        textEdit: edit(t),
      });
    for (const d of visible)
      if (
        d.kind === 'hyperparameter' &&
        d.node.kind === 'HParam' &&
        d.node.type?.kind === 'ScalarType' &&
        d.node.type.name === 'dtype'
      )
        items.push(fromDef(d, GROUP.local));
    return done();
  }

  // Named arguments of the call at the cursor.
  if (c.call && !c.call.declaration && c.call.atArgStart) {
    const called = calledAt(a, m, c.call);
    for (const p of called ? parametersOf(called) : [])
      if (!c.call.given.includes(p.name))
        items.push({
          label: `${p.name} =`,
          kind: CompletionItemKind.Field,
          detail: p.text,
          sortText: `${GROUP.arg}${p.name}`,
          filterText: p.name,
          textEdit: edit(`${p.name} = `),
        });
  }

  const { fn } = enclosing(m, offset);
  const seen = new Set<string>();
  for (const d of visible) {
    seen.add(d.name);
    const group = d.fn ? GROUP.local : d.owner ? GROUP.member : GROUP.file;
    items.push(fromDef(d, group));
  }
  for (const b of BUILTIN_NAMES)
    if (!seen.has(b)) {
      seen.add(b);
      items.push({
        label: b,
        kind: CompletionItemKind.Function,
        detail: 'builtin',
        sortText: `${GROUP.builtin}${b}`,
        textEdit: edit(b),
      });
    }
  const values = fn ? ['training', 'inf', 'nan', ...DTYPES] : ['inf', 'nan', ...DTYPES];
  for (const v of values)
    if (!seen.has(v)) {
      seen.add(v);
      items.push({
        label: v,
        kind: CompletionItemKind.Constant,
        detail: typeDetail(v),
        sortText: `${GROUP.builtin}${v}`,
        textEdit: edit(v),
      });
    }
  for (const k of KEYWORDS)
    items.push({ label: k, kind: CompletionItemKind.Keyword, sortText: `${GROUP.keyword}${k}`, textEdit: edit(k) });
  for (const s of stdNames().values()) {
    if (seen.has(s.name)) continue;
    const imp = importEdit(m, s.name, s.module);
    const extra = imp ? [{ range: lines.range(imp), newText: imp.newText }] : [];
    items.push(stdItem(s.name, s.decl, s.file, s.module, edit, extra));
  }
  return done();
}

function stdItem(
  name: string,
  decl: TopDecl,
  file: Module,
  module: string,
  edit: (t: string) => TextEdit,
  additionalTextEdits: TextEdit[],
): CompletionItem {
  const d = topDef(decl);
  return {
    label: name,
    kind: KIND[d.kind],
    detail: declText(decl, file),
    labelDetails: { description: module },
    sortText: `${GROUP.std}${name}`,
    textEdit: edit(name),
    ...(additionalTextEdits.length ? { additionalTextEdits } : {}),
  };
}

/** A declaration's signature: `block Linear(in_dim: int, ...)`, `fn gelu(x: float[...]) -> ...`. */
export function declText(decl: TopDecl, file: Module): string {
  const text = (s: Span) => file.parse.source.text.slice(s.start, s.end);
  if (decl.kind === 'Block') return signatureText(decl, text);
  if (decl.kind === 'Fn') return fnSignature(decl, text);
  return `const ${decl.name.name} = ${text(decl.value.span)}`;
}

function isIntHParam(d: Def): boolean {
  const n = d.node;
  if (n.kind !== 'HParam') return false;
  if (n.type) return n.type.kind === 'ScalarType' && n.type.name === 'int';
  return n.default?.kind === 'Int' || n.default?.kind === 'Binary' || n.default?.kind === 'Name';
}

function typeDetail(t: string): string {
  if ((DTYPES as readonly string[]).includes(t)) return 'dtype';
  if ((DTYPE_CLASSES as readonly string[]).includes(t)) return 'dtype class (or a scalar hyperparameter type)';
  return 'hyperparameter type';
}

/** The hover's first line; a declaration's text where the checker has no value (text that does not parse). */
function detailOf(a: Analysis, d: Def): string | undefined {
  let line: string;
  try {
    line = describeDef(a, d);
  } catch {
    return undefined;
  }
  if (!line.endsWith(': unknown')) return line;
  const n = d.node;
  const src = a.program.source(d.span.file)?.text;
  if (!src || !(n.kind === 'HParam' || n.kind === 'FnParam' || n.kind === 'Param'))
    return line.slice(0, -': unknown'.length);
  return `(${d.kind}) ${src.slice(n.span.start, n.span.end).replace(/\s+/g, ' ')}`;
}
