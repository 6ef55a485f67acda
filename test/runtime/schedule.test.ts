// The host side of a train step's run-time scalars: the schedules' learning rates at the
// points that define them, Adam's bias corrections, and overrides of the train section
// (kinds switched with their defaults, bad values refused with the entry named).

import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../src/ir/module.js';
import {
  TrainConfigError,
  biasCorrections,
  defaultTrainConfig,
  learningRate,
  overrideTrain,
} from '../../src/runtime/schedule.js';

describe('learning-rate schedules', () => {
  it('constant and step', () => {
    expect(learningRate(0.1, { kind: 'constant' }, 12345)).toBe(0.1);
    const s = { kind: 'step', every: 3, gamma: 0.5 } as const;
    expect([0, 2, 3, 5, 6, 9].map((t) => learningRate(1, s, t))).toEqual([1, 1, 0.5, 0.5, 0.25, 0.125]);
  });

  it('linear: warmup to the base rate, then down to 0 at `steps`', () => {
    const s = { kind: 'linear', warmup: 4, steps: 14 } as const;
    expect([0, 1, 3].map((t) => learningRate(2, s, t))).toEqual([0.5, 1, 2]);
    expect(learningRate(2, s, 4)).toBe(2);
    expect(learningRate(2, s, 9)).toBeCloseTo(1, 12);
    expect(learningRate(2, s, 14)).toBe(0);
    expect(learningRate(2, s, 100)).toBe(0);
  });

  it('cosine: warmup, then half a cosine from the base rate to min_lr, held after `steps`', () => {
    const s = { kind: 'cosine', warmup: 2, steps: 12, minLr: 0.1 } as const;
    expect(learningRate(1, s, 0)).toBe(0.5);
    expect(learningRate(1, s, 2)).toBe(1);
    expect(learningRate(1, s, 7)).toBeCloseTo(0.55, 12); // half-way: the mean of 1 and 0.1
    expect(learningRate(1, s, 12)).toBeCloseTo(0.1, 12);
    expect(learningRate(1, s, 50)).toBeCloseTo(0.1, 12);
  });

  it("Adam's bias corrections: 1 - β^(t+1); none for SGD", () => {
    const adam = overrideTrain(defaultTrainConfig(), { optimizer: 'adam', betas: [0.5, 0.75] }).optimizer;
    expect(biasCorrections(adam, 0)).toEqual([0.5, 0.25]);
    expect(biasCorrections(adam, 1)).toEqual([0.75, 1 - 0.5625]);
    const sgd = overrideTrain(defaultTrainConfig(), { optimizer: 'sgd' }).optimizer;
    expect(biasCorrections(sgd, 7)).toEqual([1, 1]);
  });
});

describe('train-section overrides', () => {
  const base: TrainConfig = {
    ...defaultTrainConfig(),
    optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    schedule: { kind: 'cosine', warmup: 10, steps: 1000, minLr: 0 },
    clip: 1,
    steps: 1000,
  };

  it('changes only what it is given', () => {
    expect(overrideTrain(base, {})).toEqual(base);
    const o = overrideTrain(base, { lr: 0.1, clip: 0, accumulate: 4, warmup: 3 });
    expect(o.optimizer).toEqual({ ...base.optimizer, lr: 0.1 });
    expect(o.clip).toBeUndefined();
    expect(o.accumulate).toBe(4);
    expect(o.schedule).toEqual({ kind: 'cosine', warmup: 3, steps: 1000, minLr: 0 });
  });

  it("switching the optimizer keeps the rate and takes the new kind's defaults", () => {
    expect(overrideTrain(base, { optimizer: 'adamw' }).optimizer).toEqual({
      kind: 'adamw',
      lr: 0.05,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.01,
    });
    expect(overrideTrain(base, { optimizer: 'adam', weightDecay: 0 }).optimizer).toMatchObject({ weightDecay: 0 });
  });

  it('a linear or cosine schedule needs a length', () => {
    const noSteps = { ...defaultTrainConfig() };
    expect(() => overrideTrain(noSteps, { schedule: 'cosine' })).toThrow(/needs its length/);
    expect(overrideTrain(noSteps, { schedule: 'cosine', steps: 50 }).schedule).toEqual({
      kind: 'cosine',
      warmup: 0,
      steps: 50,
      minLr: 0,
    });
  });

  it('refuses bad values, naming the entry', () => {
    const bad: [object, RegExp][] = [
      [{ lr: -1 }, /lr must be a non-negative number/],
      [{ momentum: 1 }, /momentum must be in \[0, 1\)/],
      [{ accumulate: 0 }, /accumulate must be an integer from 1 to 65536, got 0/],
      [{ accumulate: 65537 }, /accumulate must be an integer from 1 to 65536, got 65537/],
      [{ lossScale: 1e39 }, /loss scale must be positive and at most 3.4028234663852886e\+38, got 1e\+39/],
      [{ warmup: 1.5 }, /warmup must be a non-negative integer/],
      [{ betas: [0.9, 1] }, /betas must be in \[0, 1\)/],
      [{ eps: 0 }, /eps must be positive/],
      [{ momentum: 0, nesterov: true }, /nesterov needs a momentum above 0/],
    ];
    for (const [o, re] of bad) expect(() => overrideTrain(base, o)).toThrow(re);
    expect(() => overrideTrain(base, { lr: NaN })).toThrow(TrainConfigError);
  });
});
