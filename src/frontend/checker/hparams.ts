// Hyperparameter and compile-time parameter values: checking a value against a declared
// type (`int`, `float`, `bool`, `dtype`, `fn`, `[int]`, enums) and the unknown value a
// generic check uses.

import type * as A from '../ast.js';
import { dimConstValue, dimSym } from '../../ir/dims.js';
import { describe, ERROR, type V } from '../types.js';
import type { Ctx } from './context.js';

export function typeName(t: A.HParamType): string {
  if (t.kind === 'ListType') return '[int]';
  return t.kind === 'ScalarType' ? t.name : t.options.map((o) => o.name).join(' | ');
}

/**
 * Whether some `[int]` parameter has no default: its length is known only per use, so a
 * generic check of the declaration checks names only.
 */
export function hasOpenList(params: readonly { type?: A.FnParam['type'] | undefined; default: unknown }[]): boolean {
  return params.some((p) => p.type?.kind === 'ListType' && p.default === undefined);
}

/** Validates (and converts, e.g. int → float) a value for a declared type. */
export function checkHParamValue(ctx: Ctx, t: A.HParamType, v: V, span: A.Expr['span']): V {
  if (v.kind === 'error') return v;
  const fail = () => {
    ctx.checker.error('FM0301', span, [typeName(t), describe(v)]);
    return ERROR;
  };
  if (t.kind === 'ListType') {
    // A single int is a one-element list (`mean(x, 1)`).
    if (v.kind === 'int') return { kind: 'list', items: [v] };
    if (v.kind !== 'list' && v.kind !== 'tuple') return fail();
    const bad = v.items.find((it) => it.kind !== 'int');
    if (bad) {
      if (bad.kind !== 'error') ctx.checker.error('FM0301', span, [typeName(t), `a list containing ${describe(bad)}`]);
      return ERROR;
    }
    return { kind: 'list', items: v.items };
  }
  if (t.kind === 'EnumType') {
    const options = t.options.map((o) => o.name);
    const name = v.kind === 'enum' || v.kind === 'name' ? v.value : undefined;
    if (v.kind === 'enum' && name === undefined) return { kind: 'enum', value: undefined, options };
    if (name === undefined) return fail();
    if (!options.includes(name)) {
      ctx.checker.error('FM0310', span, [name, options.map((o) => `\`${o}\``).join(', ')]);
      return ERROR;
    }
    return { kind: 'enum', value: name, options };
  }
  switch (t.name) {
    case 'int':
      if (v.kind === 'int') return v;
      if (v.kind === 'float' && v.value !== undefined && Number.isInteger(v.value)) return fail();
      return fail();
    case 'float':
      if (v.kind === 'float') return v;
      if (v.kind === 'int') return { kind: 'float', value: dimConstValue(v.dim) };
      return fail();
    case 'bool':
      return v.kind === 'bool' ? v : fail();
    case 'dtype':
      return v.kind === 'dtype' ? v : fail();
    case 'fn':
      if (v.kind !== 'fn') return fail();
      if (v.fn !== 'builtin-elementwise' && !isElementwise(v.fn.decl)) {
        ctx.checker.error('FM0301', span, [
          'an elementwise function `float[...] -> float[...]`',
          `\`${v.name}\`, which has another signature`,
        ]);
        return ERROR;
      }
      return v;
  }
}

/** The value of a hyperparameter that has neither an argument nor a default (generic check). */
export function genericValue(t: A.HParamType, name: string): V {
  if (t.kind === 'EnumType') return { kind: 'enum', value: undefined, options: t.options.map((o) => o.name) };
  // Its length is unknown: declarations with such a parameter are checked by name only
  // (hasOpenList), so this placeholder is never checked against.
  if (t.kind === 'ListType') return { kind: 'list', items: [{ kind: 'int', dim: dimSym(name) }] };
  switch (t.name) {
    case 'int':
      return { kind: 'int', dim: dimSym(name) };
    case 'float':
      return { kind: 'float', value: undefined };
    case 'bool':
      return { kind: 'bool', value: undefined };
    case 'dtype':
      return { kind: 'dtype', value: 'f32' };
    case 'fn':
      return { kind: 'fn', fn: 'builtin-elementwise', name };
  }
}

/** Evaluates an argument for an enum-typed parameter: a bare option name is its value. */
export function enumArg(t: A.HParamType | undefined, e: A.Expr): V | undefined {
  if (t?.kind === 'EnumType' && e.kind === 'Name' && t.options.some((o) => o.name === e.name)) {
    return { kind: 'enum', value: e.name, options: t.options.map((o) => o.name) };
  }
  return undefined;
}

/**
 * A `fn` hyperparameter is called as `act(x)` on any shape, so it must take one tensor
 * `T[...]` (other parameters defaulted) and return `T[...]`.
 */
function isElementwise(d: A.FnDecl): boolean {
  const onlyEllipsis = (t: A.FnParam['type']) =>
    t.kind === 'TensorType' && t.dims.length === 1 && t.dims[0]!.kind === 'DimEllipsis';
  const [first, ...rest] = d.params;
  const r = d.results;
  return (
    first !== undefined &&
    onlyEllipsis(first.type) &&
    rest.every((p) => p.default !== undefined) &&
    (r === undefined || (r.length === 1 && onlyEllipsis(r[0]!.type)))
  );
}
