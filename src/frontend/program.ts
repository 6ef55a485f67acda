// A program: the root files and every file they import, parsed, with each module's
// top-level names resolved (own declarations and imports). Reports file, import and
// duplicate-name errors; the checker does the rest.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as A from './ast.js';
import { type Diagnostic, diag, note, suggest } from './diagnostics.js';
import { MAX_FILE_BYTES, mib, parseSource, type ParseResult } from './parse.js';
import { SourceFile, type Span } from './source.js';

export type TopDecl = A.ConstDecl | A.FnDecl | A.BlockDecl;

export interface ModuleName {
  readonly decl: TopDecl;
  /** The module that declares it. */
  readonly module: string;
}

export interface Module {
  /** Display path, also the key of spans in this file. */
  readonly path: string;
  readonly abs: string;
  readonly parse: ParseResult;
  /** Declarations of this file. */
  readonly own: Map<string, TopDecl>;
  /** Every name visible at file level: own declarations and imports. */
  readonly names: Map<string, ModuleName | { ambiguous: [string, string] }>;
  /** Whether this file (or a file it imports) has syntax errors: it is then not checked. */
  broken: boolean;
  /** Whether an import failed: unknown names are then not reported (they may be from it). */
  incomplete?: boolean;
}

export interface Host {
  /** The file's bytes, an error message, or the size of a file too large to read. */
  read(abs: string): Uint8Array | { error: string } | { tooLarge: number };
  /** How a file is named in diagnostics. */
  display(abs: string): string;
}

/** Host.read errors of a file that is there but cannot be read (nodeHost's words). */
const EXISTS_UNREADABLE = new Set(['it is a directory', 'it is not a regular file', 'permission denied']);

export const nodeHost: Host = {
  read(abs) {
    try {
      const st = fs.statSync(abs);
      if (st.isDirectory()) return { error: 'it is a directory' };
      if (!st.isFile()) return { error: 'it is not a regular file' };
      if (st.size > MAX_FILE_BYTES) return { tooLarge: st.size };
      return fs.readFileSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return {
        error:
          code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String((e as Error).message),
      };
    }
  },
  display(abs) {
    const rel = path.relative(process.cwd(), abs);
    return rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  },
};

function findPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'std')) && fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export const STD_DIR = path.join(findPackageRoot(), 'std');

/** Decodes file bytes, reporting NUL bytes and invalid UTF-8 as FM0702. */
function decode(displayPath: string, bytes: Uint8Array): { text: string; diagnostic?: Diagnostic } {
  let text: string;
  let bad = -1;
  let why = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder('utf-8').decode(bytes);
    bad = text.indexOf('\ufffd');
    why = 'invalid UTF-8 byte sequence';
  }
  const nul = text.indexOf('\u0000');
  if (nul >= 0 && (bad < 0 || nul < bad)) {
    bad = nul;
    why = 'contains a NUL byte';
  }
  if (bad < 0) return { text };
  const span = { file: displayPath, start: bad, end: bad + 1 };
  return { text, diagnostic: diag('FM0702', span, [why]) };
}

/** Parse results are immutable, so unchanged files (the std library) parse once per process. */
const parseCache = new Map<string, ParseResult>();
const PARSE_CACHE_SIZE = 256;

const imports = (m: Module): A.ImportDecl[] => m.parse.ast.items.filter((i): i is A.ImportDecl => i.kind === 'Import');

function cachedParse(display: string, text: string): ParseResult {
  const key = `${display}\0${text}`;
  const hit = parseCache.get(key);
  if (hit) return hit;
  const r = parseSource(display, text);
  if (text.length > 256 * 1024) return r;
  if (parseCache.size >= PARSE_CACHE_SIZE) parseCache.delete(parseCache.keys().next().value!);
  parseCache.set(key, r);
  return r;
}

/** Names std/math declared before they became builtins: importing them from there still works. */
const FORMER_STD: ReadonlySet<string> = new Set(['cumsum']);

export class Program {
  readonly modules = new Map<string, Module>();
  readonly diagnostics: Diagnostic[] = [];
  readonly roots: Module[] = [];
  private readonly byDisplay = new Map<string, SourceFile>();
  private readonly byPath = new Map<string, Module>();
  /** Imported files that exist but cannot be read (a device, a FIFO, a folder), with why: FM0700, not FM0202. */
  private readonly unreadable = new Map<string, string>();

  constructor(private readonly host: Host = nodeHost) {}

  moduleByPath(displayPath: string): Module | undefined {
    return this.byPath.get(displayPath);
  }

  /** The source of a display path, for rendering diagnostics. */
  source(displayPath: string): SourceFile | undefined {
    return this.byDisplay.get(displayPath);
  }

  /** Adds a source that is no file (the `--set` overrides), so diagnostics in it render with its text. */
  addSource(src: SourceFile): void {
    this.byDisplay.set(src.path, src);
  }

