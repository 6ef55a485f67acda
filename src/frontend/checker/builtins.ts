// Typing rules of the builtins: the primitive operations (docs/language.md, "Primitive
// operations"), `rearrange`, and scalar math on compile-time values.

import {
  type Dim,
  dimAdd,
  dimConst,
  dimConstValue,
  dimEquals,
  dimFloorDiv,
  dimMul,
  dimSub,
  dimSym,
  dimToString,
} from '../dims.js';
import type { Span } from '../source.js';
import {
  describe,
  type Dtype,
  ERROR,
  isFloat,
  isInt,
  type Shape,
  tensor,
  type TensorT,
  typeToString,
  type V,
} from '../types.js';
import { type Args, type ArgV, bindParams } from './calls.js';
import type { Ctx } from './context.js';
import { checkEinsum, checkRearrange } from './einops.js';
import { evalBinary } from './expr.js';
import { broadcast, isOne, normAxis, numel, originNotes } from './shapes.js';

const UNARY_FLOAT = ['exp', 'log', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'erf', 'recip', 'floor'] as const;
const UNARY_ANY = ['neg', 'abs'] as const;
const SCALAR_ONLY = ['ceil', 'min', 'float', 'int', 'floordiv', 'ceildiv', 'dtype', 'size'] as const;
const TENSOR_OPS = [
  'maximum',
  'minimum',
  'where',
  'sum',
  'max',
  'reshape',
  'permute',
  'expand',
  'pad',
  'window',
  'concat',
  'einsum',
  'gather',
  'scatter_add',
  'cast',
  'random',
  'iota',
  'full',
  'topk',
  'rearrange',
] as const;

export const BUILTIN_NAMES: ReadonlySet<string> = new Set<string>([
  ...UNARY_FLOAT,
  ...UNARY_ANY,
  ...SCALAR_ONLY,
  ...TENSOR_OPS,
]);

type Handler = (ctx: Ctx, a: Args, span: Span, calleeSpan: Span) => V;

interface P {
  name: string;
  hasDefault: boolean;
}
const req = (name: string): P => ({ name, hasDefault: false });
const opt = (name: string): P => ({ name, hasDefault: true });

/** Binds arguments by name; returns undefined after reporting when they do not fit. */
function bind(ctx: Ctx, name: string, params: P[], a: Args, span: Span): (ArgV | undefined)[] | undefined {
  const b = bindParams(ctx, name, params, a, span);
  if (!b.ok || b.args.some((x) => x?.value.kind === 'error')) return undefined;
  return [...b.args];
}

function wantTensor(ctx: Ctx, name: string, arg: ArgV | undefined, i: number): TensorT | undefined {
  if (!arg || arg.value.kind === 'error') return undefined;
  if (arg.value.kind === 'tensor') return arg.value.t;
  ctx.checker.error('FM0422', arg.span, [i + 1, name, 'a tensor', describe(arg.value)]);
  return undefined;
}

function wantInt(ctx: Ctx, name: string, arg: ArgV | undefined, i: number, constant = true): number | undefined {
  if (!arg) return undefined;
  if (arg.value.kind === 'int') {
    const c = dimConstValue(arg.value.dim);
    if (c !== undefined || !constant) return c;
  }
  ctx.checker.error('FM0422', arg.span, [i + 1, name, 'a constant integer', describe(arg.value)]);
  return undefined;
}

/** A list of constant ints, or a single int promoted to a list. */
function wantInts(ctx: Ctx, name: string, arg: ArgV | undefined, i: number): number[] | undefined {
  if (!arg) return undefined;
  const items = arg.value.kind === 'list' || arg.value.kind === 'tuple' ? arg.value.items : [arg.value];
  const out: number[] = [];
  for (const it of items) {
    const c = it.kind === 'int' ? dimConstValue(it.dim) : undefined;
    if (c === undefined) {
      ctx.checker.error('FM0422', arg.span, [i + 1, name, 'constant integers', describe(it)]);
      return undefined;
    }
    out.push(c);
  }
  return out;
}

