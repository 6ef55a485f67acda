// Blocks: binding hyperparameters, instantiating members (lets, requires, params,
// children, functions) and checking them. Instances are memoized by their hyperparameter
// values, so each distinct instantiation is checked once.

import type * as A from '../ast.js';
import { note, suggest } from '../diagnostics.js';
import { type Dim, dimConstFrac, dimConstValue, dimEquals, dimToString } from '../../ir/dims.js';
import { INIT_ARGS } from '../../ir/ops.js';
import type { Span } from '../source.js';
import {
  type Binding,
  type BlockInstance,
  describe,
  ERROR,
  tensor,
  type TensorT,
  type V,
  valueKey,
  valueText,
} from '../types.js';
import { checkAnnotations, type ParamInfo } from './annotations.js';
import { type Args, type ArgV, bindParams, evalArgs } from './calls.js';
import { Checker, type Ctx, Scope, staticCtx } from './context.js';
import { evalExpr } from './expr.js';
import {
  checkFnBody,
  checkInferredNames,
  evalSignature,
  type ParamPattern,
  patternText,
  typePattern,
} from './functions.js';
import { checkRequire } from './statements.js';
import { checkHParamValue, enumArg, genericValue, hasOpenList } from './hparams.js';
import { overrideOf, overrideValue } from './overrides.js';
import { checkTrain, trainLossName } from './train.js';
import { checkShapeLimits, MAX_BLOCK_INSTANCES, MAX_PARAM_ELEMENTS } from './limits.js';

/** An instantiation's arguments; without a site, a generic check with some values fixed. */
interface Call {
  readonly ctx: Ctx;
  readonly args: Args;
  readonly site: Span | undefined;
}

const MAX_GENERIC_VARIANTS = 8;

/**
 * Checks a block generically. A `bool` or enum hyperparameter without a default is checked
 * with each of its values (up to 8 combinations), so every branch that depends on it is
 * checked as it would run. A `dtype` one has no value to check with: the block's names
 * are checked now, its shapes and dtypes per instantiation.
 */
export function checkGeneric(checker: Checker, decl: A.BlockDecl, module: string): void {
  const open = decl.hparams.filter(
    (h) =>
      !h.default &&
      h.type &&
      (h.type.kind === 'EnumType' ||
        (h.type.kind === 'ScalarType' && (h.type.name === 'bool' || h.type.name === 'dtype'))),
  );
  if (hasOpenList(decl.hparams)) {
    checker.namesOnly((scratch) => instantiate(scratch, decl, module, undefined));
    return;
  }
  if (open.length === 0) {
    instantiate(checker, decl, module, undefined);
    return;
  }
  const choices = open.map((h): V[] | undefined => {
    const t = h.type!;
    if (t.kind === 'ListType') return undefined;
    if (t.kind === 'EnumType')
      return t.options.map((o) => ({ kind: 'enum', value: o.name, options: t.options.map((x) => x.name) }));
    return t.name === 'bool'
      ? [
          { kind: 'bool', value: true },
          { kind: 'bool', value: false },
        ]
      : undefined;
  });
  const count = choices.reduce((n, c) => n * (c?.length ?? Infinity), 1);
  if (count > MAX_GENERIC_VARIANTS) {
    checker.namesOnly((scratch) => instantiate(scratch, decl, module, undefined));
    return;
  }
  const hctx: Ctx = staticCtx(checker, module);
  for (let k = 0; k < count; k++) {
    const named = new Map<string, ArgV & { nameSpan: Span }>();
    let rest = k;
    open.forEach((h, i) => {
      const c = choices[i]!;
      named.set(h.name.name, { value: c[rest % c.length]!, span: h.name.span, nameSpan: h.name.span });
      rest = Math.floor(rest / c.length);
    });
    instantiate(checker, decl, module, { ctx: hctx, args: { pos: [], named }, site: undefined });
  }
}

