// Loss scaling (src/passes/train/scale.ts) on the reference interpreter: the graph a static and
// a dynamic scale make; GradScaler's update rule through its test vectors (interval 3 from
// (65536, 0): clean (65536, 1), clean (65536, 2), clean (131072, 0), Inf (65536, 0)) and its
// overflow guard; a step with an Inf gradient leaves every param and optimizer state tensor
// bit-identical; a static scale gives the unscaled step up to rounding.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import { type Graph, liveNodes } from '../../src/ir/graph.js';
import { initParam } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { type Module, NO_HINTS, type TrainConfig } from '../../src/ir/module.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { GRAD_NORM, STEP_INPUTS, statePath } from '../../src/passes/train/index.js';
import { LOSS_SCALE_INPUT, SCALER_OUTPUTS, SCALER_STATE } from '../../src/passes/train/scale.js';
import { type TrainOverrides, biasCorrections, defaultTrainConfig, overrideTrain } from '../../src/runtime/schedule.js';

/** loss = Σ (x·w)² / 4 over x f32[2, 2], w f32[2, 2], b f32[2] (a bias: no decay). */
function model(cfg: TrainConfig): Module {
  const b = new Builder();
  const x = b.input('x', 'f32', [2, 2]);
  const w = b.param('w', 'f32', [2, 2]);
  const bias = b.param('b', 'f32', [2]);
  const r = b.add(b.einsum('ni,io->no', x, w), b.expand(bias, [2, 2]));
  const loss = b.div(b.sum(b.mul(r, r), [0, 1]), 4);
  const g = b.graph('loss', { loss });
  const params = liveNodes(g).flatMap((n) => (n.op === 'param' ? [n.args] : []));
  return { model: 'M', graph: g, params, functions: ['loss'], hints: NO_HINTS, train: cfg };
}

const ADAM: TrainOverrides = { optimizer: 'adamw', lr: 0.1, weightDecay: 0.1 };
const step = (o: TrainOverrides): Graph =>
  runPipeline(model(overrideTrain(defaultTrainConfig(), { ...ADAM, ...o })), { target: 'reference', mode: 'train' })
    .graph;

/** Every persistent buffer of `g` at its initial value, the weights fixed. */
function initial(g: Graph): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const n of liveNodes(g))
    if (n.op === 'param') out.set(n.args.path, initParam({ ...n.args, dtype: n.type.dtype }, new Map(), 0));
  out.set('w', hostTensor('f32', [2, 2], [0.5, -0.25, 0.75, 1]));
  out.set('b', hostTensor('f32', [2], [0.1, -0.2]));
  return out;
}

/** One step at optimizer step `t` on batch `x`; returns the outputs and the state after it. */
function run(g: Graph, state: Map<string, HostTensor>, x: readonly number[], t: number, scale?: number) {
  const [bc1, bc2] = biasCorrections(overrideTrain(defaultTrainConfig(), ADAM).optimizer, t);
  const inputs = new Map<string, HostTensor>([
    ['x', hostTensor('f32', [2, 2], x)],
    [STEP_INPUTS.step, hostTensor('i64', [], [t])],
    [STEP_INPUTS.lr, hostTensor('f32', [], [0.1])],
    [STEP_INPUTS.stepSize, hostTensor('f32', [], [0.1 / bc1])],
    [STEP_INPUTS.bias2Sqrt, hostTensor('f32', [], [Math.sqrt(bc2)])],
  ]);
  if (scale !== undefined) inputs.set(LOSS_SCALE_INPUT, hostTensor('f32', [], [scale]));
  const r = evaluate(g, { inputs, params: state, dims: new Map() });
  return { outputs: r.outputs, state: new Map([...state, ...r.updates]) };
}

const CLEAN = [1, 2, -1, 0.5];
const scalerOf = (s: ReadonlyMap<string, HostTensor>): [number, number] => [
  s.get(SCALER_STATE.scale)!.data[0]!,
  s.get(SCALER_STATE.tracker)!.data[0]!,
];