/** A shape list `[d0, d1, ...]` whose items are ints (possibly symbolic) or `...`. */
function wantShape(ctx: Ctx, name: string, arg: ArgV | undefined, i: number): Shape | undefined {
  if (!arg) return undefined;
  if (arg.value.kind !== 'list' && arg.value.kind !== 'tuple') {
    ctx.checker.error('FM0422', arg.span, [i + 1, name, 'a list of dims', describe(arg.value)]);
    return undefined;
  }
  const dims: Dim[] = [];
  let prefix: string | undefined;
  for (const it of arg.value.items) {
    if (it.kind === 'int') dims.push(it.dim);
    else if (it.kind === 'ellipsis' && it.shape && dims.length === 0 && prefix === undefined) {
      prefix = it.shape.prefix;
      dims.push(...it.shape.dims);
    } else {
      ctx.checker.error('FM0422', arg.span, [i + 1, name, 'a list of dims', `a list containing ${describe(it)}`]);
      return undefined;
    }
  }
  return { prefix, dims };
}

function wantDtype(ctx: Ctx, name: string, arg: ArgV | undefined, i: number): Dtype | undefined {
  if (!arg) return undefined;
  if (arg.value.kind === 'dtype') return arg.value.value;
  ctx.checker.error('FM0422', arg.span, [i + 1, name, 'a dtype', describe(arg.value)]);
  return undefined;
}

const shapeWith = (t: TensorT, dims: Dim[]): Shape => ({ prefix: t.shape.prefix, dims });

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
    return tensor(t.dtype, t.shape, span);
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
  const f: Record<string, (...x: number[]) => number> = {
    exp: Math.exp,
    log: Math.log,
    sqrt: Math.sqrt,
    rsqrt: (x) => 1 / Math.sqrt(x),
    sin: Math.sin,
    cos: Math.cos,
    tanh: Math.tanh,
    recip: (x) => 1 / x,
    floor: Math.floor,
    ceil: Math.ceil,
    abs: Math.abs,
    neg: (x) => -x,
    min: Math.min,
    max: Math.max,
    float: (x) => x,
    erf,
  };
  const fn = f[name];
  if (!fn) return ERROR;
  const r = fn(...n);
  if ((name === 'floor' || name === 'ceil') && Number.isSafeInteger(r)) return { kind: 'int', dim: dimConst(r) };
  return { kind: 'float', value: r };
}

/** Abramowitz–Stegun 7.1.26; compile-time folding only needs a few digits. */
function erf(x: number): number {
  const s = Math.sign(x);
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return s * y;
}

function binaryFn(name: 'maximum' | 'minimum'): Handler {
  return (ctx, a, span) => {
    const args = bind(ctx, name, [req('a'), req('b')], a, span);
    if (!args) return ERROR;
    const [x, y] = [args[0]!.value, args[1]!.value];
    if (x.kind !== 'tensor' && y.kind !== 'tensor')
      return scalarMath(ctx, name === 'maximum' ? 'max' : 'min', [x, y], span);
    // Same typing as `+`.
    return evalBinary(ctx, '+', x, y, span, span);
  };
}

// ---------------------------------------------------------------- handlers

const H: Record<string, Handler> = {};
for (const n of UNARY_FLOAT) H[n] = unary(n, true);
for (const n of UNARY_ANY) H[n] = unary(n, false);
H.maximum = binaryFn('maximum');
H.minimum = binaryFn('minimum');

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

/** `size(x, axis)`: the size of one axis as a compile-time int. */
H.size = (ctx, a, span) => {
  const args = bind(ctx, 'size', [req('x'), req('axis')], a, span);
  if (!args) return ERROR;
  const t = wantTensor(ctx, 'size', args[0], 0);
  const axis = wantInt(ctx, 'size', args[1], 1);
  if (!t || axis === undefined) return ERROR;
  const ax = normAxis(ctx, axis, t.shape, args[1]!.span);
  return ax === undefined ? ERROR : { kind: 'int', dim: t.shape.dims[ax]! };
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
  return shape ? tensor(ab.t.dtype, shape, span) : ERROR;
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
      const list = wantInts(ctx, name, args[1], 1);
      if (!list) return ERROR;
      const norm = list.map((ax) => normAxis(ctx, ax, t.shape, args[1]!.span));
      if (norm.some((x) => x === undefined)) return ERROR;
      axes = norm as number[];
      if (new Set(axes).size !== axes.length) {
        ctx.checker.error('FM0407', args[1]!.span, [list.join(', '), t.shape.dims.length]);
        return ERROR;
      }
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
    return tensor(t.dtype, shapeWith(t, dims), span);
  };
}
H.sum = reduce('sum');
H.max = reduce('max');