/** Instantiates a block with arguments (or generically, without). */
export function instantiate(
  checker: Checker,
  decl: A.BlockDecl,
  module: string,
  call: Call | undefined,
): BlockInstance | undefined {
  const hctx: Ctx = staticCtx(checker, module);
  const values = bindHParams(hctx, decl, call);
  if (!values) return undefined;
  // The label names the arguments given; defaults are implied.
  const given = new Set(
    call ? [...call.args.named.keys(), ...decl.hparams.slice(0, call.args.pos.length).map((h) => h.name.name)] : [],
  );
  const label = `${decl.name.name}(${[...values]
    .filter(([k]) => given.has(k))
    .map(([k, v]) => `${k} = ${valueText(v.value)}`)
    .join(', ')})`;
  const key = `${module}:${decl.span.start}|${[...values].map(([k, v]) => `${k}=${valueKey(v.value)}`).join(',')}`;
  if (checker.instantiating.has(decl)) {
    checker.error('FM0209', call?.site ?? decl.name.span, [decl.name.name]);
    return undefined;
  }
  const memo = checker.instances.get(key);
  if (memo) return memo;
  const inst: BlockInstance = { decl, module, key, scope: new Map(values), site: call?.site, label };
  checker.instances.set(key, inst);
  checker.instantiating.add(decl);
  const frame = call
    ? {
        message: call.site ? `in ${label}, instantiated here` : `in ${label}, one of the hyperparameter values checked`,
        span: call.site,
      }
    : undefined;
  try {
    checker.within(frame, () => checkMembers(checker, inst));
  } finally {
    checker.instantiating.delete(decl);
  }
  return inst;
}

function bindHParams(ctx: Ctx, decl: A.BlockDecl, call: Call | undefined): Map<string, Binding> | undefined {
  const values = new Map<string, Binding>();
  const params = decl.hparams.map((h) => ({
    name: h.name.name,
    hasDefault: h.default !== undefined || !call || call.site === undefined,
    type: h.type,
  }));
  const bound = call ? bindParams(call.ctx, decl.name.name, params, call.args, call.site ?? decl.name.span) : undefined;
  if (bound && !bound.ok) return undefined;
  let ok = true;
  decl.hparams.forEach((h, i) => {
    const name = h.name.name;
    const prev = values.get(name);
    if (prev) {
      ctx.checker.error('FM0201', h.name.span, [name], {
        notes: prev.span ? [note('first defined here', prev.span)] : [],
      });
      return;
    }
    let v: V;
    const arg = bound?.args[i];
    const type = h.type ?? (h.default ? inferType(ctx, h.default) : undefined);
    const override = call ? undefined : overrideOf(ctx.checker, decl, name);
    if (arg) {
      v = type ? checkHParamValue(call!.ctx, type, arg.value, arg.span) : arg.value;
    } else if (override) {
      v = overrideValue(ctx, decl, h, type, override);
    } else if (h.default) {
      const dv = (type && enumArg(type, h.default)) || evalExpr(ctx, h.default);
      v = type ? checkHParamValue(ctx, type, dv, h.default.span) : dv;
    } else if (type) {
      v = genericValue(type, name);
    } else {
      ctx.checker.error('FM0313', h.name.span, [name]);
      v = ERROR;
    }
    if (!h.type && !h.default) ctx.checker.error('FM0313', h.name.span, [name]);
    if (!['int', 'float', 'bool', 'dtype', 'fn', 'enum', 'list', 'error'].includes(v.kind)) {
      // A hyperparameter is a number, bool, dtype, function, enum option or list of ints.
      ctx.checker.error('FM0301', (arg?.span ?? h.default?.span ?? h.name.span)!, [
        'int, float, bool, dtype, fn, [int] or an enum',
        describe(v),
      ]);
      v = ERROR;
    }
    if (v.kind === 'error') ok = false;
    const b: Binding = { value: v, span: h.name.span, what: 'hyperparameter' };
    values.set(name, b);
    ctx.scope.define(name, b);
  });
  return ok ? values : undefined;
}

