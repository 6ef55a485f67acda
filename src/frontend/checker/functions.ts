// Functions: evaluating a signature into patterns (dim variables, `...`, dtype classes),
// and checking a body — once against its declared results, or per call when the results
// are inferred.

import type * as A from '../ast.js';
import { note } from '../diagnostics.js';
import { type Dim, dimConst, dimConstValue, dimSubst, dimSym, dimToString } from '../../ir/dims.js';
import type { Span } from '../source.js';
import { type Dtype, describe, ERROR, type FnRef, tensor, type TensorT, type V, valueKey } from '../types.js';
import { type ArgV, newUnifier, substDim, type Unifier } from './calls.js';
import { Checker, type Ctx, Scope, staticCtx } from './context.js';
import { evalExpr, isKnownName } from './expr.js';
import { checkStatements, compareResults } from './statements.js';
import { checkHParamValue, enumArg, genericValue, hasOpenList } from './hparams.js';
import { hasTopLevel } from './toplevel.js';
import { checkShapeLimits, MAX_RANK } from './limits.js';

export type DtypePattern = { kind: 'exact'; dtype: Dtype } | { kind: 'float' } | { kind: 'int' };

export interface ParamPattern {
  readonly dtype: DtypePattern;
  readonly dims: readonly ({ kind: 'dim'; dim: Dim } | { kind: 'any' } | { kind: 'ellipsis' })[];
  /** The type as written, for messages. */
  readonly text: string;
  /** Pattern symbol → the dim variable's name as written. */
  readonly vars: ReadonlyMap<string, string>;
}

export interface SigParam {
  readonly name: string;
  readonly decl: A.FnParam;
  readonly hasDefault: boolean;
  readonly tensor: ParamPattern | undefined;
  /** Validates a compile-time argument (or returns the default when `arg` is undefined). */
  check(ctx: Ctx, arg: ArgV | undefined): V;
}

export interface Signature {
  readonly params: readonly SigParam[];
  readonly resultPatterns: readonly ParamPattern[] | undefined;
  /** Result types with the unifier's bindings substituted. */
  results(u: Unifier, statics: ReadonlyMap<string, V>): TensorT[] | undefined;
}

const varSym = (name: string) => `v.${name}`;
const staticSym = (name: string) => `s.${name}`;

function closureScope(fn: FnRef): Scope {
  const s = new Scope(undefined);
  if (fn.owner) for (const [k, b] of fn.owner.scope) s.define(k, b);
  return s;
}

function fnKey(fn: FnRef): string {
  return `${fn.module}:${fn.decl.span.start}:${fn.owner?.key ?? ''}`;
}

function sourceText(checker: Checker, span: Span): string {
  return checker.text(span);
}

// ---------------------------------------------------------------- signatures

const signatures = new WeakMap<Checker, Map<string, Signature | undefined>>();

export function evalSignature(checker: Checker, fn: FnRef): Signature | undefined {
  let memo = signatures.get(checker);
  if (!memo) signatures.set(checker, (memo = new Map()));
  const key = fnKey(fn);
  if (memo.has(key)) return memo.get(key);
  memo.set(key, undefined);
  const sig = buildSignature(checker, fn);
  memo.set(key, sig);
  return sig;
}

