// The checker's context: where diagnostics go, the instantiation/call stack that adds
// "note: in ..." to them, and lexical scopes.

import type * as A from '../ast.js';
import { type Diagnostic, diag, type Note } from '../diagnostics.js';
import type { Code } from '../messages.js';
import type { Span } from '../source.js';
import type { Binding, BlockInstance, V } from '../types.js';
import type { Program } from '../program.js';

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

  constructor(readonly program: Program) {}

  freshName(prefix: string): string {
    return `${prefix}${++this.fresh}`;
  }

  error(
    code: Code,
    span: Span,
    args: readonly (string | number)[] = [],
    extra: { notes?: readonly Note[]; help?: string | undefined } = {},
  ): void {
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
}

export function childCtx(ctx: Ctx, changes: Partial<Ctx> = {}): Ctx {
  return { ...ctx, scope: new Scope(ctx.scope), ...changes };
}