function inferType(ctx: Ctx, e: A.Expr): A.HParamType | undefined {
  const v = evalExpr({ ...ctx, checker: muted(ctx.checker) }, e);
  const name =
    v.kind === 'int'
      ? 'int'
      : v.kind === 'float'
        ? 'float'
        : v.kind === 'bool'
          ? 'bool'
          : v.kind === 'dtype'
            ? 'dtype'
            : v.kind === 'fn'
              ? 'fn'
              : undefined;
  if (v.kind === 'list') return { kind: 'ListType', elem: { kind: 'Ident', name: 'int', span: e.span }, span: e.span };
  return name ? { kind: 'ScalarType', name, span: e.span } : undefined;
}

/** A checker view whose diagnostics are dropped (for speculative evaluation). */
function muted(c: Checker): Checker {
  return Object.assign(Object.create(c) as Checker, { diagnostics: [], error: () => undefined });
}

// ---------------------------------------------------------------- members

function checkMembers(checker: Checker, inst: BlockInstance): void {
  const decl = inst.decl;
  const scope = new Scope(undefined);
  for (const [k, b] of inst.scope) scope.define(k, b);
  const ctx = staticCtx(checker, inst.module, scope, inst);
  const define = (id: A.Ident, b: Binding) => {
    if (id.name === '') return;
    const prev = inst.scope.get(id.name);
    if (prev) {
      checker.error('FM0201', id.span, [id.name], { notes: prev.span ? [note('first defined here', prev.span)] : [] });
      return;
    }
    inst.scope.set(id.name, b);
    scope.define(id.name, b);
  };
  const fns: A.FnDecl[] = [];
  let train: A.TrainDecl | undefined;
  inst.size = 1;
  for (const m of decl.members) {
    switch (m.kind) {
      case 'LetMember': {
        checkAnnotations(ctx, m.annotations, { kind: 'other', what: 'a let binding' });
        let v = evalExpr(ctx, m.value);
        if (v.kind === 'tensor') {
          checker.error('FM0300', m.value.span, ['a tensor']);
          v = ERROR;
        }
        define(m.name, { value: v, span: m.name.span, what: 'let binding' });
        break;
      }
      case 'Require':
        if (!checkRequire(ctx, m)) {
          // The rest of this instantiation would only repeat the failure.
          inst.failed = true;
          return;
        }
        break;
      case 'Param':
        define(m.name, { value: paramValue(ctx, m), span: m.name.span, what: m.isBuffer ? 'buffer' : 'param' });
        break;
      case 'Child':
        define(m.name, {
          value: countInstances(ctx, inst, m, childValue(ctx, m)),
          span: m.name.span,
          what: 'child block',
        });
        break;
      case 'Fn':
        define(m.name, {
          value: { kind: 'fn', fn: { decl: m, owner: inst, module: inst.module }, name: m.name.name },
          span: m.name.span,
          what: 'function',
        });
        fns.push(m);
        break;
      case 'Train':
        if (!decl.isModel) checker.error('FM0604', m.span, ['a `train` section is only allowed in a `model`']);
        else if (train)
          checker.error('FM0604', m.span, ['a model has at most one `train` section'], {
            notes: [note('the first one is here', train.span)],
          });
        else train = m;
        break;
    }
  }
  checkAnnotations(ctx, decl.annotations, {
    kind: 'block',
    name: decl.name.name,
    isModel: decl.isModel,
    params: paramsOf(inst),
  });
  // Lowering runs functions only where they are called, with real arguments.
  for (const f of checker.lowering ? [] : fns) {
    checkAnnotations(ctx, f.annotations, { kind: 'fn', name: f.name.name });
    const b = inst.scope.get(f.name.name);
    if (b?.value.kind !== 'fn' || b.value.fn === 'builtin-elementwise' || b.value.fn.decl !== f) continue;
    if (f.results && !hasOpenList(f.params)) checkFnBody(checker, b.value.fn);
    else checkInferredNames(checker, b.value.fn);
  }
  if (decl.isModel) checkModel(ctx, inst, fns, train);
}