  /** Adds a root file given by path. */
  addFile(file: string): Module | undefined {
    const abs = path.resolve(file);
    const m = this.load(abs, undefined);
    if (m) this.roots.push(m);
    return m;
  }

  /** Adds a root file from text (for tests and the language server). */
  addText(abs: string, text: string): Module {
    const m = this.resolveAll(this.fromText(abs, text));
    this.roots.push(m);
    return m;
  }

  /** Reads, parses and declares a file and, depth first, every file it imports. */
  private load(abs: string, from: Span | undefined): Module | undefined {
    const existing = this.modules.get(abs);
    if (existing) return existing;
    const m = this.readModule(abs, from);
    return m && this.resolveAll(m);
  }

  /**
   * Resolves the imports of a new module and, depth first, of every new module they load,
   * in the order a recursive descent would, but with an explicit stack: a chain of
   * thousands of imports must not overflow the call stack.
   */
  private resolveAll(root: Module): Module {
    const stack: { m: Module; items: Iterator<A.ImportDecl>; pending?: A.ImportDecl; target?: Module }[] = [];
    const push = (m: Module): void => {
      stack.push({ m, items: imports(m)[Symbol.iterator]() });
    };
    push(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.pending) {
        // The import's module is resolved now (or was already being resolved: a cycle).
        this.bindImport(top.m, top.pending, top.target);
        top.pending = undefined;
        top.target = undefined;
      }
      const next = top.items.next();
      if (next.done) {
        stack.pop();
        continue;
      }
      const item = next.value;
      if (item.path === '') {
        if (!top.m.broken) this.diagnostics.push(diag('FM0202', item.pathSpan, ['']));
        top.m.incomplete = true;
        continue;
      }
      const abs = this.resolvePath(item.path, top.m.abs);
      top.pending = item;
      const known = this.modules.get(abs);
      if (known) {
        top.target = known;
        continue;
      }
      top.target = this.readModule(abs, item.pathSpan);
      if (top.target) push(top.target);
    }
    return root;
  }

  /** Reads, parses and declares a file, without resolving its imports. */
  private readModule(abs: string, from: Span | undefined): Module | undefined {
    const display = this.host.display(abs);
    const read = this.host.read(abs);
    const size = read instanceof Uint8Array ? read.length : 'tooLarge' in read ? read.tooLarge : 0;
    if (!(read instanceof Uint8Array) && 'error' in read) {
      if (from) {
        // The importer reports it: FM0202 for a missing file, FM0700 for one that cannot be read.
        if (EXISTS_UNREADABLE.has(read.error)) this.unreadable.set(abs, read.error);
        return undefined;
      }
      const src = new SourceFile(display, '');
      this.byDisplay.set(display, src);
      this.diagnostics.push(diag('FM0700', src.span(0, 0), [display, read.error]));
      return undefined;
    }
    if (size > MAX_FILE_BYTES || !(read instanceof Uint8Array)) {
      const src = new SourceFile(display, '');
      this.byDisplay.set(display, src);
      this.diagnostics.push(diag('FM0701', src.span(0, 0), [mib(size), mib(MAX_FILE_BYTES)]));
      const m = this.emptyModule(abs, src);
      this.modules.set(abs, m);
      this.byPath.set(display, m);
      return m;
    }
    const { text, diagnostic } = decode(display, read);
    if (diagnostic) {
      const src = new SourceFile(display, text);
      this.byDisplay.set(display, src);
      this.diagnostics.push(diagnostic);
      const m = this.emptyModule(abs, src);
      this.modules.set(abs, m);
      return m;
    }
    return this.fromText(abs, text);
  }

  private emptyModule(abs: string, src: SourceFile): Module {
    const parse: ParseResult = {
      source: src,
      ast: { kind: 'File', items: [], span: src.span(0, 0) },
      comments: [],
      diagnostics: [],
    };
    return { path: src.path, abs, parse, own: new Map(), names: new Map(), broken: true };
  }

  /** Parses and declares a file, without resolving its imports. */
  private fromText(abs: string, text: string): Module {
    const display = this.host.display(abs);
    const parse = cachedParse(display, text);
    this.byDisplay.set(display, parse.source);
    this.diagnostics.push(...parse.diagnostics);
    const m: Module = {
      path: display,
      abs,
      parse,
      own: new Map(),
      names: new Map(),
      broken: parse.diagnostics.some((d) => d.severity === 'error'),
    };
    this.modules.set(abs, m);
    this.byPath.set(display, m);
    this.declare(m);
    return m;
  }

  private declare(m: Module): void {
    for (const item of m.parse.ast.items) {
      if (item.kind === 'Import' || item.name.name === '') continue;
      const prev = m.own.get(item.name.name);
      if (prev) {
        this.diagnostics.push(
          diag('FM0201', item.name.span, [item.name.name], { notes: [note('first defined here', prev.name.span)] }),
        );
        continue;
      }
      m.own.set(item.name.name, item);
      m.names.set(item.name.name, { decl: item, module: m.path });
    }
  }

  resolvePath(spec: string, importer: string): string {
    const base = spec.startsWith('std/')
      ? path.join(STD_DIR, spec.slice(4))
      : path.resolve(path.dirname(importer), spec);
    return base.endsWith('.fm') ? base : `${base}.fm`;
  }

  /** Binds the names of one import of `m`; `target` is its module, undefined when it failed to load. */
  private bindImport(m: Module, item: A.ImportDecl, target: Module | undefined): void {
    if (!target) {
      m.incomplete = true;
      const abs = this.resolvePath(item.path, m.abs);
      const why = this.unreadable.get(abs);
      if (why !== undefined) {
        this.diagnostics.push(diag('FM0700', item.pathSpan, [this.host.display(abs), why]));
        return;
      }
      const stdNames = fs.existsSync(STD_DIR)
        ? fs
            .readdirSync(STD_DIR)
            .filter((f) => f.endsWith('.fm'))
            .map((f) => `std/${f.slice(0, -3)}`)
        : [];
      const s = suggest(item.path, stdNames);
      this.diagnostics.push(
        diag('FM0202', item.pathSpan, [item.path], { help: s ? `did you mean \`${s}\`?` : undefined }),
      );
      return;
    }
    if (target.broken) m.broken = true;
    const selected =
      item.names ?? [...target.own.keys()].map((name) => ({ kind: 'Ident' as const, name, span: item.span }));
    for (const id of selected) {
      const decl = target.own.get(id.name);
      // A std function that became a builtin: the builtin is in scope anyway.
      if (!decl && item.path === 'std/math' && FORMER_STD.has(id.name)) continue;
      if (!decl) {
        const s = suggest(id.name, target.own.keys());
        this.diagnostics.push(
          diag('FM0204', id.span, [item.path, id.name], { help: s ? `did you mean \`${s}\`?` : undefined }),
        );
        continue;
      }
      if (m.own.has(id.name)) continue; // own declarations shadow imports
      const prev = m.names.get(id.name);
      if (prev && 'decl' in prev && prev.decl !== decl) {
        m.names.set(id.name, { ambiguous: [prev.module, target.path] });
      } else if (!prev) {
        m.names.set(id.name, { decl, module: target.path });
      }
    }
  }

  private stdNames: Map<string, string> | undefined;

  /** Which std module declares a name (for "add an import" help), e.g. `softmax` → `std/math`. */
  stdModuleOf(name: string): string | undefined {
    if (!this.stdNames) {
      this.stdNames = new Map();
      const files = fs.existsSync(STD_DIR)
        ? fs
            .readdirSync(STD_DIR)
            .filter((f) => f.endsWith('.fm'))
            .sort()
        : [];
      for (const f of files) {
        const abs = path.join(STD_DIR, f);
        const bytes = this.host.read(abs);
        if (!(bytes instanceof Uint8Array)) continue;
        const parsed = cachedParse(this.host.display(abs), new TextDecoder().decode(bytes));
        for (const item of parsed.ast.items) {
          if (item.kind !== 'Import' && !this.stdNames.has(item.name.name))
            this.stdNames.set(item.name.name, `std/${f.slice(0, -3)}`);
        }
      }
    }
    return this.stdNames.get(name);
  }

  /** Reports every import cycle once, at the import that closes it (depth first, with an explicit stack). */
  checkCycles(): void {
    const state = new Map<string, 'active' | 'done'>();
    const stack: string[] = [];
    const frames: { m: Module; items: Iterator<A.ImportDecl> }[] = [];
    const enter = (m: Module): void => {
      state.set(m.abs, 'active');
      stack.push(m.abs);
      frames.push({ m, items: imports(m)[Symbol.iterator]() });
    };
    for (const root of this.modules.values()) {
      if (state.has(root.abs)) continue;
      enter(root);
      while (frames.length > 0) {
        const top = frames[frames.length - 1]!;
        const next = top.items.next();
        if (next.done) {
          frames.pop();
          stack.pop();
          state.set(top.m.abs, 'done');
          continue;
        }
        const item = next.value;
        if (item.path === '') continue;
        const abs = this.resolvePath(item.path, top.m.abs);
        const target = this.modules.get(abs);
        if (!target) continue;
        if (state.get(abs) === 'active') {
          const cycle = stack.slice(stack.indexOf(abs)).map((p) => this.modules.get(p)!.path);
          this.diagnostics.push(diag('FM0203', item.pathSpan, [[...cycle, target.path].join(' → ')]));
        } else if (!state.has(abs)) {
          enter(target);
        }
      }
    }
  }
}
