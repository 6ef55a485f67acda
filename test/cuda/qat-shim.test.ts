// Quantization-aware training on the CUDA target without a GPU (the CPU shim device, as
// train-shim.test.ts runs it): the QAT step is the same graph as on C (the qat pass runs in the
// pipeline both share), so three SGD steps of the MLP with int4 fake-quantized weights give the
// losses and the state of C within train-shim's SGD bounds.

import { describe, expect, it, vi } from 'vitest';
import { compileTrainer } from '../../src/api/train.js';
import type { QuantRule } from '../../src/passes/pass.js';
import { MLP, SEED, SGD, SGD_BOUNDS, batches } from '../runtime/train-twins.js';
import { shimUnavailable } from './shim.js';

vi.mock(import('../../src/runtime/cuda-device.js'), async (o) => (await import('./shim-gpu.js')).withShimGpu(o));
vi.mock(import('../../src/runtime/cuda-cache.js'), async (o) => (await import('./shim-gpu.js')).withShimNvrtc(o));

const why = shimUnavailable();
if (why) console.warn(`skipping QAT on the CUDA shim device: ${why}`);

const RULES: QuantRule[] = [{ path: 'all', spec: { dtype: 'int4', group: 16, symmetric: true } }];
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), 1e-30);

describe.skipIf(why !== '')('QAT on CUDA (the shim device) matches C', () => {
  it('three SGD steps with int4 fake quantization', { timeout: 600_000 }, async () => {
    const opts = { set: MLP.set, seed: SEED, train: SGD, quantize: RULES, qat: true };
    const c = compileTrainer(MLP.file, opts).trainer;
    const g = compileTrainer(MLP.file, { ...opts, target: 'cuda' }).trainer;
    for (const b of batches(MLP, 3)) {
      const [want, got] = [c.step(b), await g.stepAsync(b)];
      expect(rel(want.loss, got.loss)).toBeLessThan(SGD_BOUNDS.loss);
    }
    const state = await g.stateAsync();
    for (const [path, t] of c.state()) {
      const u = state.get(path)!.data;
      let [gap, norm] = [0, 0];
      for (let i = 0; i < t.data.length; i++)
        ((gap += (Number(t.data[i]) - Number(u[i])) ** 2), (norm += Number(t.data[i]) ** 2));
      expect(Math.sqrt(gap / Math.max(norm, 1e-30)), path).toBeLessThan(SGD_BOUNDS.state);
    }
  });
});
