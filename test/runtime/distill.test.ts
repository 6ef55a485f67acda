// Distillation in the trainer (compileTrainer's `distill`): the loss of one step
// and the update it makes against an independent computation (float64 here, and PyTorch's
// F.kl_div and F.cross_entropy where /usr/bin/python3 has torch) on logits from the float64
// interpreter; alpha = 0 trains as plain training bit for bit (dropout on: the student's
// forward is shared with its loss, not run twice); mismatched teachers and students without
// logits are CompileErrors before anything runs; on WGSL the teacher and the step run on the
// GPU with the losses of the C run.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { compileTrainer } from '../../src/api/train.js';
import { evaluate } from '../../src/ir/interp.js';
import type { HostTensor } from '../../src/ir/value.js';
import { seededWeights } from '../../src/runtime/compile.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { writeSafetensorsFile } from '../../src/runtime/safetensors.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { tempDir, thrown } from '../api/helpers.js';
import { smallModelFile } from '../models/small-models.js';
import { PYTHON, torchSuite } from '../oracle/torch-harness.js';

const B = 4;
const STUDENT = { pixels: 12, hidden1: 16, hidden2: 8, p_drop: 0 };
const TEACHER = { pixels: 12, hidden1: 32, hidden2: 16, p_drop: 0 };
const SGD = { optimizer: 'sgd', lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0, schedule: 'constant' } as const;
const dir = tempDir('distill');

/** Seeded weights of `file` (seed 7) written to a safetensors file; both returned. */
function teacherWeights(file: string): { path: string; values: Map<string, HostTensor> } {
  const values = seededWeights(lowerModel(file, { fns: ['forward'] })[0]!, 7, new Map());
  const p = path.join(dir, `${path.basename(path.dirname(file))}.safetensors`);
  writeSafetensorsFile(p, values);
  return { path: p, values };
}

function batch(k: number): Record<string, Tensor> {
  const images = Float32Array.from({ length: B * 12 }, (_, i) => Math.cos(i * (k + 1.3)));
  return { images: new Tensor('f32', images, [B, 12]), labels: new Tensor('i32', Int32Array.of(k % 10, 1, 7, 3), [B]) };
}

/** forward's logits on the float64 interpreter: rows of numbers. */
function logits64(file: string, params: ReadonlyMap<string, HostTensor>, images: Tensor): number[][] {
  const g = lowerModel(file, { fns: ['forward'] })[0]!.graph;
  const x: HostTensor = { dtype: 'f32', shape: images.dims, data: images.data as Float32Array };
  const z = evaluate(g, { inputs: new Map([['images', x]]), params, dims: new Map() }, { precision: 'float64' });
  const out = [...z.outputs.values()][0]!;
  const c = out.shape.at(-1)!;
  return Array.from({ length: B }, (_, i) => Array.from(out.data.slice(i * c, (i + 1) * c) as Float64Array, Number));
}

interface Oracle {
  loss: number;
  /** d loss / d student logits. */
  grad: number[][];
}

/** The distillation loss and its gradient in float64, written out. */
function oracle64(s: number[][], t: number[][], y: number[], alpha: number, T: number): Oracle {
  const logSoftmax = (r: number[]): number[] => {
    const m = Math.max(...r);
    const l = Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0));
    return r.map((v) => v - m - l);
  };
  let kl = 0;
  let ce = 0;
  const grad = s.map((row, i) => {
    const lq = logSoftmax(row.map((v) => v / T));
    const lp = logSoftmax(t[i]!.map((v) => v / T));
    const ls = logSoftmax(row);
    kl += lp.reduce((a, v, c) => a + Math.exp(v) * (v - lq[c]!), 0);
    ce -= ls[y[i]!]!;
    // d/ds of alpha·T²·KL/B is alpha·T·(q − p)/B; of (1 − alpha)·CE/B is (1 − alpha)·(softmax − onehot)/B.
    return row.map(
      (_, c) =>
        (alpha * T * (Math.exp(lq[c]!) - Math.exp(lp[c]!)) + (1 - alpha) * (Math.exp(ls[c]!) - (c === y[i] ? 1 : 0))) /
        s.length,
    );
  });
  return { loss: (alpha * T * T * kl + (1 - alpha) * ce) / s.length, grad };
}

