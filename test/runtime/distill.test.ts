// Distillation in the trainer (compileTrainer's `distill`): the loss of one step and the
// update it makes against an independent computation (float64 here, and PyTorch's F.kl_div
// and F.cross_entropy where /usr/bin/python3 has torch) on logits from the float64
// interpreter, for [B, C] logits (the MLP) and [B, T, V] ones (a token model); alpha = 0
// trains as plain training bit for bit (dropout on: the student's forward is shared with its
// loss, not run twice; in f32 and bf16); mismatched teachers and students without logits are
// CompileErrors before anything runs; on WGSL the teacher and the step run on the GPU with
// the losses of the C run.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { compileTrainer } from '../../src/api/train.js';
import { evaluate } from '../../src/ir/interp.js';
import type { HostTensor } from '../../src/ir/value.js';
import { pruneWeights } from '../../src/ir/sparsity.js';
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

/**
 * Seeded weights of `file` (seed 7), pruned by its `@sparse` hints as the trainer prunes a
 * teacher's (the MLP's fc2 is 2:4), written to a safetensors file; both returned.
 */
function teacherWeights(file: string): { path: string; values: Map<string, HostTensor> } {
  const l = lowerModel(file, { fns: ['forward'] })[0]!;
  const values = seededWeights(l, 7, new Map());
  pruneWeights(values, l);
  const p = path.join(dir, `${path.basename(file)}-${path.basename(path.dirname(file))}.safetensors`);
  writeSafetensorsFile(p, values);
  return { path: p, values };
}

function batch(k: number): Record<string, Tensor> {
  const images = Float32Array.from({ length: B * 12 }, (_, i) => Math.cos(i * (k + 1.3)));
  return { images: new Tensor('f32', images, [B, 12]), labels: new Tensor('i32', Int32Array.of(k % 10, 1, 7, 3), [B]) };
}

/** forward's logits on the float64 interpreter (its input `name`), as rows over the last axis. */
function logits64(file: string, params: ReadonlyMap<string, HostTensor>, name: string, x: Tensor): number[][] {
  const g = lowerModel(file, { fns: ['forward'] })[0]!.graph;
  const host = { dtype: x.dtype, shape: x.dims, data: x.data } as HostTensor;
  const z = evaluate(g, { inputs: new Map([[name, host]]), params, dims: new Map() }, { precision: 'float64' });
  const out = [...z.outputs.values()][0]!;
  const c = out.shape.at(-1)!;
  const rows = out.data.length / c;
  return Array.from({ length: rows }, (_, i) => Array.from(out.data.slice(i * c, (i + 1) * c) as Float64Array, Number));
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

/** A student and teacher, the input their forward takes, the labels, and the bias of the student's last layer. */
interface Case {
  readonly file: string;
  readonly tfile: string;
  readonly input: string;
  readonly labels: string;
  readonly bias: string;
  readonly batch: Record<string, Tensor>;
}

/** A token model with [B, T, vocab] logits: the KL averages over B·T rows. */
const tokenModel = (d: number): string => `import { cross_entropy } from "std/loss"
import { Embedding, Linear } from "std/nn"
model Tokens(vocab = 7, d = ${d}) {
  emb = Embedding(vocab, d)
  head = Linear(d, vocab)
  fn forward(tokens: i32[B, T]) -> (logits: f32[B, T, vocab]) { return head(emb(tokens)) }
  fn loss(tokens: i32[B, T], targets: i32[B, T]) -> f32[] { return cross_entropy(forward(tokens), targets) }
}`;

function tokenFile(d: number): string {
  const f = path.join(dir, `tokens-${d}.fm`);
  fs.writeFileSync(f, tokenModel(d));
  return f;
}

const CASES: Readonly<Record<string, Case>> = {
  'the MLP ([B, C] logits)': {
    file: smallModelFile('mlp', STUDENT),
    tfile: smallModelFile('mlp', TEACHER),
    input: 'images',
    labels: 'labels',
    bias: 'fc3.b',
    batch: batch(0),
  },
  'a token model ([B, T, V] logits)': {
    file: tokenFile(4),
    tfile: tokenFile(9),
    input: 'tokens',
    labels: 'targets',
    bias: 'head.b',
    batch: {
      tokens: new Tensor(
        'i32',
        Int32Array.from({ length: 15 }, (_, i) => (i * 5 + 2) % 7),
        [3, 5],
      ),
      targets: new Tensor(
        'i32',
        Int32Array.from({ length: 15 }, (_, i) => (i * 3 + 1) % 7),
        [3, 5],
      ),
    },
  },
};

describe.each(Object.entries(CASES))('distillation: one step against an independent computation, %s', (_, k) => {
  const tw = teacherWeights(k.tfile);
  const torch = torchSuite('the distillation loss of one step');

  /** One SGD step of the student; what it reported and did, and the oracle's inputs. */
  function oneStep(alpha: number, T: number) {
    const { trainer } = compileTrainer(k.file, {
      seed: 3,
      train: SGD,
      distill: { teacher: k.tfile, teacherWeights: tw.path, alpha, temperature: T },
    });
    const before = trainer.state();
    const r = trainer.step(k.batch);
    const s = logits64(k.file, before, k.input, k.batch[k.input]!);
    const t = logits64(k.tfile, tw.values, k.input, k.batch[k.input]!);
    const y = Array.from(k.batch[k.labels]!.data as Int32Array);
    const db = Array.from(trainer.state().get(k.bias)!.data as Float32Array).map(
      (v, c) => v - (before.get(k.bias)!.data[c] as number),
    );
    return { r, s, t, y, db };
  }

  /** The last layer's bias update is −lr · Σ_rows d loss / d logits (logits = h·wᵀ + b). */
  function check(got: ReturnType<typeof oneStep>, want: Oracle): void {
    // Absolute 1e-7 besides: KL = Σ p·(log p − log q) of log-softmaxes of magnitude ~2 in f32
    // (2 · 2⁻²⁴ each), which for a small KL (alpha 1, T 1: 6e-4 here) is more than 2e-6 of it.
    expect(Math.abs(got.r.loss - want.loss)).toBeLessThan(2e-6 * Math.abs(want.loss) + 1e-7);
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
    for (const temperature of [0, 1e300, 1e-300])
      expect(thrown(() => compileTrainer(file, { distill: { teacher: file, temperature } })).message).toBe(
        `distillation: the temperature must be a number from 0.001 to 1000, got ${temperature}`,
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
