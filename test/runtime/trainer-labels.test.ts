// The trainer checks class labels against the class count before a step or an evaluation runs:
// cross_entropy gives a label outside [0, classes) a loss of 0 but counts it in the mean, so a
// batch of such labels would "train" at loss 0 (PyTorch raises here). A label equal to the
// loss's ignore_index (-100) is legitimately left out of the mean and is accepted.

import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { compileTrainer } from '../../src/api/train.js';
import { indexRanges, rangeText } from '../../src/ir/init.js';
import { RunError } from '../../src/runtime/run-args.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { smallModelFile } from '../models/small-models.js';

const FILE = smallModelFile('mlp', { pixels: 4, hidden1: 8, hidden2: 8, classes: 3, p_drop: 0 });

const batch = (...labels: number[]) => ({
  images: new Tensor(
    'f32',
    Float32Array.from({ length: 4 * labels.length }, (_, i) => Math.sin(i)),
    [labels.length, 4],
  ),
  labels: new Tensor('i32', Int32Array.from(labels), [labels.length]),
});

describe('labels outside the class count', () => {
  it('are a RunError naming the input, the element and the class count; nothing changes', async () => {
    const { trainer } = compileTrainer(FILE, { seed: 1, train: { optimizer: 'adam', lr: 0.01 } });
    const before = trainer.state();
    const msg =
      "input 'labels': element 0 is 99, not one of the model's 3 classes (0 to 2, or -100 for a target the loss ignores)";
    expect(() => trainer.step(batch(99, 1))).toThrow(RunError);
    expect(() => trainer.step(batch(99, 1))).toThrow(msg);
    expect(() => trainer.step(batch(0, -1))).toThrow("element 1 is -1, not one of the model's 3 classes");
    expect(() => trainer.evaluate(batch(0, 3))).toThrow("element 1 is 3, not one of the model's 3 classes");
    await expect(trainer.stepAsync(batch(99, 1))).rejects.toThrow(msg);
    await expect(trainer.evaluateAsync(batch(7, 1))).rejects.toThrow('element 0 is 7');
    expect(trainer.counters).toEqual({ micro: 0, updates: 0 });
    expect(trainer.state()).toEqual(before);
  });

  it('accept the ignore_index, which the loss leaves out of the mean', () => {
    const { trainer } = compileTrainer(FILE, { seed: 1, train: { optimizer: 'adam', lr: 0.01 } });
    const all = trainer.evaluate(batch(0, 2));
    // -100 is left out: the mean over the one counted label is that label's loss.
    expect(trainer.evaluate(batch(0, -100))).toBeCloseTo(trainer.evaluate(batch(0)), 6);
    expect(Number.isFinite(all)).toBe(true);
    const r = trainer.step(batch(1, -100));
    expect(r.applied).toBe(true);
    expect(r.loss).toBeGreaterThan(0);
  });

  it("are read from the loss: the class axis, the embedding's table, and the ignore_index", () => {
    const mlp = lowerModel(FILE, { isPath: true, fns: ['loss'] })[0]!.graph;
    expect(indexRanges(mlp)).toEqual(new Map([['labels', { size: 3, kind: 'classes', ignored: [-100] }]]));
    const lm = lowerModel(smallModelFile('swa_lm'), { isPath: true, fns: ['loss'] })[0]!.graph;
    const r = indexRanges(lm);
    expect(r.get('tokens')).toMatchObject({ size: 60, kind: 'table' });
    expect(r.get('targets')).toEqual({ size: 60, kind: 'classes', ignored: [-100] });
    expect(rangeText(r.get('targets')!)).toBe(
      "one of the model's 60 classes (0 to 59, or -100 for a target the loss ignores)",
    );
  });
});
