// The builtins: their names (for name resolution) and the dispatch to their typing rules,
// which live in builtins-math.ts (elementwise, reductions, scalar math), builtins-shape.ts
// (views, contraction, gather/scatter) and builtins-create.ts (cast, creation, topk).

import type { Span } from '../source.js';
import { DimTooComplex } from '../../ir/dims.js';
import { ERROR, type V } from '../types.js';
import { MATH } from './builtins-math.js';
import { SHAPES } from './builtins-shape.js';
import { CREATE } from './builtins-create.js';
import type { Args } from './calls.js';
import type { Ctx } from './context.js';

export const BUILTIN_NAMES: ReadonlySet<string> = new Set<string>([
  ...Object.keys(MATH),
  ...Object.keys(SHAPES),
  ...Object.keys(CREATE),
]);

export function callBuiltin(ctx: Ctx, name: string, a: Args, span: Span, calleeSpan: Span): V {
  const table = [MATH, SHAPES, CREATE].find((t) => Object.hasOwn(t, name));
  const h = table?.[name];
  if (!h) return ERROR;
  try {
    return h(ctx, a, span, calleeSpan);
  } catch (e) {
    // Dim arithmetic refuses what it cannot represent (a zero divisor, a non-finite or
    // too large constant, an expansion too big): a user error here, never a crash.
    if (!(e instanceof RangeError || e instanceof DimTooComplex)) throw e;
    ctx.checker.error('FM0300', span, [`a value \`${name}\` cannot compute (${e.message})`]);
    return ERROR;
  }
}
