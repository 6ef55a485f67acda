// Function bodies: statements (`let`, `set`, `require`, `return`), the checks of annotated
// lets and buffer updates, and the comparison of a body's result with its signature.

import type * as A from '../ast.js';
import { note } from '../diagnostics.js';
import { type Dim, dimToString } from '../../ir/dims.js';
import { describe, shapesEqual, type TensorT, typeToString, type V } from '../types.js';
import { newUnifier } from './calls.js';
import type { Checker, Ctx } from './context.js';
import { joinPath } from './lower-params.js';
import { bindLet, evalExpr } from './expr.js';
import { symbolicRequire } from './requires.js';
import { instantiatePattern, type ParamPattern, typePattern } from './functions.js';

export function checkStatements(ctx: Ctx, d: A.FnDecl): V | undefined {
  let result: V | undefined;
  for (let i = 0; i < d.body.length; i++) {
    const s = d.body[i]!;
    if (result !== undefined) {
      ctx.checker.error('FM0424', s.span);
      break;
    }
    switch (s.kind) {
      case 'Let':
        bindLet(ctx, s, (v, t) => checkAnnotated(ctx, v, t));
        break;
      case 'Require':
        checkRequire(ctx, s);
        break;
      case 'Set':
        checkSet(ctx, s);
        break;
      case 'Return':
        result = evalExpr(ctx, s.value);
        break;
    }
  }
  if (result === undefined) ctx.checker.error('FM0414', d.endSpan, [d.name.name]);
  return result;
}

function checkAnnotated(ctx: Ctx, v: V, t: A.TensorTypeExpr): void {
  const p = typePattern(ctx, t, new Map());
  if (!p) return;
  if (v.kind !== 'tensor') {
    ctx.checker.error('FM0412', t.span, [p.text, describe(v)]);
    return;
  }
  const expected = instantiatePattern(p, newUnifier(), {
    ...newUnifier(),
    ellipsis:
      ctx.fnEllipsis?.kind === 'ellipsis' && ctx.fnEllipsis.shape
        ? { shape: ctx.fnEllipsis.shape, span: t.span }
        : undefined,
  });
  if (!sameType(v.t, expected, p))
    ctx.checker.error('FM0412', t.span, [p.text, typeToString(v.t)], {
      notes: v.t.origin ? [note('the value comes from here', v.t.origin)] : [],
    });
}

function sameType(actual: TensorT, expected: TensorT, p: ParamPattern): boolean {
  if (p.dtype.kind === 'exact' && actual.dtype !== expected.dtype) return false;
  if (!p.dims.some((d) => d.kind === 'any')) return shapesEqual(actual.shape, expected.shape);
  // `_` matches any dim: compare the others position by position (no `...` here).
  if (actual.shape.prefix !== undefined || actual.shape.dims.length !== p.dims.length) return false;
  let k = 0;
  return p.dims.every((d, i) => d.kind === 'any' || dimEqualsAt(actual.shape.dims[i]!, expected.shape.dims[k++]));
}

function dimEqualsAt(a: Dim, b: Dim | undefined): boolean {
  return b !== undefined && dimToString(a) === dimToString(b);
}

/** Checks a `require`; returns false when it fails. */
export function checkRequire(ctx: Ctx, s: A.RequireStmt): boolean {
  const v = evalExpr(ctx, s.cond);
  if (v.kind === 'error') return true;
  if (v.kind !== 'bool') {
    ctx.checker.error('FM0417', s.cond.span, [describe(v), '`require`']);
    return true;
  }
  const text = s.message ?? ctx.checker.text(s.cond.span);
  if (v.value === false) {
    ctx.checker.error('FM0308', s.cond.span, [text]);
    return false;
  }
  return v.value === undefined ? symbolicRequire(ctx, s, text) : true;
}

function checkSet(ctx: Ctx, s: A.SetStmt): void {
  const b = ctx.scope.lookup(s.target.name);
  const v = evalExpr(ctx, s.value);
  if (!b || b.what !== 'buffer' || b.value.kind !== 'tensor') {
    ctx.checker.error('FM0423', s.target.span, [
      s.target.name,
      b ? `it is a ${b.what}, not a buffer` : 'there is no buffer with this name',
    ]);
    return;
  }
  if (v.kind === 'error') return;
  if (v.kind !== 'tensor' || v.t.dtype !== b.value.t.dtype || !shapesEqual(v.t.shape, b.value.t.shape)) {
    ctx.checker.error(
      'FM0423',
      s.value.span,
      [s.target.name, `the buffer is ${typeToString(b.value.t)}, the value ${describe(v)}`],
      {
        notes: b.span ? [note('the buffer is declared here', b.span)] : [],
      },
    );
    return;
  }
  // When lowering, the update becomes an output of the graph; it applies after the call.
  const L = ctx.checker.lowering;
  if (L && v.t.node) L.updates.set(joinPath(ctx.path, s.target.name), v.t.node);
}

export function compareResults(checker: Checker, d: A.FnDecl, result: V, expected: TensorT[]): void {
  const items = d.tupleResult ? (result.kind === 'tuple' ? result.items : undefined) : [result];
  const shown = expected.map(typeToString).join(', ');
  const declared = d.tupleResult ? `(${shown})` : shown;
  const actualText =
    result.kind === 'tensor'
      ? typeToString(result.t)
      : result.kind === 'tuple'
        ? `(${result.items.map((i) => (i.kind === 'tensor' ? typeToString(i.t) : describe(i))).join(', ')})`
        : describe(result);
  const ret = [...d.body].reverse().find((s) => s.kind === 'Return');
  const span = ret?.kind === 'Return' ? ret.value.span : d.endSpan;
  if (!items || items.length !== expected.length) {
    checker.error('FM0404', span, [d.name.name, actualText, declared]);
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const v = items[i]!;
    const e = expected[i]!;
    if (v.kind === 'error') continue;
    if (v.kind !== 'tensor' || v.t.dtype !== e.dtype || !shapesEqual(v.t.shape, e.shape)) {
      const notes = v.kind === 'tensor' && v.t.origin ? [note(`${typeToString(v.t)} comes from here`, v.t.origin)] : [];
      checker.error('FM0404', span, [d.name.name, actualText, declared], { notes: [...notes, ...dimHint(v, e)] });
      return;
    }
  }
}

function dimHint(v: V, e: TensorT): { message: string; span: undefined }[] {
  if (v.kind !== 'tensor' || v.t.shape.dims.length !== e.shape.dims.length) return [];
  for (let i = 0; i < e.shape.dims.length; i++) {
    const a = v.t.shape.dims[i]!;
    const b = e.shape.dims[i]!;
    if (dimToString(a) !== dimToString(b))
      return [{ message: `dim ${i} is ${dimToString(a)}, but the signature says ${dimToString(b)}`, span: undefined }];
  }
  return [];
}
