// The train-step pass: turns the gradient graph of a loss (autodiff's output: the loss and
// `grad.<path>` per param) into one step of training, so that forward, loss, backward and the
// optimizer update are one graph, compiled once. Params and optimizer state are persistent
// buffers the graph updates (`updates`); whatever changes per step is a run-time input, never
// a constant: the step counter (which keys every `random`, so dropout masks differ per step
// and are reproducible), the learning rate, Adam's bias corrections and the loss scale.
//
// Two modes share the rules. `train` is a whole step: average the gradients (with the
// accumulated ones when `accumulate > 1`), clip them to the global norm, update every param
// and its state, and zero the accumulators. `accumulate` only adds the gradients into the
// accumulators (`accumulate - 1` of these precede each `train` step). With `loss_scale` set
// (scale.ts) the gradients arrive scaled and are divided by the scale first; with `dynamic`
// an update whose gradients are not all finite is skipped, in the graph.
//
// The graph it makes (docs/training.md):
//   inputs   the loss function's, then `train.step` (i64[]: steps run so far, micro-steps
//            included) and, in `train` mode, `train.lr` (f32[]) and for Adam and AdamW
//            `train.step_size` (lr / (1 - β1^t)) and `train.bias2_sqrt` (sqrt(1 - β2^t));
//            with a static `loss_scale`, `train.loss_scale` (f32[]) before `train.step`;
//   outputs  the loss (unscaled); in `train` mode also `grad_norm`, the global norm of the
//            averaged gradients before clipping, and with `loss_scale = dynamic` `skipped`
//            (bool[]) and `loss_scale` (the scale after this step);
//   updates  each param, each state tensor `opt:<state>:<path>`, each accumulator
//            `opt:grad_acc:<path>`, the dynamic scaler's `opt:loss_scale` and
//            `opt:growth_tracker`, and the model's own buffer updates (`set`).

import type { Builder } from '../../ir/build.js';
import type { Graph, Node, NodeOf } from '../../ir/graph.js';
import type { TrainConfig } from '../../ir/module.js';
import { rewrite } from '../../ir/rewrite.js';
import { gradName } from '../autodiff/index.js';
import { type Pass, PassError } from '../pass.js';
import { type StepScalars, needsBiasCorrection, stateNames, update } from './optimizers.js';
import { dynamicScaler, scaledLoss } from './scale.js';

/** The path of a param's optimizer state tensor `name` (no model path has a colon). */
export const statePath = (name: string, path: string): string => `opt:${name}:${path}`;

/** The names of the train step's run-time scalar inputs. */
export const STEP_INPUTS = {
  step: 'train.step',
  lr: 'train.lr',
  stepSize: 'train.step_size',
  bias2Sqrt: 'train.bias2_sqrt',
} as const;

/** The output holding the global gradient norm (before clipping) of a `train` step. */
export const GRAD_NORM = 'grad_norm';

/** PyTorch's clip_grad_norm_ guard against a zero norm. */
const CLIP_EPS = 1e-6;

