// The one shape of a pass and what it is given. A pass maps a graph to a graph; whatever
// else it needs (the target, the mode, the model's hints, options) comes in the context,
// never from environment variables. Passes live one a file under src/passes/, and
// pipeline.ts is the only list of which run, in which order, per target and mode.

import type { Graph } from '../ir/graph.js';
import type { BlockInfo, Hints, TrainConfig } from '../ir/module.js';
import type { QuantSpec } from '../ir/quantize.js';
import type { Calibration } from './calibration.js';

/** Where the graph will run: the float64 reference interpreter or a compiled target. */
export type Target = 'reference' | 'c';

/**
 * What the graph is compiled for: `inference` (the function as written), `grad` (its
 * value and the gradient of its scalar result with respect to the params), `train` (one
 * optimizer step on a loss: src/passes/train/) and `accumulate` (a step that only adds the
 * gradients into the accumulators, when the train section has `accumulate > 1`).
 */
export type Mode = 'inference' | 'grad' | 'train' | 'accumulate';

export const TARGETS: readonly Target[] = ['reference', 'c'];
export const MODES: readonly Mode[] = ['inference', 'grad', 'train', 'accumulate'];

/**
 * A `--quantize PATH=SPEC` rule: params under block path PATH (`all`: every one; matched as
 * in src/passes/quantize.ts) are quantized to SPEC (`none`: kept in f32), over their
 * `@quantize` hints; a later rule wins over an earlier one.
 */
export interface QuantRule {
  readonly path: string;
  readonly spec: QuantSpec | 'none';
}

export interface PassOptions {
  /** `grad`: the param paths to differentiate with respect to (default: every float param). */
  readonly wrt?: readonly string[];
  /** The C target's fusion pass: GEMM epilogues and row kernels (default true; false: one kernel per buffered node). */
  readonly fusion?: boolean;
  /** The quantize pass's `--quantize` rules, over the model's `@quantize` hints. */
  readonly quantize?: readonly QuantRule[];
  /** Quantization-aware training: the grad, train and accumulate modes read fake-quantized weights (src/passes/qat.ts). */
  readonly qat?: boolean;
  /** int8 activations: the quantize pass's weight-quantized contractions compute int8 × int8 (src/passes/quantize-act.ts). */
  readonly calibration?: Calibration;
  /**
   * Inference on C: a block-sparse weight is read from its block table alone (src/ir/sparse-format.ts),
   * so no dense copy of it is bound (src/passes/sparsity.ts). Off where its weights change (training).
   */
  readonly sparseTables?: boolean;
}

export interface PassContext {
  readonly target: Target;
  readonly mode: Mode;
  readonly hints: Hints;
  /** The model's `train` section (`train` and `accumulate` modes need it). */
  readonly train?: TrainConfig;
  /** The model's block instances by path, when it was lowered from source (the precision pass finds norms by type). */
  readonly blocks?: ReadonlyMap<string, BlockInfo>;
  readonly options: PassOptions;
}

export interface Pass {
  /** The name `--dump-after` takes (`autodiff`). */
  readonly name: string;
  run(graph: Graph, ctx: PassContext): Graph;
}

/** A user-facing problem a pass found (asking for the gradient of an integer, say). */
export class PassError extends Error {
  override name = 'PassError';
}
