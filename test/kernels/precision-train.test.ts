// Mixed-precision training of the mlp on C (`precision = bf16` through compileTrainer's
// `precision`, as `fmc train --precision bf16` sets it): each step's loss, gradient norm and
// param changes follow the reference interpreter running the same step graph from the same
// state (bf16 tolerance, norm-wise for the param changes), the params and optimizer state stay
// f32 (master weights), the backward computes in bf16, and the bf16 run's losses stay close to
// an f32 run's on the same batches.

import { describe, expect, it } from 'vitest';
import { compileTrainer } from '../../src/api/train.js';
import { liveNodes } from '../../src/ir/graph.js';
import { evaluate } from '../../src/ir/interp.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';
import { GRAD_NORM, STEP_INPUTS } from '../../src/passes/train/index.js';
import { learningRate } from '../../src/runtime/schedule.js';
import { fromHost } from '../../src/runtime/tensor.js';
import { smallModelFile } from '../models/small-models.js';
import { CACHE_DIR, tolFor } from './c-harness.js';

const FILE = smallModelFile('mlp', { pixels: 12, hidden1: 16, hidden2: 8, p_drop: 0 });
const TRAIN = { optimizer: 'sgd', lr: 0.1, momentum: 0.9, schedule: 'constant' } as const;
const STEPS = 8;

/** Batch `k` (B = 4): smooth images, labels that a small net can fit. */
function batch(k: number): Map<string, HostTensor> {
  const images = Array.from({ length: 48 }, (_, i) => Math.cos((i % 12) * ((i >> 2) % 3) + k));
  return new Map([
    ['images', hostTensor('f32', [4, 12], images)],
    ['labels', hostTensor('i32', [4], [k % 3, 1, 2, 0])],
  ]);
}
const feeds = (b: Map<string, HostTensor>) => Object.fromEntries([...b].map(([k, v]) => [k, fromHost(v)]));
const norm = (xs: ArrayLike<number>): number => Math.sqrt(Array.from(xs).reduce((a, x) => a + x * x, 0));

describe('mixed-precision training (bf16, f32 master weights) on C', () => {
  it(`follows the reference's step graph for ${STEPS} steps; params and state stay f32`, () => {
    const { trainer, modules } = compileTrainer(FILE, {
      train: TRAIN,
      seed: 3,
      precision: 'bf16',
      cacheDir: CACHE_DIR,
    });
    const step = modules[0]!.graph;
    const live = liveNodes(step);
    expect(live.some((n) => n.op === 'einsum' && n.type.dtype === 'bf16' && n.scope.includes('grad'))).toBe(true);
    for (const u of step.updates) expect(u.node.type.dtype, u.path).toBe('f32');
    const { rtol } = tolFor('bf16');
    for (let k = 0; k < STEPS; k++) {
      const before = trainer.state();
      for (const [path, t] of before) expect(t.dtype, path).not.toMatch(/16/);
      const inputs = new Map(batch(k));
      inputs.set(STEP_INPUTS.step, hostTensor('i64', [], [k]));
      inputs.set(STEP_INPUTS.lr, hostTensor('f32', [], [learningRate(TRAIN.lr, trainer.config.schedule, k)]));
      const ref = evaluate(step, { inputs, params: before, dims: new Map([['B', 4]]) });
      const c = trainer.step(feeds(batch(k)));
      const tol = (x: number): number => rtol * Math.abs(x) + tolFor('bf16').atol;
      expect(Math.abs(c.loss - ref.outputs.get('output')!.data[0]!)).toBeLessThan(tol(c.loss));
      expect(Math.abs(c.gradNorm! - ref.outputs.get(GRAD_NORM)!.data[0]!)).toBeLessThan(tol(c.gradNorm!));
      const after = trainer.state();
      for (const [path, want] of ref.updates) {
        const [b, got] = [before.get(path)!.data, after.get(path)!.data];
        const dRef = want.data.map((v, i) => v - b[i]!);
        const dErr = want.data.map((v, i) => got[i]! - v);
        expect(norm(dErr), `${path} after step ${k}`).toBeLessThanOrEqual(rtol * norm(dRef) + 1e-7);
      }
    }
  }, 60_000);

  it('trains as the f32 run does, within bf16 rounding (same batches, same seed)', () => {
    const run = (precision: 'bf16' | 'f32'): number[] => {
      const { trainer } = compileTrainer(FILE, { train: TRAIN, seed: 3, precision, cacheDir: CACHE_DIR });
      return Array.from({ length: 3 * STEPS }, (_, k) => trainer.step(feeds(batch(k % 4))).loss);
    };
    const [f32, bf16] = [run('f32'), run('bf16')];
    // Both learn the four batches, and the bf16 run's losses stay near the f32 run's.
    expect(f32.at(-1)!).toBeLessThan(0.5 * f32[0]!);
    expect(bf16.at(-1)!).toBeLessThan(0.5 * bf16[0]!);
    for (const [k, l] of bf16.entries()) expect(Math.abs(l - f32[k]!), `step ${k}`).toBeLessThan(0.05 * f32[0]!);
  }, 60_000);
});
