// Typing rules of the builtins that move, combine, index and create tensors: views,
// contraction, gather/scatter, cast, creation and topk (docs/language.md).

import {
  type Dim,
  dimAdd,
  dimConst,
  dimConstValue,
  dimEquals,
  dimFloorDiv,
  dimMul,
  dimSub,
  dimToString,
} from '../../ir/dims.js';
import type { Span } from '../source.js';
import { describe, ERROR, isInt, type Shape, tensor, type TensorT, typeToString, type V } from '../types.js';
import {
  type Handler,
  req,
  opt,
  bind,
  wantTensor,
  wantInt,
  wantInts,
  wantShape,
  wantDims,
  shapeWith,
} from './builtin-args.js';

import type { ArgV } from './calls.js';
import { constInt, emit, LoweringError, nodeOf } from './emit.js';
import type { Ctx } from './context.js';
import { checkEinsum, checkRearrange } from './einops.js';
import { broadcast, normAxis, numel, originNotes } from './shapes.js';

/** Handlers by builtin name. */
export const SHAPES: Record<string, Handler> = {};
const H = SHAPES;

H.reshape = (ctx, a, span) => {
  const args = bind(ctx, 'reshape', [req('x'), req('shape')], a, span);
  if (!args) return ERROR;
  const t = wantTensor(ctx, 'reshape', args[0], 0);
  const target = wantShape(ctx, 'reshape', args[1], 1, true);
  if (!t || !target) return ERROR;
  const dims = [...target.dims];
  const inferred = dims.findIndex((d) => dimConstValue(d) === -1);
  const total = numel(t.shape);
  if (inferred >= 0) {
    const rest = numel({ prefix: target.prefix, dims: dims.filter((_, i) => i !== inferred) });
    const q = dimFloorDiv(total, rest);
    dims[inferred] = q;
  }
  const want = numel({ prefix: target.prefix, dims });
  if (!dimEquals(total, want) || dims.some((d) => (dimConstValue(d) ?? 1) < 0)) {
    const shown = (s: Shape) => typeToString({ dtype: t.dtype, shape: s, origin: undefined });
    ctx.checker.error(
      'FM0406',
      span,
      [typeToString(t), dimToString(total), shown({ prefix: target.prefix, dims }), dimToString(want)],
      { notes: originNotes(t) },
    );
    return ERROR;
  }
  return emit(ctx, tensor(t.dtype, { prefix: target.prefix, dims }, span), (mk) =>
    mk('reshape', { shape: dims }, [nodeOf(t)]),
  );
};

H.permute = (ctx, a, span) => {
  const args = bind(ctx, 'permute', [req('x'), req('axes')], a, span);
  if (!args) return ERROR;
  const t = wantTensor(ctx, 'permute', args[0], 0);
  const axes = wantInts(ctx, 'permute', args[1], 1);
  if (!t || !axes) return ERROR;
  const rank = t.shape.dims.length;
  const norm = axes.map((x) => (x < 0 ? x + rank : x));
  const isPerm =
    t.shape.prefix === undefined &&
    norm.length === rank &&
    new Set(norm).size === rank &&
    norm.every((x) => x >= 0 && x < rank);
  if (!isPerm) {
    ctx.checker.error('FM0408', args[1]!.span, [
      `[${axes.join(', ')}]`,
      t.shape.prefix !== undefined ? `${rank} + \`...\`` : rank,
    ]);
    return ERROR;
  }
  const out = tensor(t.dtype, { prefix: undefined, dims: norm.map((i) => t.shape.dims[i]!) }, span);
  return emit(ctx, out, (mk) => mk('permute', { axes: norm }, [nodeOf(t)]));
};

H.expand = (ctx, a, span) => {
  const args = bind(ctx, 'expand', [req('x'), req('shape')], a, span);
  if (!args) return ERROR;
  const t = wantTensor(ctx, 'expand', args[0], 0);
  const target = wantShape(ctx, 'expand', args[1], 1);
  if (!t || !target) return ERROR;
  const shape = broadcast(ctx, t, { dtype: t.dtype, shape: target, origin: undefined }, span);
  if (!shape) return ERROR;
  if (shape.dims.length !== target.dims.length || !shape.dims.every((d, i) => dimEquals(d, target.dims[i]!))) {
    ctx.checker.error('FM0400', span, [
      typeToString(t),
      typeToString({ dtype: t.dtype, shape: target, origin: undefined }),
      'the source',
      'the target',
    ]);
    return ERROR;
  }
  return emit(ctx, tensor(t.dtype, target, span), (mk) => mk('expand', { shape: target.dims }, [nodeOf(t)]));
};

