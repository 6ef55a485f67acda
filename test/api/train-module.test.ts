// `fmc compile --train`: the train step in a module folder, plan.json's `train`, and
// `load(dir).trainer()` training on the module's own weights exactly as compileTrainer does.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileTrainer } from '../../src/api/train.js';
import { load, PlanFormatError, RunError, Tensor } from '../../src/index.js';
import { readSafetensorsFile } from '../../src/runtime/safetensors.js';
import { CACHE, fmc, tempDir, thrown } from './helpers.js';

const DIR = tempDir('train-module');

/** A deterministic batch `i` of the MLP's loss inputs. */
function mlpBatch(i: number, b = 8): { images: Tensor; labels: Tensor } {
  const images = new Float32Array(b * 784).map((_, k) => ((k * 37 + i * 11) % 256) / 255);
  const labels = new Int32Array(b).map((_, k) => (k * 3 + i) % 10);
  return { images: new Tensor('f32', images, [b, 784]), labels: new Tensor('i32', labels, [b]) };
}

/** A small model that trains with AdamW and accumulates two micro-batches per step. */
const ACCUMULATING = `import { relu } from "std/act"
import { cross_entropy } from "std/loss"
import { Linear } from "std/nn"

model Small(d = 12, classes = 3) {
  fc1 = Linear(d, 16)
  fc2 = Linear(16, classes)

  fn forward(x: f32[B, d]) -> (logits: f32[B, classes]) {
    return fc2(relu(fc1(x)))
  }

  fn loss(x: f32[B, d], y: i32[B]) -> f32[] {
    return cross_entropy(forward(x), y)
  }

  train {
    optimizer = adamw(lr = 1e-2, weight_decay = 0.01)
    schedule = cosine(warmup = 2, steps = 6, min_lr = 1e-4)
    clip = 1.0
    accumulate = 2
    steps = 10
  }
}
`;

function smallBatch(i: number): { x: Tensor; y: Tensor } {
  const x = new Float32Array(4 * 12).map((_, k) => Math.sin(k * 0.7 + i));
  return { x: new Tensor('f32', x, [4, 12]), y: new Tensor('i32', Int32Array.from([0, 1, 2, i % 3]), [4]) };
}

function compileModule(name: string, ...args: string[]): string {
  const out = path.join(DIR, name);
  const r = fmc('compile', ...args, '-o', out);
  expect(r.code, r.err).toBe(0);
  return out;
}

