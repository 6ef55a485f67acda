// Calls: argument binding (positional, named, defaults), dispatch to builtins, functions
// and child blocks, and the unification of argument types with a signature.

import type * as A from '../ast.js';
import { note, suggest } from '../diagnostics.js';
import {
  type Dim,
  dimConstValue,
  dimEquals,
  dimIsInteger,
  dimSolveLinear,
  dimSubst,
  dimSym,
  dimSymbols,
  dimToString,
} from '../../ir/dims.js';
import type { Span } from '../source.js';
import {
  describe,
  describeWithArticle,
  ERROR,
  type FnRef,
  type Shape,
  shapesEqual,
  shapeToString,
  tensor,
  typeToString,
  type V,
} from '../types.js';
import { callBuiltin } from './builtins.js';
import type { Ctx } from './context.js';
import { evalExpr, isKnownName } from './expr.js';
import { hasOpenList } from './hparams.js';
import { lowerMulti } from './lower-multi.js';
import { LoweringBudget } from './emit.js';
import { MAX_CALL_DEPTH, MAX_INLINED_CALLS } from './limits.js';
import { joinPath } from './lower-params.js';
import { checkFnBody, evalSignature, type ParamPattern, patternText, type Signature } from './functions.js';

export interface ArgV {
  readonly value: V;
  readonly span: Span;
  readonly expr?: A.Expr;
}

export interface Args {
  readonly pos: readonly ArgV[];
  readonly named: ReadonlyMap<string, ArgV & { nameSpan: Span }>;
}

/** Evaluates call arguments; `pre` are already-evaluated leading arguments (the pipe value). */
export function evalArgs(ctx: Ctx, pre: readonly ArgV[], args: readonly A.Arg[], quietNames = false): Args {
  const pos: ArgV[] = [...pre];
  const named = new Map<string, ArgV & { nameSpan: Span }>();
  // With `quietNames`, an unknown bare name is kept as a name: it may be an enum option of
  // the callee's parameter; bindParams reports it otherwise.
  const value = (e: A.Expr): V =>
    quietNames && e.kind === 'Name' && !isKnownName(ctx, e.name) ? { kind: 'name', value: e.name } : evalExpr(ctx, e);
  for (const a of args) {
    if (a.kind === 'PosArg') {
      pos.push({ value: value(a.value), span: a.value.span, expr: a.value });
    } else {
      if (named.has(a.name.name)) {
        ctx.checker.error('FM0305', a.name.span, [a.name.name]);
        continue;
      }
      named.set(a.name.name, { value: value(a.value), span: a.value.span, expr: a.value, nameSpan: a.name.span });
    }
  }
  return { pos, named };
}

export function evalCall(
  ctx: Ctx,
  calleeExpr: A.Expr,
  callee: V,
  pre: readonly ArgV[],
  args: readonly A.Arg[],
  span: Span,
): V {
  if (callee.kind === 'error') {
    evalArgs(ctx, pre, args);
    return ERROR;
  }
  if (callee.kind === 'builtin') return callBuiltin(ctx, callee.name, evalArgs(ctx, pre, args), span, calleeExpr.span);
  if (callee.kind === 'fn') {
    const a = evalArgs(ctx, pre, args, true);
    if (callee.fn === 'builtin-elementwise') return callUnknownElementwise(ctx, callee.name, a, span);
    return callFn(ctx, callee.fn, a, span, undefined, callee.path);
  }
  if (callee.kind === 'child') return callChild(ctx, callee, evalArgs(ctx, pre, args, true), span);
  if (callee.kind === 'block') {
    ctx.checker.error('FM0206', calleeExpr.span, [callee.decl.name.name, 'a block', 'a function'], {
      help: `declare an instance as a block member, \`name = ${callee.decl.name.name}(...)\`, and call \`name(x)\``,
    });
    return ERROR;
  }
  ctx.checker.error('FM0206', calleeExpr.span, [
    calleeExpr.kind === 'Name' ? calleeExpr.name : 'this',
    describeWithArticle(callee),
    'a function',
  ]);
  return ERROR;
}

