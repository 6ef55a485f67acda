// `require` over sizes known only at run time (a dim variable bound by an input, `T`): while
// lowering, the condition becomes run-time checks, each "this dim expression is ≥ 0", which
// every target tests when it binds the dims (the C plan's checks, the reference before it
// evaluates), with the message and `.fm` location the compile-time check would give. A
// condition that can never hold is an error at compile time.

import type * as A from '../ast.js';
import { type Dim, dimAlwaysNegative, dimConst, dimConstValue, dimMod, dimSub, dimToString } from '../../ir/dims.js';
import type { DimRequire } from '../../ir/module.js';
import type { Ctx } from './context.js';
import { evalExpr } from './expr.js';

/** The dims that must each be ≥ 0 for `e` to hold, or why `e` cannot be checked so. */
function conditions(ctx: Ctx, e: A.Expr): Dim[] | string {
  if (e.kind === 'Paren') return conditions(ctx, e.inner);
  if (e.kind !== 'Binary') return 'only comparisons joined by `and` can';
  if (e.op === 'and') {
    const [a, b] = [conditions(ctx, e.left), conditions(ctx, e.right)];
    return typeof a === 'string' ? a : typeof b === 'string' ? b : [...a, ...b];
  }
  if (!['<', '<=', '>', '>=', '=='].includes(e.op)) return `\`${e.op}\` cannot be checked at run time`;
  const [l, r] = [evalExpr(ctx, e.left), evalExpr(ctx, e.right)];
  if (l.kind !== 'int' || r.kind !== 'int') return 'only comparisons of integers can';
  const one = dimConst(1);
  switch (e.op) {
    case '<=':
      return [dimSub(r.dim, l.dim)];
    case '<':
      return [dimSub(dimSub(r.dim, l.dim), one)];
    case '>=':
      return [dimSub(l.dim, r.dim)];
    case '>':
      return [dimSub(dimSub(l.dim, r.dim), one)];
    default:
      return [dimSub(l.dim, r.dim), dimSub(r.dim, l.dim)];
  }
}

/** Where a diagnostic at `span` would point: `file:line:col`. */
export function where(ctx: Ctx, span: A.RequireStmt['span']): string {
  const at = ctx.checker.program.source(span.file)?.lineCol(span.start);
  return at ? `${span.file}:${at.line}:${at.col}` : span.file;
}

/**
 * A `require` whose value is unknown at compile time: reports one that can never hold
 * (false), else, while lowering, records its run-time checks (true).
 */
export function symbolicRequire(ctx: Ctx, s: A.RequireStmt, text: string): boolean {
  const c = conditions(ctx, s.cond);
  if (typeof c !== 'string' && c.some(dimAlwaysNegative)) {
    ctx.checker.error('FM0308', s.cond.span, [text], { help: 'it is false for every size of the dims it uses' });
    return false;
  }
  const L = ctx.checker.lowering;
  if (!L) return true;
  if (typeof c === 'string') {
    ctx.checker.error('FM0804', s.cond.span, [ctx.checker.text(s.cond.span), c]);
    return true;
  }
  const what = `${where(ctx, s.cond.span)}: requirement failed: ${text}`;
  for (const value of c)
    if (!((dimConstValue(value) ?? -1) >= 0)) L.requires.push({ value, what } satisfies DimRequire);
  return true;
}

/**
 * An exact division `a / b` of sizes known only at run time (`T / 2`): while lowering, a
 * run-time check that `b` divides `a`, failing with FM0307's message at the division.
 */
export function divisibleAtRunTime(ctx: Ctx, a: Dim, b: Dim, r: Dim, span: A.Expr['span']): void {
  const L = ctx.checker.lowering;
  if (!L) return;
  const [ta, tb] = [dimToString(a), dimToString(b)];
  const what = `${where(ctx, span)}: error FM0307: dimension \`${dimToString(r)}\` is not an integer (${ta} / ${tb})`;
  // a mod b is in [0, b): it is 0 exactly when -(a mod b) >= 0.
  L.requires.push({ value: dimSub(dimConst(0), dimMod(a, b)), what } satisfies DimRequire);
}
