// The model's intent as IR-level data (src/ir/module.ts): the hints of its annotations by
// param and block path, and its `train` section as a typed config with the defaults filled
// in. It runs on the instance tree that lowering instantiated. The checker has validated
// every annotation and the train section, so values are read with its own evaluation
// (`optionWord`, `evalExpr`) in the scope of the instance that declares them; a value that
// is not known here is an internal error (LoweringError), not a user error.

import type * as A from './ast.js';
import { type BlockInstance, FLOAT_DTYPES, type V } from './types.js';
import { optionWord } from './checker/annotations.js';
import { type Checker, type Ctx, Scope, staticCtx } from './checker/context.js';
import { LoweringError } from './checker/emit.js';
import { evalExpr } from './checker/expr.js';
import { joinPath } from './checker/lower-params.js';
import { dimConstValue } from '../ir/dims.js';
import type { Dtype } from '../ir/dtype.js';
import type {
  GradualPruning,
  Hint,
  Hints,
  Optimizer,
  QuantizeHint,
  Schedule,
  SparseHint,
  TrainConfig,
} from '../ir/module.js';
import { defaultPruneEvery } from '../ir/sparsity.js';

export interface Intent {
  readonly hints: Hints;
  /** Present when the model has a `train` section. */
  readonly train?: TrainConfig;
}

/** The hints and train config of `model`, the root instance lowering instantiated. */
export function modelIntent(checker: Checker, model: BlockInstance): Intent {
  const w = new HintWalker(checker);
  w.instance(model, '', new Set());
  const hints: Hints = { params: w.params, blocks: w.blocks };
  const train = model.decl.members.find((m): m is A.TrainDecl => m.kind === 'Train');
  return train ? { hints, train: trainConfig(w.ctx(model), train) } : { hints };
}

// ---------------------------------------------------------------- hints

type MutableHint = { -readonly [K in keyof Hint]: Hint[K] };

/**
 * Walks the instance tree the way `paramTable` does (checker/lower-params.ts). Where two
 * sources give the same kind at one path, the first recorded wins; the order is: the child
 * member's annotation (recorded by the parent), the block declaration's, a function's.
 */
class HintWalker {
  readonly params = new Map<string, Hint>();
  readonly blocks = new Map<string, Hint>();
  private readonly ctxs = new Map<BlockInstance, Ctx>();

  constructor(private readonly checker: Checker) {}

  /** A context for compile-time code in `inst` (its hyperparameters and members in scope). */
  ctx(inst: BlockInstance): Ctx {
    let ctx = this.ctxs.get(inst);
    if (!ctx) {
      const scope = new Scope(undefined);
      for (const [k, b] of inst.scope) scope.define(k, b);
      ctx = staticCtx(this.checker, inst.module, scope, inst);
      this.ctxs.set(inst, ctx);
    }
    return ctx;
  }

  /** Records `inst` at `path`; `useSite` holds the kinds its child member annotates (they win). */
  instance(inst: BlockInstance, path: string, useSite: ReadonlySet<string>): void {
    const ctx = this.ctx(inst);
    const own: MutableHint = hintOf(ctx, inst.decl.annotations);
    for (const k of useSite) delete own[k as keyof Hint];
    add(this.blocks, path, own);
    if (!useSite.has('precision')) {
      const fns = inst.decl.members.filter((m): m is A.FnDecl => m.kind === 'Fn');
      const precision = fns.map((f) => hintOf(ctx, f.annotations).precision).find((p) => p !== undefined);
      if (precision) add(this.blocks, path, { precision });
    }
    for (const [name, b] of inst.scope) {
      const at = joinPath(path, name);
      if ((b.what === 'param' || b.what === 'buffer') && b.value.kind === 'tensor') {
        const decl = inst.decl.members.find((m): m is A.ParamDecl => m.kind === 'Param' && m.name.name === name);
        if (decl) add(this.params, at, hintOf(ctx, decl.annotations));
      } else if (b.what === 'child block' && b.value.kind === 'child') {
        const { inst: child, multi, decl } = b.value.child;
        const hint = hintOf(ctx, decl.annotations);
        add(this.blocks, at, hint);
        const kinds = new Set(Object.keys(hint));
        if (!multi) {
          this.instance(child, at, kinds);
          continue;
        }
        const n = dimConstValue(multi.count);
        if (n === undefined) throw new LoweringError(`the count of \`${name}\` must be known`, b.span);
        for (let i = 0; i < n; i++) this.instance(child, `${at}.${i}`, kinds);
      }
    }
  }
}

