// The checker's context: where diagnostics go, the instantiation/call stack that adds
// "note: in ..." to them, and lexical scopes.

import type * as A from '../ast.js';
import { type Diagnostic, diag, type Note } from '../diagnostics.js';
import type { Code } from '../messages.js';
import type { Span } from '../source.js';
import type { Binding, BlockInstance, V } from '../types.js';
import type { Program } from '../program.js';
import type { Lowering } from './emit.js';
import type { Overrides } from './overrides.js';
import { MAX_CALL_DEPTH, MAX_INLINED_CALLS } from './limits.js';

export class Scope {
  private readonly names = new Map<string, Binding>();
  constructor(readonly parent: Scope | undefined) {}

  define(name: string, b: Binding): void {
    this.names.set(name, b);
  }
  lookup(name: string): Binding | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }
  hasOwn(name: string): boolean {
    return this.names.has(name);
  }
  /** Every visible name (for "did you mean" suggestions). */
  allNames(): string[] {
    const out = new Set<string>(this.parent?.allNames() ?? []);
    for (const k of this.names.keys()) out.add(k);
    return [...out];
  }
}

/** At most this many semantic errors are reported; the rest would repeat a cause. */
const MAX_ERRORS = 200;
const MAX_SUGGESTIONS = 100;

export interface Frame {
  readonly message: string;
  readonly span: Span | undefined;
  /** A call of a function (not a block instantiation). */
  readonly call?: boolean;
}

/** Shared state of one check of a program. */
export class Checker {
  readonly diagnostics: Diagnostic[] = [];
  /** Instantiation and inferred-call stack, innermost last. */
  readonly frames: Frame[] = [];
  /** Errors reported inside calls, for reporting each once per outermost call (see error). */
  private readonly repeated = new Set<string>();
  /** Memoized block instances by `module|declStart|hparams`. */
  readonly instances = new Map<string, BlockInstance>();
  /** Blocks whose instantiation is in progress (cycle detection). */
  readonly instantiating = new Set<A.BlockDecl>();
  /** Memoized results of inferred-function calls. */
  readonly inferred = new Map<string, V>();
  /** Values of file-level constants ('busy' while being evaluated). */
  readonly consts = new Map<object, V | 'busy'>();
  private fresh = 0;

  /**
   * Called with every expression's value as it is evaluated (for the language server's
   * hovers). An expression in a block or function is seen once generically and once per
   * instantiation or call; `frames` tells them apart (empty when generic).
   */
  observer: ((e: A.Expr, v: V) => void) | undefined;
  /** Set while lowering a model: tensor values then carry graph IR nodes (see emit.ts). */
  lowering: Lowering | undefined;
  /** `--set` overrides of root models' hyperparameters (see overrides.ts). */
  overrides: Overrides | undefined;

  constructor(readonly program: Program) {}

  freshName(prefix: string): string {
    return `${prefix}${++this.fresh}`;
  }

  private suggestions = 0;

  /** The source text of a span, for messages that quote what the user wrote. */
  text(span: Span): string {
    return this.program.source(span.file)?.text.slice(span.start, span.end) ?? '?';
  }

  /**
   * Runs `f` on a separate checker and keeps only its name errors (FM02xx): for code whose
   * shapes cannot be known yet. Nothing it memoizes leaks into this checker.
   */
  namesOnly(f: (scratch: Checker) => void): void {
    const scratch = new Checker(this.program);
    scratch.overrides = this.overrides;
    for (const [k, v] of this.instances) scratch.instances.set(k, v);
    f(scratch);
    this.diagnostics.push(...scratch.diagnostics.filter((d) => d.code.startsWith('FM02')));
  }
  /** The functions whose bodies are being checked, innermost last. */
  readonly fnStack: A.FnDecl[] = [];
  /** Calls between functions, for finding recursion (which fmc does not support). */
  readonly calls: { from: A.FnDecl; to: A.FnDecl; span: Span }[] = [];

  /**
   * Reports each cycle of calls once, at a call that closes it; without cycles, calls
   * nested deeper than MAX_CALL_DEPTH (FM0318) and a function whose calls, inlined, are
   * more than MAX_INLINED_CALLS (FM0319), where the limit is first exceeded. Depth first
   * with an explicit stack, so a chain of thousands of functions cannot overflow it.
   */
  checkRecursion(): void {
    // Each call site once (for the budgets), and each callee once per caller (for cycles).
    const edges = new Map<A.FnDecl, { to: A.FnDecl; span: Span }[]>();
    const callees = new Map<A.FnDecl, { to: A.FnDecl; span: Span }[]>();
    const sites = new Set<string>();
    for (const c of this.calls) {
      const key = `${c.span.file}:${c.span.start}:${c.span.end}`;
      if (!sites.has(key)) {
        sites.add(key);
        const all = edges.get(c.from) ?? [];
        all.push(c);
        edges.set(c.from, all);
      }
      const list = callees.get(c.from) ?? [];
      if (!list.some((e) => e.to === c.to)) list.push(c);
      callees.set(c.from, list);
    }
    const state = new Map<A.FnDecl, 'active' | 'done'>();
    const stack: A.FnDecl[] = [];
    const frames: { f: A.FnDecl; next: number }[] = [];
    const order: A.FnDecl[] = []; // callees before callers
    let cycles = false;
    for (const root of callees.keys()) {
      if (state.has(root)) continue;
      state.set(root, 'active');
      stack.push(root);
      frames.push({ f: root, next: 0 });
      while (frames.length > 0) {
        const top = frames[frames.length - 1]!;
        const e = callees.get(top.f)?.[top.next++];
        if (!e) {
          frames.pop();
          stack.pop();
          state.set(top.f, 'done');
          order.push(top.f);
          continue;
        }
        if (state.get(e.to) === 'active') {
          cycles = true;
          const cycle = [...stack.slice(stack.indexOf(e.to)), e.to].map((x) => `\`${x.name.name}\``).join(' → ');
          this.error('FM0211', e.span, [cycle]);
        } else if (!state.has(e.to)) {
          state.set(e.to, 'active');
          stack.push(e.to);
          frames.push({ f: e.to, next: 0 });
        }
      }
    }
    if (!cycles) this.checkCallBudgets(edges, order);
  }

