// The train-step pass (src/passes/train/): the graph it makes (inputs, outputs, updates) for
// each optimizer and for accumulation; one step on the reference interpreter against the
// update written out by hand here from PyTorch's documented formulas (SGD with momentum and
// Nesterov, Adam with L2 decay, AdamW, clipping, accumulation) on a least-squares problem
// whose gradient is known in closed form; dropout keyed by the step input; the C plan of the
// train step matching the interpreter over several steps; and @checkpoint lowering the arena
// peak of swa_lm's train step.

import { describe, expect, it } from 'vitest';
import { compileTrainer } from '../../src/api/train.js';
import { memoryReport } from '../../src/api/module.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { Builder } from '../../src/ir/build.js';
import { type Graph, liveNodes } from '../../src/ir/graph.js';
import { initParam } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { type Module, NO_HINTS, type TrainConfig } from '../../src/ir/module.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { GRAD_NORM, STEP_INPUTS, statePath } from '../../src/passes/train/index.js';
import { generate, piped, seededWeights } from '../../src/runtime/compile.js';
import { biasCorrections, defaultTrainConfig, learningRate, overrideTrain } from '../../src/runtime/schedule.js';
import { fromHost } from '../../src/runtime/tensor.js';
import { SMALL, smallModelFile } from '../models/small-models.js';

// ---------------------------------------------------------------- a least-squares model

const [N, I, O] = [4, 2, 3];
/** loss = Σ (x·W + b − y)² / N: dL/dW = 2/N · xᵀ r, dL/db = 2/N · Σ_rows r, with r = x·W + b − y. */
function leastSquares(cfg: TrainConfig): Module {
  const b = new Builder();
  const x = b.input('x', 'f32', [N, I]);
  const y = b.input('y', 'f32', [N, O]);
  const w = b.param('w', 'f32', [I, O]);
  const bias = b.param('b', 'f32', [O]);
  const r = b.sub(b.add(b.einsum('ni,io->no', x, w), b.expand(bias, [N, O])), y);
  const loss = b.div(b.sum(b.mul(r, r), [0, 1]), N);
  const g = b.graph('loss', { loss });
  const params = liveNodes(g).flatMap((n) => (n.op === 'param' ? [n.args] : []));
  return { model: 'LS', graph: g, params, functions: ['loss'], hints: NO_HINTS, train: cfg };
}

const X = [0.5, -1, 1.5, 2, -0.5, 0.25, 1, 1];
const Y = [1, 0, -1, 0.5, 2, 0, -1, 1, 0, 0.5, 0.5, 0.5];
const W0 = [0.1, -0.2, 0.3, 0.4, 0.5, -0.6];
const B0 = [0.05, -0.05, 0.1];

/** Plain-JS gradients of the least-squares loss at (W, b). */
function grads(W: number[], B: number[]): { gw: number[]; gb: number[]; loss: number } {
  const gw = new Array<number>(I * O).fill(0);
  const gb = new Array<number>(O).fill(0);
  let loss = 0;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      let v = B[o]! - Y[n * O + o]!;
      for (let i = 0; i < I; i++) v += X[n * I + i]! * W[i * O + o]!;
      loss += (v * v) / N;
      gb[o]! += (2 * v) / N;
      for (let i = 0; i < I; i++) gw[i * O + o]! += (2 * v * X[n * I + i]!) / N;
    }
  return { gw, gb, loss };
}

/** One step of `cfg` written out from PyTorch's docs, for both params (w decays, b does not). */
function expectedStep(cfg: TrainConfig, t: number, state: Map<string, number[]>, W: number[], B: number[]) {
  const { gw, gb } = grads(W, B);
  const norm = Math.sqrt([...gw, ...gb].reduce((s, g) => s + g * g, 0));
  const coef = cfg.clip === undefined ? 1 : Math.min(1, cfg.clip / (norm + 1e-6));
  const lr = learningRate(cfg.optimizer.lr, cfg.schedule, t);
  const o = cfg.optimizer;
  const one = (name: string, p: number[], g0: number[], decays: boolean): number[] =>
    p.map((pv, k) => {
      const wd = decays ? o.weightDecay : 0;
      let g = g0[k]! * coef;
      const get = (s: string): number => state.get(`${s}:${name}`)?.[k] ?? 0;
      const put = (s: string, v: number): void => {
        const a = state.get(`${s}:${name}`) ?? new Array<number>(p.length).fill(0);
        a[k] = v;
        state.set(`${s}:${name}`, a);
      };
      if (o.kind === 'sgd') {
        g += wd * pv;
        if (o.momentum !== 0) {
          const buf = o.momentum * get('momentum') + g;
          put('momentum', buf);
          g = o.nesterov ? g + o.momentum * buf : buf;
        }
        return pv - lr * g;
      }
      let q = pv;
      if (o.kind === 'adam') g += wd * pv;
      else q = pv * (1 - lr * wd);
      const m = o.betas[0] * get('exp_avg') + (1 - o.betas[0]) * g;
      const v = o.betas[1] * get('exp_avg_sq') + (1 - o.betas[1]) * g * g;
      put('exp_avg', m);
      put('exp_avg_sq', v);
      const [bc1, bc2] = [1 - o.betas[0] ** (t + 1), 1 - o.betas[1] ** (t + 1)];
      return q - (lr / bc1) * (m / (Math.sqrt(v) / Math.sqrt(bc2) + o.eps));
    });
  return { w: one('w', W, gw, true), b: one('b', B, gb, false), norm };
}