function paramValue(ctx: Ctx, m: A.ParamDecl): V {
  if (m.cond && !condHolds(ctx, m.cond)) return { kind: 'absent', cond: m.cond.span };
  const p = typePattern(ctx, m.type, new Map());
  if (!p) return ERROR;
  if (p.dtype.kind !== 'exact' || p.dims.some((d) => d.kind !== 'dim')) {
    ctx.checker.error('FM0412', m.type.span, ['a concrete type (a dtype and dims)', p.text]);
    return ERROR;
  }
  const dims = p.dims.map((d) => (d as { dim: Dim }).dim);
  for (let i = 0; i < dims.length; i++) {
    const c = dimConstValue(dims[i]!);
    if (c !== undefined && c <= 0) {
      const dspan = m.type.dims[i]!.span;
      ctx.checker.error('FM0311', dspan, [ctx.checker.text(dspan), c]);
      return ERROR;
    }
  }
  const what = `${m.isBuffer ? 'buffer' : 'param'} \`${m.name.name}\``;
  if (!checkShapeLimits(ctx, dims, m.type.span, what, MAX_PARAM_ELEMENTS)) return ERROR;
  const t: TensorT = { dtype: p.dtype.dtype, shape: { prefix: undefined, dims }, origin: m.span };
  if (m.init) checkInit(ctx, m.init, t);
  checkAnnotations(ctx, m.annotations, {
    kind: 'param',
    param: { path: m.name.name, type: t, isBuffer: m.isBuffer, span: m.span },
  });
  return tensor(t.dtype, t.shape, m.span);
}

function condHolds(ctx: Ctx, cond: A.Expr): boolean {
  const c = evalExpr(ctx, cond);
  if (c.kind === 'error') return false;
  if (c.kind !== 'bool') {
    ctx.checker.error('FM0417', cond.span, [describe(c), "a member's `if`"]);
    return false;
  }
  // Unknown (generic check): assume the member exists.
  return c.value !== false;
}

const INITIALIZERS: Readonly<Record<string, readonly string[]>> = INIT_ARGS;

function checkInit(ctx: Ctx, e: A.Expr, t: TensorT): void {
  const callee = e.kind === 'Call' && e.callee.kind === 'Name' ? e.callee : undefined;
  const params = callee ? INITIALIZERS[callee.name] : undefined;
  if (!callee || !params) {
    const name = callee?.name ?? (e.kind === 'Name' ? e.name : '');
    const s = name ? suggest(name, Object.keys(INITIALIZERS)) : undefined;
    ctx.checker.error(
      'FM0412',
      e.span,
      [`an initializer (${Object.keys(INITIALIZERS).join(', ')})`, `\`${ctx.checker.text(e.span)}\``],
      {
        help: s ? `did you mean \`${s}()\`?` : undefined,
      },
    );
    return;
  }
  const args = evalArgs(ctx, [], (e as A.Expr & { kind: 'Call' }).args);
  const bound = bindParams(
    ctx,
    callee.name,
    params.map((n) => ({ name: n, hasDefault: n !== 'value' })),
    args,
    e.span,
  );
  if (!bound.ok) return;
  bound.args.forEach((a, i) => {
    if (a && a.value.kind !== 'int' && a.value.kind !== 'float' && a.value.kind !== 'error') {
      ctx.checker.error('FM0422', a.span, [i + 1, callee.name, 'a number', describe(a.value)]);
    }
  });
  if ((callee.name.startsWith('xavier') || callee.name.startsWith('kaiming')) && t.shape.dims.length < 2) {
    ctx.checker.error('FM0419', e.span, [
      callee.name,
      `a tensor of rank ${t.shape.dims.length} (it needs fan-in and fan-out)`,
    ]);
  }
}