/** A function-typed hyperparameter with no known value: elementwise by contract. */
function callUnknownElementwise(ctx: Ctx, name: string, a: Args, span: Span): V {
  const x = a.pos[0];
  if (a.pos.length !== 1 || a.named.size > 0 || !x) {
    ctx.checker.error('FM0303', span, [name, 1, a.pos.length + a.named.size]);
    return ERROR;
  }
  if (x.value.kind !== 'tensor') {
    if (x.value.kind !== 'error') ctx.checker.error('FM0422', x.span, [1, name, 'a tensor', describe(x.value)]);
    return ERROR;
  }
  return tensor(x.value.t.dtype, x.value.t.shape, span);
}

// ---------------------------------------------------------------- binding to parameters

export interface Bound {
  /** The argument for each parameter, or undefined when the default applies. */
  readonly args: readonly (ArgV | undefined)[];
  readonly ok: boolean;
}

/** Matches positional and named arguments to a parameter list. */
export function bindParams(
  ctx: Ctx,
  calleeName: string,
  params: readonly { name: string; hasDefault: boolean; type?: A.FnParam['type'] | A.HParamType | undefined }[],
  a: Args,
  span: Span,
): Bound {
  let ok = true;
  const out: (ArgV | undefined)[] = params.map(() => undefined);
  if (a.pos.length > params.length) {
    ctx.checker.error('FM0303', a.pos[params.length]!.span, [calleeName, params.length, a.pos.length]);
    ok = false;
  }
  a.pos.slice(0, params.length).forEach((p, i) => (out[i] = p));
  for (const [name, arg] of a.named) {
    const i = params.findIndex((p) => p.name === name);
    if (i < 0) {
      const s = suggest(
        name,
        params.map((p) => p.name),
      );
      ctx.checker.error('FM0304', arg.nameSpan, [calleeName, name], { help: s ? `did you mean \`${s}\`?` : undefined });
      ok = false;
    } else if (out[i]) {
      ctx.checker.error('FM0305', arg.nameSpan, [name]);
      ok = false;
    } else {
      out[i] = arg;
    }
  }
  params.forEach((p, i) => {
    const arg = out[i];
    if (!arg && !p.hasDefault) {
      ctx.checker.error('FM0302', span, [p.name, calleeName]);
      ok = false;
    }
    // A bare name is accepted only as an option of an enum-typed parameter.
    if (arg?.value.kind === 'name' && p.type?.kind !== 'EnumType') {
      const s = suggest(arg.value.value, ctx.scope.allNames());
      ctx.checker.error('FM0200', arg.span, [arg.value.value], { help: s ? `did you mean \`${s}\`?` : undefined });
      out[i] = { ...arg, value: ERROR };
      ok = false;
    }
  });
  return { args: out, ok };
}

// ---------------------------------------------------------------- unification

export interface Unifier {
  readonly dims: Map<string, { dim: Dim; span: Span }>;
  ellipsis: { shape: Shape; span: Span } | undefined;
  readonly dtypes: Map<string, { dtype: V & { kind: 'dtype' }; span: Span }>;
}

export function newUnifier(): Unifier {
  return { dims: new Map(), ellipsis: undefined, dtypes: new Map() };
}

export function substDim(u: Unifier, d: Dim): Dim {
  const env = new Map<string, Dim>();
  for (const [k, v] of u.dims) env.set(k, v.dim);
  return dimSubst(d, env);
}

/**
 * Unifies an argument tensor with a parameter pattern, binding dim variables, `...` and
 * dtype classes. Reports FM0401/FM0402/FM0403/FM0422 and returns false on a mismatch.
 */