describe('fmc compile --train', () => {
  it('writes the train step and trains on the loaded weights as compileTrainer does', () => {
    const out = compileModule('mlp', 'models/mlp.fm', '--train');
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8'));
    expect(Object.keys(manifest.functions)).toEqual(['forward', 'loss', 'loss_step']);
    expect(fs.existsSync(path.join(out, 'loss_step.c'))).toBe(true);
    const compiled = compileTrainer('models/mlp.fm', { seed: 0, cacheDir: CACHE });
    expect(manifest.train).toEqual({ config: compiled.config, step: 'loss_step', evaluate: 'loss', seed: 0 });
    // The optimizer state is not stored: it starts at zeros.
    const stored = [...readSafetensorsFile(path.join(out, 'weights.safetensors')).tensors.keys()];
    expect(stored.some((k) => k.startsWith('opt:'))).toBe(false);

    const model = load(out, { cacheDir: CACHE });
    expect(model.trainable).toBe(true);
    const before = model.run('forward', { images: mlpBatch(0).images }).logits!.data.slice();
    const trainer = model.trainer();
    expect(trainer.inputs.map((i) => i.name)).toEqual(['images', 'labels']);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < 20; i++) {
      ours.push(trainer.step(mlpBatch(i)).loss);
      theirs.push(compiled.trainer.step(mlpBatch(i)).loss);
    }
    expect(ours).toEqual(theirs);
    expect(ours[19]!).toBeLessThan(ours[0]!);
    expect(trainer.evaluate(mlpBatch(3))).toBe(compiled.trainer.evaluate(mlpBatch(3)));
    expect(trainer.counters).toEqual({ micro: 20, updates: 20 });
    // The trainer updated the weights the model runs on.
    const after = model.run('forward', { images: mlpBatch(0).images }).logits!.data;
    expect(after).not.toEqual(before);

    // A checkpoint of the loaded trainer resumes a fresh load of the module where it stopped.
    const ckpt = path.join(DIR, 'mlp-ckpt');
    trainer.save(ckpt);
    const resumed = load(out, { cacheDir: CACHE }).trainer();
    resumed.load(ckpt);
    expect(resumed.counters).toEqual({ micro: 20, updates: 20 });
    for (let i = 20; i < 23; i++) expect(resumed.step(mlpBatch(i)).loss).toBe(compiled.trainer.step(mlpBatch(i)).loss);
  });

  it('compiles the accumulate step and trains with AdamW, clipping and a schedule as compileTrainer does', () => {
    const file = path.join(DIR, 'small.fm');
    fs.writeFileSync(file, ACCUMULATING);
    const out = compileModule('small', file, '--train', '--fn', 'forward', '--seed', '3');
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8'));
    // `loss` is compiled too (to evaluate), though --fn asked for forward only.
    expect(Object.keys(manifest.functions)).toEqual(['forward', 'loss', 'loss_step', 'loss_accumulate']);
    expect(manifest.train).toMatchObject({ step: 'loss_step', accumulate: 'loss_accumulate', seed: 3 });
    expect(manifest.train.config).toMatchObject({ accumulate: 2, clip: 1, optimizer: { kind: 'adamw' } });

    const trainer = load(out, { cacheDir: CACHE }).trainer();
    const compiled = compileTrainer(ACCUMULATING, { seed: 3, cacheDir: CACHE }).trainer;
    for (let i = 0; i < 12; i++) {
      const [a, b] = [trainer.step(smallBatch(i)), compiled.step(smallBatch(i))];
      expect(a).toEqual(b);
      expect(a.applied).toBe(i % 2 === 1);
    }
    // Another seed keys dropout differently but starts from the same weights.
    expect(load(out, { cacheDir: CACHE }).trainer({ seed: 5 }).evaluate(smallBatch(0))).toBe(
      compileTrainer(ACCUMULATING, { seed: 3, cacheDir: CACHE }).trainer.evaluate(smallBatch(0)),
    );
  });

  it("ends a trainer's work with its model: after dispose() every call is a RunError", async () => {
    const file = path.join(DIR, 'small-dispose.fm');
    fs.writeFileSync(file, ACCUMULATING);
    const model = load(compileModule('small-dispose', file, '--train'), { cacheDir: CACHE });
    const trainer = model.trainer();
    trainer.step(smallBatch(0));
    const pending = trainer.stepAsync(smallBatch(1));
    model.dispose();
    const ckpt = path.join(DIR, 'small-dispose-ckpt');
    const calls: [string, () => unknown][] = [
      ['step', () => trainer.step(smallBatch(2))],
      ['evaluate', () => trainer.evaluate(smallBatch(2))],
      ['state', () => trainer.state()],
      ['save', () => trainer.save(ckpt)],
      ['restore', () => trainer.restore(new Map(), { micro: 0, updates: 0 })],
      ['load', () => trainer.load(ckpt)],
    ];
    for (const [what, call] of calls) {
      const e = thrown(call);
      expect(e).toBeInstanceOf(RunError);
      expect(e.message).toBe(`${what}: Small was disposed`);
    }
    for (const [what, call] of [
      ['stepAsync', () => trainer.stepAsync(smallBatch(2))],
      ['evaluateAsync', () => trainer.evaluateAsync(smallBatch(2))],
      ['sync', () => trainer.sync()],
      ['stepAsync', () => pending],
    ] as const) {
      const e = await (call() as Promise<unknown>).then(
        () => new Error('expected an error'),
        (x: unknown) => x as Error,
      );
      expect(e).toBeInstanceOf(RunError);
      expect(e.message).toBe(`${what}: Small was disposed`);
    }
    expect(fs.existsSync(ckpt)).toBe(false);
  });

  it('gives a clear error from trainer() for a module compiled without --train', () => {
    const out = compileModule('plain', 'models/mlp.fm');
    const model = load(out, { cacheDir: CACHE });
    expect(model.trainable).toBe(false);
    const e = thrown(() => model.trainer());
    expect(e).toBeInstanceOf(RunError);
    expect(e.message).toBe(
      'MLP was compiled without its train step; compile it with `fmc compile --train` (or use compileTrainer)',
    );
  });

  it('refuses a train entry that is not one fmc writes', () => {
    const good = path.join(DIR, 'mlp');
    const edit = (name: string, change: (train: Record<string, any>) => void): Error => {
      const dir = path.join(DIR, name);
      fs.cpSync(good, dir, { recursive: true });
      const file = path.join(dir, 'plan.json');
      const m = JSON.parse(fs.readFileSync(file, 'utf8'));
      change(m.train);
      fs.writeFileSync(file, JSON.stringify(m, null, 2));
      return thrown(() => load(dir, { cacheDir: CACHE }));
    };
    const cases: [string, (t: Record<string, any>) => void, string][] = [
      [
        'bad-lr',
        (t) => (t.config.optimizer.lr = -1),
        'not a train config fmc writes: lr must be a non-negative number, got -1',
      ],
      ['no-lr', (t) => delete t.config.optimizer.lr, 'entries missing, extra or of the wrong type'],
      ['extra', (t) => (t.config.optimizer.betas = [0.9, 0.99]), 'entries missing, extra or of the wrong type'],
      ['kind', (t) => (t.config.optimizer.kind = 'lion'), 'an unknown optimizer "lion"'],
      ['step', (t) => (t.step = 'loss_stepp'), '"train.step" must name a function of the module'],
      ['acc', (t) => (t.accumulate = 'loss'), '"train.accumulate" is given, but the config does not accumulate'],
      ['seed', (t) => (t.seed = -1), '"train.seed" must be an integer in [0, 2^31)'],
      [
        'adam',
        (t) => (t.config.optimizer = { kind: 'adam', lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }),
        'the config needs train.step, train.lr, train.step_size, train.bias2_sqrt',
      ],
      [
        'swapped',
        (t) => (t.evaluate = 'forward'),
        "the train function 'loss_step' does not take the inputs of 'forward'",
      ],
    ];
    for (const [name, change, message] of cases) {
      const e = edit(name, change);
      expect(e, name).toBeInstanceOf(PlanFormatError);
      expect(e.message, name).toContain(message);
    }
  });
});
