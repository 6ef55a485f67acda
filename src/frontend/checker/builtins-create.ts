// Typing rules of the builtins that make tensors: `cast`, the creation ops (`random`, `iota`,
// `full`) and `topk` (docs/language.md).

import { dimConstValue, dimToString } from '../../ir/dims.js';
import { describe, type Dtype, ERROR, tensor } from '../types.js';
import { type Handler, req, opt, bind, wantTensor, wantInt, wantShape, wantDtype, shapeWith } from './builtin-args.js';
import { nodeNumber } from './builtins-shape.js';
import { constInt, emit, nodeOf } from './emit.js';
import { normAxis } from './shapes.js';

/** Handlers by builtin name. */
export const CREATE: Record<string, Handler> = {};
const H = CREATE;

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
  return emit(ctx, tensor(dt, v.t.shape, span), (mk) => mk('cast', { dtype: dt }, [nodeOf(v.t)]));
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
    let axis = 0;
    if (name === 'iota') {
      const ax = wantInt(ctx, name, args[1], 1);
      const norm = ax === undefined ? undefined : normAxis(ctx, ax, shape, args[1]!.span);
      if (norm === undefined) return ERROR;
      axis = norm;
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
    return emit(ctx, tensor(dtype, shape, span), (mk) => {
      if (name === 'iota') return mk('iota', { axis, dtype, shape: shape.dims }, []);
      if (name === 'full') {
        // A symbolic int (`full([B], T)`) is the run-time value of a dim, broadcast.
        const v = args[1]!.value;
        if (v.kind === 'int' && dimConstValue(v.dim) === undefined)
          return mk('expand', { shape: shape.dims }, [mk('dim', { value: v.dim, dtype }, [])]);
        return mk('full', { value: nodeNumber(v, span), dtype, shape: shape.dims }, []);
      }
      const seed = args[1] ? nodeNumber(args[1].value, span) : 0;
      // Keyed by where the call is (block path, file name, offset): stable across machines.
      // The same site evaluated again at the same path (a child or function called twice)
      // gets `#1`, `#2`, ...: hash-consing would otherwise share one draw between them.
      const site = `${ctx.path ?? ''}@${span.file.split(/[\\/]/).pop()}:${span.start}`;
      const seen = ctx.checker.lowering!.randomKeys;
      const n = seen.get(site) ?? 0;
      seen.set(site, n + 1);
      return mk('random', { seed, key: n === 0 ? site : `${site}#${n}`, shape: shape.dims }, []);
    });
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
  const part = (dtype: Dtype, output: 'values' | 'indices') =>
    emit(ctx, tensor(dtype, shape, span), (mk) =>
      mk('topk', { k: constInt(kv.dim, 'the k of topk', span), axis: ax, output }, [nodeOf(t)]),
    );
  return { kind: 'tuple', items: [part(t.dtype, 'values'), part('i32', 'indices')] };
};