function childValue(ctx: Ctx, m: A.ChildDecl): V {
  if (m.cond && !condHolds(ctx, m.cond)) return { kind: 'absent', cond: m.cond.span };
  let count: Dim | undefined;
  if (m.multi) {
    const c = evalExpr(ctx, m.multi.count);
    const n = c.kind === 'int' ? dimConstValue(c.dim) : undefined;
    if (c.kind !== 'int' || (n !== undefined && n <= 0)) {
      if (c.kind !== 'error') ctx.checker.error('FM0312', m.multi.count.span, [m.multi.mode, describe(c)]);
      return ERROR;
    }
    count = c.dim;
  }
  const target = evalExpr(ctx, { kind: 'Name', name: m.block.name, span: m.block.span });
  if (target.kind !== 'block') {
    if (target.kind !== 'error') ctx.checker.error('FM0205', m.block.span, [m.block.name, kindOf(target)]);
    return ERROR;
  }
  const args = evalArgs(ctx, [], m.args, true);
  const inst = instantiate(ctx.checker, target.decl, target.module, { ctx, args, site: m.callSpan });
  if (!inst) return ERROR;
  checkAnnotations(ctx, m.annotations, { kind: 'child', name: m.name.name, params: paramsOf(inst, `${m.name.name}.`) });
  if (m.multi?.mode === 'repeat' && !checkRepeatable(ctx, inst, m)) return ERROR;
  return {
    kind: 'child',
    child: { inst, multi: m.multi && count ? { mode: m.multi.mode, count } : undefined, decl: m },
  };
}

/**
 * Adds a child's block instances to its parent's count (a `repeat` or `stack` counts each
 * of its instances); past MAX_BLOCK_INSTANCES the child is reported (FM0317) and dropped,
 * so that a block doubling its child 20 times over is not walked 2^20 times.
 */
function countInstances(ctx: Ctx, inst: BlockInstance, m: A.ChildDecl, v: V): V {
  if (v.kind !== 'child') return v;
  const { child } = v;
  const count = child.multi ? dimConstFrac(child.multi.count) : undefined;
  // A symbolic count (a generic check) counts once; the instantiation counts it all.
  const times = count && count.den === 1n ? Number(count.num) : 1;
  const total = (inst.size ?? 1) + times * (child.inst.size ?? 1);
  // A child already reported as too large makes its parents too large without a report.
  if (total === Infinity) {
    inst.size = Infinity;
    return ERROR;
  }
  if (total <= MAX_BLOCK_INSTANCES) {
    inst.size = total;
    return v;
  }
  // A `repeat`/`stack` beyond the limit on its own is named; else the block it makes too large.
  const alone = times * (child.inst.size ?? 1);
  const [what, n] =
    child.multi && alone > MAX_BLOCK_INSTANCES
      ? [
          `\`${m.name.name} = ${child.multi.mode} ${count ? count.num : dimToString(child.multi.count)} ${m.block.name}\``,
          alone,
        ]
      : [`\`${inst.label.endsWith('()') ? inst.decl.name.name : inst.label}\` (with \`${m.name.name}\`)`, total];
  ctx.checker.error('FM0317', m.span, [what, n.toLocaleString('en-US', { useGrouping: false }), MAX_BLOCK_INSTANCES], {
    help: 'every instance is compiled on its own; a model this large cannot be compiled',
  });
  inst.size = Infinity;
  return ERROR;
}

/** What a value is, with an article: "a function", "an int (1024)". */
function kindOf(v: V): string {
  switch (v.kind) {
    case 'fn':
    case 'builtin':
      return 'a function';
    case 'int':
    case 'float':
    case 'bool':
    case 'dtype':
      return `a compile-time ${v.kind} (${valueText(v)})`;
    case 'tensor':
      return `a tensor`;
    default:
      return describe(v);
  }
}