function buildSignature(checker: Checker, fn: FnRef): Signature | undefined {
  const scope = new Scope(closureScope(fn));
  const ctx = staticCtx(checker, fn.module, scope, fn.owner);
  const d = fn.decl;
  // Compile-time parameters are symbols in the signature, bound at each call.
  for (const p of d.params) {
    if (p.type.kind === 'TensorType') continue;
    const v =
      p.type.kind === 'ScalarType' && p.type.name === 'int'
        ? { kind: 'int' as const, dim: dimSym(staticSym(p.name.name)) }
        : genericValue(p.type, p.name.name);
    scope.define(p.name.name, { value: v, span: p.name.span, what: 'parameter' });
  }
  // Dim variables: upper-case names in the types that are not otherwise defined.
  const vars = new Map<string, string>();
  const paramVars = new Set<string>();
  const collect = (t: A.TensorTypeExpr, into?: Set<string>) => {
    for (const dim of t.dims)
      if (dim.kind === 'DimExpr')
        collectNames(dim.expr, (n) => {
          if (/^[A-Z]/.test(n) && !scope.lookup(n) && !hasTopLevel(ctx, n)) {
            vars.set(varSym(n), n);
            into?.add(n);
          }
        });
  };
  for (const p of d.params) if (p.type.kind === 'TensorType') collect(p.type, paramVars);
  for (const r of d.results ?? []) collect(r.type);
  for (const [sym, n] of vars)
    scope.define(n, { value: { kind: 'int', dim: dimSym(sym) }, span: undefined, what: 'dim variable' });

  let ok = true;
  const pattern = (t: A.TensorTypeExpr, isResult: boolean): ParamPattern | undefined => {
    const p = typePattern(ctx, t, vars);
    if (!p) return undefined;
    if (isResult) {
      for (const dim of t.dims) {
        if (dim.kind === 'DimAny') {
          checker.error('FM0207', dim.span, ['_']);
          return undefined;
        }
        if (dim.kind === 'DimExpr') {
          let bad: string | undefined;
          collectNames(dim.expr, (n) => {
            if (vars.has(varSym(n)) && !paramVars.has(n)) bad ??= n;
          });
          if (bad) {
            checker.error('FM0207', dim.span, [bad]);
            return undefined;
          }
        }
      }
      if (
        t.dims.some((x) => x.kind === 'DimEllipsis') &&
        !d.params.some((q) => q.type.kind === 'TensorType' && q.type.dims.some((x) => x.kind === 'DimEllipsis'))
      ) {
        checker.error('FM0207', t.span, ['...']);
        return undefined;
      }
    }
    return p;
  };
  const names = new Map<string, A.Ident>();
  for (const id of [...d.params.map((p) => p.name), ...(d.results ?? []).flatMap((r) => (r.name ? [r.name] : []))]) {
    const first = names.get(id.name);
    if (first) checker.error('FM0201', id.span, [id.name], { notes: [note('first defined here', first.span)] });
    else names.set(id.name, id);
  }
  const params: SigParam[] = d.params.map((p) => {
    const tensorPat = p.type.kind === 'TensorType' ? pattern(p.type, false) : undefined;
    if (p.type.kind === 'TensorType' && !tensorPat) ok = false;
    const type = p.type;
    return {
      name: p.name.name,
      decl: p,
      hasDefault: p.default !== undefined,
      tensor: tensorPat,
      check(cctx: Ctx, arg: ArgV | undefined): V {
        if (type.kind === 'TensorType') return arg?.value ?? ERROR;
        if (!arg) {
          if (!p.default) return genericValue(type, p.name.name);
          const dctx = staticCtx(checker, fn.module, closureScope(fn), fn.owner);
          const dv = enumArg(type, p.default) ?? evalExpr(dctx, p.default);
          return checkHParamValue(dctx, type, dv, p.default.span);
        }
        return checkHParamValue(cctx, type, arg.value, arg.span);
      },
    };
  });
  const resultPatterns = d.results?.map((r) => pattern(r.type, true));
  if (!ok || resultPatterns?.some((r) => !r)) return undefined;
  return {
    params,
    resultPatterns: resultPatterns as ParamPattern[] | undefined,
    results(u, statics) {
      const env = newUnifier();
      for (const [k, v] of u.dims) env.dims.set(k, v);
      for (const [k, v] of statics) if (v.kind === 'int') env.dims.set(staticSym(k), { dim: v.dim, span: d.span });
      return (resultPatterns as ParamPattern[]).map((rp) => instantiatePattern(rp, env, u));
    },
  };
}

