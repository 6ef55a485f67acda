// Indexing: `x[i, a:b:s, ..., :]` on tensors (integer indices remove an axis, slices keep
// it with a computed size), and `t[i]` on tuples and lists.

import type * as A from '../ast.js';
import { type Dim, dimAdd, dimConst, dimConstValue, dimFloorDiv, dimSub } from '../../ir/dims.js';
import type { Span } from '../source.js';
import { describe, ERROR, tensor, typeToString, type V } from '../types.js';
import type { Ctx } from './context.js';
import { emit, nodeOf } from './emit.js';
import { evalExpr } from './expr.js';

export function evalIndex(ctx: Ctx, target: V, indices: readonly A.IndexItem[], span: Span): V {
  if (target.kind === 'error') return ERROR;
  if (target.kind === 'tuple' || target.kind === 'list') {
    const only = indices[0];
    if (indices.length !== 1 || !only || only.kind !== 'IndexExpr') {
      ctx.checker.error('FM0411', span, ['a tuple or list takes exactly one integer index']);
      return ERROR;
    }
    const i = evalExpr(ctx, only.value);
    const n = i.kind === 'int' ? dimConstValue(i.dim) : undefined;
    if (n === undefined) {
      ctx.checker.error('FM0411', only.span, [`expected a constant integer, found ${describe(i)}`]);
      return ERROR;
    }
    const item = target.items[n < 0 ? n + target.items.length : n];
    if (!item) {
      ctx.checker.error('FM0411', only.span, [`index ${n} is out of range for ${describe(target)}`]);
      return ERROR;
    }
    return item;
  }
  if (target.kind !== 'tensor') {
    ctx.checker.error('FM0412', span, ['a tensor, tuple or list to index', describe(target)]);
    return ERROR;
  }
  const t = target.t;
  const ell = indices.filter((i) => i.kind === 'IndexEllipsis').length;
  if (ell > 1) {
    ctx.checker.error('FM0411', span, ['`...` may appear only once']);
    return ERROR;
  }
  const explicit = indices.length - ell;
  if (t.shape.prefix !== undefined && ell === 0) {
    ctx.checker.error('FM0411', span, ['the tensor starts with `...`, so index it from the end: `x[..., i]`']);
    return ERROR;
  }
  if (explicit > t.shape.dims.length) {
    ctx.checker.error('FM0411', span, [`${explicit} indices for ${typeToString(t)}`]);
    return ERROR;
  }
  // Map each index item to an axis of the explicit dims.
  const out: Dim[] = [];
  const ellAt = indices.findIndex((i) => i.kind === 'IndexEllipsis');
  const afterEll = ellAt < 0 ? 0 : indices.length - ellAt - 1;
  const dims = t.shape.dims;
  const firstAfter = dims.length - afterEll;
  let axis = 0;
  // Per axis, what the slice op takes (whole axes by default) and whether the axis is dropped.
  const starts: Dim[] = dims.map(() => dimConst(0));
  const sizes: Dim[] = [...dims];
  const steps: number[] = dims.map(() => 1);
  let dropped = false;
  for (let k = 0; k < indices.length; k++) {
    const item = indices[k]!;
    if (item.kind === 'IndexEllipsis') {
      out.push(...dims.slice(axis, firstAfter));
      axis = firstAfter;
      continue;
    }
    const dim = dims[axis]!;
    axis++;
    if (item.kind === 'IndexExpr') {
      const iv = evalExpr(ctx, item.value);
      if (iv.kind === 'error') return ERROR;
      if (iv.kind !== 'int') {
        ctx.checker.error('FM0411', item.span, [`expected an integer or a slice, found ${describe(iv)}`], {
          help: 'use `gather` to index with a tensor',
        });
        return ERROR;
      }
      const i = dimConstValue(iv.dim);
      const size = dimConstValue(dim);
      if (i !== undefined && size !== undefined && (i >= size || i < -size)) {
        ctx.checker.error('FM0411', item.span, [`index ${i} is out of range for a dim of size ${size}`]);
        return ERROR;
      }
      starts[axis - 1] = i !== undefined && i < 0 ? dimAdd(dim, iv.dim) : iv.dim;
      sizes[axis - 1] = dimConst(1);
      dropped = true;
      continue;
    }
    const sliced = sliceDim(ctx, item, dim);
    if (!sliced) return ERROR;
    starts[axis - 1] = sliced.start;
    sizes[axis - 1] = sliced.size;
    steps[axis - 1] = sliced.step;
    out.push(sliced.size);
  }
  if (ellAt < 0) out.push(...dims.slice(axis));
  return emit(ctx, tensor(t.dtype, { prefix: t.shape.prefix, dims: out }, span), (mk) => {
    const s = mk('slice', { starts, sizes, steps }, [nodeOf(t)]);
    return dropped ? mk('reshape', { shape: out }, [s]) : s;
  });
}

function sliceDim(
  ctx: Ctx,
  item: Extract<A.IndexItem, { kind: 'Slice' }>,
  dim: Dim,
): { start: Dim; size: Dim; step: number } | undefined {
  const get = (e: A.Expr | undefined): Dim | undefined | 'error' => {
    if (!e) return undefined;
    const v = evalExpr(ctx, e);
    if (v.kind === 'int') return v.dim;
    if (v.kind !== 'error')
      ctx.checker.error('FM0411', e.span, [`a slice bound must be an integer, found ${describe(v)}`]);
    return 'error';
  };
  const start = get(item.start);
  const stop = get(item.stop);
  const step = get(item.step);
  if (start === 'error' || stop === 'error' || step === 'error') return undefined;
  const stepN = step === undefined ? 1 : dimConstValue(step);
  if (stepN === undefined || stepN <= 0) {
    ctx.checker.error('FM0411', item.span, ['the step of a slice must be a positive constant']);
    return undefined;
  }
  // Resolve negative constant bounds against the dim, clamp when everything is known.
  const resolve = (b: Dim | undefined, dflt: Dim): Dim => {
    if (b === undefined) return dflt;
    const c = dimConstValue(b);
    if (c !== undefined && c < 0) return dimAdd(dim, b);
    return b;
  };
  let lo = resolve(start, dimConst(0));
  let hi = resolve(stop, dim);
  const size = dimConstValue(dim);
  const clamp = (d: Dim) => {
    const c = dimConstValue(d);
    return c !== undefined && size !== undefined ? dimConst(Math.max(0, Math.min(c, size))) : d;
  };
  lo = clamp(lo);
  hi = clamp(hi);
  let len = dimSub(hi, lo);
  const lc = dimConstValue(len);
  if (lc !== undefined && lc < 0) len = dimConst(0);
  const at = (size: Dim) => ({ start: lo, size, step: stepN });
  if (stepN === 1) return at(len);
  const c = dimConstValue(len);
  if (c !== undefined) return at(dimConst(Math.ceil(c / stepN)));
  // ceil(len / step), as `floordiv(len + step - 1, step)` would write it.
  return at(dimFloorDiv(dimAdd(len, dimConst(stepN - 1)), dimConst(stepN)));
}