  private checkCallBudgets(edges: Map<A.FnDecl, { to: A.FnDecl; span: Span }[]>, order: readonly A.FnDecl[]): void {
    // depth: the calls nested in a call of f, itself included; deepest: the callee on that path.
    const depth = new Map<A.FnDecl, number>();
    const deepest = new Map<A.FnDecl, A.FnDecl>();
    const inlined = new Map<A.FnDecl, number>();
    for (const f of order) {
      let d = 1;
      let n = 0;
      let over: { to: A.FnDecl; span: Span } | undefined;
      let many = false;
      for (const e of edges.get(f) ?? []) {
        const de = depth.get(e.to) ?? 1;
        if (de + 1 > d) {
          d = de + 1;
          deepest.set(f, e.to);
        }
        if (de === MAX_CALL_DEPTH) over ??= e;
        const ne = inlined.get(e.to) ?? 0;
        if (ne > MAX_INLINED_CALLS) many = true;
        n += 1 + ne;
      }
      depth.set(f, d);
      inlined.set(f, n);
      if (over && d === MAX_CALL_DEPTH + 1) {
        const path: string[] = [];
        for (let g: A.FnDecl | undefined = f; g; g = deepest.get(g)) path.push(`\`${g.name.name}\``);
        const shown = path.length > 6 ? [...path.slice(0, 3), '…', ...path.slice(-2)] : path;
        this.error('FM0318', over.span, [d, shown.join(' → '), MAX_CALL_DEPTH], {
          help: 'lowering inlines every call; flatten the chain of calls',
        });
      }
      if (n > MAX_INLINED_CALLS && !many) {
        this.error('FM0319', f.name.span, [f.name.name, n, MAX_INLINED_CALLS], {
          help: 'lowering inlines every call, so calls nested in calls multiply',
        });
      }
    }
  }

  /** Whether "did you mean" may still be computed (it costs time per known name). */
  canSuggest(): boolean {
    return ++this.suggestions <= MAX_SUGGESTIONS;
  }

  error(
    code: Code,
    span: Span,
    args: readonly (string | number)[] = [],
    extra: { notes?: readonly Note[]; help?: string | undefined } = {},
  ): void {
    if (this.diagnostics.length >= MAX_ERRORS) {
      if (this.diagnostics.length === MAX_ERRORS) this.diagnostics.push(diag('FM0108', span, [MAX_ERRORS]));
      return;
    }
    // One mistake at a call is reported once: the same error again inside the same outermost
    // call (an axis that `sum` and `size` both reject in `mean`) adds nothing.
    const outer = this.frames.findIndex((f) => f.call);
    if (outer >= 0) {
      const where = this.frames.slice(0, outer + 1).map((f) => (f.span ? `${f.span.file}:${f.span.start}` : '-'));
      const key = `${code}|${args.join('\u0000')}|${where.join('/')}`;
      if (this.repeated.has(key)) return;
      this.repeated.add(key);
    }
    const frames = this.frames.slice().reverse().slice(0, 4);
    const notes = [...(extra.notes ?? []), ...frames.map((f) => ({ message: f.message, span: f.span, frame: true }))];
    this.diagnostics.push(diag(code, span, args, { notes, help: extra.help }));
  }

  /** Runs `f` with a frame pushed, so diagnostics made inside carry its note. */
  within<T>(frame: Frame | undefined, f: () => T): T {
    if (!frame) return f();
    this.frames.push(frame);
    try {
      return f();
    } finally {
      this.frames.pop();
    }
  }
}

/** Where expressions are checked: the program-wide checker plus the current scope. */
export interface Ctx {
  readonly checker: Checker;
  readonly scope: Scope;
  /** The module (file path) the code being checked belongs to. */
  readonly module: string;
  /** The block instance whose body is being checked, if any. */
  readonly owner: BlockInstance | undefined;
  /** Whether tensors may be produced here (false in hyperparameter/const/let-member code). */
  readonly allowTensors: boolean;
  /** Dim variables bound in this function (for FM0207 and `...`). */
  readonly fnEllipsis: V | undefined;
  /** When lowering: the block path of the instance whose code runs (`blocks.3.attn`). */
  readonly path?: string;
  /** When lowering: the composite functions called since the block's own code (`attention/masked_softmax`). */
  readonly callScope?: string;
}

/** A context for compile-time code (hyperparameters, constants, members), not a function body. */
export function staticCtx(checker: Checker, module: string, scope = new Scope(undefined), owner?: BlockInstance): Ctx {
  return { checker, scope, module, owner, allowTensors: false, fnEllipsis: undefined };
}

export function childCtx(ctx: Ctx, changes: Partial<Ctx> = {}): Ctx {
  return { ...ctx, scope: new Scope(ctx.scope), ...changes };
}