/** A pattern as a user reads it: dim variables by name, hyperparameters by value. */
export function patternText(p: ParamPattern): string {
  const env = new Map<string, Dim>();
  for (const [sym, name] of p.vars) env.set(sym, dimSym(name));
  const dims = p.dims.map((d) => {
    if (d.kind === 'ellipsis') return '...';
    if (d.kind === 'any') return '_';
    return dimToString(dimSubst(d.dim, env)).replace(/\bs\.(\w+)/g, '$1');
  });
  const dtype = p.dtype.kind === 'exact' ? p.dtype.dtype : p.dtype.kind;
  return `${dtype}[${dims.join(', ')}]`;
}

/** A pattern's tensor type with bindings substituted (`...` from `u`). */
export function instantiatePattern(p: ParamPattern, env: Unifier, u: Unifier): TensorT {
  const dtype: Dtype =
    p.dtype.kind === 'exact'
      ? p.dtype.dtype
      : (u.dtypes.get(p.dtype.kind)?.dtype.value ?? (p.dtype.kind === 'float' ? 'f32' : 'i32'));
  const dims: Dim[] = [];
  let prefix: string | undefined;
  for (const d of p.dims) {
    if (d.kind === 'ellipsis') {
      prefix = u.ellipsis?.shape.prefix;
      dims.push(...(u.ellipsis?.shape.dims ?? []));
    } else if (d.kind === 'dim') {
      dims.push(substDim(env, d.dim));
    }
  }
  return { dtype, shape: { prefix, dims }, origin: undefined };
}

function collectNames(e: A.Expr, f: (name: string) => void): void {
  switch (e.kind) {
    case 'Name':
      f(e.name);
      return;
    case 'Binary':
      collectNames(e.left, f);
      collectNames(e.right, f);
      return;
    case 'Unary':
      collectNames(e.operand, f);
      return;
    case 'Paren':
      collectNames(e.inner, f);
      return;
    case 'Call':
      for (const a of e.args) collectNames(a.value, f);
      return;
    default:
      return;
  }
}

/** Evaluates a written tensor type into a pattern (dims as symbolic expressions). */
export function typePattern(
  ctx: Ctx,
  t: A.TensorTypeExpr,
  vars: ReadonlyMap<string, string>,
): ParamPattern | undefined {
  const dtype = resolveDtype(ctx, t.dtype);
  if (!dtype) return undefined;
  const dims: ParamPattern['dims'][number][] = [];
  let ell = 0;
  let ok = true;
  for (const d of t.dims) {
    if (d.kind === 'DimEllipsis') {
      if (++ell > 1) {
        ctx.checker.error('FM0421', d.span);
        ok = false;
      }
      dims.push({ kind: 'ellipsis' });
    } else if (d.kind === 'DimAny') {
      dims.push({ kind: 'any' });
    } else {
      // Keep going after a bad dim, so every bad dim of the type is reported.
      const dim = evalDim(ctx, d.expr);
      if (!dim) ok = false;
      else dims.push({ kind: 'dim', dim });
    }
  }
  if (!ok) return undefined;
  // A declared type beyond the limits is reported once, here, rather than at every use.
  const exact = dims.flatMap((d) => (d.kind === 'dim' ? [d.dim] : []));
  if (dims.length > MAX_RANK || exact.length === dims.length) {
    if (!checkShapeLimits(ctx, exact.length === dims.length ? exact : dims.map(() => dimConst(1)), t.span))
      return undefined;
  }
  return { dtype, dims, text: sourceText(ctx.checker, t.span), vars };
}

