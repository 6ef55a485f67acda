// The `train { ... }` section of a model (docs/language.md, "Models and the train
// section"): known keys, optimizer and schedule calls, and the value of each setting.

import type * as A from '../ast.js';
import { note, suggest } from '../diagnostics.js';
import { dimConstValue } from '../../ir/dims.js';
import { MAX_ACCUMULATE, MAX_LOSS_SCALE } from '../../ir/module.js';
import type { Span } from '../source.js';
import { type BlockInstance, describe, FLOAT_DTYPES, type V } from '../types.js';
import { checkAnnotations, optionWord } from './annotations.js';
import type { Ctx } from './context.js';
import { evalExpr } from './expr.js';

type ValueKind = 'positive' | 'nonneg' | 'unit' | 'bool' | 'betas' | 'count' | 'posint' | 'scale' | 'accumulate';
type ArgSpecs = Readonly<Record<string, ValueKind>>;
interface CallSpec {
  readonly args: ArgSpecs;
  readonly required: readonly string[];
}

const ADAM: CallSpec = {
  args: { lr: 'positive', betas: 'betas', eps: 'positive', weight_decay: 'nonneg' },
  required: ['lr'],
};
const OPTIMIZERS: Readonly<Record<string, CallSpec>> = {
  sgd: { args: { lr: 'positive', momentum: 'unit', nesterov: 'bool', weight_decay: 'nonneg' }, required: ['lr'] },
  adam: ADAM,
  adamw: ADAM,
};
const SCHEDULES: Readonly<Record<string, CallSpec>> = {
  constant: { args: {}, required: [] },
  linear: { args: { warmup: 'count', steps: 'posint' }, required: ['steps'] },
  cosine: { args: { warmup: 'count', steps: 'posint', min_lr: 'nonneg' }, required: ['steps'] },
  step: { args: { every: 'posint', gamma: 'positive' }, required: ['every'] },
};
const PRUNINGS: Readonly<Record<string, CallSpec>> = {
  gradual: { args: { start: 'count', end: 'posint', every: 'posint' }, required: ['end'] },
};
const KEYS = [
  'optimizer',
  'schedule',
  'loss',
  'precision',
  'loss_scale',
  'accumulate',
  'clip',
  'batch',
  'steps',
  'prune',
];

const didYouMean = (name: string, candidates: Iterable<string>) => {
  const s = suggest(name, candidates);
  return s ? `did you mean \`${s}\`?` : undefined;
};

export function checkTrain(ctx: Ctx, inst: BlockInstance, train: A.TrainDecl): void {
  checkAnnotations(ctx, train.annotations, { kind: 'other', what: 'a train section' });
  const model = inst.decl.name.name;
  const seen = new Map<string, Span>();
  // A misspelled key (`optimiser`) already says what is missing.
  const misspelled = new Set<string>();
  for (const { key, value } of train.entries) {
    const k = key.name;
    if (!KEYS.includes(k)) {
      const s = suggest(k, KEYS);
      if (s) misspelled.add(s);
      ctx.checker.error('FM0600', key.span, [k], { help: didYouMean(k, KEYS) });
      continue;
    }
    const first = seen.get(k);
    if (first) {
      ctx.checker.error('FM0201', key.span, [k], { notes: [note(`\`${k}\` is first set here`, first)] });
      continue;
    }
    seen.set(k, key.span);
    checkEntry(ctx, inst, k, value);
  }
  if (!seen.has('optimizer') && !misspelled.has('optimizer')) {
    ctx.checker.error('FM0605', train.span, [model, 'optimizer'], { help: 'add e.g. `optimizer = adamw(lr = 3e-4)`' });
  }
  if (!seen.has('loss') && inst.scope.get('loss')?.value.kind !== 'fn') {
    ctx.checker.error('FM0605', train.span, [model, 'loss'], {
      help: 'set `loss = <a function of the model>` or give the model a `fn loss(...)`',
    });
  }
}

