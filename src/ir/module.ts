// A lowered model function with everything later stages need to know about the model,
// as IR-level data: the graph, every param and buffer, the optimization hints of the
// annotations (`@precision`, `@quantize`, `@sparse`, `@checkpoint`) by param and block
// path, and the `train` section as a typed config. The frontend produces it; passes,
// kernels and the runtime consume it without importing frontend types.

import type { Dtype } from './dtype.js';
import type { Graph } from './graph.js';
import type { OpArgs } from './ops.js';

export type ParamDecl = OpArgs['param'];

/** `@quantize(int8 | int4, group = g, symmetric = bool)`. */
export interface QuantizeHint {
  readonly dtype: 'int8' | 'int4';
  /** Group size along the reduced axis; undefined: per output channel. */
  readonly group?: number;
  readonly symmetric: boolean;
}

/** `@sparse(n:m)` or `@sparse(block = b, density = p)`. */
export type SparseHint =
  | { readonly kind: 'n:m'; readonly n: number; readonly m: number }
  | { readonly kind: 'block'; readonly block: number; readonly density: number };

/** The hints on one param or block (a block's apply to everything under its path). */
export interface Hint {
  readonly precision?: Dtype;
  readonly quantize?: QuantizeHint;
  readonly sparse?: SparseHint;
  readonly checkpoint?: true;
}

/** The hints of a model: by param path and by block path ('' is the model itself). */
export interface Hints {
  readonly params: ReadonlyMap<string, Hint>;
  readonly blocks: ReadonlyMap<string, Hint>;
}

export const NO_HINTS: Hints = { params: new Map(), blocks: new Map() };

export type Optimizer =
  | {
      readonly kind: 'sgd';
      readonly lr: number;
      readonly momentum: number;
      readonly nesterov: boolean;
      readonly weightDecay: number;
    }
  | {
      readonly kind: 'adam' | 'adamw';
      readonly lr: number;
      readonly betas: readonly [number, number];
      readonly eps: number;
      readonly weightDecay: number;
    };

export type Schedule =
  | { readonly kind: 'constant' }
  | { readonly kind: 'linear'; readonly warmup: number; readonly steps: number }
  | { readonly kind: 'cosine'; readonly warmup: number; readonly steps: number; readonly minLr: number }
  | { readonly kind: 'step'; readonly every: number; readonly gamma: number };

/** The model's `train` section, defaults filled in (docs/language.md). */
export interface TrainConfig {
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  /** The function to minimize (default `loss`). */
  readonly loss: string;
  /** Compute precision of training (`f32` unless set). */
  readonly precision: Dtype;
  /** `dynamic`, a fixed scale, or none. */
  readonly lossScale?: 'dynamic' | number;
  readonly accumulate: number;
  /** Global-norm clipping threshold. */
  readonly clip?: number;
  readonly batch?: number;
  readonly steps?: number;
}

/** One lowered model function and the model's intent. */
export interface Module {
  readonly model: string;
  readonly graph: Graph;
  /** Every param and buffer of the model (used by this function or not), in declaration order. */
  readonly params: readonly ParamDecl[];
  /** The model's function names (entry points). */
  readonly functions: readonly string[];
  readonly hints: Hints;
  /** The `train` section, when the model has one. */
  readonly train?: TrainConfig;
}

/**
 * The hint of `kind` that applies to a node of block `path` (or a param of that path): the
 * param's own, else the innermost enclosing block's.
 */
export function hintAt<K extends keyof Hint>(hints: Hints, path: string, kind: K, param?: string): Hint[K] | undefined {
  const own = param !== undefined ? hints.params.get(param)?.[kind] : undefined;
  if (own !== undefined) return own;
  const parts = path ? path.split('.') : [];
  for (let k = parts.length; k >= 0; k--) {
    const h = hints.blocks.get(parts.slice(0, k).join('.'))?.[kind];
    if (h !== undefined) return h;
  }
  return undefined;
}
