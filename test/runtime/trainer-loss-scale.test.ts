// Loss scaling through the trainer (the compiled C step, and WGSL where an adapter exists):
// a static scale is a run-time input (two scales, one generated source and so one library)
// and trains as the unscaled step does up to rounding; the dynamic scaler follows GradScaler's
// vectors, skips a step with an Inf gradient leaving every param and optimizer tensor
// bit-identical, does not count it for Adam's bias corrections (so the run goes on exactly as
// one that never saw that batch), reports it in the step's result, and a checkpoint carries
// the scaler's state and the skipped count.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileTrainer } from '../../src/api/train.js';
import { load } from '../../src/index.js';
import type { HostTensor } from '../../src/ir/value.js';
import { SCALER_STATE } from '../../src/passes/train/scale.js';
import { compileC } from '../../src/runtime/cache.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import type { TrainOverrides } from '../../src/runtime/schedule.js';
import { Tensor } from '../../src/runtime/tensor.js';
import type { Trainer } from '../../src/runtime/trainer.js';
import { CACHE, fmc, tempDir } from '../api/helpers.js';
import { smallModelFile, smallSource } from '../models/small-models.js';

const FILE = smallModelFile('mlp', { pixels: 12, hidden1: 16, hidden2: 8, p_drop: 0 });
const ADAMW: TrainOverrides = { optimizer: 'adamw', lr: 0.01, weightDecay: 0.01, schedule: 'constant', clip: 1 };
const trainer = (train: TrainOverrides, target: 'c' | 'wgsl' = 'c') =>
  compileTrainer(FILE, { train: { ...ADAMW, ...train }, seed: 3, target });

/** Batch `k` (B = 4); `bad` puts that value into one pixel. */
function batch(k: number, bad?: number): Record<string, Tensor> {
  const images = Float32Array.from({ length: 48 }, (_, i) => Math.cos(i * (k + 1)));
  if (bad !== undefined) images[5] = bad;
  return { images: new Tensor('f32', images, [4, 12]), labels: new Tensor('i32', Int32Array.of(k % 10, 1, 2, 3), [4]) };
}

const withoutScaler = (s: Map<string, HostTensor>): Map<string, HostTensor> =>
  new Map([...s].filter(([k]) => k !== SCALER_STATE.scale && k !== SCALER_STATE.tracker));
const scalerOf = (s: Map<string, HostTensor>): [number, number] => [
  s.get(SCALER_STATE.scale)!.data[0]!,
  s.get(SCALER_STATE.tracker)!.data[0]!,
];

describe('loss scaling in the trainer (C)', () => {
  it('a static scale is a run-time value: another scale reuses the compiled library', () => {
    const a = trainer({ lossScale: 1024 });
    const b = trainer({ lossScale: 8 });
    expect(a.warnings).toEqual([]);
    expect(b.functions[0]!.source).toBe(a.functions[0]!.source);
    expect(compileC(b.functions[0]!.source).cached).toBe(true);
    expect(trainer({}).functions[0]!.source).not.toBe(a.functions[0]!.source);
  });

  for (const accumulate of [1, 2])
    it(`a static scale trains as the unscaled step up to rounding (5 updates, accumulate ${accumulate})`, () => {
      const plain = trainer({ accumulate }).trainer;
      const scaled = trainer({ lossScale: 1000, accumulate }).trainer;
      for (let k = 0; k < 5 * accumulate; k++) {
        const [p, s] = [plain.step(batch(k)), scaled.step(batch(k))];
        expect(s.lossScale).toBe(s.applied ? 1000 : undefined);
        expect(Math.abs(s.loss - p.loss)).toBeLessThan(1e-6 * Math.abs(p.loss));
        if (s.applied) expect(Math.abs(s.gradNorm! - p.gradNorm!)).toBeLessThan(1e-5 * p.gradNorm!);
      }
      // ‖scaled − plain‖₂ / ‖plain‖₂ per param and optimizer tensor (‖scaled‖₂ where plain is 0).
      const want = plain.state();
      for (const [path, t] of scaled.state()) {
        const w = want.get(path)!.data;
        const sq = (f: (i: number) => number): number => t.data.reduce((a, _, i) => a + f(i) ** 2, 0);
        const [d, n] = [sq((i) => t.data[i]! - w[i]!), sq((i) => w[i]!)];
        const gap = Math.sqrt(n > 0 ? d / n : d);
        expect(gap, path).toBeLessThan(1e-5);
      }
    });

  it("the dynamic scaler follows GradScaler's vectors and skips an Inf step bit-exactly, as if the batch never came", () => {
    const dyn = trainer({ lossScale: 'dynamic', scaleInterval: 3 }).trainer;
    const plain = trainer({}).trainer;
    expect(scalerOf(dyn.state())).toEqual([65536, 0]);
    const want: [number, number][] = [
      [65536, 1],
      [65536, 2],
      [131072, 0],
    ];
    for (const [k, w] of want.entries()) {
      const r = dyn.step(batch(k));
      plain.step(batch(k));
      expect([r.skipped, r.lossScale]).toEqual([false, w[0]]);
      expect(scalerOf(dyn.state())).toEqual(w);
    }
    const before = dyn.state();
    const r = dyn.step(batch(9, Infinity));
    expect([r.applied, r.skipped, r.lossScale]).toEqual([true, true, 65536]);
    expect(scalerOf(dyn.state())).toEqual([65536, 0]);
    expect(withoutScaler(dyn.state())).toEqual(withoutScaler(before));
    expect(dyn.counters).toEqual({ micro: 4, updates: 4, skipped: 1 });
    // The optimizer's step count did not move: the next steps are those of a run without the batch.
    for (const k of [3, 4]) expect(dyn.step(batch(k)).loss).toBe(plain.step(batch(k)).loss);
    expect(withoutScaler(dyn.state())).toEqual(plain.state());
  });

  it('a checkpoint carries the scaler state and the skipped count; the resumed steps are bit-identical', () => {
    const make = (): Trainer => trainer({ lossScale: 'dynamic', scaleInterval: 2 }).trainer;
    const a = make();
    a.step(batch(0));
    a.step(batch(1, NaN));
    a.step(batch(2));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-lscale-'));
    a.save(dir);
    const b = make();
    b.load(dir);
    expect(b.counters).toEqual({ micro: 3, updates: 3, skipped: 1 });
    expect(b.state()).toEqual(a.state());
    expect(scalerOf(b.state())).toEqual([32768, 1]);
    for (const k of [3, 4, 5]) expect(b.step(batch(k))).toEqual(a.step(batch(k)));
    expect(b.state()).toEqual(a.state());
  });
});