/** The function named by `loss = name`; undefined when the key is absent (the default is `loss`) or not a name. */
export function trainLossName(train: A.TrainDecl): { name: string; span: Span } | undefined {
  const e = train.entries.find((x) => x.key.name === 'loss')?.value;
  return e?.kind === 'Name' ? { name: e.name, span: e.span } : undefined;
}

function invalid(ctx: Ctx, key: string, span: Span, reason: string, help?: string): void {
  ctx.checker.error('FM0601', span, [key, reason], { help });
}

function checkEntry(ctx: Ctx, inst: BlockInstance, key: string, e: A.Expr): void {
  switch (key) {
    case 'optimizer':
      return checkCall(ctx, key, e, OPTIMIZERS, 'an optimizer');
    case 'schedule':
      return checkCall(ctx, key, e, SCHEDULES, 'a schedule');
    case 'prune':
      return checkCall(ctx, key, e, PRUNINGS, 'a pruning schedule');
    case 'loss':
      return checkLoss(ctx, inst, e);
    case 'precision': {
      const r = optionWord(ctx, e, FLOAT_DTYPES);
      if (r && 'bad' in r) invalid(ctx, key, e.span, r.bad, r.help);
      return;
    }
    case 'loss_scale':
      if (e.kind === 'Name' && ['none', 'dynamic'].includes(e.name)) return;
      if (e.kind === 'Name' && !ctx.scope.lookup(e.name)) {
        return invalid(
          ctx,
          key,
          e.span,
          `expected \`none\`, \`dynamic\` or a positive number, found \`${e.name}\``,
          didYouMean(e.name, ['none', 'dynamic']),
        );
      }
      checkValue(ctx, key, '', e, 'scale');
      return;
    case 'accumulate':
      checkValue(ctx, key, '', e, 'accumulate');
      return;
    case 'clip':
      checkValue(ctx, key, '', e, 'positive');
      return;
    default: // batch, steps
      checkValue(ctx, key, '', e, 'posint');
  }
}

function checkLoss(ctx: Ctx, inst: BlockInstance, e: A.Expr): void {
  const model = inst.decl.name.name;
  const fns = [...inst.scope].filter(([, b]) => b.value.kind === 'fn').map(([n]) => n);
  if (e.kind !== 'Name') {
    return invalid(ctx, 'loss', e.span, `expected the name of a function of model \`${model}\``);
  }
  const b = inst.scope.get(e.name);
  if (b?.value.kind === 'fn') return;
  const what = b
    ? `\`${e.name}\` is a ${b.what}, not a function of model \`${model}\``
    : `model \`${model}\` has no function \`${e.name}\``;
  invalid(ctx, 'loss', e.span, what, didYouMean(e.name, fns));
}

