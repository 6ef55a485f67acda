// The host side of a train step's run-time scalars: the learning rate the schedule gives at
// each optimizer step, Adam's bias corrections, and overrides of the `train` section (from
// the CLI or the API). The values go into the compiled step as inputs; nothing here is
// baked into generated code. docs/training.md states each formula.

import {
  type GradualPruning,
  MAX_ACCUMULATE,
  MAX_LOSS_SCALE,
  type Optimizer,
  type Schedule,
  type ScalerConfig,
  type TrainConfig,
} from '../ir/module.js';
import { pruneProblem, pruneText } from '../ir/sparsity.js';
import { DEFAULT_SCALER } from '../passes/train/scale.js';

/**
 * The learning rate of optimizer step `t` (0 for the first), for a base rate `lr`:
 * - constant: lr;
 * - linear: warmup from lr/warmup to lr over steps 0..warmup-1, then down to 0 at `steps`;
 * - cosine: the same warmup, then min_lr + (lr - min_lr)·(1 + cos(π·p))/2 with
 *   p = (t - warmup) / (steps - warmup), held at min_lr past `steps`;
 * - step: lr·gamma^floor(t / every).
 */
export function learningRate(lr: number, s: Schedule, t: number): number {
  switch (s.kind) {
    case 'constant':
      return lr;
    case 'step':
      return lr * s.gamma ** Math.floor(t / s.every);
    case 'linear':
    case 'cosine': {
      if (t < s.warmup) return (lr * (t + 1)) / s.warmup;
      const p = Math.min(1, (t - s.warmup) / Math.max(1, s.steps - s.warmup));
      if (s.kind === 'linear') return lr * (1 - p);
      return s.minLr + ((lr - s.minLr) * (1 + Math.cos(Math.PI * p))) / 2;
    }
  }
}

/** Adam's bias corrections at optimizer step `t` (0-based): [1 - β1^(t+1), 1 - β2^(t+1)]. */
export function biasCorrections(opt: Optimizer, t: number): [number, number] {
  if (opt.kind === 'sgd') return [1, 1];
  return [1 - opt.betas[0] ** (t + 1), 1 - opt.betas[1] ** (t + 1)];
}

/** Entries of the `train` section that can be overridden (the CLI's `--lr`, `--clip`, ...). */
export interface TrainOverrides {
  readonly optimizer?: Optimizer['kind'];
  readonly lr?: number;
  readonly momentum?: number;
  readonly nesterov?: boolean;
  readonly betas?: readonly [number, number];
  readonly eps?: number;
  readonly weightDecay?: number;
  readonly schedule?: Schedule['kind'];
  readonly warmup?: number;
  readonly minLr?: number;
  /** The schedule's length (`linear`, `cosine`); defaults to `steps`. */
  readonly scheduleSteps?: number;
  readonly every?: number;
  readonly gamma?: number;
  /** Global-norm clipping threshold; 0 turns clipping off. */
  readonly clip?: number;
  readonly accumulate?: number;
  readonly batch?: number;
  readonly steps?: number;
  /** `none`, `dynamic` or a static scale (a positive number). */
  readonly lossScale?: TrainConfig['lossScale'];
  /** The dynamic scaler's growth interval (clean steps in a row before the scale grows). */
  readonly scaleInterval?: number;
  /** The dynamic scaler's growth factor (> 1). */
  readonly scaleGrowth?: number;
  /** The dynamic scaler's backoff factor (in (0, 1)). */
  readonly scaleBackoff?: number;
  /** Gradual pruning of the block `@sparse` params (`--prune-gradual START:END:EVERY`). */
  readonly prune?: GradualPruning;
}

/** A config override that makes no sense (a negative rate, an unknown optimizer). */
export class TrainConfigError extends Error {
  override name = 'TrainConfigError';
}