/** Adds the kinds of `h` that `path` does not have yet. */
function add(map: Map<string, Hint>, path: string, h: Hint): void {
  if (Object.keys(h).length > 0) map.set(path, { ...h, ...map.get(path) });
}

function hintOf(ctx: Ctx, anns: readonly A.Annotation[]): MutableHint {
  const h: MutableHint = {};
  for (const ann of anns) {
    const args = ann.args ?? [];
    switch (ann.name.name) {
      case 'precision':
        h.precision = word(ctx, positional(ann, args), FLOAT_DTYPES) as Dtype;
        break;
      case 'quantize':
        h.quantize = quantizeHint(ctx, ann, args);
        break;
      case 'sparse':
        h.sparse = sparseHint(ctx, ann, args);
        break;
      case 'checkpoint':
        h.checkpoint = true;
        break;
    }
  }
  return h;
}

function positional(ann: A.Annotation, args: readonly A.AnnotationArg[]): A.Expr {
  const a = args.find((x) => x.kind === 'Positional');
  if (a?.kind !== 'Positional') throw new LoweringError(`\`@${ann.name.name}\` without its argument`, ann.span);
  return a.value;
}

const named = (args: readonly A.AnnotationArg[], name: string): A.Expr | undefined =>
  args.find((a): a is A.AnnotationArg & { kind: 'Named' } => a.kind === 'Named' && a.name.name === name)?.value;

function quantizeHint(ctx: Ctx, ann: A.Annotation, args: readonly A.AnnotationArg[]): QuantizeHint {
  const dtype = word(ctx, positional(ann, args), ['int8', 'int4']) as QuantizeHint['dtype'];
  const g = named(args, 'group');
  const scheme = named(args, 'scheme');
  // `scheme = sym` (the default) or `asym` (src/ir/quantize.ts).
  const symmetric = !scheme || word(ctx, scheme, ['sym', 'asym']) === 'sym';
  return g ? { dtype, group: num(ctx, g), symmetric } : { dtype, symmetric };
}

function sparseHint(ctx: Ctx, ann: A.Annotation, args: readonly A.AnnotationArg[]): SparseHint {
  const r = args[0];
  if (r?.kind === 'Ratio') return { kind: 'n:m', n: num(ctx, r.n), m: num(ctx, r.m) };
  const b = named(args, 'block');
  const p = named(args, 'density');
  if (!b || !p) throw new LoweringError('`@sparse` without `n:m` or `block` and `density`', ann.span);
  return { kind: 'block', block: num(ctx, b), density: num(ctx, p) };
}

// ---------------------------------------------------------------- values

/** An option word (`int4`, `bf16`, or a hyperparameter naming one). */
function word(ctx: Ctx, e: A.Expr, choices: readonly string[]): string {
  const r = optionWord(ctx, e, choices);
  if (!r || !('word' in r)) throw new LoweringError(`expected ${choices.join(', ')} here`, e.span);
  return r.word;
}

const numberOf = (v: V): number | undefined =>
  v.kind === 'int' ? dimConstValue(v.dim) : v.kind === 'float' ? v.value : undefined;

function num(ctx: Ctx, e: A.Expr): number {
  const n = numberOf(evalExpr(ctx, e));
  if (n === undefined) throw new LoweringError('expected a known number here', e.span);
  return n;
}

function bool(ctx: Ctx, e: A.Expr): boolean {
  const v = evalExpr(ctx, e);
  if (v.kind !== 'bool' || v.value === undefined) throw new LoweringError('expected `true` or `false` here', e.span);
  return v.value;
}

function pair(ctx: Ctx, e: A.Expr): readonly [number, number] {
  const v = evalExpr(ctx, e);
  const [a, b] = v.kind === 'tuple' && v.items.length === 2 ? v.items.map(numberOf) : [];
  if (a === undefined || b === undefined) throw new LoweringError('expected a pair of numbers', e.span);
  return [a, b];
}

// ---------------------------------------------------------------- train

/** The arguments of `optimizer = f(...)` or `schedule = f(...)` by name (a first positional one is `lr`). */
function callOf(e: A.Expr): { name: string; args: ReadonlyMap<string, A.Expr>; span: A.Expr['span'] } {
  if (e.kind !== 'Call' || e.callee.kind !== 'Name') throw new LoweringError('expected a call', e.span);
  const args = new Map<string, A.Expr>();
  e.args.forEach((a, i) => args.set(a.kind === 'NamedArg' ? a.name.name : i === 0 ? 'lr' : `#${i}`, a.value));
  return { name: e.callee.name, args, span: e.span };
}