/** Zeros for every param of `g` that `params` lacks (the optimizer state). */
function addState(g: Graph, params: Map<string, HostTensor>, dims: ReadonlyMap<string, number>): void {
  for (const n of liveNodes(g))
    if (n.op === 'param' && !params.has(n.args.path)) params.set(n.args.path, initParam(n.args, dims, 0));
}

/** Runs `steps` steps of the train-step graph on the interpreter, carrying its updates. */
function interpSteps(cfg: TrainConfig, steps: number) {
  const g = runPipeline(leastSquares(cfg), { target: 'reference', mode: 'train' }).graph;
  let params = new Map<string, HostTensor>([
    ['w', hostTensor('f32', [I, O], W0)],
    ['b', hostTensor('f32', [O], B0)],
  ]);
  addState(g, params, new Map());
  const out: { w: number[]; b: number[]; norm: number }[] = [];
  for (let t = 0; t < steps; t++) {
    const [bc1, bc2] = biasCorrections(cfg.optimizer, t);
    const lr = learningRate(cfg.optimizer.lr, cfg.schedule, t);
    const inputs = new Map<string, HostTensor>([
      ['x', hostTensor('f32', [N, I], X)],
      ['y', hostTensor('f32', [N, O], Y)],
      [STEP_INPUTS.step, hostTensor('i64', [], [t])],
      [STEP_INPUTS.lr, hostTensor('f32', [], [lr])],
      [STEP_INPUTS.stepSize, hostTensor('f32', [], [lr / bc1])],
      [STEP_INPUTS.bias2Sqrt, hostTensor('f32', [], [Math.sqrt(bc2)])],
    ]);
    for (const k of [...inputs.keys()]) if (!g.inputs.some((n) => n.args.name === k)) inputs.delete(k);
    const r = evaluate(g, { inputs, params, dims: new Map() });
    params = new Map([...params, ...r.updates]);
    out.push({
      w: [...params.get('w')!.data],
      b: [...params.get('b')!.data],
      norm: r.outputs.get(GRAD_NORM)!.data[0]!,
    });
  }
  return { g, out };
}

const CONFIGS: Record<string, TrainConfig> = {
  'SGD, momentum 0.9, Nesterov, weight decay': overrideTrain(defaultTrainConfig(), {
    optimizer: 'sgd',
    lr: 0.1,
    momentum: 0.9,
    nesterov: true,
    weightDecay: 0.01,
  }),
  'Adam, L2 decay, cosine with warmup, clip 0.5': overrideTrain(defaultTrainConfig(), {
    optimizer: 'adam',
    lr: 0.05,
    weightDecay: 0.02,
    schedule: 'cosine',
    warmup: 2,
    scheduleSteps: 6,
    minLr: 0.001,
    clip: 0.5,
  }),
  'AdamW, betas (0.8, 0.9), linear schedule': overrideTrain(defaultTrainConfig(), {
    optimizer: 'adamw',
    lr: 0.05,
    betas: [0.8, 0.9],
    weightDecay: 0.1,
    schedule: 'linear',
    warmup: 1,
    scheduleSteps: 6,
  }),
};

