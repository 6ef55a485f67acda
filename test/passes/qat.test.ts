// Quantization-aware training (src/passes/qat.ts). Checked against a float64 quantize-dequantize
// written here (scales rounded to f32 as src/ir/quantize.ts stores them, round half to even on
// the float64 quotient and difference): the fake-quantized weights, on the interpreter and in
// C, bit for bit, symmetric and asymmetric, on seeded weights and on weights placed one f32
// step either side of a rounding midpoint (where rounding the f32 quotient would go the other
// way); the STE: the QAT gradient is the plain gradient evaluated at the fake-quantized
// weights (the same numbers, on the interpreter), and PyTorch's gradient of
// `w + (fq(w) - w).detach()`; one C train step moves the weights by exactly that gradient,
// and the trained weights' inference with real quantized weights is the QAT forward at them;
// a param with no policy and `--qat` is an error.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { compileTrainer } from '../../src/api/train.js';
import { Builder } from '../../src/ir/build.js';
import { dimConstValue } from '../../src/ir/dims.js';
import { evaluate } from '../../src/ir/interp.js';
import type { QuantSpec } from '../../src/ir/quantize.js';
import type { HostTensor } from '../../src/ir/value.js';
import type { QuantRule } from '../../src/passes/pass.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { fakeQuantize } from '../../src/passes/qat.js';
import { fromHost } from '../../src/runtime/tensor.js';
import { tempDir } from '../api/helpers.js';
import { CBatch, runAndCompare } from '../kernels/c-harness.js';
import { runTorchBatch, torchSuite } from '../oracle/torch-harness.js';

/** Round half to even. */
const rne = (x: number): number => {
  const f = Math.floor(x);
  return x - f < 0.5 ? f : x - f > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
};

/** The test's own fq: w (N rows of K) quantized to `s` and dequantized, in float64 (scales and the product in f32). */
export function fq64(w: ArrayLike<number>, N: number, K: number, s: QuantSpec): Float64Array {
  const Q = s.dtype === 'int8' ? 127 : 7;
  const g = s.group ?? K;
  const out = new Float64Array(N * K);
  for (let at = 0; at < N * K; at += g) {
    const xs = Array.from({ length: g }, (_, i) => w[at + i]!);
    // The asymmetric range holds 0 (src/ir/quantize.ts), so a constant group keeps its value.
    const [lo, hi] = s.symmetric ? [Math.min(...xs), Math.max(...xs)] : [Math.min(...xs, 0), Math.max(...xs, 0)];
    const sc = Math.fround(s.symmetric ? Math.max(-lo, hi) / Q : (hi - lo) / (2 * Q + 1));
    const z = s.symmetric || sc === 0 ? 0 : Math.max(-Q - 1, Math.min(Q, rne(-lo / sc) - Q - 1));
    xs.forEach((x, i) => {
      const q = Math.max(s.symmetric ? -Q : -Q - 1, Math.min(Q, sc === 0 ? 0 : rne(x / sc) + z));
      out[at + i] = Math.fround((q - z) * sc);
    });
  }
  return out;
}

const bits = new DataView(new ArrayBuffer(4));
/** The f32 `k` steps from f32 `x`. */
function f32Step(x: number, k: number): number {
  bits.setFloat32(0, x);
  bits.setInt32(0, bits.getInt32(0) + (x < 0 ? -k : k));
  return bits.getFloat32(0);
}

/**
 * N rows of K f32 values: seeded ones, and in every row after the first, from position 8 on,
 * values at a rounding midpoint (k + 1/2)·scale of the row's scale (its first value sets it)
 * and one and two f32 steps either side.
 */
function hardWeights(N: number, K: number, s: QuantSpec, seed: number): Float64Array {
  const Q = s.dtype === 'int8' ? 127 : 7;
  let x = seed;
  const next = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const w = Float64Array.from({ length: N * K }, () => Math.fround(next() * 0.2));
  for (let n = 1; n < N; n++) {
    const row = n * K;
    w[row] = Math.fround(0.37 + n / 64);
    const sc = Math.fround(w[row]! / Q);
    for (let i = 8; i < K; i++) {
      const k = (i % (Q - 1)) - Math.floor(Q / 2);
      w[row + i] = f32Step(Math.fround((k + 0.5) * sc), (i % 5) - 2);
    }
  }
  return w;
}

const host = (shape: number[], data: Float64Array): HostTensor => ({ dtype: 'f32', shape, data });

/** The graph of fq(w) for a [N, K] param `w`. */
function fqGraph(N: number, K: number, s: QuantSpec) {
  const b = new Builder();
  const w = b.param('w', 'f32', [N, K], 'param', { fn: 'zeros', args: {} });
  return b.graph('fq', { y: fakeQuantize(b, w, s) });
}

