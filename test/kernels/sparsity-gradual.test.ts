// Gradual pruning on C (compileTrainer's `gradualPruning`, then pruneWeights on the trainer's
// state with the step module every 10 steps): the kept share of each block-sparse weight follows the cubic schedule
// down to the hint's density, a pruned block never comes back, the optimizer state of a
// pruned weight is 0, and the loss still goes down.

import { describe, expect, it } from 'vitest';
import { compileTrainer } from '../../src/api/train.js';
import { gradualDensity, maskPath, pruneWeights } from '../../src/ir/sparsity.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';
import { fromHost } from '../../src/runtime/tensor.js';
import { smallModelFile } from '../models/small-models.js';
import { CACHE_DIR } from './c-harness.js';

const FILE = smallModelFile('mlp', { pixels: 16, hidden1: 16, hidden2: 8, classes: 8, p_drop: 0 });
const SPARSITY = { kind: 'block', block: 2, density: 0.25 } as const;
const WEIGHTS = ['fc1.w', 'fc2.w', 'fc3.w'];

/** Batch `k` of four: labels spread over the classes, each image a sine of its label's frequency. */
function batch(k: number): Record<string, ReturnType<typeof fromHost>> {
  const labels = [0, 1, 2, 3].map((j) => (3 * k + j) % 8);
  const images = labels.flatMap((c) => Array.from({ length: 16 }, (_, i) => Math.sin((i + 1) * (c + 1) * 0.29)));
  return { images: fromHost(hostTensor('f32', [4, 16], images)), labels: fromHost(hostTensor('i32', [4], labels)) };
}

const kept = (t: HostTensor): number => t.data.reduce((a, x) => a + x, 0) / t.data.length;

describe('gradual pruning on C', () => {
  it('follows the cubic schedule to density 0.25, never regrows a block, and trains', () => {
    const opts = { train: { optimizer: 'adam', lr: 0.02 } as const, seed: 4, sparsity: SPARSITY };
    const { trainer, modules } = compileTrainer(FILE, { ...opts, gradualPruning: true, cacheDir: CACHE_DIR });
    for (const p of WEIGHTS) expect(kept(trainer.state().get(maskPath(p))!), p).toBe(1);
    const losses: number[] = [];
    let last = trainer.state();
    for (let k = 0; k < 80; k++) {
      losses.push(trainer.step(batch(k % 4)).loss);
      if (k % 10 !== 9) continue;
      const state = trainer.state();
      const fraction = (k + 1) / 50;
      pruneWeights(state, modules[0]!, fraction);
      trainer.restore(state, trainer.counters);
      const now = trainer.state();
      for (const p of WEIGHTS) {
        const [mask, before] = [now.get(maskPath(p))!, last.get(maskPath(p))!];
        const blocks = mask.data.length / 4;
        expect(kept(mask), `${p} at step ${k + 1}`).toBeCloseTo(
          Math.round(gradualDensity(0.25, fraction) * blocks) / blocks,
          9,
        );
        for (let i = 0; i < mask.data.length; i++) {
          if (before.data[i] === 0) expect(mask.data[i], `${p}[${i}] regrew`).toBe(0);
          if (mask.data[i] === 0) {
            expect(now.get(p)!.data[i]).toBe(0);
            expect(now.get(`opt:exp_avg:${p}`)!.data[i]).toBe(0);
          }
        }
      }
      last = now;
    }
    for (const p of WEIGHTS) expect(kept(last.get(maskPath(p))!)).toBe(0.25);
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    expect(mean(losses.slice(-4))).toBeLessThan(0.5 * mean(losses.slice(0, 4)));
  }, 60_000);
});
