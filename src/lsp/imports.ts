// The standard library's declarations (for completion of names not imported yet, their
// signatures, and the "add the import" quick fix) and the edit that imports a std name:
// extending an `import { ... } from "std/x"` that is there, or adding one after the imports.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Module, nodeHost, Program, STD_DIR, type TopDecl } from '../frontend/program.js';

export interface StdName {
  readonly name: string;
  /** The import path: `std/nn`. */
  readonly module: string;
  readonly decl: TopDecl;
  /** The parsed std file (its source, for signature texts). */
  readonly file: Module;
}

let table: Map<string, StdName> | undefined;

/** Every std declaration by name (the first file, in name order, that declares it). */
export function stdNames(): ReadonlyMap<string, StdName> {
  if (table) return table;
  table = new Map();
  const program = new Program(nodeHost);
  const files = fs.existsSync(STD_DIR) ? fs.readdirSync(STD_DIR).filter((f) => f.endsWith('.fm')) : [];
  for (const f of files.sort()) {
    const file = program.addFile(path.join(STD_DIR, f));
    if (!file) continue;
    for (const [name, decl] of file.own)
      if (!table.has(name) && !name.startsWith('_'))
        table.set(name, { name, module: `std/${f.slice(0, -3)}`, decl, file });
  }
  return table;
}

/** Whether an absolute path is a file of the standard library. */
export function isStdFile(abs: string): boolean {
  const rel = path.relative(STD_DIR, abs);
  return !rel.startsWith('..') && !path.isAbsolute(rel);
}

export interface TextChange {
  readonly start: number;
  readonly end: number;
  readonly newText: string;
}

/**
 * The edit that makes `name` of std module `module` (`std/nn`) visible in `m`: adds it to
 * an `import { ... } from "std/nn"` of the file, or adds that import after the file's
 * imports (before its first declaration when it has none). Undefined when an import of the
 * whole module is there already.
 */
export function importEdit(m: Module, name: string, module: string): TextChange | undefined {
  const items = m.parse.ast.items;
  const text = m.parse.source.text;
  const target = m.parse.ast.items.filter((i) => i.kind === 'Import' && i.path === module);
  for (const imp of target) {
    if (imp.kind !== 'Import') continue;
    if (!imp.names) return undefined;
    const last = imp.names.at(-1);
    if (last) return { start: last.span.end, end: last.span.end, newText: `, ${name}` };
    const brace = text.indexOf('{', imp.span.start);
    if (brace >= 0 && brace < imp.pathSpan.start) return { start: brace + 1, end: brace + 1, newText: ` ${name} ` };
  }
  const line = `import { ${name} } from "${module}"`;
  const imports = items.filter((i) => i.kind === 'Import');
  const lastImport = imports.at(-1);
  if (lastImport) return { start: lastImport.span.end, end: lastImport.span.end, newText: `\n${line}` };
  const first = items[0];
  const at = first ? lineStart(text, first.span.start) : 0;
  return { start: at, end: at, newText: `${line}\n\n` };
}

/** The start of the line `offset` is on, before leading comments of the declaration there. */
function lineStart(text: string, offset: number): number {
  let at = text.lastIndexOf('\n', offset - 1) + 1;
  // Keep a declaration's doc comment with it: insert above the comment lines just before it.
  for (;;) {
    const prevEnd = at - 1;
    if (prevEnd <= 0) break;
    const prevStart = text.lastIndexOf('\n', prevEnd - 1) + 1;
    if (!text.slice(prevStart, prevEnd).trimStart().startsWith('//')) break;
    at = prevStart;
  }
  return at;
}