function trainConfig(ctx: Ctx, train: A.TrainDecl): TrainConfig {
  const entry = (k: string) => train.entries.find((x) => x.key.name === k)?.value;
  const opt = entry('optimizer');
  if (!opt) throw new LoweringError('a train section without an optimizer', train.span);
  const sched = entry('schedule');
  const loss = entry('loss');
  const precision = entry('precision');
  const scale = entry('loss_scale');
  const optional: { -readonly [K in 'accumulate' | 'clip' | 'batch' | 'steps']?: number } = {};
  for (const k of ['accumulate', 'clip', 'batch', 'steps'] as const) {
    const e = entry(k);
    if (e) optional[k] = num(ctx, e);
  }
  const prune = entry('prune');
  return {
    optimizer: optimizerOf(ctx, callOf(opt)),
    schedule: sched ? scheduleOf(ctx, callOf(sched)) : { kind: 'constant' },
    loss: loss?.kind === 'Name' ? loss.name : 'loss',
    precision: precision ? (word(ctx, precision, FLOAT_DTYPES) as Dtype) : 'f32',
    lossScale: !scale ? 'none' : (scaleWord(scale) ?? num(ctx, scale)),
    accumulate: 1,
    ...optional,
    ...(prune ? { prune: pruningOf(ctx, callOf(prune)) } : {}),
  };
}

/** `prune = gradual(start = 0, end, every = ten updates)`. */
function pruningOf(ctx: Ctx, c: Call): GradualPruning {
  if (c.name !== 'gradual') throw new LoweringError(`unknown pruning schedule \`${c.name}\``, c.span);
  const start = arg(ctx, c, 'start', 0);
  const end = arg(ctx, c, 'end');
  return { start, end, every: arg(ctx, c, 'every', defaultPruneEvery(start, end)) };
}

/** `loss_scale = none | dynamic` (bare words, as the checker reads them). */
const scaleWord = (e: A.Expr) =>
  e.kind === 'Name' && (e.name === 'none' || e.name === 'dynamic') ? e.name : undefined;

type Call = ReturnType<typeof callOf>;

/** Argument `k` as a number, its default, or (no default) required. */
function arg(ctx: Ctx, c: Call, k: string, dflt?: number): number {
  const e = c.args.get(k);
  if (e) return num(ctx, e);
  if (dflt === undefined) throw new LoweringError(`\`${c.name}\` without \`${k}\``, c.span);
  return dflt;
}

function optimizerOf(ctx: Ctx, c: Call): Optimizer {
  const lr = arg(ctx, c, 'lr');
  if (c.name === 'sgd') {
    const nesterov = c.args.get('nesterov');
    return {
      kind: 'sgd',
      lr,
      momentum: arg(ctx, c, 'momentum', 0),
      nesterov: nesterov ? bool(ctx, nesterov) : false,
      weightDecay: arg(ctx, c, 'weight_decay', 0),
    };
  }
  if (c.name !== 'adam' && c.name !== 'adamw') throw new LoweringError(`unknown optimizer \`${c.name}\``, c.span);
  const betas = c.args.get('betas');
  return {
    kind: c.name,
    lr,
    betas: betas ? pair(ctx, betas) : [0.9, 0.999],
    eps: arg(ctx, c, 'eps', 1e-8),
    weightDecay: arg(ctx, c, 'weight_decay', c.name === 'adamw' ? 0.01 : 0),
  };
}

function scheduleOf(ctx: Ctx, c: Call): Schedule {
  switch (c.name) {
    case 'constant':
      return { kind: 'constant' };
    case 'linear':
      return { kind: 'linear', warmup: arg(ctx, c, 'warmup', 0), steps: arg(ctx, c, 'steps') };
    case 'cosine':
      return {
        kind: 'cosine',
        warmup: arg(ctx, c, 'warmup', 0),
        steps: arg(ctx, c, 'steps'),
        minLr: arg(ctx, c, 'min_lr', 0),
      };
    case 'step':
      return { kind: 'step', every: arg(ctx, c, 'every'), gamma: arg(ctx, c, 'gamma', 0.1) };
  }
  throw new LoweringError(`unknown schedule \`${c.name}\``, c.span);
}