export function unifyTensor(
  ctx: Ctx,
  u: Unifier,
  p: ParamPattern,
  arg: ArgV,
  index: number,
  calleeName: string,
): boolean {
  const v = arg.value;
  if (v.kind === 'error') return false;
  if (v.kind !== 'tensor') {
    ctx.checker.error('FM0422', arg.span, [index + 1, calleeName, patternText(p), describe(v)]);
    return false;
  }
  const t = v.t;
  const mismatch = () => {
    const fromHere = t.origin && (t.origin.start !== arg.span.start || t.origin.end !== arg.span.end);
    ctx.checker.error('FM0422', arg.span, [index + 1, calleeName, patternText(p), typeToString(t)], {
      notes: fromHere ? [note(`${typeToString(t)} comes from here`, t.origin!)] : [],
    });
    return false;
  };
  // dtype
  if (p.dtype.kind === 'exact') {
    if (p.dtype.dtype !== t.dtype) return mismatch();
  } else {
    const ok =
      p.dtype.kind === 'float'
        ? ['f32', 'f16', 'bf16'].includes(t.dtype)
        : ['i8', 'i4', 'i32', 'i64'].includes(t.dtype);
    if (!ok) return mismatch();
    const prev = u.dtypes.get(p.dtype.kind);
    if (prev && prev.dtype.value !== t.dtype) {
      ctx.checker.error('FM0401', arg.span, [t.dtype, prev.dtype.value], {
        notes: [note(`\`${p.dtype.kind}\` was bound to ${prev.dtype.value} here`, prev.span)],
      });
      return false;
    }
    if (!prev) u.dtypes.set(p.dtype.kind, { dtype: { kind: 'dtype', value: t.dtype }, span: arg.span });
  }
  // rank and `...`
  const dims = t.shape.dims;
  const ell = p.dims.findIndex((d) => d.kind === 'ellipsis');
  let actual: readonly Dim[];
  let pats: ParamPattern['dims'];
  if (ell < 0) {
    if (t.shape.prefix !== undefined || dims.length !== p.dims.length) {
      ctx.checker.error('FM0402', arg.span, [
        p.dims.length,
        `${typeToString(t)} (argument ${index + 1} of \`${calleeName}\`, declared ${patternText(p)})`,
      ]);
      return false;
    }
    actual = dims;
    pats = p.dims;
  } else {
    const before = ell;
    const after = p.dims.length - ell - 1;
    if (dims.length < before + after || (t.shape.prefix !== undefined && before > 0)) return mismatch();
    const bound: Shape = { prefix: t.shape.prefix, dims: dims.slice(before, dims.length - after) };
    if (u.ellipsis) {
      if (!shapesEqual(u.ellipsis.shape, bound)) {
        ctx.checker.error('FM0403', arg.span, ['...', shapeToString(bound), shapeToString(u.ellipsis.shape)], {
          notes: [note('`...` was bound here', u.ellipsis.span)],
        });
        return false;
      }
    } else {
      u.ellipsis = { shape: bound, span: arg.span };
    }
    actual = [...dims.slice(0, before), ...dims.slice(dims.length - after)];
    pats = [...p.dims.slice(0, before), ...p.dims.slice(ell + 1)];
  }
  for (let i = 0; i < pats.length; i++) {
    const pd = pats[i]!;
    const ad = actual[i]!;
    if (pd.kind !== 'dim') continue; // `_`
    if (!unifyDim(ctx, u, pd.dim, ad, arg.span, p.vars)) {
      const vars = dimSymbols(pd.dim).filter((s) => p.vars.has(s));
      const boundVar = vars.find((s) => u.dims.has(s));
      if (boundVar && vars.length === 1) {
        const b = u.dims.get(boundVar)!;
        ctx.checker.error(
          'FM0403',
          arg.span,
          [p.vars.get(boundVar)!, `${dimToString(ad)} in ${typeToString(t)}`, dimToString(b.dim)],
          {
            notes: [note(`\`${p.vars.get(boundVar)!}\` was bound to ${dimToString(b.dim)} here`, b.span)],
          },
        );
        return false;
      }
      return mismatch();
    }
  }
  return true;
}

