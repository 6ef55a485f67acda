// A lowered model function with everything later stages need to know about the model,
// as IR-level data: the graph, every param and buffer, the optimization hints of the
// annotations (`@precision`, `@quantize`, `@sparse`, `@checkpoint`) by param and block
// path, and the `train` section as a typed config. The frontend produces it; passes,
// kernels and the runtime consume it without importing frontend types.

import { type Dtype, isFloat } from './dtype.js';
import type { Dim } from './dims.js';
import type { Graph } from './graph.js';
import type { OpArgs } from './ops.js';
import type { SpanTable } from './spans.js';

export type ParamDecl = OpArgs['param'];

/**
 * `@quantize(int8 | int4, group = g)`. The language has no argument for the scheme
 * (docs/language.md names only `q` and `group`; the checker rejects anything else), so
 * `symmetric` is always true for now: zero-point-free scales, one per group.
 */
export interface QuantizeHint {
  readonly dtype: 'int8' | 'int4';
  /** Group size along the reduced axis (the dims after the first); undefined: whole rows. */
  readonly group?: number;
  readonly symmetric: boolean;
}

/** `@sparse(n:m)` or `@sparse(block = b, density = p)`. */
export type SparseHint =
  | { readonly kind: 'n:m'; readonly n: number; readonly m: number }
  | { readonly kind: 'block'; readonly block: number; readonly density: number };

/**
 * The hints on one param or block. A block's apply to everything under its path; its
 * `quantize` and `sparse` reach only the learnable params of rank >= 2 inside it (float
 * ones for `quantize`), as docs/language.md says: use `paramHint` for params.
 */
export interface Hint {
  readonly precision?: Dtype;
  readonly quantize?: QuantizeHint;
  readonly sparse?: SparseHint;
  readonly checkpoint?: true;
}

/**
 * The hints of a model: by param path and by block path ('' is the model itself). Where
 * they come from (src/frontend/intent.ts):
 * - an annotation on a param: `params` at its path (`blocks.0.ffn.up.w`);
 * - on a child member (`@checkpoint blocks = repeat ...`): `blocks` at the child's path,
 *   for `repeat`/`stack` the path enclosing its instances (`blocks`, not `blocks.0`);
 * - on a block declaration: `blocks` at every instance path of that block (`blocks.0`,
 *   `blocks.1`, ...); on the model: `blocks` at '';
 * - `@precision` on a function of a block: `blocks` at the block's instance paths (a
 *   hint names no function). It yields to the block's and the child member's own
 *   `@precision`; the first annotated function wins over later ones. On a free function
 *   it is not recorded (a free function has no block path).
 * At one path the use site wins: a child member's annotation of some kind hides the block
 * declaration's of that kind, also at the instances of a `repeat`/`stack` child.
 */
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

/**
 * The model's `train` section, defaults filled in: the optimizer's and schedule's from
 * docs/language.md (adam/adamw betas (0.9, 0.999), eps 1e-8, weight decay 0 for adam and
 * 0.01 for adamw; sgd momentum 0, no nesterov, weight decay 0; warmup and min_lr 0, step
 * gamma 0.1); where the docs are silent, PyTorch's: schedule constant, precision f32, no
 * loss scaling, accumulate 1. `clip`, `batch` and `steps` are absent unless set.
 */
/** How `loss_scale = dynamic` moves the scale (PyTorch's GradScaler). */
export interface ScalerConfig {
  /** Clean steps in a row after which the scale grows. */
  readonly growthInterval: number;
  /** What the scale is multiplied by when it grows (> 1). */
  readonly growthFactor: number;
  /** What the scale is multiplied by after a step with an Inf or NaN gradient (in (0, 1)). */
  readonly backoffFactor: number;
}

/** The most micro-batches one optimizer step accumulates (`accumulate`, `--accumulate`). */
export const MAX_ACCUMULATE = 65536;

