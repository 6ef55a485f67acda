// Distillation on the CUDA target without a GPU (the shim device of train-shim.test.ts): the
// teacher's forward and the student's step both run as CUDA programs, with the losses of the
// C run (the shim computes in f32 like C and differs only in the order of sums).

import { describe, expect, it, vi } from 'vitest';
import { compileTrainer } from '../../src/api/train.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { smallModelFile } from '../models/small-models.js';
import { shimUnavailable } from './shim.js';

vi.mock(import('../../src/runtime/cuda-device.js'), async (o) => (await import('./shim-gpu.js')).withShimGpu(o));
vi.mock(import('../../src/runtime/cuda-cache.js'), async (o) => (await import('./shim-gpu.js')).withShimNvrtc(o));

const why = shimUnavailable();
if (why) console.warn(`skipping distillation on the CUDA shim device: ${why}`);

function batch(k: number): Record<string, Tensor> {
  const images = Float32Array.from({ length: 48 }, (_, i) => Math.sin(i * (k + 0.7)));
  return { images: new Tensor('f32', images, [4, 12]), labels: new Tensor('i32', Int32Array.of(k % 10, 4, 2, 9), [4]) };
}

describe.skipIf(why !== '')(`distillation on CUDA (the shim device)${why ? ` — SKIPPED because ${why}` : ''}`, () => {
  it('the teacher and the step run on the device with the losses of the C run', { timeout: 300_000 }, async () => {
    const file = smallModelFile('mlp', { pixels: 12, hidden1: 16, hidden2: 8, p_drop: 0 });
    const teacher = smallModelFile('mlp', { pixels: 12, hidden1: 32, hidden2: 16, p_drop: 0 });
    const opts = { seed: 2, train: { optimizer: 'sgd', lr: 0.1 } as const, distill: { teacher, alpha: 0.6 } };
    const c = compileTrainer(file, opts).trainer;
    const cuda = compileTrainer(file, { ...opts, target: 'cuda' }).trainer;
    for (let k = 0; k < 3; k++) {
      const [a, b] = [c.step(batch(k)), await cuda.stepAsync(batch(k))];
      expect(Math.abs(b.loss - a.loss)).toBeLessThan(1e-5 * Math.abs(a.loss));
    }
  });
});
