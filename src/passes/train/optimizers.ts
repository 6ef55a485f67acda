// The optimizers' update rules as graph ops, one function a kind, with PyTorch's semantics
// (torch.optim.SGD, Adam, AdamW in their single-tensor form) so that a model trained here and
// there from the same weights on the same batches follows the same loss curve. Each rule
// sees one param, its (averaged, clipped) gradient, its state tensors and the step's
// run-time scalars, and returns the param's new value and its new state.
//
// Weight decay skips params of rank < 2 (biases, norm gains and shifts), as is usual
// (nanoGPT, timm's `param_groups_weight_decay`); docs/training.md says so.

import type { Builder } from '../../ir/build.js';
import type { Node } from '../../ir/graph.js';
import type { Optimizer } from '../../ir/module.js';

/** The run-time scalars of one step (graph inputs of shape []). */
export interface StepScalars {
  /** The learning rate of this step (the schedule's value). */
  readonly lr: Node;
  /** Adam and AdamW: lr / (1 - β1^t). */
  readonly stepSize?: Node;
  /** Adam and AdamW: sqrt(1 - β2^t). */
  readonly bias2Sqrt?: Node;
}

/** The state tensors an optimizer keeps per param, by name (each starts at zero). */
export function stateNames(opt: Optimizer): readonly string[] {
  if (opt.kind === 'sgd') return opt.momentum !== 0 ? ['momentum'] : [];
  return ['exp_avg', 'exp_avg_sq'];
}

/** The run-time scalar inputs an optimizer needs besides the learning rate. */
export const needsBiasCorrection = (opt: Optimizer): boolean => opt.kind !== 'sgd';

export interface UpdateIn {
  readonly param: Node;
  readonly grad: Node;
  /** Its state tensors by name (`stateNames`). */
  readonly state: ReadonlyMap<string, Node>;
  /** Whether weight decay applies to this param. */
  readonly decay: boolean;
}

export interface UpdateOut {
  readonly param: Node;
  readonly state: ReadonlyMap<string, Node>;
}

/** One optimizer step for one param. */
export function update(b: Builder, opt: Optimizer, s: StepScalars, u: UpdateIn): UpdateOut {
  const wd = u.decay ? opt.weightDecay : 0;
  if (opt.kind === 'sgd') {
    // d = g + wd·p; buf = μ·buf + d (PyTorch's first step sets buf = d: the same from zeros);
    // d = nesterov ? d + μ·buf : buf; p -= lr·d.
    let d = wd !== 0 ? b.add(u.grad, b.mul(u.param, wd)) : u.grad;
    const state = new Map<string, Node>();
    if (opt.momentum !== 0) {
      const buf = b.add(b.mul(u.state.get('momentum')!, opt.momentum), d);
      state.set('momentum', buf);
      d = opt.nesterov ? b.add(d, b.mul(buf, opt.momentum)) : buf;
    }
    return { param: b.sub(u.param, b.mul(d, s.lr)), state };
  }
  // Adam: g += wd·p (L2); AdamW: p *= 1 - lr·wd (decoupled). Then
  // m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; p -= stepSize · m / (sqrt(v) / sqrt(1-β2^t) + eps).
  const [b1, b2] = opt.betas;
  const decoupled = opt.kind === 'adamw' && wd !== 0;
  const g = opt.kind === 'adam' && wd !== 0 ? b.add(u.grad, b.mul(u.param, wd)) : u.grad;
  const p = decoupled ? b.mul(u.param, b.sub(b.scalar(1, s.lr), b.mul(s.lr, wd))) : u.param;
  const m = b.add(b.mul(u.state.get('exp_avg')!, b1), b.mul(g, 1 - b1));
  // (g·(1-β2))·g, not (g·g)·(1-β2): g·g is also the global norm's summand, and a node shared
  // with that reduction would get a buffer of its own instead of fusing into this update.
  const v = b.add(b.mul(u.state.get('exp_avg_sq')!, b2), b.mul(b.mul(g, 1 - b2), g));
  const denom = b.add(b.div(b.sqrt(v), s.bias2Sqrt!), opt.eps);
  const next = b.sub(p, b.mul(b.div(m, denom), s.stepSize!));
  return {
    param: next,
    state: new Map([
      ['exp_avg', m],
      ['exp_avg_sq', v],
    ]),
  };
}
