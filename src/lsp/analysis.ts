// One check of one open document, with everything the requests need afterwards: the
// diagnostics, the checker's value of every expression (for hovers), the block instances
// it made (for param counts), and the name index (for definitions). A request reads an
// Analysis; it never runs the checker again unless the text changed.

import type * as A from '../frontend/ast.js';
import { checkProgram } from '../frontend/check.js';
import type { Checker } from '../frontend/checker/context.js';
import type { Diagnostic } from '../frontend/diagnostics.js';
import { type Host, type Module, Program } from '../frontend/program.js';
import type { BlockInstance, V } from '../frontend/types.js';
import { LineIndex } from './convert.js';
import { type FileIndex, indexFile } from './resolve.js';
import { valueIdentity, valueText } from './values.js';

/** How many distinct instantiated values of one expression are kept (the rest are counted). */
const MAX_INSTANCES = 6;

/** A value seen in one instantiation or call; its texts are made when a hover shows it. */
export class Instantiated {
  constructor(
    readonly v: V,
    /** Identifies equal values (types.ts `valueKey`). */
    readonly key: string,
    /** The checker's frame note: `in DecoderLayer(d = 512), instantiated here`. */
    private readonly frame: string,
  ) {}

  get text(): string {
    return valueText(this.v);
  }

  /** Which instantiation or call: `DecoderLayer(d = 512)`. */
  get where(): string {
    return frameLabel(this.frame);
  }
}

/** Everything the checker computed for one expression. */
export interface ValueEntry {
  readonly node: A.Expr;
  /** The value seen when the enclosing block or function was checked generically. */
  generic: V | undefined;
  /** Distinct values seen in instantiations and calls. */
  readonly instances: Instantiated[];
  more: number;
}

export class Analysis {
  /** Value entries per display path, sorted by span start. */
  private readonly values = new Map<string, ValueEntry[]>();
  private readonly indexes = new Map<string, FileIndex>();
  private readonly lineIndexes = new Map<string, LineIndex>();

  constructor(
    readonly program: Program,
    readonly root: Module | undefined,
    readonly diagnostics: readonly Diagnostic[],
    private readonly checker: Checker | undefined,
    entries: Iterable<ValueEntry>,
    /** Wall-clock and CPU milliseconds the check took (for logs and the bench). */
    readonly times: { readonly ms: number; readonly cpuMs: number },
  ) {
    // Several nodes may share a span (the checker makes a Name for a child's block): merge them.
    const bySpan = new Map<string, ValueEntry>();
    for (const e of entries) {
      const key = `${e.node.span.file}\0${e.node.span.start}\0${e.node.span.end}`;
      const prev = bySpan.get(key);
      if (prev) {
        prev.generic ??= e.generic;
        for (const i of e.instances) if (!prev.instances.some((x) => x.key === i.key)) prev.instances.push(i);
        prev.more += e.more;
        continue;
      }
      bySpan.set(key, e);
      const list = this.values.get(e.node.span.file) ?? [];
      list.push(e);
      this.values.set(e.node.span.file, list);
    }
  }

  /** Absolute paths of every file this analysis read (the root and its imports). */
  get files(): string[] {
    return [...this.program.modules.keys()];
  }

  /** The innermost expression with a known value whose span contains `offset`. */
  valueAt(file: string, offset: number, filter?: (e: ValueEntry) => boolean): ValueEntry | undefined {
    let best: ValueEntry | undefined;
    for (const e of this.values.get(file) ?? []) {
      const s = e.node.span;
      if (s.start > offset || offset > s.end || (filter && !filter(e))) continue;
      if (!best || s.end - s.start < best.node.span.end - best.node.span.start) best = e;
    }
    return best;
  }

  /** The entry of exactly this span. */
  valueOf(span: { file: string; start: number; end: number }): ValueEntry | undefined {
    return this.values.get(span.file)?.find((e) => e.node.span.start === span.start && e.node.span.end === span.end);
  }

  index(m: Module): FileIndex {
    let idx = this.indexes.get(m.path);
    if (!idx) this.indexes.set(m.path, (idx = indexFile(this.program, m)));
    return idx;
  }

  lines(file: string): LineIndex | undefined {
    let li = this.lineIndexes.get(file);
    if (!li) {
      const src = this.program.source(file);
      if (!src) return undefined;
      this.lineIndexes.set(file, (li = new LineIndex(src.text)));
    }
    return li;
  }

  /** Every instance the checker made of a block; the generic ones (no call site) first. */
  instancesOf(decl: A.BlockDecl): BlockInstance[] {
    if (!this.checker) return [];
    const all = [...this.checker.instances.values()].filter((i) => i.decl === decl);
    return [...all.filter((i) => !i.site), ...all.filter((i) => i.site)];
  }
}

/** Checks `abs` (read through `host`) and records what the requests need. */
export function analyze(abs: string, host: Host): Analysis {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const program = new Program(host);
  const root = program.addFile(abs);
  const byNode = new Map<A.Expr, ValueEntry>();
  let checker: Checker | undefined;
  // The checker calls its observer as a method, so `this` is the checker (or a muted view of
  // it): its `frames` are empty exactly when the value is the generic one.
  const observer = function (this: Checker, e: A.Expr, v: V): void {
    checker ??= this;
    let entry = byNode.get(e);
    if (!entry) byNode.set(e, (entry = { node: e, generic: undefined, instances: [], more: 0 }));
    if (v.kind === 'error') return;
    const frame = this.frames.at(-1);
    if (!frame) {
      entry.generic ??= v;
      return;
    }
    const key = valueIdentity(v);
    if (entry.instances.some((i) => i.key === key)) return;
    if (entry.instances.length >= MAX_INSTANCES) {
      entry.more++;
      return;
    }
    entry.instances.push(new Instantiated(v, key, frame.message));
  };
  const diagnostics = checkProgram(program, { observer });
  const cpu = process.cpuUsage(cpu0);
  const times = { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
  return new Analysis(program, root, diagnostics, checker, byNode.values(), times);
}

/** `in DecoderLayer(d = 512), instantiated here` → `DecoderLayer(d = 512)`. */
function frameLabel(message: string): string {
  return message.replace(/^in /, '').replace(/, (instantiated here|one of the hyperparameter values checked)$/, '');
}
