// Training on WGSL (Dawn on SwiftShader) against the same steps on C: the MLP and the CNN at
// small dims, SGD with Nesterov momentum and AdamW with clipping (and the MLP accumulating
// two micro-batches), five updates each from the same seeded weights on the same batches.
//
// Both sides compute in f32 and differ only in the order of their sums (C's blocked GEMMs
// and reductions against the GPU kernels' loops): about one ulp (6e-8 relative) per sum,
// compounded through the layers and the steps. Gaps: the loss and gradient norm of each
// micro-batch relative to C's, and ‖state_C − state_WGSL‖₂ / ‖state_C‖₂ per param and
// optimizer tensor. Seen: SGD ≤ 1.4e-6 (steps) and 3.7e-6 (state), so the bounds are 1e-5
// and 1e-4. AdamW divides by √v: its first updates are about ±lr whatever the size of the
// gradient, so an entry whose gradient is only rounding noise (a batch norm's shift behind
// a dead channel) can move the other way on the other side; seen 2.5e-5 and 3.5e-4 on the
// CNN (on stage2b.bn.beta, which starts at 0), so the bounds are 1e-4 and 1e-3. A learning
// rate 1 % larger on one side gives 1.9e-2 (SGD) and 5.1e-2 (AdamW) on the state.
//
// Dropout is on (MLP p 0.2, CNN 0.3) and the seed is not 0: the masks must be the same
// Philox numbers on both sides (the seed is the high word of the step), or the losses differ
// at once; a model of dropout alone checks them bit for bit. The weights stay on the GPU
// between steps: the host copies are stale until a sync, which `state` says.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileTrainer } from '../../src/api/train.js';
import { Tensor } from '../../src/runtime/tensor.js';
import type { TrainOverrides } from '../../src/runtime/schedule.js';
import type { Trainer } from '../../src/runtime/trainer.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import {
  ADAMW,
  ADAM_BOUNDS,
  MLP,
  SEED,
  SGD,
  SGD_BOUNDS,
  STEPS,
  TRAIN_CASES,
  type Case,
  batches,
  compareWithC,
  withinBounds,
} from '../runtime/train-twins.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping WGSL training tests: ${why}`);

const compare = (c: Case, train: TrainOverrides, wgslTrain = train) => compareWithC(c, 'wgsl', train, wgslTrain);

describe.skipIf(why !== '')('the WGSL trainer', () => {
  it(
    'saves at a sync point; a load wins over what its GPU held and the steps go on as before',
    { timeout: 120_000 },
    async () => {
      const compile = (): Trainer =>
        compileTrainer(MLP.file, { set: MLP.set, seed: SEED, train: SGD, target: 'wgsl' }).trainer;
      const [a, b] = [compile(), compile()];
      const data = batches(MLP, 5);
      for (const x of data.slice(0, 3)) await a.stepAsync(x);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-wgsl-ckpt-'));
      await a.saveAsync(dir);
      await b.stepAsync(data[4]!); // b's GPU copies now differ from a's
      b.load(dir);
      expect(b.counters).toEqual(a.counters);
      for (const x of data.slice(3)) expect(await b.stepAsync(x)).toEqual(await a.stepAsync(x));
      // A synchronous step is refused with the way to go.
      expect(() => a.step(data[0]!)).toThrow(
        'MLP trains on the WGSL target: use await trainer.stepAsync(batch), not step',
      );
    },
  );
});

describe.skipIf(why !== '')('training on WGSL matches C', () => {
  for (const [name, c, train, bounds] of TRAIN_CASES)
    it(`${name}: ${STEPS} updates, the loss of each micro-batch and the final state`, { timeout: 240_000 }, () =>
      withinBounds(name, c, 'wgsl', train, bounds),
    );

  it('a 1 % larger learning rate on the WGSL side breaks the bounds', { timeout: 120_000 }, async () => {
    const sgd = await compare(MLP, SGD, { ...SGD, lr: SGD.lr! * 1.01 });
    const adamw = await compare(MLP, ADAMW, { ...ADAMW, lr: ADAMW.lr! * 1.01 });
    console.log(`1 % lr: SGD ${sgd.state.toExponential(1)}, AdamW ${adamw.state.toExponential(1)}`);
    expect(sgd.state).toBeGreaterThan(SGD_BOUNDS.state);
    expect(adamw.state).toBeGreaterThan(ADAM_BOUNDS.state);
  });
});

/** Dropout alone: with SGD at lr 1 and one sample, a step moves w by -2·mask·x exactly (p = 0.5). */
const DROPOUT = `
import { Dropout } from "std/nn"

model Drop(n = 256, p_drop = 0.5) {
  param w: f32[n] = ones()
  drop = Dropout(p_drop)

  fn forward(x: f32[B, n]) -> f32[B, n] {
    return drop(x) * w
  }

  fn loss(x: f32[B, n]) -> f32[] {
    return sum(forward(x))
  }

  train {
    optimizer = sgd(lr = 1.0)
  }
}
`;

describe.skipIf(why !== '')('dropout on WGSL', () => {
  it(
    'draws the masks of C bit for bit (Philox keyed by the seed and the step), a new one each step',
    { timeout: 120_000 },
    async () => {
      const c = compileTrainer(DROPOUT, { seed: SEED }).trainer;
      const w = compileTrainer(DROPOUT, { seed: SEED, target: 'wgsl' }).trainer;
      const x = new Tensor(
        'f32',
        Float32Array.from({ length: 256 }, (_, i) => 1 + i / 256),
        [1, 256],
      );
      const masks: string[] = [];
      let before = Float32Array.from(c.state().get('w')!.data as ArrayLike<number>);
      for (let s = 0; s < 3; s++) {
        const want = c.step({ x });
        const got = await w.stepAsync({ x });
        expect(got.loss).toBe(want.loss);
        const cw = Float32Array.from(c.state().get('w')!.data as ArrayLike<number>);
        const gw = Float32Array.from((await w.stateAsync()).get('w')!.data as ArrayLike<number>);
        expect(new Uint32Array(gw.buffer)).toEqual(new Uint32Array(cw.buffer));
        const mask = Array.from(cw, (v, i) => (v === before[i] ? '0' : '1')).join('');
        const kept = mask.split('').filter((b) => b === '1').length;
        expect(kept).toBeGreaterThan(90);
        expect(kept).toBeLessThan(166);
        masks.push(mask);
        before = cw;
      }
      expect(new Set(masks).size).toBe(3);
    },
  );
});
