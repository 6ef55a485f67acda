// Typing rules of the elementwise and reduction builtins, and of scalar math on
// compile-time values (docs/language.md, "Primitive operations").

import {
  dimAdd,
  dimConst,
  dimConstValue,
  dimEquals,
  dimFloorDiv,
  dimMul,
  dimSub,
  dimSym,
  dimToString,
} from '../../ir/dims.js';
import type { Span } from '../source.js';
import { describe, ERROR, isFloat, isInt, tensor, typeToString, type V, describeWithArticle } from '../types.js';
import { type Handler, req, opt, bind, wantTensor, wantInt, wantAxes, shapeWith } from './builtin-args.js';
import { UNARY } from '../../ir/interp-ops.js';
import type { UnaryFn } from '../../ir/ops.js';
import type { Ctx } from './context.js';
import { binaryNode, emit, nodeOf, operandNode } from './emit.js';
import { evalBinary } from './expr.js';
import { broadcast, normAxis } from './shapes.js';

export const UNARY_FLOAT = ['exp', 'log', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'erf', 'recip', 'floor'] as const;
export const UNARY_ANY = ['neg', 'abs'] as const;

/** Handlers by builtin name. */
export const MATH: Record<string, Handler> = {};
const H = MATH;

// ---------------------------------------------------------------- elementwise

function unary(name: string, floatOnly: boolean): Handler {
  return (ctx, a, span) => {
    const args = bind(ctx, name, [req('x')], a, span);
    const x = args?.[0];
    if (!x) return ERROR;
    const v = x.value;
    if (v.kind === 'int' || v.kind === 'float') return scalarMath(ctx, name, [v], span);
    const t = wantTensor(ctx, name, x, 0);
    if (!t) return ERROR;
    if (t.dtype === 'bool' || (floatOnly && !isFloat(t.dtype))) {
      ctx.checker.error('FM0419', span, [name, `${t.dtype} tensors`], {
        help: floatOnly && isInt(t.dtype) ? 'cast to a float dtype first' : undefined,
      });
      return ERROR;
    }
    return emit(ctx, tensor(t.dtype, t.shape, span), (mk) => mk('unary', { fn: name as UnaryFn }, [nodeOf(t)]));
  };
}

function scalarMath(ctx: Ctx, name: string, vs: V[], span: Span): V {
  const nums = vs.map((v) => (v.kind === 'int' ? dimConstValue(v.dim) : v.kind === 'float' ? v.value : undefined));
  const allInt = vs.every((v) => v.kind === 'int');
  if (name === 'int') {
    const v = vs[0]!;
    if (v.kind === 'int') return v;
    const n = nums[0];
    return n === undefined ? ERROR : { kind: 'int', dim: dimConst(Math.trunc(n)) };
  }
  if ((name === 'min' || name === 'max') && allInt && vs.length === 2) {
    const [x, y] = nums;
    if (x === undefined || y === undefined) {
      const [a, b] = vs as (V & { kind: 'int' })[];
      if (dimEquals(a!.dim, b!.dim)) return a!;
      // Unknown until instantiated (generic checks): an opaque symbol stands for it.
      const label = `${name}_of_${dimToString(a!.dim)}_${dimToString(b!.dim)}`.replace(/[^\w]/g, '_');
      return { kind: 'int', dim: dimSym(label) };
    }
    return { kind: 'int', dim: dimConst(name === 'min' ? Math.min(x, y) : Math.max(x, y)) };
  }
  if ((name === 'abs' || name === 'neg' || name === 'floor' || name === 'ceil') && allInt) {
    const x = nums[0];
    if (x === undefined)
      return name === 'neg' ? { kind: 'int', dim: dimMul(dimConst(-1), (vs[0] as V & { kind: 'int' }).dim) } : vs[0]!;
    return { kind: 'int', dim: dimConst(name === 'abs' ? Math.abs(x) : name === 'neg' ? -x : x) };
  }
  if (nums.some((n) => n === undefined)) return { kind: 'float', value: undefined };
  const n = nums as number[];
  // The interpreter's functions, so a folded constant equals what the graph would compute.
  const f: Record<string, (...x: number[]) => number> = {
    ...UNARY,
    ceil: Math.ceil,
    min: Math.min,
    max: Math.max,
    float: (x) => x,
  };
  const fn = name === 'not' ? undefined : f[name];
  if (!fn) return ERROR;
  const r = fn(...n);
  if ((name === 'floor' || name === 'ceil') && Number.isSafeInteger(r)) return { kind: 'int', dim: dimConst(r) };
  return { kind: 'float', value: r };
}

