// Training on a GPU target against the same steps on C, shared by the WGSL and CUDA tests
// (test/wgsl/train.test.ts, test/cuda/train-*.test.ts): the MLP and the CNN at small dims,
// SGD with Nesterov momentum and AdamW with clipping, from the same seeded weights on the same
// batches. The gaps are the loss and gradient norm of each micro-batch relative to C's, and
// ‖state_C − state_GPU‖₂ / ‖state_C‖₂ per param and optimizer tensor; the bounds and why
// they are what they are: test/wgsl/train.test.ts. No vitest: bench/gpu-check.ts runs it too
// (a failed expectation throws).

import { compileTrainer } from '../../src/api/train.js';
import { Tensor } from '../../src/runtime/tensor.js';
import type { TrainOverrides } from '../../src/runtime/schedule.js';
import type { StepResult, Trainer } from '../../src/runtime/trainer.js';

export const SEED = 7;
export const STEPS = 5;

export interface Case {
  readonly file: string;
  readonly set: Readonly<Record<string, number>>;
  readonly images: readonly number[];
  readonly classes: number;
}

export const MLP: Case = {
  file: 'models/mlp.fm',
  set: { pixels: 16, hidden1: 32, hidden2: 16, classes: 4 },
  images: [4, 16],
  classes: 4,
};
// size 16 and width 8: fc1's int8 groups of 128 need 4·width·(size/8)² to be a multiple of 128.
export const CNN: Case = {
  file: 'models/cnn.fm',
  set: { channels: 1, size: 16, width: 8, hidden: 16 },
  images: [4, 1, 16, 16],
  classes: 10,
};

export const SGD: TrainOverrides = { optimizer: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, schedule: 'constant' };
export const ADAMW: TrainOverrides = {
  optimizer: 'adamw',
  lr: 0.01,
  weightDecay: 0.01,
  schedule: 'constant',
  clip: 1,
};

/** Seeded batches (an LCG: the same numbers for both targets). */
export function batches(c: Case, n: number): Record<string, Tensor>[] {
  let r = 12345;
  const rnd = (): number => (r = (Math.imul(r, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const size = c.images.reduce((a, b) => a * b, 1);
  const B = c.images[0]!;
  return Array.from({ length: n }, () => ({
    images: new Tensor('f32', Float32Array.from({ length: size }, rnd), [...c.images]),
    labels: new Tensor(
      'i32',
      Int32Array.from({ length: B }, () => Math.floor(rnd() * c.classes)),
      [B],
    ),
  }));
}

/** ‖a − b‖₂ / ‖a‖₂ of each persistent tensor (params and optimizer state). */
function stateGap(a: Trainer, b: Map<string, { data: ArrayLike<number | bigint> }>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [path, t] of a.state()) {
    const u = b.get(path)!.data;
    let gap = 0;
    let norm = 0;
    for (let i = 0; i < t.data.length; i++) {
      const x = Number(t.data[i]!);
      gap += (x - Number(u[i]!)) ** 2;
      norm += x * x;
    }
    out.set(path, norm > 0 ? Math.sqrt(gap / norm) : Math.sqrt(gap));
  }
  return out;
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), 1e-30);

/** Bounds on the gaps: per micro-batch loss and gradient norm (relative), and per tensor (stateGap). */
export interface Bounds {
  readonly loss: number;
  readonly state: number;
}
export const SGD_BOUNDS: Bounds = { loss: 1e-5, state: 1e-4 };
export const ADAM_BOUNDS: Bounds = { loss: 1e-4, state: 1e-3 };

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`training on a GPU against C: ${what}`);
}

/**
 * `STEPS` updates on C and on `target` (with `gpuTrain`, default `train`); the largest gap of
 * the steps and of the final state. The GPU's weights must be ahead of the host's until a sync.
 */
export async function compareWithC(
  c: Case,
  target: 'wgsl' | 'cuda',
  train: TrainOverrides,
  gpuTrain = train,
): Promise<{ steps: number; state: number }> {
  const ct = compileTrainer(c.file, { set: c.set, seed: SEED, train }).trainer;
  const gt = compileTrainer(c.file, { set: c.set, seed: SEED, train: gpuTrain, target }).trainer;
  const gaps: number[] = [];
  for (const b of batches(c, STEPS * (train.accumulate ?? 1))) {
    const want: StepResult = ct.step(b);
    const got = await gt.stepAsync(b);
    check(got.applied === want.applied, `step applied ${got.applied}, on C ${want.applied}`);
    gaps.push(rel(want.loss, got.loss));
    if (want.applied) gaps.push(rel(want.gradNorm!, got.gradNorm!));
  }
  const counters = [gt.counters, ct.counters].map((x) => JSON.stringify(x));
  check(counters[0] === counters[1], `counters ${counters[0]}, on C ${counters[1]}`);
  // The GPU is ahead of the host copies until a sync.
  let stale = '';
  try {
    gt.state();
  } catch (e) {
    stale = (e as Error).message;
  }
  check(/await trainer.sync\(\) first/.test(stale), `state() before a sync said '${stale}'`);
  const gap = stateGap(ct, await gt.stateAsync());
  check(
    [...gap.keys()].some((k) => k.startsWith('opt:')),
    'no optimizer state compared',
  );
  return { steps: Math.max(...gaps), state: Math.max(...gap.values()) };
}

/** The cases compared on every GPU target: [name, model, train overrides, bounds]. */
export const TRAIN_CASES: readonly (readonly [string, Case, TrainOverrides, Bounds])[] = [
  ['the MLP, SGD with Nesterov momentum', MLP, SGD, SGD_BOUNDS],
  ['the MLP, AdamW with clipping, accumulating 2', MLP, { ...ADAMW, accumulate: 2 }, ADAM_BOUNDS],
  ['the CNN, SGD with Nesterov momentum', CNN, SGD, SGD_BOUNDS],
  ['the CNN, AdamW with clipping', CNN, ADAMW, ADAM_BOUNDS],
];

/** compareWithC, logged; throws when a gap is not within `bounds`; the gaps seen. */
export async function withinBounds(
  name: string,
  c: Case,
  target: 'wgsl' | 'cuda',
  train: TrainOverrides,
  bounds: Bounds,
): Promise<string> {
  const gap = await compareWithC(c, target, train);
  const seen = `${gap.steps.toExponential(1)} (steps), ${gap.state.toExponential(1)} (state)`;
  console.log(`${name}: largest gaps C vs ${target.toUpperCase()} ${seen}`);
  check(
    gap.steps < bounds.loss && gap.state < bounds.state,
    `gaps ${seen} over the bounds ${bounds.loss}, ${bounds.state}`,
  );
  return `gaps to C ${seen}`;
}