H.pad = (ctx, a, span) => {
  const args = bind(ctx, 'pad', [req('x'), req('widths'), opt('value')], a, span);
  if (!args) return ERROR;
  const t = wantTensor(ctx, 'pad', args[0], 0);
  if (!t) return ERROR;
  const w = args[1]!.value;
  const pairs = w.kind === 'list' || w.kind === 'tuple' ? w.items : [];
  if (pairs.length > t.shape.dims.length || (t.shape.prefix !== undefined && pairs.length > 0)) {
    ctx.checker.error('FM0422', args[1]!.span, [
      2,
      'pad',
      `at most ${t.shape.dims.length} [lo, hi] pairs (one per leading axis)`,
      describe(w),
    ]);
    return ERROR;
  }
  const dims = [...t.shape.dims];
  const zero = dimConst(0);
  const pads: (readonly [Dim, Dim])[] = dims.map(() => [zero, zero]);
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    const lohi = p.kind === 'list' || p.kind === 'tuple' ? p.items : [];
    if (lohi.length !== 2 || lohi.some((x) => x.kind !== 'int')) {
      ctx.checker.error('FM0422', args[1]!.span, [2, 'pad', '[lo, hi] integer pairs', describe(p)]);
      return ERROR;
    }
    const [lo, hi] = lohi as (V & { kind: 'int' })[];
    dims[i] = dimAdd(dimAdd(dims[i]!, lo!.dim), hi!.dim);
    pads[i] = [lo!.dim, hi!.dim];
    const c = dimConstValue(dims[i]!);
    if (c !== undefined && c < 0) {
      ctx.checker.error('FM0311', args[1]!.span, [`axis ${i} after padding`, c]);
      return ERROR;
    }
  }
  const value = args[2]?.value;
  if (value && value.kind !== 'int' && value.kind !== 'float' && value.kind !== 'bool') {
    ctx.checker.error('FM0422', args[2]!.span, [3, 'pad', 'a number', describe(value)]);
    return ERROR;
  }
  return emit(ctx, tensor(t.dtype, shapeWith(t, dims), span), (mk) => {
    const v = value ? nodeNumber(value, span) : 0;
    return mk('pad', { pads, value: v }, [nodeOf(t)]);
  });
};

/** A compile-time number the IR takes as an argument (pad values, `full`). */
export function nodeNumber(v: V, span: Span): number {
  const x =
    v.kind === 'int' ? dimConstValue(v.dim) : v.kind === 'float' ? v.value : v.kind === 'bool' ? +v.value! : undefined;
  if (x === undefined) throw new LoweringError('a value that must be known at compile time', span);
  return x;
}

H.window = (ctx, a, span) => {
  const args = bind(ctx, 'window', [req('x'), req('axes'), req('size'), opt('stride'), opt('dilation')], a, span);
  if (!args) return ERROR;
  const t = wantTensor(ctx, 'window', args[0], 0);
  const axes = wantInts(ctx, 'window', args[1], 1);
  const size = wantDims(ctx, 'window', args[2], 2);
  if (!t || !axes || !size) return ERROR;
  const one = [dimConst(1)];
  const stride = args[3] ? wantDims(ctx, 'window', args[3], 3) : one;
  const dilation = args[4] ? wantDims(ctx, 'window', args[4], 4) : one;
  if (!stride || !dilation) return ERROR;
  const n = axes.length;
  const fix = (xs: Dim[]) => (xs.length === 1 && n > 1 ? Array<Dim>(n).fill(xs[0]!) : xs);
  const [sz, st, dl] = [fix(size), fix(stride), fix(dilation)];
  const bad = [...sz, ...st, ...dl].some((x) => (dimConstValue(x) ?? 1) <= 0);
  if (sz.length !== n || st.length !== n || dl.length !== n || bad) {
    ctx.checker.error('FM0422', span, [
      3,
      'window',
      `${n} positive sizes, strides and dilations (one per axis)`,
      `[${size.map(dimToString).join(', ')}]`,
    ]);
    return ERROR;
  }
  const dims = [...t.shape.dims];
  const normAxes: number[] = [];
  for (let i = 0; i < n; i++) {
    const ax = normAxis(ctx, axes[i]!, t.shape, args[1]!.span);
    if (ax === undefined) return ERROR;
    normAxes.push(ax);
    // out = floor((L - dilation * (size - 1) - 1) / stride) + 1
    const reach = dimAdd(dimMul(dl[i]!, dimSub(sz[i]!, dimConst(1))), dimConst(1));
    const out = dimAdd(dimFloorDiv(dimSub(dims[ax]!, reach), st[i]!), dimConst(1));
    const c = dimConstValue(out);
    if (c !== undefined && c <= 0) {
      ctx.checker.error('FM0311', span, [`window output along axis ${axes[i]}`, c], { notes: originNotes(t) });
      return ERROR;
    }
    dims[ax] = out;
  }
  return emit(ctx, tensor(t.dtype, shapeWith(t, [...dims, ...sz]), span), (mk) => {
    const num = (xs: Dim[], what: string) => xs.map((x) => constInt(x, `a window ${what}`, span));
    const w = { axes: normAxes, size: num(sz, 'size'), stride: num(st, 'stride'), dilation: num(dl, 'dilation') };
    return mk('window', w, [nodeOf(t)]);
  });
};