function unifyDim(
  ctx: Ctx,
  u: Unifier,
  pattern: Dim,
  actual: Dim,
  span: Span,
  vars: ReadonlyMap<string, string>,
): boolean {
  void ctx;
  const unbound = dimSymbols(pattern).filter((s) => vars.has(s) && !u.dims.has(s));
  if (unbound.length === 1) {
    const name = unbound[0]!;
    const rest = substDim(u, pattern);
    if (dimEquals(rest, dimSym(name))) {
      u.dims.set(name, { dim: actual, span });
      return true;
    }
    const solved = dimSolveLinear(rest, actual, name);
    if (solved === undefined) return false;
    const c = dimConstValue(solved);
    if (c !== undefined && c <= 0) return false;
    u.dims.set(name, { dim: solved, span });
    return true;
  }
  if (unbound.length > 1) return false;
  return dimEquals(substDim(u, pattern), actual);
}

// ---------------------------------------------------------------- function calls

export function callFn(ctx: Ctx, fn: FnRef, a: Args, span: Span, label?: string, path?: string): V {
  const name = label ?? fn.decl.name.name;
  const caller = ctx.checker.fnStack.at(-1);
  if (caller) ctx.checker.calls.push({ from: caller, to: fn.decl, span });
  const sig = evalSignature(ctx.checker, fn);
  if (!sig) {
    return ERROR;
  }
  const bound = bindParams(
    ctx,
    name,
    sig.params.map((p) => ({ name: p.name, hasDefault: p.hasDefault, type: p.decl.type })),
    a,
    span,
  );
  if (!bound.ok) return ERROR;
  // Lowering inlines every call: the body runs with the arguments' nodes. A function with an
  // `[int]` parameter without a default is checked per call too (its generic check is by name).
  if (!fn.decl.results || ctx.checker.lowering || hasOpenList(fn.decl.params))
    return callInferred(ctx, fn, sig, bound, span, name, path ?? ctx.path);
  const u = newUnifier();
  let ok = true;
  const statics = new Map<string, V>();
  sig.params.forEach((p, i) => {
    const arg = bound.args[i];
    if (p.tensor) {
      if (!arg) return;
      ok = unifyTensor(ctx, u, p.tensor, arg, i, name) && ok;
    } else if (arg) {
      const v = p.check(ctx, arg);
      if (v.kind === 'error') ok = false;
      statics.set(p.name, v);
    }
  });
  if (!ok) return ERROR;
  const results = sig.results(u, statics);
  if (!results) return ERROR;
  for (const t of results) {
    const bad = t.shape.dims.find((d) => dimIsInteger(d) === false);
    if (bad) {
      ctx.checker.error('FM0307', span, [dimToString(bad), `in the result of \`${name}\` for these arguments`]);
      return ERROR;
    }
  }
  const vs = results.map((t) => tensor(t.dtype, t.shape, span));
  return fn.decl.tupleResult ? { kind: 'tuple', items: vs } : (vs[0] ?? ERROR);
}

const MAX_INFERRED_DEPTH = 200;