/** The small MLP whose train section also scales dynamically and accumulates two micro-batches. */
const SCALED = smallSource('mlp', { pixels: 12, hidden1: 16, hidden2: 8, p_drop: 0 }).replace(
  /\n(\s*)train \{\n/,
  '\n$1train {\n$1  loss_scale = dynamic\n$1  accumulate = 2\n',
);

describe('loss scaling from the train section', () => {
  it('fmc compile --train: the loaded module trains, accumulates and skips as compileTrainer does', () => {
    const dir = tempDir('lscale-module');
    const file = path.join(dir, 'small.fm');
    fs.writeFileSync(file, SCALED);
    const r = fmc('compile', file, '--train', '-o', path.join(dir, 'out'));
    expect(r.code, r.err).toBe(0);
    const loaded = load(path.join(dir, 'out'), { cacheDir: CACHE }).trainer();
    const compiled = compileTrainer(SCALED, { cacheDir: CACHE });
    expect(compiled.warnings).toEqual([]);
    expect(compiled.config).toMatchObject({ lossScale: 'dynamic', accumulate: 2 });
    // Micro-batch 2 has an Inf: the update of micro-batches 2 and 3 is skipped.
    const results = [0, 1, 2, 3, 4, 5].map((i) => {
      const b = batch(i, i === 2 ? Infinity : undefined);
      const [a, c] = [loaded.step(b), compiled.trainer.step(b)];
      expect(a).toEqual(c);
      return a;
    });
    expect(results.map((x) => x.skipped)).toEqual([undefined, false, undefined, true, undefined, false]);
    expect(results.map((x) => x.lossScale)).toEqual([undefined, 65536, undefined, 32768, undefined, 32768]);
    expect(loaded.counters).toEqual({ micro: 6, updates: 3, skipped: 1 });
  });
});

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the WGSL loss-scaling test: ${why}`);

describe.skipIf(why !== '')('loss scaling in the trainer (WGSL)', () => {
  it('the dynamic scaler runs on the GPU as on C: same vectors, same skipped step', { timeout: 120_000 }, async () => {
    const c = trainer({ lossScale: 'dynamic', scaleInterval: 2 }).trainer;
    const w = trainer({ lossScale: 'dynamic', scaleInterval: 2 }, 'wgsl').trainer;
    for (const [k, bad] of [[0], [1], [2, Infinity], [3]] as [number, number?][]) {
      const [want, got] = [c.step(batch(k, bad)), await w.stepAsync(batch(k, bad))];
      expect([got.skipped, got.lossScale], `step ${k}`).toEqual([want.skipped, want.lossScale]);
    }
    expect(w.counters).toEqual(c.counters);
    const [cs, ws] = [c.state(), await w.stateAsync()];
    expect(scalerOf(ws)).toEqual(scalerOf(cs));
  });
});