/** The largest static loss scale (`loss_scale`, `--loss-scale`): the largest finite f32, as the scaled loss is one. */
export const MAX_LOSS_SCALE = 3.4028234663852886e38;

export interface TrainConfig {
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  /** The function to minimize (default `loss`). */
  readonly loss: string;
  /** Compute precision of training (`f32` unless set). */
  readonly precision: Dtype;
  /** `none` (the default: the docs give none, and PyTorch scales only when asked), `dynamic`, or a fixed scale. */
  readonly lossScale: 'none' | 'dynamic' | number;
  /** The dynamic loss scaler's rule (PyTorch GradScaler's defaults when absent: 2000, 2, 0.5). */
  readonly scaler?: ScalerConfig;
  /** Gradient accumulation steps (1 unless set). */
  readonly accumulate: number;
  /** Global-norm clipping threshold. */
  readonly clip?: number;
  readonly batch?: number;
  readonly steps?: number;
  /** Gradual pruning of the block `@sparse` params (`prune = gradual(...)`, `--prune-gradual`); absent: none. */
  readonly prune?: GradualPruning;
}

/**
 * Gradual magnitude pruning (Zhu and Gupta): after optimizer update t, for start < t ≤ end
 * every `every` updates (and at `end`), a block hint's mask keeps gradualDensity(p, (t −
 * start) / (end − start)) of its blocks (src/ir/sparsity.ts, pruneFraction).
 */
export interface GradualPruning {
  /** The update where pruning starts (density 1 there). */
  readonly start: number;
  /** The update where the hints' densities are reached (> start). */
  readonly end: number;
  /** Updates between two mask updates (≥ 1); the last one is at `end` whatever the remainder. */
  readonly every: number;
}

/**
 * A `require` over sizes known only at run time, as one of its checks: `value` ≥ 0 must hold
 * once the dims are bound; `what` is the error (`file:line:col: requirement failed: ...`).
 */
export interface DimRequire {
  readonly value: Dim;
  readonly what: string;
}

/**
 * A block instance of the model, by path ('' is the model): its block type's name, its
 * function members, and for a `repeat`/`stack` member (at the path enclosing its instances,
 * `blocks`) how many instances it has. For pictures and tables (`fmc inspect`).
 */
export interface BlockInfo {
  readonly type: string;
  readonly fns: readonly string[];
  readonly count?: number;
  readonly mode?: 'repeat' | 'stack';
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
  /** The run-time checks of `require`s over dims the inputs bind (absent: none). */
  readonly requires?: readonly DimRequire[];
  /** The model's block instances by path (absent when the module was not lowered from source). */
  readonly blocks?: ReadonlyMap<string, BlockInfo>;
  /** Where the graph's nodes come from in the source (absent when not lowered from source). */
  readonly spans?: SpanTable;
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

/**
 * The hint of `kind` for param `p`: its own, else the innermost enclosing block's, where a
 * block's `quantize` and `sparse` skip buffers and params of rank < 2 (and `quantize`
 * non-float ones).
 */
export function paramHint<K extends keyof Hint>(hints: Hints, p: ParamDecl, kind: K): Hint[K] | undefined {
  const own = hints.params.get(p.path)?.[kind];
  if (own !== undefined) return own;
  if (kind === 'quantize' || kind === 'sparse') {
    const fits = p.role === 'param' && p.shape.length >= 2 && (kind !== 'quantize' || isFloat(p.dtype));
    if (!fits) return undefined;
  }
  return hintAt(hints, p.path.split('.').slice(0, -1).join('.'), kind);
}

/**
 * `m` with its model-level precision set to `p` (`--precision`): the model's own `@precision`
 * and the train section's `precision`. Blocks inside keep their own `@precision`.
 */
export function withPrecision(m: Module, p: Dtype): Module {
  const blocks = new Map(m.hints.blocks);
  blocks.set('', { ...blocks.get(''), precision: p });
  return { ...m, hints: { ...m.hints, blocks }, ...(m.train ? { train: { ...m.train, precision: p } } : {}) };
}