/** Calls a function without declared results by checking its body with these arguments. */
function callInferred(
  ctx: Ctx,
  fn: FnRef,
  sig: Signature,
  bound: Bound,
  span: Span,
  name: string,
  path: string | undefined,
): V {
  const args = sig.params.map((p, i) => {
    const arg = bound.args[i];
    if (!arg) return undefined;
    return p.tensor ? arg.value : p.check(ctx, arg);
  });
  if (args.some((v) => v?.kind === 'error')) return ERROR;
  // Unify tensor parameters so that `...` and dim variables are bound inside the body.
  const u = newUnifier();
  for (let i = 0; i < sig.params.length; i++) {
    const p = sig.params[i]!;
    const arg = bound.args[i];
    if (p.tensor && arg && !unifyTensor(ctx, u, p.tensor, arg, i, name)) return ERROR;
  }
  if (!ctx.checker.lowering && ctx.checker.frames.length > MAX_INFERRED_DEPTH) {
    ctx.checker.error('FM0300', span, [
      `a call nested more than ${MAX_INFERRED_DEPTH} deep (is \`${fn.decl.name.name}\` recursive?)`,
    ]);
    return ERROR;
  }
  // A function of another block starts that block's own code; any other call nests.
  const fnName = fn.decl.name.name;
  const callScope = path !== ctx.path ? '' : ctx.callScope ? `${ctx.callScope}/${fnName}` : fnName;
  const L = ctx.checker.lowering;
  if (!L) return checkFnBody(ctx.checker, fn, { args, unifier: u, site: span, path, callScope });
  if (L.calls.length >= MAX_CALL_DEPTH) {
    throw new LoweringBudget(`calls nest more than ${MAX_CALL_DEPTH} deep`, MAX_CALL_DEPTH, span);
  }
  if (++L.inlined > MAX_INLINED_CALLS) {
    const outer = L.calls[0] ?? { name, span };
    throw new LoweringBudget(
      `the call of \`${outer.name}\` inlines more than ${MAX_INLINED_CALLS} calls`,
      MAX_INLINED_CALLS,
      outer.span,
    );
  }
  L.calls.push({ name, span });
  try {
    return checkFnBody(ctx.checker, fn, { args, unifier: u, site: span, path, callScope });
  } finally {
    L.calls.pop();
  }
}

// ---------------------------------------------------------------- child blocks

function callChild(ctx: Ctx, callee: V & { kind: 'child' }, a: Args, span: Span): V {
  const { inst, multi, decl } = callee.child;
  if (inst.failed) return ERROR;
  const fwdB = inst.scope.get('forward');
  if (!fwdB || fwdB.value.kind !== 'fn' || fwdB.value.fn === 'builtin-elementwise') {
    ctx.checker.error('FM0206', span, [decl.name.name, `a block without a \`forward\` function`, 'callable']);
    return ERROR;
  }
  const fwd = fwdB.value.fn;
  const label = `${decl.name.name}.forward`;
  const path = callee.path ?? joinPath(ctx.path, decl.name.name);
  if (!multi) return callFn(ctx, fwd, a, span, label, path);
  if (ctx.checker.lowering) return lowerMulti(ctx, fwd, multi, a, span, label, path);
  if (multi.mode === 'repeat') {
    // Checked once at the declaration (FM0415); here the call behaves like forward.
    return callFn(ctx, fwd, a, span, label);
  }
  // stack: strip the leading axis of every tensor argument, add it to every result.
  const n = multi.count;
  const strip = (arg: ArgV, i: number): ArgV | undefined => {
    if (arg.value.kind !== 'tensor') return arg;
    const t = arg.value.t;
    const lead = t.shape.dims[0];
    if (t.shape.prefix !== undefined || !lead || !dimEquals(lead, n)) {
      ctx.checker.error('FM0416', arg.span, [decl.name.name, dimToString(n), `${typeToString(t)} (argument ${i + 1})`]);
      return undefined;
    }
    return { ...arg, value: tensor(t.dtype, { prefix: undefined, dims: t.shape.dims.slice(1) }, t.origin) };
  };
  const pos = a.pos.map(strip);
  const named = new Map<string, ArgV & { nameSpan: Span }>();
  let i = pos.length;
  for (const [k, v] of a.named) {
    const s = strip(v, i++);
    if (s) named.set(k, { ...s, nameSpan: v.nameSpan });
    else return ERROR;
  }
  if (pos.some((p) => !p)) return ERROR;
  const r = callFn(ctx, fwd, { pos: pos as ArgV[], named }, span, label);
  const add = (v: V): V =>
    v.kind === 'tensor' ? tensor(v.t.dtype, { prefix: undefined, dims: [n, ...v.t.shape.dims] }, span) : v;
  return r.kind === 'tuple' ? { kind: 'tuple', items: r.items.map(add) } : add(r);
}
