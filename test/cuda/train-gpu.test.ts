// Training on the CUDA target on a real GPU against the same steps on C (the twin of
// train-shim.test.ts without the shim: NVRTC and the driver through runtime-native). Skipped,
// with the reason printed, where there is no NVIDIA driver and GPU (this machine, CI).

import { describe, it } from 'vitest';
import { native } from '../../src/runtime/native.js';
import { STEPS, TRAIN_CASES, withinBounds } from '../runtime/train-twins.js';

const status = native().cudaStatus();
if (!status.available) console.warn(`skipping CUDA training on a GPU: ${status.message}`);

describe.skipIf(!status.available)('training on CUDA (a GPU) matches C', () => {
  for (const [name, c, train, bounds] of TRAIN_CASES)
    it(`${name}: ${STEPS} updates`, { timeout: 300_000 }, () => withinBounds(name, c, 'cuda', train, bounds));
});
