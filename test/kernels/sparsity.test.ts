// `@sparse` on the C target: the mlp's fc2 (`@sparse(2:4)`) and `--sparsity` on every weight
// are pruned by magnitude when the weights are bound; the C forward equals the reference
// interpreter's on the pruned weights; and fine-tuning (Adam with weight decay, which would
// move a zero weight) keeps every pruned weight at exactly 0 for 100 steps while the loss
// goes down, with the masks as the reference's pruning computes them and the reference's own
// step graph agreeing with C's on the masked positions.

import { describe, expect, it } from 'vitest';
import { type CompileOptions, compileModel } from '../../src/api/compile.js';
import { compileTrainer, lowerTrainStep } from '../../src/api/train.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { maskPath, sparseMask } from '../../src/ir/sparsity.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';
import { STEP_INPUTS } from '../../src/passes/train/index.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { smallModelFile } from '../models/small-models.js';
import { CACHE_DIR } from './c-harness.js';

const FILE = smallModelFile('mlp', { pixels: 12, hidden1: 16, hidden2: 8, classes: 8, p_drop: 0 });

/** The forward on C against the reference's (same pipeline) on the weights compile bound. */
function checkForward(opts: CompileOptions, masked: readonly string[]): void {
  const compiled = compileModel(FILE, { fns: ['forward'], cacheDir: CACHE_DIR, seed: 5, ...opts });
  for (const p of masked) {
    const [w, mask] = [compiled.weights.get(p)!, compiled.weights.get(maskPath(p))!];
    expect(mask, p).toBeDefined();
    const zeros = mask.data.filter((x) => x === 0).length;
    expect(zeros, `${p} is pruned`).toBeGreaterThan(0);
    for (let i = 0; i < w.data.length; i++) if (mask.data[i] === 0) expect(w.data[i], `${p}[${i}]`).toBe(0);
  }
  // The reference runs the same inference passes (fc1's @quantize(int8); no sparsity pass) on
  // the weights compile bound: the pruned ones, and those derived from them.
  const ref = runPipeline(compiled.lowered[0]!, { target: 'reference', mode: 'inference' }).graph;
  const dims = new Map([['B', 3]]);
  const inputs = new Map(ref.inputs.map((n) => [n.args.name, randomInput(n, dims, 9, indexBound(ref, n))]));
  const c = compiled.model.run(Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)])));
  const want = evaluate(ref, { inputs, params: compiled.weights, dims }).outputs;
  for (const o of ref.outputs) {
    const [got, exp] = [toHost(c[o.name]!).data, want.get(o.name)!.data];
    for (let i = 0; i < got.length; i++)
      expect(Math.abs(got[i]! - exp[i]!)).toBeLessThan(1e-5 + 1e-4 * Math.abs(exp[i]!));
  }
}

describe('pruned models on C', () => {
  it("mlp's @sparse(2:4) prunes fc2 only, and C's forward equals the reference on the pruned weights", () => {
    checkForward({}, ['fc2.w']);
  }, 60_000);

  it('--sparsity block=4,density=0.5 prunes every weight', () => {
    checkForward({ sparsity: { kind: 'block', block: 4, density: 0.5 } }, ['fc1.w', 'fc2.w', 'fc3.w']);
  }, 60_000);
});

/** Batch `k` of four (the test cycles through four): labels spread over the classes, each image a cosine of its label's frequency. */
function batch(k: number): Map<string, HostTensor> {
  const labels = [0, 1, 2, 3].map((j) => (k + 2 * j) % 8);
  const images = labels.flatMap((c) => Array.from({ length: 12 }, (_, i) => Math.cos((i + 1) * (c + 1) * 0.37)));
  return new Map([
    ['images', hostTensor('f32', [4, 12], images)],
    ['labels', hostTensor('i32', [4], labels)],
  ]);
}
const feeds = (b: Map<string, HostTensor>) => Object.fromEntries([...b].map(([k, v]) => [k, fromHost(v)]));