export function evalDim(ctx: Ctx, e: A.Expr): Dim | undefined {
  if (e.kind === 'Name' && e.name !== '' && !isKnownName(ctx, e.name) && !/^[A-Z]/.test(e.name)) {
    ctx.checker.error('FM0200', e.span, [e.name], {
      help: 'a dim variable starts with an upper-case letter (`B`, `T`); a lower-case dim must be a hyperparameter, constant or `let`',
    });
    return undefined;
  }
  const v = evalExpr(ctx, e);
  if (v.kind === 'int') {
    const c = dimConstValue(v.dim);
    if (c !== undefined && c < 0) {
      ctx.checker.error('FM0311', e.span, [sourceText(ctx.checker, e.span), c]);
      return undefined;
    }
    return v.dim;
  }
  if (v.kind !== 'error') ctx.checker.error('FM0420', e.span, [describe(v)]);
  return undefined;
}

export function resolveDtype(ctx: Ctx, id: A.Ident): DtypePattern | undefined {
  if (id.name === 'float' || id.name === 'int') return { kind: id.name };
  if (id.name === '') return undefined;
  const v = evalExpr(ctx, { kind: 'Name', name: id.name, span: id.span });
  if (v.kind === 'dtype') return { kind: 'exact', dtype: v.value };
  if (v.kind !== 'error') ctx.checker.error('FM0412', id.span, ['a dtype', describe(v)]);
  return undefined;
}

// ---------------------------------------------------------------- bodies

export interface CallSite {
  /** Argument values per parameter (undefined: default). */
  readonly args: readonly (V | undefined)[];
  readonly unifier: Unifier;
  readonly site: Span;
  /** When lowering: the block path of the function's instance. */
  readonly path?: string;
  /** When lowering: the call scope inside that block (see Ctx.callScope). */
  readonly callScope?: string;
}

/**
 * Checks a function body. Without `call`, checks it generically against its declared
 * results (dim variables rigid); with `call`, checks it for those arguments and returns
 * the value it returns (inferred results).
 */
