// Argument helpers shared by the builtin typing rules: binding by name and wanting an
// argument of a given kind (reporting FM0422 otherwise).

import { type Dim, dimConstValue, dimToString } from '../../ir/dims.js';
import type { Span } from '../source.js';
import { describe, type Dtype, type Shape, type TensorT, type V } from '../types.js';
import { type Args, type ArgV, bindParams } from './calls.js';
import type { Ctx } from './context.js';
import { normAxis } from './shapes.js';

export type Handler = (ctx: Ctx, a: Args, span: Span, calleeSpan: Span) => V;

export interface P {
  name: string;
  hasDefault: boolean;
}
export const req = (name: string): P => ({ name, hasDefault: false });
export const opt = (name: string): P => ({ name, hasDefault: true });

/** Binds arguments by name; returns undefined after reporting when they do not fit. */
export function bind(ctx: Ctx, name: string, params: P[], a: Args, span: Span): (ArgV | undefined)[] | undefined {
  const b = bindParams(ctx, name, params, a, span);
  if (!b.ok || b.args.some((x) => x?.value.kind === 'error')) return undefined;
  return [...b.args];
}

export function wantTensor(ctx: Ctx, name: string, arg: ArgV | undefined, i: number): TensorT | undefined {
  if (!arg || arg.value.kind === 'error') return undefined;
  if (arg.value.kind === 'tensor') return arg.value.t;
  ctx.checker.error('FM0422', arg.span, [i + 1, name, 'a tensor', describe(arg.value)]);
  return undefined;
}

export function wantInt(ctx: Ctx, name: string, arg: ArgV | undefined, i: number, constant = true): number | undefined {
  if (!arg) return undefined;
  if (arg.value.kind === 'int') {
    const c = dimConstValue(arg.value.dim);
    if (c !== undefined || !constant) return c;
  }
  ctx.checker.error('FM0422', arg.span, [i + 1, name, 'a constant integer', describe(arg.value)]);
  return undefined;
}

/** A list of constant ints, or a single int promoted to a list. */
export function wantInts(ctx: Ctx, name: string, arg: ArgV | undefined, i: number): number[] | undefined {
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

/**
 * Axes of `t` as an int or a list of ints: normalized (negative ones count from the end) and
 * distinct, in the order given.
 */
export function wantAxes(ctx: Ctx, name: string, arg: ArgV | undefined, i: number, t: TensorT): number[] | undefined {
  const list = wantInts(ctx, name, arg, i);
  if (!list) return undefined;
  const norm = list.map((ax) => normAxis(ctx, ax, t.shape, arg!.span));
  if (norm.some((x) => x === undefined)) return undefined;
  const axes = norm as number[];
  if (new Set(axes).size !== axes.length) {
    const k = axes.findIndex((a, j) => axes.indexOf(a) !== j);
    const first = list[axes.indexOf(axes[k]!)]!;
    const again = list[k]!;
    ctx.checker.error('FM0428', arg!.span, [axes[k]!, `[${list.join(', ')}]`], {
      help: first === again ? undefined : `\`${Math.min(first, again)}\` counts from the end: it is axis ${axes[k]}`,
    });
    return undefined;
  }
  return axes;
}

/** A shape list `[d0, d1, ...]` whose items are ints (possibly symbolic) or `...`. */
export function wantShape(
  ctx: Ctx,
  name: string,
  arg: ArgV | undefined,
  i: number,
  allowInfer = false,
): Shape | undefined {
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
  // Sizes are non-negative (reshape may infer one `-1`).
  const bad = dims.find((d) => {
    const c = dimConstValue(d);
    return c !== undefined && c < 0 && !(allowInfer && c === -1);
  });
  if (bad) {
    ctx.checker.error('FM0311', arg.span, [dimToString(bad), dimToString(bad)]);
    return undefined;
  }
  return { prefix, dims };
}

export function wantDtype(ctx: Ctx, name: string, arg: ArgV | undefined, i: number): Dtype | undefined {
  if (!arg) return undefined;
  if (arg.value.kind === 'dtype') return arg.value.value;
  ctx.checker.error('FM0422', arg.span, [i + 1, name, 'a dtype', describe(arg.value)]);
  return undefined;
}

export const shapeWith = (t: TensorT, dims: Dim[]): Shape => ({ prefix: t.shape.prefix, dims });

/** A list of ints (possibly symbolic), or a single int promoted to a list. */
export function wantDims(ctx: Ctx, name: string, arg: ArgV | undefined, i: number): Dim[] | undefined {
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
