// Checker values: what an expression is known to be at compile time. Tensors carry only
// their type (dtype + shape); compile-time scalars carry their value when it is known.

import type * as A from './ast.js';
import { type Dim, dimConstValue, dimEquals, dimKey, dimToString } from '../ir/dims.js';
import type { Span } from './source.js';

import type { Dtype } from '../ir/dtype.js';
import type { Node } from '../ir/graph.js';
export { type Dtype, FLOAT_DTYPES, INT_DTYPES, isFloat, isInt } from '../ir/dtype.js';

/**
 * A shape: optional variadic prefix (a `...` whose dims are not known inside a generic
 * function body) followed by explicit dims.
 */
export interface Shape {
  readonly prefix: string | undefined;
  readonly dims: readonly Dim[];
}

export interface TensorT {
  readonly dtype: Dtype;
  readonly shape: Shape;
  /** Where this tensor's shape came from, for notes in shape errors. */
  readonly origin: Span | undefined;
  /** When lowering: the graph IR node computing this tensor. */
  readonly node?: Node;
}

/** A function that can be called: a declaration plus the scope it closes over. */
export interface FnRef {
  readonly decl: A.FnDecl;
  /** The block instance the function belongs to (undefined for file-level functions). */
  readonly owner: BlockInstance | undefined;
  readonly module: string;
}

export interface BlockInstance {
  readonly decl: A.BlockDecl;
  readonly module: string;
  /** Canonical text of the hyperparameter values, for memoization and notes. */
  readonly key: string;
  /** Member and hyperparameter values, in declaration order. */
  readonly scope: Map<string, Binding>;
  /** The span of the instantiation (for notes). */
  readonly site: Span | undefined;
  readonly label: string;
  /** Set when a `require` failed: uses of the instance are then not checked further. */
  failed?: boolean;
  /**
   * Block instances in this one, itself included, every instance of a `repeat` or `stack`
   * counted, as far as its members are checked; Infinity once FM0317 was reported for it.
   */
  size?: number;
}

export interface ChildRef {
  readonly inst: BlockInstance;
  readonly multi: { readonly mode: 'repeat' | 'stack'; readonly count: Dim } | undefined;
  readonly decl: A.ChildDecl;
}

export type V =
  | { readonly kind: 'int'; readonly dim: Dim }
  | { readonly kind: 'float'; readonly value: number | undefined }
  | { readonly kind: 'bool'; readonly value: boolean | undefined }
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'dtype'; readonly value: Dtype }
  | { readonly kind: 'enum'; readonly value: string | undefined; readonly options: readonly string[] }
  | { readonly kind: 'name'; readonly value: string }
  | {
      readonly kind: 'fn';
      readonly fn: FnRef | 'builtin-elementwise';
      readonly name: string;
      /** When lowering: the block path of the instance the function belongs to. */
      readonly path?: string;
    }
  | { readonly kind: 'builtin'; readonly name: string }
  | { readonly kind: 'tensor'; readonly t: TensorT }
  | { readonly kind: 'tuple'; readonly items: readonly V[] }
  | { readonly kind: 'list'; readonly items: readonly V[] }
  | { readonly kind: 'ellipsis'; readonly shape: Shape | undefined }
  | { readonly kind: 'child'; readonly child: ChildRef; readonly path?: string }
  | { readonly kind: 'block'; readonly decl: A.BlockDecl; readonly module: string }
  | { readonly kind: 'absent'; readonly cond: Span }
  | { readonly kind: 'error' };

export type VKind = V['kind'];

export interface Binding {
  readonly value: V;
  readonly span: Span | undefined;
  /** What the name is, in words ("hyperparameter", "param", "let binding", ...). */
  readonly what: string;
}

export const ERROR: V = { kind: 'error' };

export function tensor(dtype: Dtype, shape: Shape, origin?: Span): V {
  return { kind: 'tensor', t: { dtype, shape, origin } };
}

export function shapeOf(dims: readonly Dim[], prefix?: string): Shape {
  return { prefix, dims };
}

export function shapeToString(s: Shape): string {
  const parts = s.dims.map(dimToString);
  if (s.prefix !== undefined) parts.unshift('...');
  return `[${parts.join(', ')}]`;
}