H.concat = (ctx, a, span) => {
  const args = bind(ctx, 'concat', [req('xs'), opt('axis')], a, span);
  if (!args) return ERROR;
  const xs = args[0]!.value;
  const items = xs.kind === 'list' || xs.kind === 'tuple' ? xs.items : [];
  const ts = items.map((v) => (v.kind === 'tensor' ? v.t : undefined));
  if (ts.length === 0 || ts.some((t) => !t)) {
    ctx.checker.error('FM0422', args[0]!.span, [1, 'concat', 'a non-empty list of tensors', describe(xs)]);
    return ERROR;
  }
  const first = ts[0]!;
  const axis = args[1] ? wantInt(ctx, 'concat', args[1], 1) : 0;
  if (axis === undefined) return ERROR;
  const ax = normAxis(ctx, axis, first.shape, args[1]?.span ?? span);
  if (ax === undefined) return ERROR;
  let total = dimConst(0);
  for (const t of ts as TensorT[]) {
    const why =
      t.dtype !== first.dtype
        ? `dtypes ${first.dtype} and ${t.dtype} differ`
        : t.shape.prefix !== first.shape.prefix || t.shape.dims.length !== first.shape.dims.length
          ? 'the ranks differ'
          : t.shape.dims
              .map((d, i) =>
                i === ax || dimEquals(d, first.shape.dims[i]!)
                  ? ''
                  : `dim ${i} is ${dimToString(first.shape.dims[i]!)} vs ${dimToString(d)}`,
              )
              .find((x) => x !== '');
    if (why) {
      ctx.checker.error('FM0425', span, [typeToString(first), typeToString(t), axis, why], {
        notes: originNotes(first, t),
      });
      return ERROR;
    }
    total = dimAdd(total, t.shape.dims[ax]!);
  }
  const dims = [...first.shape.dims];
  dims[ax] = total;
  return emit(ctx, tensor(first.dtype, shapeWith(first, dims), span), (mk) =>
    mk('concat', { axis: ax }, (ts as TensorT[]).map(nodeOf)),
  );
};

H.einsum = (ctx, a, span) => {
  const spec = a.pos[0];
  if (!spec || spec.value.kind !== 'str') {
    ctx.checker.error('FM0422', spec?.span ?? span, [
      1,
      'einsum',
      'a spec string like "ij,jk->ik"',
      spec ? describe(spec.value) : 'nothing',
    ]);
    return ERROR;
  }
  if (a.named.size > 0) {
    const [k, v] = [...a.named][0]!;
    ctx.checker.error('FM0304', v.nameSpan, ['einsum', k]);
    return ERROR;
  }
  const ops = a.pos.slice(1).map((x, i) => wantTensor(ctx, 'einsum', x, i + 1));
  if (ops.some((t) => !t)) return ERROR;
  if (ops.length < 1 || ops.length > 2) {
    ctx.checker.error('FM0409', span, [`einsum takes one or two operands, found ${ops.length}`]);
    return ERROR;
  }
  return checkEinsum(ctx, spec.value.value, spec.span, ops as TensorT[], span);
};

