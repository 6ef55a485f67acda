// Gradual pruning on the CUDA target without a GPU (the shim device, as in train-shim.test.ts):
// at a mask update the trainer brings down only what pruning reads (the masks, the masked
// params and their Adam moments) while the other weights stay on the device, and the run
// keeps the C target's masks, densities and losses.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { compileTrainer } from '../../src/api/train.js';
import { Tensor } from '../../src/runtime/tensor.js';
import type { StepResult } from '../../src/runtime/trainer.js';
import { SHIM_GPU } from './shim-gpu.js';
import { shimUnavailable } from './shim.js';
import { prunedModel } from '../models/pruned-model.js';

vi.mock(import('../../src/runtime/cuda-device.js'), async (o) => (await import('./shim-gpu.js')).withShimGpu(o));
vi.mock(import('../../src/runtime/cuda-cache.js'), async (o) => (await import('./shim-gpu.js')).withShimNvrtc(o));

const why = shimUnavailable();
if (why) console.warn(`skipping gradual pruning on the shim device: ${why}`);

const FILE = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-prune-shim-')), 'pruned.fm');
fs.writeFileSync(FILE, prunedModel('batch = 8\n    prune = gradual(start = 2, end = 6, every = 2)'));

/** Seeded batches (an LCG), the same for both targets. */
function batches(n: number): Record<string, Tensor>[] {
  let r = 4242;
  const rnd = (): number => (r = (Math.imul(r, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => ({
    x: new Tensor(
      'f32',
      Float32Array.from({ length: 8 * 4 }, () => rnd() * 2 - 1),
      [8, 4],
    ),
    labels: new Tensor(
      'i32',
      Int32Array.from({ length: 8 }, () => Math.floor(rnd() * 3)),
      [8],
    ),
  }));
}

describe.skipIf(why !== '')('gradual pruning on CUDA (the shim device)', () => {
  it('downloads only the pruned weights at a mask update, and prunes as C does', { timeout: 600_000 }, async () => {
    const data = batches(8);
    const c = compileTrainer(FILE, { seed: 3 }).trainer;
    const want = data.map((b) => c.step(b));
    const { trainer } = compileTrainer(FILE, { seed: 3, target: 'cuda' });
    const got: StepResult[] = [];
    const downloads: number[] = [];
    for (const b of data) {
      const before = SHIM_GPU.downloads;
      got.push(await trainer.stepAsync(b));
      downloads.push(SHIM_GPU.downloads - before);
    }
    // The masks are updated after updates 4 and 6 (start 2, every 2, end 6), on both targets.
    expect(want.map((r) => r.density !== undefined)).toEqual([false, false, false, true, false, true, false, false]);
    expect(got.map((r) => r.density)).toEqual(want.map((r) => r.density));
    for (const [i, r] of got.entries()) expect(r.loss).toBeCloseTo(want[i]!.loss, 4);
    // What a pruning step brings down beyond a plain step's outputs: fc1.w and fc2.w and their
    // two Adam moments, nothing else (not the biases, fc3, their moments, or the masks, which
    // the host wrote last).
    await trainer.sync();
    const state = await trainer.stateAsync();
    const pruned = [...state.keys()].filter((k) => /^(opt:\w+:)?fc[12]\.w$/.test(k));
    expect(pruned.length).toBe(6);
    expect(state.size).toBeGreaterThan(pruned.length + 2);
    expect(downloads[3]! - downloads[2]!).toBe(pruned.length);
    expect(downloads[5]! - downloads[4]!).toBe(pruned.length);
    // The state after the run: the same masks, the weights within float noise.
    for (const [k, t] of c.state()) {
      const u = state.get(k)!;
      if (k.startsWith('mask')) expect(Array.from(u.data), k).toEqual(Array.from(t.data));
      else
        for (let i = 0; i < t.data.length; i++)
          expect(Math.abs(Number(u.data[i]) - Number(t.data[i])), `${k}[${i}]`).toBeLessThan(1e-4);
    }
  });
});