export function typeToString(t: TensorT): string {
  return `${t.dtype}${shapeToString(t.shape)}`;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.prefix === b.prefix && a.dims.length === b.dims.length && a.dims.every((d, i) => dimEquals(d, b.dims[i]!));
}

/** A float as a user writes it: `32.0`, not `32`. */
export function floatText(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  return Number.isInteger(x) && Math.abs(x) < 1e21 ? x.toFixed(1) : String(x);
}

/** A short description of a value for "expected X, found Y" messages. */
export function describe(v: V): string {
  switch (v.kind) {
    case 'int': {
      const c = dimConstValue(v.dim);
      return c === undefined ? `int \`${dimToString(v.dim)}\`` : `int \`${c}\``;
    }
    case 'float':
      return v.value === undefined ? 'a float' : `float \`${floatText(v.value)}\``;
    case 'bool':
      return v.value === undefined ? 'a bool' : `bool \`${v.value}\``;
    case 'str':
      return 'a string';
    case 'dtype':
      return `dtype \`${v.value}\``;
    case 'enum':
    case 'name':
      return v.value === undefined ? 'an enum value' : `\`${v.value}\``;
    case 'fn':
      return `function \`${v.name}\``;
    case 'builtin':
      return `builtin \`${v.name}\``;
    case 'tensor':
      return `a tensor ${typeToString(v.t)}`;
    case 'tuple':
      return `a tuple of ${v.items.length}`;
    case 'list':
      return `a list of ${v.items.length}`;
    case 'ellipsis':
      return '`...`';
    case 'child':
      return `block instance \`${v.child.decl.name.name}\``;
    case 'block':
      return `block \`${v.decl.name.name}\``;
    case 'absent':
      return 'a member that does not exist';
    case 'error':
      return 'an invalid value';
  }
}

/** `describe` with an article where it has none: "a float `0.5`", "an int `3`". */
export function describeWithArticle(v: V): string {
  const d = describe(v);
  if (/^(a|an) /.test(d) || d.startsWith('`')) return d;
  return `${/^[aeiou]/.test(d) ? 'an' : 'a'} ${d}`;
}

/** Canonical text of a compile-time value, for memo keys. */
export function valueKey(v: V): string {
  switch (v.kind) {
    case 'int':
      return `i:${dimKey(v.dim)}`;
    case 'float':
    case 'bool':
      return `${v.kind[0]}:${String(v.value)}`;
    case 'str':
      return `s:${JSON.stringify(v.value)}`;
    case 'dtype':
    case 'enum':
    case 'name':
      return `${v.kind}:${String(v.value)}`;
    case 'fn':
      return `fn:${v.name}:${v.fn === 'builtin-elementwise' ? '' : `${v.fn.module}:${v.fn.decl.span.start}:${v.fn.owner?.key ?? ''}`}`;
    case 'tensor':
      // The variadic prefix's identity matters: two `...` are different shapes.
      return `t:${v.t.dtype}:${v.t.shape.prefix ?? ''}:${v.t.shape.dims.map(dimKey).join(',')}`;
    case 'tuple':
    case 'list':
      return `${v.kind}(${v.items.map(valueKey).join(',')})`;
    case 'ellipsis':
      return `...${v.shape ? `${v.shape.prefix ?? ''}:${v.shape.dims.map(dimKey).join(',')}` : ''}`;
    default:
      return v.kind;
  }
}

/** A human-readable value for instantiation labels: `d = 256`. */
export function valueText(v: V): string {
  switch (v.kind) {
    case 'int':
      return dimToString(v.dim);
    case 'float':
      return v.value === undefined ? '?' : floatText(v.value);
    case 'bool':
      return v.value === undefined ? '?' : String(v.value);
    case 'dtype':
    case 'enum':
    case 'name':
      return String(v.value ?? '?');
    case 'fn':
      return v.name;
    case 'str':
      return JSON.stringify(v.value);
    case 'list':
      return `[${v.items.map(valueText).join(', ')}]`;
    default:
      return describe(v);
  }
}