describe('loss scaling in the train step', () => {
  it('a static scale is the run-time input train.loss_scale; dynamic adds the scaler state and outputs', () => {
    const plain = step({});
    const fixed = step({ lossScale: 1024 });
    expect(fixed.inputs.map((n) => n.args.name)).toEqual([
      'x',
      LOSS_SCALE_INPUT,
      ...plain.inputs.slice(1).map((n) => n.args.name),
    ]);
    expect(fixed.outputs.map((o) => o.name)).toEqual(plain.outputs.map((o) => o.name));
    // The scale is no constant of the graph.
    expect(liveNodes(fixed).some((n) => n.op === 'full' && n.args.value === 1024)).toBe(false);
    const dyn = step({ lossScale: 'dynamic' });
    expect(dyn.inputs.map((n) => n.args.name)).toEqual(plain.inputs.map((n) => n.args.name));
    expect(dyn.outputs.map((o) => o.name)).toEqual(['loss', GRAD_NORM, SCALER_OUTPUTS.skipped, SCALER_OUTPUTS.scale]);
    expect(dyn.updates.map((u) => u.path).sort()).toEqual(
      [...plain.updates.map((u) => u.path), SCALER_STATE.scale, SCALER_STATE.tracker].sort(),
    );
  });

  it('a static scale gives the unscaled step up to rounding (loss, norm, params, state)', () => {
    const plain = step({});
    const fixed = step({ lossScale: 1000 });
    let [a, b] = [initial(plain), initial(fixed)];
    for (let t = 0; t < 4; t++) {
      const x = CLEAN.map((v) => v * (t + 1));
      const ra = run(plain, a, x, t);
      const rb = run(fixed, b, x, t, 1000);
      for (const name of ['loss', GRAD_NORM])
        expect(rb.outputs.get(name)!.data[0]!).toBeCloseTo(ra.outputs.get(name)!.data[0]!, 5);
      for (const [path, v] of ra.state)
        v.data.forEach((e, k) =>
          expect(Math.abs(rb.state.get(path)!.data[k]! - e), `${path}[${k}] at step ${t}`).toBeLessThan(
            1e-6 * (1 + Math.abs(e)),
          ),
        );
      [a, b] = [ra.state, rb.state];
    }
  });

  it("follows GradScaler's vectors with interval 3, and an Inf gradient skips the step bit-exactly", () => {
    const g = step({ lossScale: 'dynamic', scaleInterval: 3 });
    let s = initial(g);
    expect(scalerOf(s)).toEqual([65536, 0]);
    const want: [number, number][] = [
      [65536, 1],
      [65536, 2],
      [131072, 0],
    ];
    for (const [t, w] of want.entries()) {
      const r = run(g, s, CLEAN, t);
      expect(scalerOf(r.state), `clean step ${t}`).toEqual(w);
      expect(r.outputs.get(SCALER_OUTPUTS.skipped)!.data[0]).toBe(0);
      expect(r.outputs.get(SCALER_OUTPUTS.scale)!.data[0]).toBe(w[0]);
      expect(r.state.get('w')!.data).not.toEqual(s.get('w')!.data);
      s = r.state;
    }
    for (const bad of [Infinity, NaN]) {
      const r = run(g, s, [1, bad, 0, 0], 3);
      expect(r.outputs.get(SCALER_OUTPUTS.skipped)!.data[0]).toBe(1);
      expect(scalerOf(r.state)).toEqual([scalerOf(s)[0] / 2, 0]);
      // toEqual compares numbers with Object.is: bit-identical f32 values (read as float64s).
      for (const path of [
        'w',
        'b',
        ...['exp_avg', 'exp_avg_sq'].flatMap((k) => [statePath(k, 'w'), statePath(k, 'b')]),
      ])
        expect(r.state.get(path)!.data, `${path} after a ${bad} gradient`).toEqual(s.get(path)!.data);
      s = new Map([...s, [SCALER_STATE.scale, r.state.get(SCALER_STATE.scale)!]]);
    }
    // Inf then NaN: 131072 → 65536 → 32768; the next clean step counts from 0 again.
    expect(scalerOf(s)).toEqual([32768, 0]);
    expect(scalerOf(run(g, s, CLEAN, 3).state)).toEqual([32768, 1]);
  });

  it('does not grow the scale past the largest f32 (the tracker restarts)', () => {
    const g = step({ lossScale: 'dynamic', scaleInterval: 1 });
    const s = initial(g);
    s.set(SCALER_STATE.scale, hostTensor('f32', [], [2 ** 127]));
    // Tiny inputs keep the scaled gradients finite.
    const r = run(g, s, [1e-30, 0, 0, 1e-30], 0);
    expect(r.outputs.get(SCALER_OUTPUTS.skipped)!.data[0]).toBe(0);
    expect(scalerOf(r.state)).toEqual([2 ** 127, 0]);
    s.set(SCALER_STATE.scale, hostTensor('f32', [], [2 ** 20]));
    expect(scalerOf(run(g, s, CLEAN, 0).state)).toEqual([2 ** 21, 0]);
  });
});