describe('the train-step graph', () => {
  it('takes the step, the learning rate and bias corrections as inputs and updates params and state', () => {
    const adamw = CONFIGS['AdamW, betas (0.8, 0.9), linear schedule']!;
    const g = runPipeline(leastSquares(adamw), { target: 'reference', mode: 'train' }).graph;
    expect(g.inputs.map((n) => `${n.args.name}#${n.args.index}:${n.type.dtype}`)).toEqual([
      'x#0:f32',
      'y#1:f32',
      'train.step#2:i64',
      'train.lr#3:f32',
      'train.step_size#4:f32',
      'train.bias2_sqrt#5:f32',
    ]);
    expect(g.outputs.map((o) => o.name)).toEqual(['loss', GRAD_NORM]);
    expect(g.updates.map((u) => u.path).sort()).toEqual(
      ['w', 'b', ...['exp_avg', 'exp_avg_sq'].flatMap((s) => [statePath(s, 'w'), statePath(s, 'b')])].sort(),
    );
    const sgd = runPipeline(leastSquares(overrideTrain(adamw, { optimizer: 'sgd', momentum: 0 })), {
      target: 'reference',
      mode: 'train',
    }).graph;
    expect(sgd.inputs.map((n) => n.args.name)).toEqual(['x', 'y', STEP_INPUTS.step, STEP_INPUTS.lr]);
    expect(sgd.updates.map((u) => u.path).sort()).toEqual(['b', 'w']);
  });

  it('accumulates: the accumulate step adds into grad_acc; the step averages, updates and zeroes it', () => {
    const cfg = overrideTrain(CONFIGS['SGD, momentum 0.9, Nesterov, weight decay']!, { accumulate: 2 });
    const m = leastSquares(cfg);
    const acc = runPipeline(m, { target: 'reference', mode: 'accumulate' }).graph;
    expect(acc.inputs.map((n) => n.args.name)).toEqual(['x', 'y', STEP_INPUTS.step]);
    expect(acc.updates.map((u) => u.path).sort()).toEqual([statePath('grad_acc', 'b'), statePath('grad_acc', 'w')]);
    const step = runPipeline(m, { target: 'reference', mode: 'train' }).graph;
    const params = new Map<string, HostTensor>([
      ['w', hostTensor('f32', [I, O], W0)],
      ['b', hostTensor('f32', [O], B0)],
      [statePath('grad_acc', 'w'), hostTensor('f32', [I, O])],
      [statePath('grad_acc', 'b'), hostTensor('f32', [O])],
      [statePath('momentum', 'w'), hostTensor('f32', [I, O])],
      [statePath('momentum', 'b'), hostTensor('f32', [O])],
    ]);
    const inputs = new Map<string, HostTensor>([
      ['x', hostTensor('f32', [N, I], X)],
      ['y', hostTensor('f32', [N, O], Y)],
      [STEP_INPUTS.step, hostTensor('i64', [], [0])],
    ]);
    const a = evaluate(acc, { inputs, params, dims: new Map() });
    const after = new Map([...params, ...a.updates]);
    const { gw } = grads(W0, B0);
    expect(
      [...after.get(statePath('grad_acc', 'w'))!.data].map((v, k) => v - gw[k]!).every((d) => Math.abs(d) < 1e-6),
    ).toBe(true);
    inputs.set(STEP_INPUTS.lr, hostTensor('f32', [], [0.1]));
    const s = evaluate(step, { inputs, params: after, dims: new Map() });
    // Both micro-batches were the same batch: the average is the gradient itself.
    const want = expectedStep(cfg, 0, new Map(), W0, B0);
    [...s.updates.get('w')!.data].forEach((v, k) => expect(v).toBeCloseTo(want.w[k]!, 5));
    expect([...s.updates.get(statePath('grad_acc', 'w'))!.data]).toEqual(new Array(I * O).fill(0));
  });

  for (const [name, cfg] of Object.entries(CONFIGS))
    it(`${name}: 6 steps on the interpreter follow the update written out by hand`, () => {
      const { out } = interpSteps(cfg, 6);
      const state = new Map<string, number[]>();
      let [W, B] = [W0, B0];
      for (let t = 0; t < 6; t++) {
        const e = expectedStep(cfg, t, state, W, B);
        const got = out[t]!;
        e.w.forEach((v, k) => expect(got.w[k]!, `step ${t} w[${k}]`).toBeCloseTo(v, 5));
        e.b.forEach((v, k) => expect(got.b[k]!, `step ${t} b[${k}]`).toBeCloseTo(v, 5));
        expect(got.norm).toBeCloseTo(e.norm, 5);
        // Carry the interpreter's values (f32 inputs) so rounding does not accumulate.
        [W, B] = [got.w, got.b];
      }
    });

  it('keys dropout by the step input: a new mask per step, the same mask for the same step', () => {
    const r = lowerFile(smallModelFile('mlp'), { fn: 'loss', training: true });
    if (!r.ok) throw new Error('mlp does not lower');
    const g = piped({ ...r.lowered, train: overrideTrain(r.lowered.train!, { lr: 0 }) }, { mode: 'train' }).graph;
    const randoms = liveNodes(g).filter((n) => n.op === 'random');
    expect(randoms.length).toBeGreaterThan(0);
    expect(randoms.every((n) => n.inputs[0]?.op === 'input' && n.inputs[0].args.name === STEP_INPUTS.step)).toBe(true);
    const dims = new Map([['B', 3]]);
    const params = seededWeights(r.lowered, 1, dims);
    addState(g, params, dims);
    const lossAt = (step: number): number => {
      const inputs = new Map<string, HostTensor>([
        [
          'images',
          hostTensor(
            'f32',
            [3, 64],
            Array.from({ length: 192 }, (_, i) => Math.sin(i)),
          ),
        ],
        ['labels', hostTensor('i32', [3], [1, 2, 3])],
        [STEP_INPUTS.step, hostTensor('i64', [], [step])],
        [STEP_INPUTS.lr, hostTensor('f32', [], [0])],
      ]);
      return evaluate(g, { inputs, params, dims }).outputs.get('output')!.data[0]!;
    };
    expect(lossAt(0)).toBe(lossAt(0));
    expect(lossAt(1)).not.toBe(lossAt(0));
    expect(lossAt(2 ** 32 + 1)).not.toBe(lossAt(1));
  });

  it('the C train step follows the interpreter over 5 steps (mlp, AdamW, clip, accumulate 2)', () => {
    const file = smallModelFile('mlp', { pixels: 12, hidden1: 16, hidden2: 8, p_drop: 0 });
    const train = { optimizer: 'adamw', lr: 0.01, clip: 0.5, accumulate: 2 } as const;
    const { trainer, modules } = compileTrainer(file, { train, seed: 3 });
    const [stepG, accG] = [modules[0]!.graph, modules[1]!.graph];
    const dims = new Map([['B', 4]]);
    let state = trainer.state();
    const cfg = trainer.config;
    for (let micro = 0; micro < 10; micro++) {
      const batch = new Map<string, HostTensor>([
        [
          'images',
          hostTensor(
            'f32',
            [4, 12],
            Array.from({ length: 48 }, (_, i) => Math.cos(i * (micro + 1))),
          ),
        ],
        ['labels', hostTensor('i32', [4], [micro % 10, 1, 2, 3])],
      ]);
      const applies = micro % 2 === 1;
      const t = (micro - 1) / 2;
      const inputs = new Map(batch);
      inputs.set(STEP_INPUTS.step, hostTensor('i64', [], [micro]));
      if (applies) {
        const lr = learningRate(cfg.optimizer.lr, cfg.schedule, t);
        const [bc1, bc2] = biasCorrections(cfg.optimizer, t);
        inputs.set(STEP_INPUTS.lr, hostTensor('f32', [], [lr]));
        inputs.set(STEP_INPUTS.stepSize, hostTensor('f32', [], [lr / bc1]));
        inputs.set(STEP_INPUTS.bias2Sqrt, hostTensor('f32', [], [Math.sqrt(bc2)]));
      }
      const ref = evaluate(applies ? stepG : accG, { inputs, params: state, dims });
      const c = trainer.step(Object.fromEntries([...batch].map(([k, v]) => [k, fromHost(v)])));
      expect(c.loss).toBeCloseTo(ref.outputs.get('output')!.data[0]!, 4);
      if (applies) expect(c.gradNorm!).toBeCloseTo(ref.outputs.get(GRAD_NORM)!.data[0]!, 4);
      state = trainer.state();
      for (const [path, t2] of ref.updates) {
        const got = state.get(path)!;
        const worst = Math.max(...t2.data.map((v, k) => Math.abs(v - got.data[k]!) / (1e-3 + Math.abs(v))));
        expect(worst, `${path} after micro-step ${micro}`).toBeLessThan(1e-3);
      }
    }
  }, 60_000);

  it("@checkpoint lowers the arena peak of swa_lm's train step (and updates are in place)", () => {
    // Eight layers: the activations of all but the layer being differentiated are what
    // recomputation saves (at B=1, T=256 and the full size the gradients, which clipping needs
    // all at once, outweigh them: docs/training.md).
    const r = lowerFile(smallModelFile('swa_lm', { ...SMALL.swa_lm!, layers: 8 }), { fn: 'loss', training: true });
    if (!r.ok) throw new Error('swa_lm does not lower');
    const m = { ...r.lowered, train: overrideTrain(r.lowered.train!, { accumulate: 1 }) };
    const dims = new Map([
      ['B', 2],
      ['T', 128],
    ]);
    const plan = (mod: Module) => generate(piped(mod, { mode: 'train' })).plan;
    const peak = (mod: Module) => memoryReport(plan(mod), dims).peakBytes;
    expect(peak(m)).toBeLessThan(peak({ ...m, hints: NO_HINTS }) * 0.6);
    // Every param and state update is written by its kernel into the persistent buffer.
    expect(plan(m).updates).toEqual([]);
  });
});