/**
 * A repeated block's forward must return what its leading tensor parameters take (FM0415):
 * result i feeds tensor parameter i of the next instance; tensor parameters after the results
 * (a mask, positions, an encoder's memory) go to every instance unchanged.
 */
function checkRepeatable(ctx: Ctx, inst: BlockInstance, m: A.ChildDecl): boolean {
  const f = inst.scope.get('forward')?.value;
  if (f?.kind !== 'fn' || f.fn === 'builtin-elementwise') return true;
  const sig = evalSignature(ctx.checker, f.fn);
  if (!sig?.resultPatterns) return true;
  const all = sig.params.filter((p) => p.tensor).map((p) => p.tensor!);
  const outs = sig.resultPatterns;
  const ins = all.slice(0, outs.length);
  const same = all.length >= outs.length && ins.every((p, i) => samePattern(p, outs[i]!));
  if (!same) {
    ctx.checker.error('FM0415', m.span, [
      m.block.name,
      `(${ins.map(patternText).join(', ')})`,
      `(${outs.map(patternText).join(', ')})`,
    ]);
  }
  return same;
}

function samePattern(a: ParamPattern, b: ParamPattern): boolean {
  const dt = (p: ParamPattern) => (p.dtype.kind === 'exact' ? p.dtype.dtype : p.dtype.kind);
  if (dt(a) !== dt(b) || a.dims.length !== b.dims.length) return false;
  return a.dims.every((d, i) => {
    const e = b.dims[i]!;
    if (d.kind === 'dim' && e.kind === 'dim') return dimEquals(d.dim, e.dim);
    return d.kind === e.kind && d.kind !== 'any';
  });
}

/** Every param and buffer inside an instance, with paths like `blocks.attn.q.weight`. */
export function paramsOf(inst: BlockInstance, prefix = ''): ParamInfo[] {
  const out: ParamInfo[] = [];
  for (const [name, b] of inst.scope) {
    if ((b.what === 'param' || b.what === 'buffer') && b.value.kind === 'tensor') {
      out.push({ path: prefix + name, type: b.value.t, isBuffer: b.what === 'buffer', span: b.span ?? inst.decl.span });
    } else if (b.value.kind === 'child') {
      for (const p of paramsOf(b.value.child.inst, `${prefix}${name}.`)) out.push(p);
    }
  }
  return out;
}

// ---------------------------------------------------------------- models

function checkModel(ctx: Ctx, inst: BlockInstance, fns: A.FnDecl[], train: A.TrainDecl | undefined): void {
  const decl = inst.decl;
  for (const h of decl.hparams) {
    if (!h.default) ctx.checker.error('FM0309', h.name.span, [h.name.name, decl.name.name]);
  }
  if (!fns.some((f) => f.name.name === 'forward')) ctx.checker.error('FM0602', decl.name.span, [decl.name.name]);
  for (const f of fns) {
    if (!f.results) {
      ctx.checker.error('FM0412', f.name.span, [
        'a declared result type on a model function (its outputs)',
        `\`${f.name.name}\` without one`,
      ]);
    }
  }
  if (train) checkTrain(ctx, inst, train);
  const loss = train ? trainLossName(train) : undefined;
  const lossName = loss?.name ?? 'loss';
  const lossFn = fns.find((f) => f.name.name === lossName);
  if (lossFn?.results) {
    const r = lossFn.results;
    const ok = r.length === 1 && !lossFn.tupleResult && r[0]!.type.dtype.name === 'f32' && r[0]!.type.dims.length === 0;
    if (!ok) {
      const shown = r.map((x) => ctx.checker.text(x.type.span)).join(', ');
      ctx.checker.error('FM0603', lossFn.name.span, [lossName, lossFn.tupleResult ? `(${shown})` : shown]);
    }
  }
}
