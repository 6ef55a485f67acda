// The closed set of primitive ops of the graph IR and their typed arguments. Everything
// else (linear, softmax, attention, conv) is composed from these in the .fm standard
// library; the interpreter, autodiff and fusion only know this list.

import type { Dim } from './dims.js';
import type { Dtype } from './dtype.js';

export const UNARY_FNS = [
  'neg',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'sin',
  'cos',
  'tanh',
  'erf',
  'abs',
  'recip',
  'floor',
  'not',
] as const;
export type UnaryFn = (typeof UNARY_FNS)[number];

export const ARITH_FNS = ['add', 'sub', 'mul', 'div', 'mod', 'pow', 'max', 'min'] as const;
export const COMPARE_FNS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
export const LOGIC_FNS = ['and', 'or'] as const;
export const BINARY_FNS = [...ARITH_FNS, ...COMPARE_FNS, ...LOGIC_FNS] as const;
export type BinaryFn = (typeof BINARY_FNS)[number];
export const isCompare = (f: BinaryFn): boolean => (COMPARE_FNS as readonly string[]).includes(f);

export const INIT_FNS = [
  'zeros',
  'ones',
  'constant',
  'normal',
  'uniform',
  'trunc_normal',
  'xavier_uniform',
  'xavier_normal',
  'kaiming_uniform',
  'kaiming_normal',
] as const;
export type InitFn = (typeof INIT_FNS)[number];

/** Each initializer's arguments, in positional order (defaults in docs/language.md). */
export const INIT_ARGS: Readonly<Record<InitFn, readonly string[]>> = {
  zeros: [],
  ones: [],
  constant: ['value'],
  normal: ['mean', 'std'],
  uniform: ['low', 'high'],
  trunc_normal: ['std', 'mean', 'a', 'b'],
  xavier_uniform: ['gain'],
  xavier_normal: ['gain'],
  kaiming_uniform: ['a'],
  kaiming_normal: ['a'],
};

/** A parameter initializer with its numeric arguments (missing ones take the documented defaults). */
export interface Init {
  readonly fn: InitFn;
  readonly args: Readonly<Record<string, number>>;
}

/** The arguments of each op. Shapes in args are symbolic dims; axes are non-negative. */
export interface OpArgs {
  /** A model input (the `index`-th parameter of the function). */
  input: { name: string; index: number; dtype: Dtype; shape: readonly Dim[] };
  /** A learnable param or a buffer, by block path (`blocks.3.attn.q.weight`). */
  param: { path: string; role: 'param' | 'buffer'; dtype: Dtype; shape: readonly Dim[]; init: Init };
  /** A tensor filled with one value (NaN and ±Inf allowed). */
  full: { value: number; dtype: Dtype; shape: readonly Dim[] };
  /** A scalar (shape []) holding the run-time value of a dim expression (`size(x, 1)` when it is symbolic). */
  dim: { value: Dim; dtype: Dtype };
  /** `out[..., i, ...] = i` along `axis`. */
  iota: { axis: number; dtype: Dtype; shape: readonly Dim[] };
  /**
   * Uniform in [0, 1), f32, Philox keyed by (seed, key). An optional input, an i64 scalar
   * (the train step), is the high half of the Philox counter: a new stream per step.
   */
  random: { seed: number; key: string; shape: readonly Dim[] };
  unary: { fn: UnaryFn };
  /** Broadcasting (NumPy rules); equal dtypes; compares give bool. */
  binary: { fn: BinaryFn };
  /** Inputs (cond: bool, a, b), broadcasting. */
  where: Record<string, never>;
  /** Sum or max over `axes` (sorted, distinct). */
  reduce: { fn: 'sum' | 'max'; axes: readonly number[]; keepdim: boolean };
  reshape: { shape: readonly Dim[] };
  /** Result dim i is input dim axes[i]. */
  permute: { axes: readonly number[] };
  /** NumPy broadcast to `shape` (new dims prepended, size-1 dims stretched). */
  expand: { shape: readonly Dim[] };
  /** One [lo, hi] per axis; negative widths crop. */
  pad: { pads: readonly (readonly [Dim, Dim])[]; value: number };
  /** Per axis: out[j] = in[start + j*step] for j < size (start and size already clamped). */
  slice: { starts: readonly Dim[]; sizes: readonly Dim[]; steps: readonly number[] };
  /** Sliding windows over `axes`; one window axis per listed axis is appended. */
  window: { axes: readonly number[]; size: readonly number[]; stride: readonly number[]; dilation: readonly number[] };
  concat: { axis: number };
  /** Letters-only einsum (`"bij,bjk->bik"`), one or two inputs; floats accumulate in f32. */
  einsum: { spec: string };
  /** NumPy take; indices clamped. Inputs (x, idx). */
  gather: { axis: number };
  /** Adjoint of gather; out-of-range indices dropped. Inputs (x, idx, src). */
  scatter_add: { axis: number };
  /**
   * Prefix sum along `axis`: out[i] = x[0] + ... + x[i] (`exclusive`: up to x[i - 1], 0 first;
   * `reverse`: from the end, out[i] = x[i] + ... + x[n - 1]). Numbers only, not bool.
   */
  cumsum: { axis: number; exclusive: boolean; reverse: boolean };
  cast: { dtype: Dtype };
  /** The k largest along axis, sorted descending, ties by lower index. */
  topk: { k: number; axis: number; output: 'values' | 'indices' };
  /**
   * The identity. Its `key` keeps hash-consing from merging it (and what is built on it) with
   * a node of another key: a recomputed `@checkpoint` block stays a recomputation.
   */
  barrier: { key: string };
}

export type OpName = keyof OpArgs;
export const OP_NAMES: readonly OpName[] = [
  'input',
  'param',
  'full',
  'dim',
  'iota',
  'random',
  'unary',
  'binary',
  'where',
  'reduce',
  'reshape',
  'permute',
  'expand',
  'pad',
  'slice',
  'window',
  'concat',
  'einsum',
  'gather',
  'scatter_add',
  'cumsum',
  'cast',
  'topk',
  'barrier',
];

/** An op with its arguments, discriminated by `op`. */
export type Op = { [K in OpName]: { readonly op: K; readonly args: OpArgs[K] } }[OpName];

/** How many inputs each op takes (`concat`: one or more; `einsum`: one or two). */
export const ARITY: Readonly<Record<OpName, number | readonly [number, number]>> = {
  input: 0,
  param: 0,
  full: 0,
  dim: 0,
  iota: 0,
  random: [0, 1],
  unary: 1,
  binary: 2,
  where: 3,
  reduce: 1,
  reshape: 1,
  permute: 1,
  expand: 1,
  pad: 1,
  slice: 1,
  window: 1,
  concat: [1, Infinity],
  einsum: [1, 2],
  gather: 2,
  scatter_add: 3,
  cumsum: 1,
  cast: 1,
  topk: 1,
  barrier: 1,
};
