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
}

/** Shared state of one check of a program. */
export class Checker {
  readonly diagnostics: Diagnostic[] = [];
  /** Instantiation and inferred-call stack, innermost last. */
  readonly frames: Frame[] = [];
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

  /** Reports each cycle of calls once, at a call that closes it. */
  checkRecursion(): void {
    const edges = new Map<A.FnDecl, { to: A.FnDecl; span: Span }[]>();
    for (const c of this.calls) {
      const list = edges.get(c.from) ?? [];
      if (!list.some((e) => e.to === c.to)) list.push(c);
      edges.set(c.from, list);
    }
    const state = new Map<A.FnDecl, 'active' | 'done'>();
    const stack: A.FnDecl[] = [];
    const visit = (f: A.FnDecl): void => {
      state.set(f, 'active');
      stack.push(f);
      for (const e of edges.get(f) ?? []) {
        if (state.get(e.to) === 'active') {
          const cycle = [...stack.slice(stack.indexOf(e.to)), e.to].map((x) => `\`${x.name.name}\``).join(' → ');
          this.error('FM0211', e.span, [cycle]);
        } else if (!state.has(e.to)) {
          visit(e.to);
        }
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of edges.keys()) if (!state.has(f)) visit(f);
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
