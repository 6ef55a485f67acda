// Training on the CUDA target without a GPU: compileTrainer({ target: 'cuda' }) as a user calls
// it, with the process's GPU replaced by a device backed by the CUDA CPU shim (shim-gpu.ts) and
// NVRTC by handing the CUDA source to it (the shim compiles it with g++). Everything else is the
// real CUDA path: the dialect's programs, CudaExecutable with the weights and optimizer state
// kept in device memory between steps (shared by the step, accumulate and evaluate functions),
// the trainer's sync. The twin of test/wgsl/train.test.ts, with its bounds against the C target
// (test/runtime/train-twins.ts): the shim computes in f32 like C and differs only in the
// order of sums. On a real GPU: train-gpu.test.ts.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { MLP, SGD, STEPS, TRAIN_CASES, batches, withinBounds } from '../runtime/train-twins.js';
import { compileTrainer } from '../../src/api/train.js';
import { SHIM_GPU } from './shim-gpu.js';
import { shimUnavailable } from './shim.js';

vi.mock(import('../../src/runtime/cuda-device.js'), async (o) => (await import('./shim-gpu.js')).withShimGpu(o));
vi.mock(import('../../src/runtime/cuda-cache.js'), async (o) => (await import('./shim-gpu.js')).withShimNvrtc(o));

const why = shimUnavailable();
if (why) console.warn(`skipping CUDA training on the shim device: ${why}`);

describe.skipIf(why !== '')('training on CUDA (the shim device) matches C', () => {
  // The CNN with AdamW is left to the GPU (train-gpu.test.ts): its step on the shim takes minutes here.
  for (const [name, c, train, bounds] of TRAIN_CASES.slice(0, 3))
    it(`${name}: ${STEPS} updates, the loss of each micro-batch and the final state`, { timeout: 900_000 }, () =>
      withinBounds(name, c, 'cuda', train, bounds),
    );

  it(
    'saves at a sync point; a load wins over what the device held and the steps go on as before',
    { timeout: 300_000 },
    async () => {
      const compile = () => compileTrainer(MLP.file, { set: MLP.set, seed: 1, train: SGD, target: 'cuda' }).trainer;
      const [a, b] = [compile(), compile()];
      const data = batches(MLP, 5);
      for (const x of data.slice(0, 3)) await a.stepAsync(x);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-cuda-ckpt-'));
      await a.saveAsync(dir);
      await b.stepAsync(data[4]!); // b's device copies now differ from a's
      b.load(dir);
      expect(b.counters).toEqual(a.counters);
      for (const x of data.slice(3)) expect(await b.stepAsync(x)).toEqual(await a.stepAsync(x));
    },
  );

  it('keeps the weights on the device: one upload each, none again between steps', { timeout: 300_000 }, async () => {
    const { trainer, cuda } = compileTrainer(MLP.file, { set: MLP.set, seed: 1, train: SGD, target: 'cuda' });
    const shim = SHIM_GPU;
    const data = batches(MLP, 3);
    await trainer.stepAsync(data[0]!);
    const [uploads, allocs] = [shim.uploads, shim.allocs];
    for (const b of data.slice(1)) await trainer.stepAsync(b);
    // Each later step uploads its inputs only (the batch and the step's scalars; and zeroes the
    // first word of each packed buffer, re-derived after an update), allocates nothing.
    const plan = cuda[0]!.plan;
    const perStep = plan.inputs.length + plan.buffers.filter((b) => b.kind === 'packed').length;
    expect(plan.params.length).toBeGreaterThan(perStep);
    expect(shim.uploads - uploads).toBe(2 * perStep);
    expect(shim.allocs).toBe(allocs);
    expect(() => trainer.step(data[0]!)).toThrow(
      'MLP trains on the CUDA target: use await trainer.stepAsync(batch), not step',
    );
  });
});