H.rearrange = (ctx, a, span) => {
  const [x, p] = a.pos;
  if (a.pos.length !== 2 || !x || !p) {
    ctx.checker.error('FM0303', span, ['rearrange', 2, a.pos.length]);
    return ERROR;
  }
  const t = wantTensor(ctx, 'rearrange', x, 0);
  if (!t) return ERROR;
  if (p.value.kind !== 'str') {
    ctx.checker.error('FM0422', p.span, [2, 'rearrange', 'a pattern string', describe(p.value)]);
    return ERROR;
  }
  const sizes = new Map<string, { dim: Dim; span: Span }>();
  for (const [k, v] of a.named) {
    if (v.value.kind !== 'int') {
      ctx.checker.error('FM0422', v.span, [k, 'rearrange', 'an integer size', describe(v.value)]);
      return ERROR;
    }
    sizes.set(k, { dim: v.value.dim, span: v.span });
  }
  return checkRearrange(ctx, t, p.value.value, p.span, sizes, span);
};

/**
 * The shared part of `gather` and `scatter_add`: `x`, integer `idx`, the axis, and the
 * gathered shape `x.shape[:axis] + idx.shape + x.shape[axis+1:]`.
 */
function gathered(
  ctx: Ctx,
  name: string,
  args: readonly (ArgV | undefined)[],
  axisArg: number,
  span: Span,
): { t: TensorT; idx: TensorT; axis: number; shape: Shape } | undefined {
  const t = wantTensor(ctx, name, args[0], 0);
  const idx = wantTensor(ctx, name, args[1], 1);
  if (!t || !idx) return undefined;
  if (!isInt(idx.dtype)) {
    ctx.checker.error('FM0422', args[1]!.span, [2, name, 'an integer tensor', typeToString(idx)]);
    return undefined;
  }
  const axis = args[axisArg] ? wantInt(ctx, name, args[axisArg], axisArg) : 0;
  if (axis === undefined) return undefined;
  const ax = normAxis(ctx, axis, t.shape, args[axisArg]?.span ?? span);
  if (ax === undefined) return undefined;
  if (idx.shape.prefix !== undefined && (ax > 0 || t.shape.prefix !== undefined)) {
    ctx.checker.error('FM0422', args[1]!.span, [2, name, 'indices without `...` here', typeToString(idx)]);
    return undefined;
  }
  const d = t.shape.dims;
  return {
    t,
    idx,
    axis: ax,
    shape: {
      prefix: t.shape.prefix ?? idx.shape.prefix,
      dims: [...d.slice(0, ax), ...idx.shape.dims, ...d.slice(ax + 1)],
    },
  };
}

H.gather = (ctx, a, span) => {
  const args = bind(ctx, 'gather', [req('x'), req('idx'), opt('axis')], a, span);
  const g = args && gathered(ctx, 'gather', args, 2, span);
  if (!g) return ERROR;
  return emit(ctx, tensor(g.t.dtype, g.shape, span), (mk) =>
    mk('gather', { axis: g.axis }, [nodeOf(g.t), nodeOf(g.idx)]),
  );
};

H.scatter_add = (ctx, a, span) => {
  const args = bind(ctx, 'scatter_add', [req('x'), req('idx'), req('src'), opt('axis')], a, span);
  const g = args && gathered(ctx, 'scatter_add', args, 3, span);
  const src = g && wantTensor(ctx, 'scatter_add', args[2], 2);
  if (!g || !src) return ERROR;
  const { t, shape: expected } = g;
  const ok =
    src.dtype === t.dtype &&
    src.shape.prefix === expected.prefix &&
    src.shape.dims.length === expected.dims.length &&
    src.shape.dims.every((x, i) => dimEquals(x, expected.dims[i]!));
  if (!ok) {
    ctx.checker.error(
      'FM0422',
      args[2]!.span,
      [3, 'scatter_add', typeToString({ dtype: t.dtype, shape: expected, origin: undefined }), typeToString(src)],
      { notes: originNotes(src) },
    );
    return ERROR;
  }
  return emit(ctx, tensor(t.dtype, t.shape, span), (mk) =>
    mk('scatter_add', { axis: g.axis }, [nodeOf(t), nodeOf(g.idx), nodeOf(src)]),
  );
};