H.reshape = (ctx, a, span) => {
  const args = bind(ctx, 'reshape', [req('x'), req('shape')], a, span);
  if (!args) return ERROR;
  const t = wantTensor(ctx, 'reshape', args[0], 0);
  const target = wantShape(ctx, 'reshape', args[1], 1);
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
  return tensor(t.dtype, { prefix: target.prefix, dims }, span);
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
  return tensor(t.dtype, { prefix: undefined, dims: norm.map((i) => t.shape.dims[i]!) }, span);
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
  return tensor(t.dtype, target, span);
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
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    const lohi = p.kind === 'list' || p.kind === 'tuple' ? p.items : [];
    if (lohi.length !== 2 || lohi.some((x) => x.kind !== 'int')) {
      ctx.checker.error('FM0422', args[1]!.span, [2, 'pad', '[lo, hi] integer pairs', describe(p)]);
      return ERROR;
    }
    const [lo, hi] = lohi as (V & { kind: 'int' })[];
    dims[i] = dimAdd(dimAdd(dims[i]!, lo!.dim), hi!.dim);
  }
  const value = args[2]?.value;
  if (value && value.kind !== 'int' && value.kind !== 'float' && value.kind !== 'bool') {
    ctx.checker.error('FM0422', args[2]!.span, [3, 'pad', 'a number', describe(value)]);
    return ERROR;
  }
  return tensor(t.dtype, shapeWith(t, dims), span);
};