function checkCall(ctx: Ctx, key: string, e: A.Expr, table: Readonly<Record<string, CallSpec>>, what: string): void {
  const names = Object.keys(table);
  const callee = e.kind === 'Call' ? e.callee : e;
  if (callee.kind !== 'Name') {
    return invalid(ctx, key, e.span, `expected ${what} call such as \`${names[names.length - 1]!}(...)\``);
  }
  const spec = Object.hasOwn(table, callee.name) ? table[callee.name] : undefined;
  if (!spec) {
    return invalid(
      ctx,
      key,
      callee.span,
      `unknown ${what.slice(what.indexOf(' ') + 1)} \`${callee.name}\` (expected one of ${names.join(', ')})`,
      didYouMean(callee.name, names),
    );
  }
  if (e.kind !== 'Call') {
    return invalid(ctx, key, e.span, `\`${callee.name}\` must be called: \`${callee.name}(...)\``);
  }
  const given = new Map<string, number | undefined>();
  e.args.forEach((a, i) => {
    const name = a.kind === 'NamedArg' ? a.name.name : i === 0 && Object.hasOwn(spec.args, 'lr') ? 'lr' : undefined;
    if (name === undefined) {
      return invalid(
        ctx,
        key,
        a.span,
        `\`${callee.name}\` takes named arguments only${Object.hasOwn(spec.args, 'lr') ? ' (except `lr`, first)' : ''}`,
      );
    }
    if (!Object.hasOwn(spec.args, name)) {
      const known = Object.keys(spec.args);
      const list = known.length ? `it takes ${known.map((k) => `\`${k}\``).join(', ')}` : 'it takes none';
      return invalid(
        ctx,
        key,
        a.span,
        `\`${callee.name}\` has no argument \`${name}\`; ${list}`,
        didYouMean(name, known),
      );
    }
    if (given.has(name)) return invalid(ctx, key, a.span, `argument \`${name}\` is given more than once`);
    given.set(name, checkValue(ctx, key, name, a.value, spec.args[name]!));
  });
  for (const r of spec.required) {
    if (!given.has(r)) invalid(ctx, key, e.span, `\`${callee.name}\` needs \`${r}\``);
  }
  const warmup = given.get('warmup');
  const steps = given.get('steps');
  if (warmup !== undefined && steps !== undefined && warmup > steps) {
    invalid(ctx, key, e.span, `warmup (${warmup}) is longer than the schedule (${steps} steps)`);
  }
  const [start, end] = [given.get('start'), given.get('end')];
  if (start !== undefined && end !== undefined && end <= start) {
    invalid(ctx, key, e.span, `pruning must end after it starts (end ${end} ≤ start ${start})`);
  }
}

function numberOf(v: V): number | undefined {
  if (v.kind === 'int') return dimConstValue(v.dim);
  return v.kind === 'float' ? v.value : undefined;
}

const RULES: Readonly<Record<ValueKind, [string, (n: number) => boolean]>> = {
  positive: ['a positive number', (n) => n > 0],
  nonneg: ['a number ≥ 0', (n) => n >= 0],
  unit: ['a number in [0, 1)', (n) => n >= 0 && n < 1],
  count: ['an integer ≥ 0', (n) => Number.isInteger(n) && n >= 0],
  posint: ['a positive integer', (n) => Number.isInteger(n) && n > 0],
  scale: [`a positive number ≤ ${MAX_LOSS_SCALE} (the largest f32)`, (n) => n > 0 && n <= MAX_LOSS_SCALE],
  accumulate: [`an integer from 1 to ${MAX_ACCUMULATE}`, (n) => Number.isInteger(n) && n > 0 && n <= MAX_ACCUMULATE],
  bool: ['`true` or `false`', () => true],
  betas: ['a pair of numbers in [0, 1)', () => true],
};

/**
 * Checks one value against its kind; `arg` names the call argument ('' for the key itself).
 * Returns the number when it is known and valid.
 */
function checkValue(ctx: Ctx, key: string, arg: string, e: A.Expr, kind: ValueKind): number | undefined {
  const v = evalExpr(ctx, e);
  if (v.kind === 'error') return undefined;
  const [expected, ok] = RULES[kind];
  const subject = arg ? `\`${arg}\` must be` : 'expected';
  const fail = (found: string): void => invalid(ctx, key, e.span, `${subject} ${expected}, found ${found}`);
  if (kind === 'bool') {
    if (v.kind !== 'bool') fail(describe(v));
  } else if (kind === 'betas') {
    const bad =
      v.kind !== 'tuple' || v.items.length !== 2
        ? v
        : v.items.find((x) => x.kind !== 'int' && x.kind !== 'float' && x.kind !== 'error');
    const out =
      v.kind === 'tuple' ? v.items.map(numberOf).find((b) => b !== undefined && !(b >= 0 && b < 1)) : undefined;
    if (bad) fail(describe(bad));
    else if (out !== undefined) fail(String(out));
  } else if (
    v.kind !== 'int' &&
    (v.kind !== 'float' || kind === 'count' || kind === 'posint' || kind === 'accumulate')
  ) {
    fail(describe(v));
  } else {
    const n = numberOf(v);
    if (n === undefined || ok(n)) return n;
    fail(String(n));
  }
  return undefined;
}