export function checkFnBody(checker: Checker, fn: FnRef, call?: CallSite): V {
  const d = fn.decl;
  const sig = evalSignature(checker, fn);
  if (!sig) return ERROR;
  const key = call ? `${fnKey(fn)}|${call.args.map((a) => (a ? valueKey(a) : '-')).join(',')}` : `${fnKey(fn)}|generic`;
  // Lowering evaluates every call afresh: its values carry the call's own nodes.
  const memo = checker.lowering ? undefined : checker.inferred.get(key);
  if (memo) return memo;
  if (!checker.lowering) checker.inferred.set(key, ERROR); // recursion guard
  const scope = new Scope(closureScope(fn));
  let ellipsis: V | undefined;
  let u: Unifier;
  const statics = new Map<string, V>();
  const bodyCtx = (): Ctx => ({
    checker,
    scope,
    module: fn.module,
    owner: fn.owner,
    allowTensors: true,
    fnEllipsis: ellipsis,
    path: call?.path,
    callScope: call?.callScope,
  });
  if (call) {
    u = call.unifier;
    if (u.ellipsis) ellipsis = { kind: 'ellipsis', shape: u.ellipsis.shape };
  } else {
    // Rigid symbols for dim variables, a fresh variadic prefix for `...`.
    u = newUnifier();
    for (const p of sig.params) {
      if (!p.tensor) continue;
      for (const [sym, name] of p.tensor.vars)
        if (!u.dims.has(sym)) u.dims.set(sym, { dim: dimSym(name), span: d.span });
      if (p.tensor.dims.some((x) => x.kind === 'ellipsis') && !u.ellipsis) {
        u.ellipsis = { shape: { prefix: checker.freshName('__ell'), dims: [] }, span: d.span };
      }
    }
    if (u.ellipsis) ellipsis = { kind: 'ellipsis', shape: u.ellipsis.shape };
  }
  const frame = call ? { message: `in this call of \`${d.name.name}\``, span: call.site, call: true } : undefined;
  const result = checker.within(frame, () => {
    // Bind parameters.
    sig.params.forEach((p, i) => {
      let v: V;
      if (call) {
        v = call.args[i] ?? p.check(bodyCtx(), undefined);
      } else if (p.tensor) {
        v = patternTensor(p.tensor, u, p.decl.span);
      } else {
        v = p.check(bodyCtx(), undefined);
      }
      if (
        v.kind === 'int' ||
        v.kind === 'float' ||
        v.kind === 'bool' ||
        v.kind === 'enum' ||
        v.kind === 'dtype' ||
        v.kind === 'fn'
      )
        statics.set(p.name, v);
      scope.define(p.name, { value: v, span: p.decl.name.span, what: 'parameter' });
    });
    for (const [sym, name] of varsOf(sig)) {
      const b = u.dims.get(sym);
      if (b) scope.define(name, { value: { kind: 'int', dim: b.dim }, span: undefined, what: 'dim variable' });
    }
    // Lowering: the signature's dims once more with the bound sizes, so that an exact division
    // of run-time sizes there (`T / 2`) becomes a run-time check (requires.ts).
    if (checker.lowering) for (const e of signatureDimExprs(d)) evalExpr(bodyCtx(), e);
    checker.fnStack.push(d);
    try {
      return checkStatements(bodyCtx(), d);
    } finally {
      checker.fnStack.pop();
    }
  });
  let out: V = result ?? ERROR;
  if (!call && result && sig.resultPatterns && result.kind !== 'error') {
    const expected = sig.results(u, new Map([...statics].map(([k, v]) => [k, v.kind === 'int' ? v : v])));
    if (expected) compareResults(checker, d, result, expected);
  }
  if (call && d.results && result) out = result;
  if (call && !checker.lowering && result && result.kind !== 'error' && sig.resultPatterns && hasOpenList(d.params)) {
    // Checked per call instead of generically (hasOpenList): the body against the results.
    // The call's value is the declared results, as for a function checked generically.
    const expected = sig.results(u, statics);
    if (expected) {
      checker.within(frame, () => compareResults(checker, d, result, expected));
      const vs = expected.map((t) => tensor(t.dtype, t.shape, call.site));
      out = d.tupleResult ? { kind: 'tuple', items: vs } : (vs[0] ?? ERROR);
    }
  }
  if (!checker.lowering) checker.inferred.set(key, out);
  return out;
}

/**
 * Checks a function without declared results outside of any call: its shapes are only
 * known per call, so only name errors (FM02xx) are reported, from a separate checker so
 * that nothing it memoizes leaks into real calls.
 */
export function checkInferredNames(checker: Checker, fn: FnRef): void {
  checker.namesOnly((scratch) => checkFnBody(scratch, fn));
}

function varsOf(sig: Signature): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of sig.params) if (p.tensor) for (const [k, v] of p.tensor.vars) m.set(k, v);
  return m;
}

function patternTensor(p: ParamPattern, u: Unifier, origin: Span): V {
  const t = instantiatePattern(p, u, u);
  let n = 0;
  const dims = t.shape.dims.slice();
  // `_` dims become fresh rigid symbols.
  const out: Dim[] = [];
  let k = 0;
  for (const d of p.dims) {
    if (d.kind === 'any') out.push(dimSym(`_${++n}`));
    else if (d.kind === 'ellipsis') {
      const len = u.ellipsis?.shape.dims.length ?? 0;
      out.push(...dims.slice(k, k + len));
      k += len;
    } else out.push(dims[k++]!);
  }
  return tensor(t.dtype, { prefix: t.shape.prefix, dims: out }, origin);
}

/** The dim expressions of a function's tensor parameter and result types. */
function signatureDimExprs(d: A.FnDecl): A.Expr[] {
  const types = [...d.params.map((p) => p.type), ...(d.results ?? []).map((r) => r.type)];
  return types.flatMap((t) =>
    t.kind === 'TensorType' ? t.dims.flatMap((x) => (x.kind === 'DimExpr' ? [x.expr] : [])) : [],
  );
}