function binaryFn(name: 'maximum' | 'minimum'): Handler {
  return (ctx, a, span) => {
    const args = bind(ctx, name, [req('a'), req('b')], a, span);
    if (!args) return ERROR;
    const [x, y] = [args[0]!.value, args[1]!.value];
    if (x.kind !== 'tensor' && y.kind !== 'tensor')
      return scalarMath(ctx, name === 'maximum' ? 'max' : 'min', [x, y], span);
    const bad = [x, y].find((v) => (v.kind === 'tensor' && v.t.dtype === 'bool') || v.kind === 'bool');
    if (bad) {
      ctx.checker.error('FM0419', span, [name, describeWithArticle(bad)]);
      return ERROR;
    }
    // Otherwise the same typing as `+`.
    const r = evalBinary(ctx, '+', x, y, span, span);
    return emit(ctx, r, (mk) => binaryNode(mk, name === 'maximum' ? 'max' : 'min', x, y));
  };
}

for (const n of ['ceil', 'float', 'int'] as const) {
  H[n] = (ctx, a, span) => {
    const args = bind(ctx, n, [req('x')], a, span);
    const v = args?.[0]?.value;
    if (!v) return ERROR;
    if (v.kind !== 'int' && v.kind !== 'float') {
      ctx.checker.error('FM0422', args[0]!.span, [1, n, 'a compile-time number', describe(v)]);
      return ERROR;
    }
    return scalarMath(ctx, n, [v], span);
  };
}

for (const n of ['floordiv', 'ceildiv'] as const) {
  H[n] = (ctx, a, span) => {
    const args = bind(ctx, n, [req('a'), req('b')], a, span);
    if (!args) return ERROR;
    const [x, y] = [args[0]!.value, args[1]!.value];
    if (x.kind !== 'int' || y.kind !== 'int') {
      const bad = x.kind !== 'int' ? 0 : 1;
      ctx.checker.error('FM0422', args[bad]!.span, [bad + 1, n, 'an integer', describe(args[bad]!.value)]);
      return ERROR;
    }
    if (dimConstValue(y.dim) === 0) {
      ctx.checker.error('FM0306', args[1]!.span);
      return ERROR;
    }
    // ceil(a / b) = floor((a + b - 1) / b)
    const num = n === 'floordiv' ? x.dim : dimSub(dimAdd(x.dim, y.dim), dimConst(1));
    return { kind: 'int', dim: dimFloorDiv(num, y.dim) };
  };
}

/** `dtype(x)`: the dtype of a tensor, e.g. the one a `float` class was bound to. */
H.dtype = (ctx, a, span) => {
  const args = bind(ctx, 'dtype', [req('x')], a, span);
  const t = args && wantTensor(ctx, 'dtype', args[0], 0);
  return t ? { kind: 'dtype', value: t.dtype } : ERROR;
};

/**
 * `size(x, axis)`: the size of one axis as a compile-time int; `size(x, [a, b])`: the product
 * of those (distinct) axes' sizes (1 for `[]`).
 */
H.size = (ctx, a, span) => {
  const args = bind(ctx, 'size', [req('x'), req('axis')], a, span);
  if (!args) return ERROR;
  const t = wantTensor(ctx, 'size', args[0], 0);
  const axes = t && wantAxes(ctx, 'size', args[1], 1, t);
  if (!t || !axes) return ERROR;
  return { kind: 'int', dim: axes.reduce((n, ax) => dimMul(n, t.shape.dims[ax]!), dimConst(1)) };
};

H.min = (ctx, a, span) => {
  const args = bind(ctx, 'min', [req('a'), req('b')], a, span);
  if (!args) return ERROR;
  const bad = args.findIndex((x) => x!.value.kind !== 'int' && x!.value.kind !== 'float');
  if (bad >= 0) {
    ctx.checker.error(
      'FM0422',
      args[bad]!.span,
      [bad + 1, 'min', 'a compile-time number', describe(args[bad]!.value)],
      {
        help: 'for tensors use `minimum(a, b)` (elementwise) or `-max(-x, axis)` (a reduction)',
      },
    );
    return ERROR;
  }
  return scalarMath(ctx, 'min', [args[0]!.value, args[1]!.value], span);
};