describe('fine-tuning a pruned mlp on C', () => {
  it('keeps every masked weight at exactly 0 for 100 Adam steps, and the loss goes down', () => {
    const TRAIN = { optimizer: 'adam', lr: 0.03, weightDecay: 0.01, schedule: 'constant' } as const;
    const sparsity = { kind: 'n:m', n: 2, m: 4 } as const;
    const { trainer, modules } = compileTrainer(FILE, { train: TRAIN, seed: 3, sparsity, cacheDir: CACHE_DIR });
    const masked = ['fc1.w', 'fc2.w', 'fc3.w'];
    const start = trainer.state();
    // The masks are the reference's magnitude pruning of the seeded weights (which lowering
    // draws the same way for both): pruned weights are already 0, so recompute from the
    // kept ones, whose magnitudes are distinct, and check the mask is 2:4.
    for (const p of masked) {
      const [w, mask] = [start.get(p)!, start.get(maskPath(p))!];
      expect(Array.from(sparseMask(w.data, w.shape, sparsity)), p).toEqual(Array.from(mask.data));
    }
    // One step of the reference's step graph from the same state agrees with C's on the zeros.
    const { lowered, config } = lowerTrainStep(FILE, { train: TRAIN, sparsity });
    const step = runPipeline({ ...lowered, train: config }, { target: 'reference', mode: 'train' }).graph;
    expect(modules[0]!.graph.updates.length).toBe(step.updates.length);
    const inputs = new Map(batch(0));
    inputs.set(STEP_INPUTS.step, hostTensor('i64', [], [0]));
    inputs.set(STEP_INPUTS.lr, hostTensor('f32', [], [TRAIN.lr]));
    inputs.set(STEP_INPUTS.stepSize, hostTensor('f32', [], [TRAIN.lr / (1 - 0.9)]));
    inputs.set(STEP_INPUTS.bias2Sqrt, hostTensor('f32', [], [Math.sqrt(1 - 0.999)]));
    const ref = evaluate(step, { inputs, params: start, dims: new Map([['B', 4]]) }).updates;
    const losses: number[] = [];
    for (let k = 0; k < 100; k++) {
      losses.push(trainer.step(feeds(batch(k % 4))).loss);
      if (k === 0) {
        const after = trainer.state();
        for (const p of masked) {
          const [got, want] = [after.get(p)!.data, ref.get(p)!.data];
          for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-5);
        }
      }
    }
    const end = trainer.state();
    for (const p of masked) {
      const [w, mask] = [end.get(p)!.data, end.get(maskPath(p))!.data];
      expect(Array.from(mask), `${p}: the mask is unchanged`).toEqual(Array.from(start.get(maskPath(p))!.data));
      let moved = 0;
      for (let i = 0; i < w.length; i++) {
        if (mask[i] === 0) expect(w[i], `${p}[${i}] after 100 steps`).toBe(0);
        else if (w[i] !== start.get(p)!.data[i]) moved++;
      }
      expect(moved, `${p}: the kept weights trained`).toBeGreaterThan(0);
      for (const s of ['exp_avg', 'exp_avg_sq']) {
        const st = end.get(`opt:${s}:${p}`)!.data;
        for (let i = 0; i < st.length; i++) if (mask[i] === 0) expect(st[i], `${s} of ${p}[${i}]`).toBe(0);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    // Measured: the mean over the four batches goes from 1.95 to 0.05.
    expect(mean(losses.slice(-4))).toBeLessThan(0.25 * mean(losses.slice(0, 4)));
  }, 60_000);
});

describe('the masked update', () => {
  it('zeroes a masked weight that is not 0 (a state restored from elsewhere) in one step', () => {
    const TRAIN = { optimizer: 'sgd', lr: 0.1, schedule: 'constant' } as const;
    const { trainer } = compileTrainer(FILE, { train: TRAIN, seed: 3, cacheDir: CACHE_DIR });
    const state = trainer.state();
    const [w, mask] = [state.get('fc2.w')!, state.get(maskPath('fc2.w'))!];
    const dirty = w.data.map((x, i) => (mask.data[i] === 0 ? 0.5 : x));
    state.set('fc2.w', hostTensor(w.dtype, w.shape, Array.from(dirty)));
    trainer.restore(state, { micro: 0, updates: 0 });
    trainer.step(feeds(batch(0)));
    const after = trainer.state().get('fc2.w')!.data;
    for (let i = 0; i < after.length; i++) if (mask.data[i] === 0) expect(after[i], `fc2.w[${i}]`).toBe(0);
  }, 60_000);
});