/** `cfg` with `o` applied; changing the optimizer's kind keeps the rate and takes the new kind's defaults. */
export function overrideTrain(cfg: TrainConfig, o: TrainOverrides): TrainConfig {
  const check = (name: string, v: number | undefined, ok: (v: number) => boolean, what: string): void => {
    if (v !== undefined && !(Number.isFinite(v) && ok(v)))
      throw new TrainConfigError(`${name} must be ${what}, got ${v}`);
  };
  check('lr', o.lr, (v) => v >= 0, 'a non-negative number');
  check('momentum', o.momentum, (v) => v >= 0 && v < 1, 'in [0, 1)');
  check('eps', o.eps, (v) => v > 0, 'positive');
  check('weight decay', o.weightDecay, (v) => v >= 0, 'non-negative');
  check('warmup', o.warmup, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
  check('min lr', o.minLr, (v) => v >= 0, 'non-negative');
  check('schedule steps', o.scheduleSteps, (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  check('every', o.every, (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  check('gamma', o.gamma, (v) => v > 0, 'positive');
  check('clip', o.clip, (v) => v >= 0, 'non-negative');
  check(
    'accumulate',
    o.accumulate,
    (v) => Number.isInteger(v) && v >= 1 && v <= MAX_ACCUMULATE,
    `an integer from 1 to ${MAX_ACCUMULATE}`,
  );
  check('batch', o.batch, (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  check('steps', o.steps, (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  for (const b of o.betas ?? []) check('betas', b, (v) => v >= 0 && v < 1, 'in [0, 1)');
  if (typeof o.lossScale === 'number')
    check('loss scale', o.lossScale, (v) => v > 0 && v <= MAX_LOSS_SCALE, `positive and at most ${MAX_LOSS_SCALE}`);
  else if (o.lossScale !== undefined && o.lossScale !== 'none' && o.lossScale !== 'dynamic')
    throw new TrainConfigError(`loss scale must be none, dynamic or a positive number, got ${String(o.lossScale)}`);
  check('scale interval', o.scaleInterval, (v) => Number.isInteger(v) && v >= 1 && v < 2 ** 31, 'a positive integer');
  check('scale growth', o.scaleGrowth, (v) => v > 1, 'above 1');
  check('scale backoff', o.scaleBackoff, (v) => v > 0 && v < 1, 'in (0, 1)');
  const pruneBad = o.prune && pruneProblem(o.prune);
  if (pruneBad) throw new TrainConfigError(`gradual pruning ${pruneText(o.prune!)}: ${pruneBad}`);

  const old = cfg.optimizer;
  const kind = o.optimizer ?? old.kind;
  const lr = o.lr ?? old.lr;
  let optimizer: Optimizer;
  if (kind === 'sgd') {
    const base = old.kind === 'sgd' ? old : { momentum: 0, nesterov: false, weightDecay: 0 };
    optimizer = {
      kind,
      lr,
      momentum: o.momentum ?? base.momentum,
      nesterov: o.nesterov ?? base.nesterov,
      weightDecay: o.weightDecay ?? base.weightDecay,
    };
    if (optimizer.nesterov && optimizer.momentum === 0)
      throw new TrainConfigError('nesterov needs a momentum above 0 (as in PyTorch)');
  } else {
    const base =
      old.kind !== 'sgd' && old.kind === kind
        ? old
        : { betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: kind === 'adamw' ? 0.01 : 0 };
    optimizer = {
      kind,
      lr,
      betas: o.betas ?? base.betas,
      eps: o.eps ?? base.eps,
      weightDecay: o.weightDecay ?? base.weightDecay,
    };
  }
  const steps = o.steps ?? cfg.steps;
  const sKind = o.schedule ?? cfg.schedule.kind;
  const prev = cfg.schedule;
  const length = o.scheduleSteps ?? ('steps' in prev && sKind === prev.kind ? prev.steps : steps);
  let schedule: Schedule;
  if (sKind === 'constant') schedule = { kind: sKind };
  else if (sKind === 'step')
    schedule = {
      kind: sKind,
      every: o.every ?? (prev.kind === 'step' ? prev.every : 1000),
      gamma: o.gamma ?? (prev.kind === 'step' ? prev.gamma : 0.1),
    };
  else {
    if (length === undefined)
      throw new TrainConfigError(`a ${sKind} schedule needs its length: give steps (--steps) or --schedule-steps`);
    const warmup = o.warmup ?? ('warmup' in prev ? prev.warmup : 0);
    schedule =
      sKind === 'linear'
        ? { kind: sKind, warmup, steps: length }
        : { kind: sKind, warmup, steps: length, minLr: o.minLr ?? (prev.kind === 'cosine' ? prev.minLr : 0) };
  }
  const clip = o.clip === undefined ? cfg.clip : o.clip === 0 ? undefined : o.clip;
  const batch = o.batch ?? cfg.batch;
  const scaler = scalerOf(cfg.scaler, o);
  const prune = o.prune ?? cfg.prune;
  return {
    optimizer,
    schedule,
    loss: cfg.loss,
    precision: cfg.precision,
    lossScale: o.lossScale ?? cfg.lossScale,
    ...(scaler === undefined ? {} : { scaler }),
    accumulate: o.accumulate ?? cfg.accumulate,
    ...(clip === undefined ? {} : { clip }),
    ...(batch === undefined ? {} : { batch }),
    ...(steps === undefined ? {} : { steps }),
    ...(prune === undefined ? {} : { prune: { start: prune.start, end: prune.end, every: prune.every } }),
  };
}

/** The scaler's rule with the overrides applied (absent while nothing sets it: GradScaler's defaults). */
function scalerOf(old: ScalerConfig | undefined, o: TrainOverrides): ScalerConfig | undefined {
  if (!old && o.scaleInterval === undefined && o.scaleGrowth === undefined && o.scaleBackoff === undefined) return old;
  const base = old ?? DEFAULT_SCALER;
  return {
    growthInterval: o.scaleInterval ?? base.growthInterval,
    growthFactor: o.scaleGrowth ?? base.growthFactor,
    backoffFactor: o.scaleBackoff ?? base.backoffFactor,
  };
}

/** The default config of a model with no `train` section: AdamW at 1e-3, constant rate. */
export function defaultTrainConfig(): TrainConfig {
  return {
    optimizer: { kind: 'adamw', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 },
    schedule: { kind: 'constant' },
    loss: 'loss',
    precision: 'f32',
    lossScale: 'none',
    accumulate: 1,
  };
}
