// Shape helpers shared by operators and builtins: broadcasting, axis normalization,
// element counts, and the notes that say where a shape came from.

import { type Dim, dimConst, dimConstValue, dimEquals, dimMul, dimSym, dimToString } from '../../ir/dims.js';
import { note, type Note } from '../diagnostics.js';
import type { Span } from '../source.js';
import { type Shape, type TensorT, typeToString } from '../types.js';
import type { Ctx } from './context.js';

export const ONE = dimConst(1);

export function isOne(d: Dim): boolean {
  return dimConstValue(d) === 1;
}

export function originNotes(...ts: TensorT[]): Note[] {
  return ts.flatMap((t) => (t.origin ? [note(`${typeToString(t)} comes from here`, t.origin)] : []));
}

/** NumPy broadcasting of two shapes; reports FM0400 and returns undefined on a mismatch. */
export function broadcast(ctx: Ctx, a: TensorT, b: TensorT, span: Span): Shape | undefined {
  const r = broadcastShapes(a.shape, b.shape);
  if ('shape' in r) return r.shape;
  ctx.checker.error('FM0400', span, [typeToString(a), typeToString(b), r.a, r.b], { notes: originNotes(a, b) });
  return undefined;
}

/** NumPy broadcasting of two shapes, or the first pair of dims that conflict. */
export function broadcastShapes(sa: Shape, sb: Shape): { shape: Shape } | { a: string; b: string } {
  const fail = (a: string, b: string) => ({ a, b });
  if (sa.prefix !== undefined && sb.prefix !== undefined && sa.prefix !== sb.prefix) return fail('`...`', '`...`');
  // A side with a variadic prefix cannot be aligned with more explicit dims on the other side.
  if (sa.prefix !== undefined && sb.dims.length > sa.dims.length)
    return fail('`...`', dimToString(sb.dims[sb.dims.length - sa.dims.length - 1]!));
  if (sb.prefix !== undefined && sa.dims.length > sb.dims.length)
    return fail(dimToString(sa.dims[sa.dims.length - sb.dims.length - 1]!), '`...`');
  if (sa.prefix !== undefined && sb.prefix !== undefined && sa.dims.length !== sb.dims.length)
    return fail('`...`', '`...`');
  const n = Math.max(sa.dims.length, sb.dims.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = sa.dims[sa.dims.length - n + i];
    const db = sb.dims[sb.dims.length - n + i];
    if (da === undefined) out.push(db!);
    else if (db === undefined) out.push(da);
    else if (dimEquals(da, db) || isOne(db)) out.push(da);
    else if (isOne(da)) out.push(db);
    else return fail(dimToString(da), dimToString(db));
  }
  return { shape: { prefix: sa.prefix ?? sb.prefix, dims: out } };
}

/**
 * Normalizes an axis (negative counts from the end) against a shape. Positive axes are
 * ambiguous when the shape has a variadic prefix; both are reported as FM0407.
 */
export function normAxis(ctx: Ctx, axis: number, shape: Shape, span: Span, extra = 0): number | undefined {
  const rank = shape.dims.length + extra;
  const rankText = shape.prefix !== undefined ? `${rank} + \`...\`` : String(rank);
  if (shape.prefix !== undefined && axis >= 0) {
    ctx.checker.error('FM0407', span, [axis, rankText], {
      help: 'count from the end (a negative axis) when the shape starts with `...`',
    });
    return undefined;
  }
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    ctx.checker.error('FM0407', span, [axis, rankText]);
    return undefined;
  }
  return a;
}

/** The number of elements, with the variadic prefix as one symbol. */
export function numel(shape: Shape): Dim {
  let n = shape.prefix !== undefined ? dimSym(shape.prefix.replace(/[^A-Za-z0-9_]/g, '_')) : ONE;
  for (const d of shape.dims) n = dimMul(n, d);
  return n;
}
