// Find references and rename: every place that names the same declaration as the name at
// the cursor, in every file of the program (the open file and the files it imports): its
// declaration, the names that resolve to it (resolve.ts: lets, parameters, dims, members,
// hyperparameters, blocks, functions, constants, `import { X }` names, named arguments
// `eps = ...`) and `child.member` expressions whose child's block declares it (from the
// checker's value of `child`). Rename refuses declarations of the standard library, builtins
// (they have no declaration) and new names that are not identifiers or are keywords.
// Files that import the open file without being imported by it are not searched.

import type { Module } from '../frontend/program.js';
import { DTYPE_CLASSES, DTYPES, KEYWORDS } from '../frontend/lexer.js';
import type { Span } from '../frontend/source.js';
import type { Analysis } from './analysis.js';
import { isStdFile } from './imports.js';
import { memberTarget } from './navigate.js';
import { nameAt } from './resolve.js';

export interface Target {
  /** The declaration's name. */
  readonly decl: Span;
  readonly name: string;
  /** The name at the cursor. */
  readonly at: Span;
}

const same = (a: Span, b: Span) => a.file === b.file && a.start === b.start;

/** The declaration named at `offset`, and the name there. */
export function targetAt(a: Analysis, m: Module, offset: number): Target | undefined {
  const index = a.index(m);
  const n = nameAt(index, offset);
  if (n) return { decl: n.def.span, name: n.def.name, at: n.span };
  for (const e of index.members) {
    if (e.name.span.start > offset || offset > e.name.span.end) continue;
    const decl = memberTarget(a, e);
    return decl ? { decl, name: e.name.name, at: e.name.span } : undefined;
  }
  return undefined;
}

/** Every span that names the target's declaration, the declaration first, then by file and place. */
export function referencesTo(a: Analysis, t: Target, includeDeclaration = true): Span[] {
  const out = new Map<string, Span>();
  const add = (s: Span) => out.set(`${s.file}\0${s.start}`, s);
  for (const mod of a.program.modules.values()) {
    const index = a.index(mod);
    for (const d of index.defs) if (same(d.span, t.decl)) add(d.span);
    for (const r of index.refs) if (same(r.def.span, t.decl)) add(r.span);
    for (const e of index.members) if (e.name.name === t.name && sameSpan(memberTarget(a, e), t.decl)) add(e.name.span);
  }
  const spans = [...out.values()].filter((s) => includeDeclaration || !same(s, t.decl));
  return spans.sort(
    (x, y) =>
      Number(same(y, t.decl)) - Number(same(x, t.decl)) ||
      (x.file < y.file ? -1 : x.file > y.file ? 1 : x.start - y.start),
  );
}

const sameSpan = (a: Span | undefined, b: Span) => a !== undefined && same(a, b);

/** Why the target cannot be renamed (undefined when it can). */
export function renameRefusal(a: Analysis, t: Target): string | undefined {
  const abs = a.program.moduleByPath(t.decl.file)?.abs;
  if (!abs || isStdFile(abs))
    return `\`${t.name}\` is declared in the standard library (${t.decl.file}), which is not renamed`;
  return undefined;
}

/** Why `name` cannot be the new name (undefined when it can). */
export function badNewName(name: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    return `\`${name}\` is not an identifier (letters, digits and _, not first a digit)`;
  const reserved: readonly string[] = [...KEYWORDS, ...DTYPES, ...DTYPE_CLASSES];
  if (reserved.includes(name)) return `\`${name}\` is a keyword or a dtype`;
  if (name === '_') return '`_` binds nothing';
  return undefined;
}