const TORCH = `
import json, sys, torch
import torch.nn.functional as F
d = json.load(sys.stdin)
s = torch.tensor(d["s"], dtype=torch.float64, requires_grad=True)
t = torch.tensor(d["t"], dtype=torch.float64)
y = torch.tensor(d["y"])
a, T = d["alpha"], d["T"]
loss = a * T * T * F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean") + (1 - a) * F.cross_entropy(s, y)
loss.backward()
print(json.dumps({"loss": loss.item(), "grad": s.grad.tolist()}))
`;

function oracleTorch(s: number[][], t: number[][], y: number[], alpha: number, T: number): Oracle {
  const r = spawnSync(PYTHON, ['-c', TORCH], { input: JSON.stringify({ s, t, y, alpha, T }), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`torch: ${r.stderr}`);
  return JSON.parse(r.stdout) as Oracle;
}

describe('distillation: one step against an independent computation', () => {
  const file = smallModelFile('mlp', STUDENT);
  const tfile = smallModelFile('mlp', TEACHER);
  const tw = teacherWeights(tfile);
  const torch = torchSuite('the distillation loss of one step');

  /** One SGD step of the student; what it reported and did, and the oracle's inputs. */
  function oneStep(alpha: number, T: number) {
    const { trainer } = compileTrainer(file, {
      seed: 3,
      train: SGD,
      distill: { teacher: tfile, teacherWeights: tw.path, alpha, temperature: T },
    });
    const before = trainer.state();
    const b = batch(0);
    const r = trainer.step(b);
    const s = logits64(file, before, b.images!);
    const t = logits64(tfile, tw.values, b.images!);
    const y = Array.from(b.labels!.data as Int32Array);
    const db = Array.from(trainer.state().get('fc3.b')!.data as Float32Array).map(
      (v, c) => v - (before.get('fc3.b')!.data[c] as number),
    );
    return { r, s, t, y, db };
  }

  /** fc3.b's update is −lr · Σ_rows d loss / d logits (logits = h·wᵀ + b). */
  function check(got: ReturnType<typeof oneStep>, want: Oracle): void {
    expect(Math.abs(got.r.loss - want.loss)).toBeLessThan(2e-6 * Math.abs(want.loss));
    const wantDb = want.grad[0]!.map((_, c) => -SGD.lr * want.grad.reduce((a, row) => a + row[c]!, 0));
    for (let c = 0; c < wantDb.length; c++) expect(Math.abs(got.db[c]! - wantDb[c]!)).toBeLessThan(1e-6);
  }

  for (const [alpha, T] of [
    [0.5, 2],
    [0.9, 4],
    [1, 1],
  ] as const)
    it(`alpha ${alpha}, T ${T}: the loss and the update match float64 formulas`, () => {
      const got = oneStep(alpha, T);
      check(got, oracle64(got.s, got.t, got.y, alpha, T));
    });

  it.skipIf(torch.skipWhy !== '')(torch.title, () => {
    const got = oneStep(0.7, 3);
    const want = oracleTorch(got.s, got.t, got.y, 0.7, 3);
    check(got, want);
    // The float64 formulas of this file and torch agree (so both check the same thing).
    expect(Math.abs(oracle64(got.s, got.t, got.y, 0.7, 3).loss - want.loss)).toBeLessThan(1e-12);
  });
});

describe('distillation: alpha = 0 is plain training', () => {
  for (const precision of ['f32', 'bf16'] as const)
    it(`bit for bit over 4 updates with dropout, AdamW, clipping and accumulation 2 (${precision})`, () => {
      const file = smallModelFile('mlp', { ...STUDENT, p_drop: 0.3 });
      const tfile = smallModelFile('mlp', { ...TEACHER, p_drop: 0.3 });
      const train = { optimizer: 'adamw', lr: 0.01, clip: 0.5, accumulate: 2 } as const;
      const plain = compileTrainer(file, { seed: 5, train, precision }).trainer;
      const taught = compileTrainer(file, { seed: 5, train, precision, distill: { teacher: tfile, alpha: 0 } }).trainer;
      for (let k = 0; k < 8; k++) {
        const [p, d] = [plain.step(batch(k)), taught.step(batch(k))];
        expect(d).toEqual(p);
      }
      const [sp, sd] = [plain.state(), taught.state()];
      expect([...sd.keys()]).toEqual([...sp.keys()]);
      for (const [k, v] of sp) expect(Buffer.from(sd.get(k)!.data.buffer)).toEqual(Buffer.from(v.data.buffer));
    });
});

describe('distillation: teachers that do not fit are errors before training', () => {
  const file = smallModelFile('mlp', STUDENT);
  it('logits of another shape', () => {
    const other = smallModelFile('mlp', { ...TEACHER, classes: 12 });
    const e = thrown(() => compileTrainer(file, { distill: { teacher: other } }));
    expect(e.name).toBe('CompileError');
    expect(e.message).toMatch(
      /teacher's logits .* are f32\[B, 12\], the student's \(MLP\) f32\[B, 10\]: their shapes must match/,
    );
  });
  it('an input of another shape', () => {
    const other = smallModelFile('mlp', { ...TEACHER, pixels: 16 });
    const e = thrown(() => compileTrainer(file, { distill: { teacher: other } }));
    expect(e.message).toMatch(/teacher's input `images` is f32\[B, 16\], the student's `images` is f32\[B, 12\]/);
  });
  it('a student without logits, or whose loss does not use them', () => {
    const model = (fwd: string): string => `import { cross_entropy } from "std/loss"
model M(classes = 10) {
  param w: f32[12, classes] = zeros()
  ${fwd}
  fn loss(images: f32[B, 12], labels: i32[B]) -> f32[] { return cross_entropy(einsum("bi,ic->bc", images, w), labels) }
}`;
    const scalar = model('fn forward(images: f32[B, 12]) -> f32[] { return sum(einsum("bi,ic->bc", images, w)) }');
    expect(thrown(() => compileTrainer(scalar, { distill: { teacher: file } })).message).toMatch(
      /distillation needs the student's logits: `forward`'s first output, with a class axis last, but it is a scalar/,
    );
    const unused = model(
      'fn forward(images: f32[B, 12]) -> (logits: f32[B, classes]) { return einsum("bi,ic->bc", images, 2.0 * w) }',
    );
    const e = thrown(() => compileTrainer(unused, { distill: { teacher: file } }));
    expect(e.message).toMatch(/needs `loss` to compute its hard loss from `forward`'s logits/);
  });
  it('bad weights of the terms', () => {
    expect(thrown(() => compileTrainer(file, { distill: { teacher: file, alpha: 1.5 } })).message).toMatch(
      /alpha must be in \[0, 1\]/,
    );
    expect(thrown(() => compileTrainer(file, { distill: { teacher: file, temperature: 0 } })).message).toMatch(
      /temperature must be a positive number/,
    );
    expect(fs.existsSync(file)).toBe(true);
  });
});

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the WGSL distillation test: ${why}`);

describe.skipIf(why !== '')(`distillation on WGSL${why ? ` — SKIPPED because ${why}` : ''}`, () => {
  it('the teacher and the step run on the GPU with the losses of the C run', { timeout: 120_000 }, async () => {
    const file = smallModelFile('mlp', STUDENT);
    const tfile = smallModelFile('mlp', TEACHER);
    const distill = { teacher: tfile, alpha: 0.6, temperature: 2.5 };
    const c = compileTrainer(file, { seed: 2, train: SGD, distill }).trainer;
    const w = compileTrainer(file, { seed: 2, train: SGD, distill, target: 'wgsl' }).trainer;
    for (let k = 0; k < 3; k++) {
      const [a, b] = [c.step(batch(k)), await w.stepAsync(batch(k))];
      expect(Math.abs(b.loss - a.loss)).toBeLessThan(1e-5 * Math.abs(a.loss));
    }
    expect(() => w.step(batch(3))).toThrow(/use await trainer.stepAsync/);
  });
});
