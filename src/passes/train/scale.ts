// Loss scaling (the train section's `loss_scale`), in two places of the train pipeline.
//
// Before autodiff, the `loss-scale` pass makes the function's result `loss · scale`, so that
// the backward is seeded with the scale and every gradient comes out scaled (what keeps small
// gradients above the underflow of a narrow float type). The scale is a run-time value, never
// a constant: the input `train.loss_scale` (f32[]) for a static scale, the persistent buffer
// `opt:loss_scale` for `dynamic`. The train-step pass then finds the unscaled loss and the
// scale again (`scaledLoss`), divides the gradients by the scale before averaging, clipping
// and the optimizer, and, for `dynamic`, runs the scaler (`dynamicScaler`).
//
// The dynamic scaler is PyTorch's GradScaler, inside the step graph: state `opt:loss_scale`
// (f32, starts at 2^16) and `opt:growth_tracker` (i32, clean steps in a row, starts at 0).
// found_inf = some unscaled gradient is Inf or NaN: Σ |g|·2^-64 is finite exactly when every
// g is (no finite sum of f32s overflows after that factor; g·0 would do on C, but a shader
// compiler assuming no NaN folds it to 0), tested by an ordered compare with the largest f32.
// With found_inf the step is skipped (each param and state tensor keeps its value), the
// scale is multiplied by the backoff factor and the tracker reset; otherwise the update
// applies, and the tracker counts up until it reaches the growth interval, when the scale is
// multiplied by the growth factor (unless that overflows to Inf) and the tracker restarts.

import type { Builder } from '../../ir/build.js';
import { copyGraph } from '../../ir/rewrite.js';
import type { Graph, Node, NodeOf } from '../../ir/graph.js';
import type { ScalerConfig, TrainConfig } from '../../ir/module.js';
import { type Pass, PassError } from '../pass.js';

/** The run-time input holding a static loss scale. */
export const LOSS_SCALE_INPUT = 'train.loss_scale';

/** The dynamic scaler's persistent state (no model path has a colon). */
export const SCALER_STATE = { scale: 'opt:loss_scale', tracker: 'opt:growth_tracker' } as const;

/** The outputs of a dynamically scaled step: whether it was skipped (bool[]) and the scale after it (f32[]). */
export const SCALER_OUTPUTS = { skipped: 'skipped', scale: 'loss_scale' } as const;

/** The scale `dynamic` starts at (PyTorch's init_scale). */
export const INITIAL_SCALE = 2 ** 16;

/** The largest finite f32. */
const F32_MAX = 3.4028234663852886e38;

/** PyTorch GradScaler's defaults. */
export const DEFAULT_SCALER: ScalerConfig = { growthInterval: 2000, growthFactor: 2, backoffFactor: 0.5 };

/** `loss · scale` as the result, the scale read from its run-time input or buffer. */
export function scaleLoss(g: Graph, cfg: TrainConfig): Graph {
  if (cfg.lossScale === 'none') return g;
  if (g.outputs.length !== 1) throw new PassError(`\`${g.name}\`: loss scaling needs one result (the loss)`);
  const { graph, builder: b, map } = copyGraph(g);
  const loss = map.get(g.outputs[0]!.node)!;
  const inputs = [...graph.inputs];
  const scale = b.within('', 'loss_scale', () => {
    if (cfg.lossScale !== 'dynamic') {
      const s = b.node('input', { name: LOSS_SCALE_INPUT, index: inputs.length, dtype: 'f32', shape: [] }, []);
      inputs.push(s);
      return s;
    }
    return b.param(SCALER_STATE.scale, 'f32', [], 'buffer', { fn: 'constant', args: { value: INITIAL_SCALE } });
  });
  const scaled = b.within('', 'loss_scale', () => b.mul(loss, b.cast(scale, loss.type.dtype)));
  return b.graph(g.name, [{ name: g.outputs[0]!.name, node: scaled }], graph.updates, inputs);
}

/** The unscaled loss and the scale of a gradient graph whose result `scaleLoss` scaled. */
export function scaledLoss(loss: Node, cfg: TrainConfig): { loss: Node; scale?: Node } {
  if (cfg.lossScale === 'none') return { loss };
  const [l, s] = loss.inputs;
  const scale = s?.op === 'cast' ? s.inputs[0] : s;
  const isScale =
    (scale?.op === 'input' && scale.args.name === LOSS_SCALE_INPUT) ||
    (scale?.op === 'param' && scale.args.path === SCALER_STATE.scale);
  if (loss.op !== 'binary' || loss.args.fn !== 'mul' || !l || !isScale)
    throw new PassError('a loss-scaled train step needs the loss-scale pass before autodiff');
  return { loss: l, scale };
}

/** What the dynamic scaler adds to the step: the finite test, the new state and the outputs. */
export interface Scaler {
  /** bool[]: every gradient is finite (the update applies). */
  readonly finite: Node;
  /** The new `opt:loss_scale` and `opt:growth_tracker`. */
  readonly updates: readonly { path: string; node: Node }[];
  readonly outputs: readonly { name: string; node: Node }[];
}

/** GradScaler's found_inf test and update rule on scale `scale` for the unscaled gradients `grads`. */
export function dynamicScaler(b: Builder, scale: Node, grads: readonly Node[], cfg: TrainConfig): Scaler {
  const { growthInterval, growthFactor, backoffFactor } = cfg.scaler ?? DEFAULT_SCALER;
  return b.within('', 'loss_scale', () => {
    const isFinite = (x: Node): Node => b.le(b.unary('abs', x), F32_MAX);
    const terms = grads.map((g) => {
      const x = b.cast(g, 'f32');
      return b.sum(
        b.mul(b.unary('abs', x), 2 ** -64),
        x.type.shape.map((_, i) => i),
      );
    });
    const finite = isFinite(terms.length === 0 ? b.full(0, 'f32') : terms.reduce((a, t) => b.add(a, t)));
    const tracker: NodeOf<'param'> = b.param(SCALER_STATE.tracker, 'i32', [], 'buffer', { fn: 'zeros', args: {} });
    const next = b.add(tracker, 1);
    const grow = b.and(finite, b.ge(next, growthInterval));
    const grown = b.mul(scale, growthFactor);
    const grownFinite = isFinite(grown);
    const newScale = b.where(finite, b.where(b.and(grow, grownFinite), grown, scale), b.mul(scale, backoffFactor));
    const newTracker = b.where(b.and(finite, b.not(grow)), next, 0);
    return {
      finite,
      updates: [
        { path: SCALER_STATE.scale, node: newScale },
        { path: SCALER_STATE.tracker, node: newTracker },
      ],
      outputs: [
        { name: SCALER_OUTPUTS.skipped, node: b.not(finite) },
        { name: SCALER_OUTPUTS.scale, node: newScale },
      ],
    };
  });
}

/** The loss-scale pass: in `train` and `accumulate` mode with `loss_scale` set, the result becomes loss · scale. */
export const lossScale: Pass = {
  name: 'loss-scale',
  run: (g, ctx) => {
    if ((ctx.mode !== 'train' && ctx.mode !== 'accumulate') || !ctx.train) return g;
    return scaleLoss(g, ctx.train);
  },
};
