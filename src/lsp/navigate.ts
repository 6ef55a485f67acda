// Go to definition and the document outline.

import * as fs from 'node:fs';
import { type DocumentSymbol, SymbolKind } from 'vscode-languageserver';
import type * as A from '../frontend/ast.js';
import type { Module } from '../frontend/program.js';
import type { Span } from '../frontend/source.js';
import type { Analysis } from './analysis.js';
import type { LineIndex } from './convert.js';
import { nameAt } from './resolve.js';

export type Target = { readonly span: Span } | { readonly file: string };

/** What the name or import path at `offset` refers to: a declaration's name, or a whole file. */
export function definitionAt(a: Analysis, m: Module, offset: number): Target | undefined {
  const index = a.index(m);
  const imp = index.imports.find((i) => i.span.start <= offset && offset <= i.span.end);
  if (imp) return imp.abs && (a.program.modules.has(imp.abs) || fs.existsSync(imp.abs)) ? { file: imp.abs } : undefined;
  const name = nameAt(index, offset);
  if (name) return { span: name.def.span };
  // `child.member`: the member of the child's block, found through the checker's value of `child`.
  for (const e of index.members) {
    if (e.name.span.start > offset || offset > e.name.span.end) continue;
    const span = memberTarget(a, e);
    return span ? { span } : undefined;
  }
  return undefined;
}

/** The declaration of the member `b` of a `a.b` (a member or hyperparameter of `a`'s block). */
export function memberTarget(a: Analysis, e: A.Expr & { kind: 'Member' }): Span | undefined {
  const entry = a.valueOf(e.target.span);
  const v = entry?.generic ?? entry?.instances[0]?.v;
  if (v?.kind !== 'child') return undefined;
  const block = v.child.inst.decl;
  const mem = block.members.find((x) => x.kind !== 'Require' && x.kind !== 'Train' && x.name.name === e.name.name);
  if (mem && mem.kind !== 'Require' && mem.kind !== 'Train') return mem.name.span;
  return block.hparams.find((x) => x.name.name === e.name.name)?.name.span;
}

/** The outline: declarations, with block members (and function locals) nested. */
export function documentSymbols(m: Module, lines: LineIndex): DocumentSymbol[] {
  const text = (s: Span) => m.parse.source.text.slice(s.start, s.end).replace(/\s+/g, ' ');
  const sym = (
    name: string,
    kind: SymbolKind,
    span: Span,
    nameSpan: Span,
    detail: string,
    children: DocumentSymbol[] = [],
  ): DocumentSymbol => {
    const range = lines.range(span.start <= nameSpan.start && nameSpan.end <= span.end ? span : nameSpan);
    return { name, kind, range, selectionRange: lines.range(nameSpan), detail, children };
  };
  const fnSymbol = (f: A.FnDecl, kind: SymbolKind): DocumentSymbol => {
    const lets: DocumentSymbol[] = [];
    const addPattern = (p: A.Pattern, s: A.LetStmt) => {
      if (p.kind === 'PatName') {
        if (p.name.name !== '' && p.name.name !== '_')
          lets.push(sym(p.name.name, SymbolKind.Variable, s.span, p.name.span, s.type ? text(s.type.span) : ''));
      } else for (const it of p.items) addPattern(it, s);
    };
    for (const s of f.body) if (s.kind === 'Let') addPattern(s.pattern, s);
    const params = f.params.map((p) => text(p.span)).join(', ');
    const results = f.results?.map((r) => text(r.span));
    const detail = `(${params})${results ? ` -> ${f.tupleResult ? `(${results.join(', ')})` : results.join('')}` : ''}`;
    return sym(f.name.name, kind, f.span, f.name.span, detail, lets);
  };
  const out: DocumentSymbol[] = [];
  for (const item of m.parse.ast.items) {
    if (item.kind === 'Import' || item.name.name === '') continue;
    if (item.kind === 'Const') {
      out.push(sym(item.name.name, SymbolKind.Constant, item.span, item.name.span, text(item.value.span)));
    } else if (item.kind === 'Fn') {
      out.push(fnSymbol(item, SymbolKind.Function));
    } else {
      const children: DocumentSymbol[] = [];
      for (const h of item.hparams)
        if (h.name.name !== '')
          children.push(
            sym(
              h.name.name,
              SymbolKind.TypeParameter,
              h.span,
              h.name.span,
              text(h.span).slice(h.name.name.length).replace(/^:\s*/, ''),
            ),
          );
      for (const mem of item.members) {
        switch (mem.kind) {
          case 'LetMember':
            children.push(sym(mem.name.name, SymbolKind.Variable, mem.span, mem.name.span, text(mem.value.span)));
            break;
          case 'Param':
            children.push(
              sym(
                mem.name.name,
                SymbolKind.Field,
                mem.span,
                mem.name.span,
                `${mem.isBuffer ? 'buffer' : 'param'} ${text(mem.type.span)}`,
              ),
            );
            break;
          case 'Child':
            children.push(
              sym(
                mem.name.name,
                SymbolKind.Property,
                mem.span,
                mem.name.span,
                `${mem.multi ? `${mem.multi.mode} ${text(mem.multi.count.span)} ` : ''}${text(mem.callSpan)}`,
              ),
            );
            break;
          case 'Fn':
            children.push(fnSymbol(mem, SymbolKind.Method));
            break;
          case 'Train': {
            const at = m.parse.source.text.indexOf('train', mem.span.start);
            const kw = at >= 0 && at < mem.span.end ? { ...mem.span, start: at, end: at + 5 } : mem.span;
            children.push(sym('train', SymbolKind.Object, mem.span, kw, mem.entries.map((e) => e.key.name).join(', ')));
            break;
          }
          default:
            break;
        }
      }
      const detail = `${item.isModel ? 'model' : 'block'}(${item.hparams.map((h) => h.name.name).join(', ')})`;
      out.push(
        sym(
          item.name.name,
          item.isModel ? SymbolKind.Module : SymbolKind.Class,
          item.span,
          item.name.span,
          detail,
          children.filter((c) => c.name !== ''),
        ),
      );
    }
  }
  return out;
}