/** One step of training (or of gradient accumulation) from a gradient graph. */
export function trainStepGraph(g: Graph, cfg: TrainConfig, mode: 'train' | 'accumulate'): Graph {
  const scaled = scaledLoss(g.outputs[0]!.node, cfg);
  const loss = { name: g.outputs[0]!.name, node: scaled.loss };
  const grads = new Map(g.outputs.slice(1).map((o) => [o.name, o.node]));
  const { graph, map, builder: b, step: stepInput } = keyRandomByStep(g);
  let next = graph.inputs.length + 1;
  const scalar = (name: string, dtype: 'f32' | 'i64' = 'f32'): NodeOf<'input'> =>
    b.node('input', { name, index: next++, dtype, shape: [] }, []);
  const inputs = [...graph.inputs, stepInput];

  const params: NodeOf<'param'>[] = [];
  for (const n of map.keys()) if (n.op === 'param' && grads.has(gradName(n.args.path))) params.push(n);
  const updates = [...graph.updates];
  const accumulating = cfg.accumulate > 1;
  const acc = (p: NodeOf<'param'>): Node =>
    b.within(p.args.path, 'grad_acc', () =>
      b.param(statePath('grad_acc', p.args.path), p.type.dtype, p.type.shape, 'buffer', { fn: 'zeros', args: {} }),
    );
  // The unscaled gradient (PyTorch multiplies by the reciprocal of the scale too).
  const inv = scaled.scale && b.within('', 'loss_scale', () => b.recip(map.get(scaled.scale!)!));
  const gradOf = (p: NodeOf<'param'>): Node => {
    const g0 = map.get(grads.get(gradName(p.args.path))!)!;
    return inv ? b.within(p.args.path, 'grad', () => b.mul(g0, b.cast(inv, g0.type.dtype))) : g0;
  };

  if (mode === 'accumulate') {
    if (!accumulating) throw new PassError('an accumulate step needs `accumulate` > 1 in the train section');
    for (const p of params)
      updates.push({
        path: statePath('grad_acc', p.args.path),
        node: b.within(p.args.path, 'grad_acc', () => b.add(acc(p), gradOf(p))),
      });
    return b.graph(g.name, [{ name: loss.name, node: map.get(loss.node)! }], updates, inputs);
  }

  const lr = scalar(STEP_INPUTS.lr);
  inputs.push(lr);
  const s: { lr: Node; stepSize?: Node; bias2Sqrt?: Node } = { lr };
  if (needsBiasCorrection(cfg.optimizer)) {
    s.stepSize = scalar(STEP_INPUTS.stepSize);
    s.bias2Sqrt = scalar(STEP_INPUTS.bias2Sqrt);
    inputs.push(s.stepSize as NodeOf<'input'>, s.bias2Sqrt as NodeOf<'input'>);
  }
  // The step's gradient: the mean over the micro-batches when accumulating.
  const avg = new Map<NodeOf<'param'>, Node>();
  for (const p of params)
    avg.set(
      p,
      b.within(p.args.path, 'grad_acc', () =>
        accumulating ? b.div(b.add(acc(p), gradOf(p)), cfg.accumulate) : gradOf(p),
      ),
    );
  const scaler =
    cfg.lossScale === 'dynamic' ? dynamicScaler(b, map.get(scaled.scale!)!, [...avg.values()], cfg) : undefined;
  // A skipped step (dynamic scaling, a gradient not finite) keeps the old value.
  const keep = (next: Node, old: Node): Node => (scaler ? b.where(scaler.finite, next, old) : next);
  const norm = b.within('', 'clip', () => globalNorm(b, [...avg.values()]));
  const coef =
    cfg.clip === undefined
      ? undefined
      : b.within('', 'clip', () => b.min(b.div(b.scalar(cfg.clip!, norm), b.add(norm, CLIP_EPS)), 1));
  for (const p of params) {
    const path = p.args.path;
    b.within(path, 'optimizer', () => {
      const dt = p.type.dtype;
      const grad = coef ? b.mul(avg.get(p)!, b.cast(coef, dt)) : avg.get(p)!;
      const sc: StepScalars = {
        lr: b.cast(s.lr, dt),
        stepSize: s.stepSize && b.cast(s.stepSize, dt),
        bias2Sqrt: s.bias2Sqrt && b.cast(s.bias2Sqrt, dt),
      };
      const state = new Map(
        stateNames(cfg.optimizer).map((k) => [
          k,
          b.param(statePath(k, path), dt, p.type.shape, 'buffer', { fn: 'zeros', args: {} }),
        ]),
      );
      const out = update(b, cfg.optimizer, sc, { param: map.get(p)!, grad, state, decay: p.type.shape.length >= 2 });
      updates.push({ path, node: keep(out.param, map.get(p)!) });
      for (const [k, v] of out.state) updates.push({ path: statePath(k, path), node: keep(v, state.get(k)!) });
      if (accumulating) updates.push({ path: statePath('grad_acc', path), node: b.zerosLike(p) });
    });
  }
  const outputs = [
    { name: loss.name, node: map.get(loss.node)! },
    { name: GRAD_NORM, node: norm },
    ...(scaler?.outputs ?? []),
  ];
  updates.push(...(scaler?.updates ?? []));
  return b.graph(g.name, outputs, updates, inputs);
}

/** sqrt(Σ_p Σ g_p²) in f32. */
function globalNorm(b: Builder, grads: readonly Node[]): Node {
  if (grads.length === 0) return b.full(0, 'f32');
  const sq = grads.map((g) => {
    const x = b.cast(g, 'f32');
    return b.sum(
      b.mul(x, x),
      x.type.shape.map((_, i) => i),
    );
  });
  return b.sqrt(pairwiseSum(b, sq));
}

/** Σ xs as a balanced tree of adds. */
function pairwiseSum(b: Builder, xs: readonly Node[]): Node {
  if (xs.length === 1) return xs[0]!;
  const half = Math.ceil(xs.length / 2);
  return b.add(pairwiseSum(b, xs.slice(0, half)), pairwiseSum(b, xs.slice(half)));
}

/** A copy of `g` whose `random` nodes read the step input (indexed after g's inputs). */
function keyRandomByStep(g: Graph): {
  graph: Graph;
  map: ReadonlyMap<Node, Node>;
  builder: Builder;
  step: NodeOf<'input'>;
} {
  let step: NodeOf<'input'> | undefined;
  const r = rewrite(g, {
    random: (n, ins, b) => (ins.length > 0 ? undefined : b.random(n.args.seed, n.args.key, n.args.shape, stepOf(b))),
  });
  function stepOf(b: Builder): NodeOf<'input'> {
    const made =
      step ??
      b.within('', '', () =>
        b.node('input', { name: STEP_INPUTS.step, index: g.inputs.length, dtype: 'i64', shape: [] }, []),
      );
    step = made;
    return made;
  }
  return { graph: r.graph, map: r.map, builder: r.builder, step: stepOf(r.builder) };
}

/** The train-step pass: in `train` and `accumulate` mode, the gradient graph becomes one step. */
export const trainStep: Pass = {
  name: 'train-step',
  run: (g, ctx) => {
    if (ctx.mode !== 'train' && ctx.mode !== 'accumulate') return g;
    if (!ctx.train) throw new PassError(`\`${g.name}\`: a train step needs the model's \`train\` section`);
    return trainStepGraph(g, ctx.train, ctx.mode);
  },
};