/** A list of ints (possibly symbolic), or a single int promoted to a list. */
function wantDims(ctx: Ctx, name: string, arg: ArgV | undefined, i: number): Dim[] | undefined {
  if (!arg) return undefined;
  const items = arg.value.kind === 'list' || arg.value.kind === 'tuple' ? arg.value.items : [arg.value];
  const out: Dim[] = [];
  for (const it of items) {
    if (it.kind !== 'int') {
      ctx.checker.error('FM0422', arg.span, [i + 1, name, 'integers', describe(it)]);
      return undefined;
    }
    out.push(it.dim);
  }
  return out;
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
  for (let i = 0; i < n; i++) {
    const ax = normAxis(ctx, axes[i]!, t.shape, args[1]!.span);
    if (ax === undefined) return ERROR;
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
  return tensor(t.dtype, shapeWith(t, [...dims, ...sz]), span);
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
  return tensor(first.dtype, shapeWith(first, dims), span);
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

H.gather = (ctx, a, span) => {
  const args = bind(ctx, 'gather', [req('x'), req('idx'), opt('axis')], a, span);
  if (!args) return ERROR;
  const t = wantTensor(ctx, 'gather', args[0], 0);
  const idx = wantTensor(ctx, 'gather', args[1], 1);
  if (!t || !idx) return ERROR;
  if (!isInt(idx.dtype)) {
    ctx.checker.error('FM0422', args[1]!.span, [2, 'gather', 'an integer tensor', typeToString(idx)]);
    return ERROR;
  }
  const axis = args[2] ? wantInt(ctx, 'gather', args[2], 2) : 0;
  if (axis === undefined) return ERROR;
  const ax = normAxis(ctx, axis, t.shape, args[2]?.span ?? span);
  if (ax === undefined) return ERROR;
  if (idx.shape.prefix !== undefined && (ax > 0 || t.shape.prefix !== undefined)) {
    ctx.checker.error('FM0422', args[1]!.span, [2, 'gather', 'indices without `...` here', typeToString(idx)]);
    return ERROR;
  }
  const d = t.shape.dims;
  return tensor(
    t.dtype,
    { prefix: t.shape.prefix ?? idx.shape.prefix, dims: [...d.slice(0, ax), ...idx.shape.dims, ...d.slice(ax + 1)] },
    span,
  );
};

H.scatter_add = (ctx, a, span) => {
  const args = bind(ctx, 'scatter_add', [req('x'), req('idx'), req('src'), opt('axis')], a, span);
  if (!args) return ERROR;
  const t = wantTensor(ctx, 'scatter_add', args[0], 0);
  const idx = wantTensor(ctx, 'scatter_add', args[1], 1);
  const src = wantTensor(ctx, 'scatter_add', args[2], 2);
  if (!t || !idx || !src) return ERROR;
  if (!isInt(idx.dtype)) {
    ctx.checker.error('FM0422', args[1]!.span, [2, 'scatter_add', 'an integer tensor', typeToString(idx)]);
    return ERROR;
  }
  const axis = args[3] ? wantInt(ctx, 'scatter_add', args[3], 3) : 0;
  if (axis === undefined) return ERROR;
  const ax = normAxis(ctx, axis, t.shape, args[3]?.span ?? span);
  if (ax === undefined) return ERROR;
  const d = t.shape.dims;
  const expected: Shape = { prefix: t.shape.prefix, dims: [...d.slice(0, ax), ...idx.shape.dims, ...d.slice(ax + 1)] };
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
  return tensor(t.dtype, t.shape, span);
};

H.cast = (ctx, a, span) => {
  const args = bind(ctx, 'cast', [req('x'), req('dtype')], a, span);
  if (!args) return ERROR;
  const dt = wantDtype(ctx, 'cast', args[1], 1);
  const v = args[0]!.value;
  if (!dt) return ERROR;
  if (v.kind !== 'tensor') {
    ctx.checker.error('FM0422', args[0]!.span, [1, 'cast', 'a tensor', describe(v)]);
    return ERROR;
  }
  return tensor(dt, v.t.shape, span);
};

function creation(name: 'random' | 'iota' | 'full'): Handler {
  return (ctx, a, span) => {
    const params =
      name === 'random'
        ? [req('shape'), opt('seed')]
        : name === 'iota'
          ? [req('shape'), req('axis'), opt('dtype')]
          : [req('shape'), req('value'), opt('dtype')];
    const args = bind(ctx, name, params, a, span);
    if (!args) return ERROR;
    const shape = wantShape(ctx, name, args[0], 0);
    if (!shape) return ERROR;
    if (shape.prefix !== undefined && name === 'iota') {
      ctx.checker.error('FM0422', args[0]!.span, [1, name, 'explicit dims', 'a shape with `...`']);
      return ERROR;
    }
    let dtype: Dtype = name === 'iota' ? 'i32' : 'f32';
    if (name === 'iota') {
      const ax = wantInt(ctx, name, args[1], 1);
      if (ax === undefined || normAxis(ctx, ax, shape, args[1]!.span) === undefined) return ERROR;
    }
    if (name === 'full') {
      const v = args[1]!.value;
      if (v.kind === 'bool') dtype = 'bool';
      else if (v.kind !== 'int' && v.kind !== 'float') {
        ctx.checker.error('FM0422', args[1]!.span, [2, name, 'a number', describe(v)]);
        return ERROR;
      }
    }
    if (name === 'random' && args[1] && wantInt(ctx, name, args[1], 1) === undefined) return ERROR;
    if (args[2]) {
      const d = wantDtype(ctx, name, args[2], 2);
      if (!d) return ERROR;
      dtype = d;
    }
    return tensor(dtype, shape, span);
  };
}
H.random = creation('random');
H.iota = creation('iota');
H.full = creation('full');

H.topk = (ctx, a, span) => {
  const args = bind(ctx, 'topk', [req('x'), req('k'), opt('axis')], a, span);
  if (!args) return ERROR;
  const t = wantTensor(ctx, 'topk', args[0], 0);
  if (!t) return ERROR;
  const kv = args[1]!.value;
  if (kv.kind !== 'int') {
    ctx.checker.error('FM0422', args[1]!.span, [2, 'topk', 'an integer', describe(kv)]);
    return ERROR;
  }
  const axis = args[2] ? wantInt(ctx, 'topk', args[2], 2) : -1;
  if (axis === undefined) return ERROR;
  const ax = normAxis(ctx, axis, t.shape, args[2]?.span ?? span);
  if (ax === undefined) return ERROR;
  const n = dimConstValue(t.shape.dims[ax]!);
  const k = dimConstValue(kv.dim);
  if (k !== undefined && (k <= 0 || (n !== undefined && k > n))) {
    ctx.checker.error('FM0422', args[1]!.span, [
      2,
      'topk',
      `k between 1 and ${n ?? dimToString(t.shape.dims[ax]!)}`,
      String(k),
    ]);
    return ERROR;
  }
  const dims = [...t.shape.dims];
  dims[ax] = kv.dim;
  const shape = shapeWith(t, dims);
  return { kind: 'tuple', items: [tensor(t.dtype, shape, span), tensor('i32', shape, span)] };
};

export function callBuiltin(ctx: Ctx, name: string, a: Args, span: Span, calleeSpan: Span): V {
  const h = H[name];
  if (!h) return ERROR;
  return h(ctx, a, span, calleeSpan);
}

export { isOne };