const SPECS: [string, number, number, QuantSpec][] = [
  ['int8 per channel', 4, 40, { dtype: 'int8', symmetric: true }],
  ['int8 groups of 16', 3, 64, { dtype: 'int8', group: 16, symmetric: true }],
  ['int4 groups of 32', 4, 96, { dtype: 'int4', group: 32, symmetric: true }],
  ['int4 groups of 128', 3, 256, { dtype: 'int4', group: 128, symmetric: true }],
  ['int8 asymmetric', 4, 40, { dtype: 'int8', symmetric: false }],
  ['int4 groups of 32 asymmetric', 3, 64, { dtype: 'int4', group: 32, symmetric: false }],
  ['int4 groups of 1 asymmetric (every group constant)', 3, 16, { dtype: 'int4', group: 1, symmetric: false }],
];

describe('fake quantization against a float64 quantize-dequantize', () => {
  const graphs = SPECS.map(([, N, K, s]) => fqGraph(N, K, s));
  const batch = CBatch.build(graphs, { header: 'qat tests' });
  it.each(SPECS.map((c, i) => [...c, i] as const))('%s: interpreter and C, bit for bit', (_, N, K, s, i) => {
    const w = hardWeights(N, K, s, 11 + i);
    const want = fq64(w, N, K, s);
    const params = new Map([['w', host([N, K], w)]]);
    const ref = evaluate(graphs[i]!, { inputs: new Map(), params, dims: new Map() }).outputs.get('y')!;
    const wrong = [...want].flatMap((v, j) =>
      Object.is(v + 0, ref.data[j]! + 0) ? [] : [`${j}: ${ref.data[j]} ≠ ${v}`],
    );
    expect(wrong).toEqual([]);
    // Groups of 1: each weight is its own group's range, and comes back within a step of it.
    if (s.group === 1) want.forEach((v, j) => expect(v).toBeCloseTo(w[j]!, 5));
    const c = runAndCompare(batch, i, { params, tol: { rtol: 0, atol: 0 } });
    expect(c.problems).toEqual([]);
  });

  it('the midpoints are hard: rounding the f32 quotient gets some of them wrong', () => {
    const [, N, K, s] = SPECS[0]!;
    const w = hardWeights(N, K, s, 11);
    const want = fq64(w, N, K, s);
    let differ = 0;
    for (let n = 0; n < N; n++) {
      const sc = Math.fround(Math.max(...Array.from({ length: K }, (_, i) => Math.abs(w[n * K + i]!))) / 127);
      for (let i = 0; i < K; i++)
        if (Math.fround(rne(Math.fround(w[n * K + i]! / sc)) * sc) !== want[n * K + i]) differ++;
    }
    expect(differ).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// The STE

const dir = tempDir('qat');
const MLP = `import { relu } from "std/act"
import { cross_entropy } from "std/loss"
import { Linear } from "std/nn"

model MLP(pixels = 6, hidden1 = 16, hidden2 = 8, classes = 3) {
  @quantize(int8)
  fc1 = Linear(pixels, hidden1)
  @quantize(int8, group = 8, scheme = asym)
  fc2 = Linear(hidden1, hidden2)
  fc3 = Linear(hidden2, classes)

  fn forward(images: f32[B, pixels]) -> (logits: f32[B, classes]) {
    return fc3(relu(fc2(relu(fc1(images)))))
  }

  fn loss(images: f32[B, pixels], labels: i32[B]) -> f32[] {
    return cross_entropy(forward(images), labels)
  }
}
`;
const file = path.join(dir, 'mlp.fm');
fs.writeFileSync(file, MLP);
/** fc1 and fc2 by their hints (int8 per channel; asymmetric int8 in groups of 8), fc3 by a rule (int4 per channel). */
const RULES: QuantRule[] = [{ path: 'fc3', spec: { dtype: 'int4', symmetric: true } }];
const SPEC_OF: Record<string, QuantSpec> = {
  'fc1.w': { dtype: 'int8', symmetric: true },
  'fc2.w': { dtype: 'int8', group: 8, symmetric: false },
  'fc3.w': RULES[0]!.spec as QuantSpec,
};
const B = 5;
const inputs = new Map<string, HostTensor>([
  [
    'images',
    host(
      [B, 6],
      Float64Array.from({ length: B * 6 }, (_, i) => Math.fround(Math.sin(i * 1.7) * 2)),
    ),
  ],
  ['labels', { dtype: 'i32', shape: [B], data: Float64Array.of(0, 2, 1, 1, 0) }],
]);
const lowered = lowerModel(file, { fns: ['loss'] }, true)[0]!;

/** Seeded weights (a sine of the index, rows of different sizes). */
function weights(): Map<string, HostTensor> {
  return new Map(
    lowered.params.map((p, j) => {
      const shape = p.shape.map((d) => dimConstValue(d)!);
      const n = shape.reduce((a, c) => a * c, 1);
      const data = Float64Array.from({ length: n }, (_, i) =>
        Math.fround(Math.sin(i * 0.61 + j) * (0.3 + (i % 7) / 10)),
      );
      return [p.path, host(shape, data)];
    }),
  );
}

/** The weights with every quantized one replaced by its fake-quantized value (fqGraph's). */
function fakeQuantized(w: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  return new Map(
    [...w].map(([k, t]) => {
      const s = SPEC_OF[k];
      if (!s) return [k, t];
      const params = new Map([['w', t]]);
      const g = fqGraph(t.shape[0]!, t.shape[1]!, s);
      return [k, evaluate(g, { inputs: new Map(), params, dims: new Map() }).outputs.get('y')!];
    }),
  );
}

/** The loss: the first output. */
const lossOf = (m: ReadonlyMap<string, HostTensor>): number => [...m.values()][0]!.data[0]!;

const grads = (qat: boolean, params: ReadonlyMap<string, HostTensor>) => {
  const g = runPipeline(lowered, { target: 'reference', mode: 'grad', quantize: RULES, qat }).graph;
  return evaluate(g, { inputs, params, dims: new Map() }).outputs;
};

describe('the straight-through estimator', () => {
  const w = weights();
  const got = grads(true, w);
  const plainAtFq = grads(false, fakeQuantized(w));

  it('the QAT loss and gradients are the plain ones at the fake-quantized weights, bit for bit', () => {
    expect([...got.keys()]).toEqual([...plainAtFq.keys()]);
    for (const [k, t] of got) expect([k, [...t.data]]).toEqual([k, [...plainAtFq.get(k)!.data]]);
    // ...and not the plain ones at the f32 weights.
    const plain = grads(false, w);
    expect(lossOf(got)).not.toBe(lossOf(plain));
  });

  it('one C train step (SGD, lr 1) moves each weight by its STE gradient', () => {
    const sgd = { optimizer: 'sgd', lr: 1, momentum: 0, weightDecay: 0, schedule: 'constant', clip: 0 } as const;
    const c = compileTrainer(file, { quantize: RULES, qat: true, train: sgd });
    const before = c.trainer.state();
    for (const [k, t] of w) before.set(k, t);
    c.trainer.restore(before, c.trainer.counters);
    const r = c.trainer.step(Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)])));
    expect(r.loss).toBeCloseTo(lossOf(got), 5);
    const after = c.trainer.state();
    for (const [k, t] of w) {
      const g = got.get(`grad.${k}`)!.data;
      const moved = after.get(k)!.data.map((v, i) => t.data[i]! - v);
      for (let i = 0; i < g.length; i++) expect(moved[i]!).toBeCloseTo(g[i]!, 5);
    }
    // The trained weights' inference with real quantized weights (derived again after the step,
    // runtime/quantized-weights.ts) is the QAT forward at them.
    const trained = new Map([...w.keys()].map((k) => [k, after.get(k)!]));
    const inference = c.trainer.evaluate(Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)])));
    expect(Math.abs(inference - lossOf(grads(true, trained)))).toBeLessThan(1e-6 * Math.abs(inference));
    expect(Math.abs(inference - lossOf(grads(false, trained)))).toBeGreaterThan(1e-4);
  });

  const torch = torchSuite('QAT gradients through w + (fq(w) - w).detach()');
  describe.skipIf(torch.skipWhy !== '')(torch.title, () => {
    it('the loss and every gradient', () => {
      const extraPython = fs.readFileSync(path.join(import.meta.dirname, 'qat_torch.py'), 'utf8');
      const specs = Object.fromEntries(
        Object.entries(SPEC_OF).map(([k, s]) => [k, [s.dtype, s.group ?? 0, s.symmetric]]),
      );
      const [r] = runTorchBatch([
        {
          model: 'qat_mlp',
          config: { pixels: 6, hidden1: 16, hidden2: 8, classes: 3, specs: JSON.stringify(specs) },
          weights: w,
          inputs,
          params: lowered.params.map((p) => p.path),
          extraPython,
        },
      ]);
      if (r instanceof Error) throw r;
      expect(r!.loss).toBeCloseTo(lossOf(got), 5);
      for (const p of lowered.params) {
        const mine = got.get(`grad.${p.path}`)!.data;
        const theirs = r!.grads.get(`grad.${p.path}`)!.data;
        for (let i = 0; i < mine.length; i++)
          expect(Math.abs(mine[i]! - theirs[i]!)).toBeLessThan(1e-5 + 1e-3 * Math.abs(theirs[i]!));
      }
    });
  });

  it('--qat with no weight to quantize is an error', () => {
    expect(() =>
      runPipeline(lowered, { target: 'reference', mode: 'grad', qat: true, quantize: [{ path: 'all', spec: 'none' }] }),
    ).toThrow(/no weight has a quantization policy/);
  });
});
