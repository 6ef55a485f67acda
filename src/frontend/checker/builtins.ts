// The builtins: their names (for name resolution) and the dispatch to their typing rules,
// which live in builtins-math.ts (elementwise, reductions, scalar math) and
// builtins-shape.ts (views, contraction, indexing, creation).

import type { Span } from '../source.js';
import { DimTooComplex } from '../../ir/dims.js';
import { ERROR, type V } from '../types.js';
import { MATH } from './builtins-math.js';
import { SHAPES } from './builtins-shape.js';
import type { Args } from './calls.js';
import type { Ctx } from './context.js';

export const BUILTIN_NAMES: ReadonlySet<string> = new Set<string>([...Object.keys(MATH), ...Object.keys(SHAPES)]);

export function callBuiltin(ctx: Ctx, name: string, a: Args, span: Span, calleeSpan: Span): V {
  const h = Object.hasOwn(MATH, name) ? MATH[name] : Object.hasOwn(SHAPES, name) ? SHAPES[name] : undefined;
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