H.where = (ctx, a, span) => {
  const args = bind(ctx, 'where', [req('cond'), req('a'), req('b')], a, span);
  if (!args) return ERROR;
  const c = wantTensor(ctx, 'where', args[0], 0);
  if (!c) return ERROR;
  if (c.dtype !== 'bool') {
    ctx.checker.error('FM0422', args[0]!.span, [1, 'where', 'a bool tensor', typeToString(c)]);
    return ERROR;
  }
  const [x, y] = [args[1]!.value, args[2]!.value];
  // The branches: tensors of one dtype, or weak scalars that take the other's dtype.
  let ab: V;
  if (x.kind !== 'tensor' && y.kind !== 'tensor') {
    const dtype =
      x.kind === 'bool' && y.kind === 'bool' ? 'bool' : x.kind === 'int' && y.kind === 'int' ? 'i32' : 'f32';
    ab = tensor(dtype, { prefix: undefined, dims: [] }, span);
    if (
      ![x, y].every((v) => v.kind === 'int' || v.kind === 'float' || v.kind === 'bool') ||
      (dtype !== 'bool' && [x, y].some((v) => v.kind === 'bool'))
    ) {
      ctx.checker.error('FM0422', args[1]!.span, [
        2,
        'where',
        'two tensors or numbers of one kind',
        `${describe(x)} and ${describe(y)}`,
      ]);
      return ERROR;
    }
  } else if (x.kind === 'tensor' && y.kind === 'tensor' && x.t.dtype === 'bool' && y.t.dtype === 'bool') {
    ab = evalBinary(ctx, 'and', x, y, span, span);
  } else {
    ab = evalBinary(ctx, '+', x, y, span, span);
  }
  if (ab.kind !== 'tensor') return ERROR;
  const shape = broadcast(ctx, c, ab.t, span);
  if (!shape) return ERROR;
  const dt = ab.t.dtype;
  return emit(ctx, tensor(dt, shape, span), (mk) =>
    mk('where', {}, [nodeOf(c), operandNode(mk, x, dt), operandNode(mk, y, dt)]),
  );
};

function reduce(name: 'sum' | 'max'): Handler {
  return (ctx, a, span) => {
    // `max(a, b)` on compile-time numbers is scalar math.
    if (
      name === 'max' &&
      a.pos.length === 2 &&
      a.pos.every((p) => p.value.kind === 'int' || p.value.kind === 'float')
    ) {
      return scalarMath(ctx, 'max', [a.pos[0]!.value, a.pos[1]!.value], span);
    }
    const args = bind(ctx, name, [req('x'), opt('axis'), opt('keepdim')], a, span);
    if (!args) return ERROR;
    const t = wantTensor(ctx, name, args[0], 0);
    if (!t) return ERROR;
    if (t.dtype === 'bool') {
      ctx.checker.error('FM0419', span, [name, 'bool tensors']);
      return ERROR;
    }
    const keep = args[2]?.value;
    if (keep && keep.kind !== 'bool') {
      ctx.checker.error('FM0422', args[2]!.span, [3, name, 'a bool', describe(keep)]);
      return ERROR;
    }
    let axes: number[];
    if (args[1]) {
      const given = wantAxes(ctx, name, args[1], 1, t);
      if (!given) return ERROR;
      axes = given;
    } else {
      const keepAll = keep?.kind === 'bool' && keep.value === true;
      if (t.shape.prefix !== undefined && keepAll) {
        ctx.checker.error('FM0407', span, ['(all, keepdim)', `${t.shape.dims.length} + \`...\``], {
          help: 'give the axes to reduce',
        });
        return ERROR;
      }
      if (t.shape.prefix !== undefined) return tensor(t.dtype, { prefix: undefined, dims: [] }, span);
      axes = t.shape.dims.map((_, i) => i);
    }
    const keepdim = keep?.kind === 'bool' && keep.value === true;
    const dims = t.shape.dims.flatMap((d, i) => (axes.includes(i) ? (keepdim ? [dimConst(1)] : []) : [d]));
    const sorted = [...axes].sort((p, q) => p - q);
    return emit(ctx, tensor(t.dtype, shapeWith(t, dims), span), (mk) =>
      mk('reduce', { fn: name, axes: sorted, keepdim }, [nodeOf(t)]),
    );
  };
}
H.sum = reduce('sum');
H.max = reduce('max');
for (const n of UNARY_FLOAT) H[n] = unary(n, true);
for (const n of UNARY_ANY) H[n] = unary(n, false);
H.maximum = binaryFn('maximum');
H.minimum = binaryFn('minimum');

// ---------------------------------------------------------------- prefix sums

H.cumsum = (ctx, a, span) => {
  const args = bind(ctx, 'cumsum', [req('x'), opt('axis'), opt('exclusive'), opt('reverse')], a, span);
  if (!args) return ERROR;
  const t = wantTensor(ctx, 'cumsum', args[0], 0);
  if (!t) return ERROR;
  if (t.dtype === 'bool') {
    ctx.checker.error('FM0419', span, ['cumsum', 'bool tensors']);
    return ERROR;
  }
  const axis = args[1] ? wantInt(ctx, 'cumsum', args[1], 1) : -1;
  const ax = axis === undefined ? undefined : normAxis(ctx, axis, t.shape, args[1]?.span ?? span);
  const flags = [2, 3].map((i) => {
    const v = args[i]?.value;
    if (v && v.kind !== 'bool') ctx.checker.error('FM0422', args[i]!.span, [i + 1, 'cumsum', 'a bool', describe(v)]);
    return v === undefined ? false : v.kind === 'bool' ? v.value : undefined;
  });
  const [exclusive, reverse] = flags;
  if (ax === undefined || exclusive === undefined || reverse === undefined) return ERROR;
  return emit(ctx, tensor(t.dtype, t.shape, span), (mk) => mk('cumsum', { axis: ax, exclusive, reverse }, [nodeOf(t)]));
};
