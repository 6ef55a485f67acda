// The names visible at a place of a file, innermost first: the `let`s of the enclosing
// function written before the place, its parameters and dim variables, the enclosing block's
// members and hyperparameters, then the file's declarations and imports. Read from the name
// index (resolve.ts), which follows the scoping rules of docs/language.md.

import type * as A from '../frontend/ast.js';
import type { Module, TopDecl } from '../frontend/program.js';
import type { Analysis } from './analysis.js';
import { type Def, memberKind, topDef } from './resolve.js';

const contains = (s: { start: number; end: number }, offset: number) => s.start <= offset && offset <= s.end;

/** The block and function (member or top-level) whose text contains `offset`. */
export function enclosing(m: Module, offset: number): { block: A.BlockDecl | undefined; fn: A.FnDecl | undefined } {
  for (const item of m.parse.ast.items) {
    if (item.kind === 'Import' || !contains(item.span, offset)) continue;
    if (item.kind === 'Fn') return { block: undefined, fn: item };
    if (item.kind === 'Block') {
      const fn = item.members.find((x): x is A.FnDecl => x.kind === 'Fn' && contains(x.span, offset));
      return { block: item, fn };
    }
    return { block: undefined, fn: undefined };
  }
  return { block: undefined, fn: undefined };
}

/** Every name visible at `offset`, innermost first, one per name. */
export function visibleAt(a: Analysis, m: Module, offset: number): Def[] {
  const { block, fn } = enclosing(m, offset);
  const index = a.index(m);
  const out = new Map<string, Def>();
  const add = (d: Def) => {
    if (d.name !== '' && d.name !== '_' && !out.has(d.name)) out.set(d.name, d);
  };
  if (fn) {
    // Later lets first (they shadow earlier ones); a let is visible after its statement.
    // (A statement being typed may parse to a shorter span: it must end on an earlier line.)
    const text = m.parse.source.text;
    const before = (s: { end: number }) => s.end < offset && text.slice(s.end, offset).includes('\n');
    const locals = index.defs.filter((d) => d.fn === fn && d.kind === 'let' && before(d.node.span));
    for (const d of locals.reverse()) add(d);
    for (const d of index.defs) if (d.fn === fn && (d.kind === 'parameter' || d.kind === 'dim')) add(d);
  }
  if (block) for (const d of index.defs) if (d.owner === block && !d.fn) add(d);
  for (const d of fileNames(m)) add(d);
  return [...out.values()];
}

/** The file's declarations and imported names. */
export function fileNames(m: Module): Def[] {
  const out: Def[] = [];
  for (const [name, entry] of m.names) if ('decl' in entry) out.push({ ...topDef(entry.decl), name });
  return out;
}

/** The declaration a name at file level stands for (own or imported). */
export function topLevel(m: Module, name: string): TopDecl | undefined {
  const e = m.names.get(name);
  return e && 'decl' in e ? e.decl : undefined;
}

/** The block a child definition instantiates (`proj = Linear(...)` → `Linear`). */
export function childBlock(m: Module, d: Def): A.BlockDecl | undefined {
  if (d.kind !== 'child' || d.node.kind !== 'Child') return undefined;
  const decl = topLevel(m, d.node.block.name);
  return decl?.kind === 'Block' ? decl : undefined;
}

/** The members a `child.` gives access to: params, buffers, children, lets and functions. */
export function memberDefs(block: A.BlockDecl): Def[] {
  const out: Def[] = [];
  for (const mem of block.members) {
    if (mem.kind === 'Require' || mem.kind === 'Train' || mem.name.name === '') continue;
    out.push({ name: mem.name.name, kind: memberKind(mem), span: mem.name.span, node: mem, owner: block });
  }
  return out;
}
