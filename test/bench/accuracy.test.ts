// bench/accuracy.ts's pieces on a small MLP trained a few steps on iris: a quantized
// variant evaluated on the f32 checkpoint scores as the f32 model does on weights quantized
// and dequantized here (an independent float64 quantizer), the sizes agree with a count of
// the tensors each compiled variant binds, and a 2:4 fine-tune keeps the magnitude mask of the
// f32 weights (computed here) while the weights move.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Subject,
  type Variant,
  compileVariant,
  evaluate,
  openSplit,
  sizeOf,
  train,
} from '../../bench/accuracy-lib.js';
import { writeTensors } from '../../src/api/safetensors.js';
import { parseQuantName } from '../../src/ir/quantize.js';
import { maskedParam } from '../../src/ir/sparsity.js';
import type { HostTensor } from '../../src/ir/value.js';
import { readSafetensorsFile } from '../../src/runtime/safetensors.js';
import { fromHost } from '../../src/runtime/tensor.js';

const SOURCE = `import { relu } from "std/act"
import { cross_entropy } from "std/loss"
import { Linear } from "std/nn"

model Tiny(hidden = 32) {
  fc1 = Linear(4, hidden)
  fc2 = Linear(hidden, 64)
  fc3 = Linear(64, 3)

  fn forward(images: f32[B, 4]) -> (logits: f32[B, 3]) {
    return fc3(relu(fc2(relu(fc1(images)))))
  }

  fn loss(images: f32[B, 4], labels: i32[B]) -> f32[] {
    return cross_entropy(forward(images), labels)
  }
}
`;

const subject: Subject = { source: SOURCE, set: {}, seed: 0 };
const adam = (steps: number) => ({
  optimizer: 'adam' as const,
  lr: 0.01,
  steps,
  batch: 16,
  schedule: 'constant' as const,
});
const f32: Variant = { name: 'f32' };
const int8: Variant = { name: 'int8', quantize: ['all=int8'] };
const int4: Variant = { name: 'int4', quantize: ['all=int4:16', 'fc1=int4'] };
const s24 = { fc2: '2:4', fc3: '2:4' };
const block = { fc2: 'block = 16, density = 0.5' };

let dir: string;
let base: string;
let split: ReturnType<typeof openSplit>['split'];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-accuracy-'));
  split = openSplit(subject, 'iris', 16, 0.3).split;
  base = await train(subject, f32, undefined, split(), adam(30), path.join(dir, 'f32'));
}, 300_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const params = (file: string): Map<string, HostTensor> =>
  new Map([...readSafetensorsFile(file).tensors].filter(([k]) => !k.includes(':')));

const rint = (x: number): number => {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** Symmetric quantize-then-dequantize of N rows of K in groups of g (float64, scale rounded to f32). */
function fakeQuant(w: Float64Array, N: number, K: number, qmax: number, g: number): Float64Array {
  const out = new Float64Array(w.length);
  for (let at = 0; at < N * K; at += g) {
    let m = 0;
    for (let i = at; i < at + g; i++) m = Math.max(m, Math.abs(w[i]!));
    const s = Math.fround(m / qmax);
    for (let i = at; i < at + g; i++)
      out[i] = s === 0 ? 0 : Math.fround(Math.max(-qmax, Math.min(qmax, rint(w[i]! / s))) * s);
  }
  return out;
}

describe('bench/accuracy pieces', () => {
  it('a quantized variant of the f32 checkpoint scores as its dequantized weights in f32', () => {
    const plain = evaluate(compileVariant(subject, f32, base), split());
    const cases: [Variant, number, (K: number) => number][] = [
      [int8, 127, (K) => K],
      [int4, 7, (K) => (K === 4 ? 4 : 16)],
    ];
    for (const [v, qmax, group] of cases) {
      const q = evaluate(compileVariant(subject, v, base), split());
      const deq = new Map(
        [...params(base)].map(([k, t]) => {
          if (t.shape.length < 2) return [k, fromHost(t)];
          const [N, K] = t.shape as [number, number];
          return [k, fromHost({ ...t, data: fakeQuant(t.data, N, K, qmax, group(K)) })];
        }),
      );
      const file = path.join(dir, `${v.name}-dequantized.safetensors`);
      writeTensors(file, Object.fromEntries(deq));
      const d = evaluate(compileVariant(subject, f32, file), split());
      expect(Math.abs(q.loss - d.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(d.loss));
      expect(q.accuracy).toBe(d.accuracy);
      // The quantization itself shows in the loss.
      expect(q.loss).not.toBe(plain.loss);
    }
  }, 300_000);

  it('sizes agree with the bytes of the tensors each compiled variant binds', () => {
    const variants: Variant[] = [
      f32,
      { name: 'bf16', precision: 'bf16' },
      int8,
      int4,
      { name: '2:4', sparse: s24 },
      { name: 'block', sparse: block },
    ];
    const sizes = new Map<string, number>();
    for (const v of variants) {
      const c = compileVariant(subject, v, base);
      const quantized = new Set([...c.weights.keys()].map((k) => parseQuantName(k)?.path));
      let bytes = 0;
      for (const [k, t] of c.weights) {
        const n = t.data.length;
        const mask = c.weights.get(`sparse:mask:${k}`);
        if (parseQuantName(k)) bytes += n * (t.dtype === 'i8' ? 1 : 4);
        else if (maskedParam(k) !== undefined || quantized.has(k)) continue;
        else if (mask && v.sparse?.[k.split('.')[0]!] === '2:4') {
          const kept = mask.data.reduce((a, x) => a + x, 0);
          expect(kept).toBe(n / 2);
          // Values and a 2-bit index each; where compile() holds the weight as its 2:4 values and
          // metadata, those are tensors of their own (counted as such), and the dense one is unbound.
          if (!c.weights.has(`${k}:2of4.values`)) bytes += 4 * kept + (2 * kept) / 8;
        } else if (mask) {
          // 16×16 blocks held as a block table: its values and i32 index are tensors of their
          // own (counted as such), and the dense weight is unbound.
          expect([...c.weights.keys()]).toEqual(expect.arrayContaining([`${k}:bsr16.index`, `${k}:bsr16.values`]));
        } else bytes += (v.precision === 'bf16' && t.shape.length >= 2 ? 2 : 4) * n;
      }
      const size = sizeOf(c.lowered[0]!, c.weights, v);
      expect(size.bytes, v.name).toBe(bytes);
      sizes.set(v.name, size.bytes);
      c.model.dispose();
    }
    // 4·(4·32 + 32 + 32·64 + 64 + 64·3 + 3) bytes of f32, counted by hand.
    expect(sizes.get('f32')).toBe(4 * 2467);
  }, 300_000);

  it('a 2:4 fine-tune keeps the magnitude mask of the f32 weights', async () => {
    const v: Variant = { name: '2:4, fine-tuned', sparse: s24, finetune: true };
    const ft = await train(subject, v, base, split(), adam(10), path.join(dir, 'ft'));
    const before = params(base);
    const after = params(ft);
    let moved = 0;
    for (const k of ['fc2.w', 'fc3.w']) {
      const w0 = before.get(k)!.data;
      const w1 = after.get(k)!.data;
      for (let g = 0; g < w0.length; g += 4) {
        // The two largest |w| of each group of four (ties: the lower index) are kept.
        const order = [0, 1, 2, 3].sort((a, b) => Math.abs(w0[g + b]!) - Math.abs(w0[g + a]!) || a - b);
        for (const i of order.slice(2)) expect(w1[g + i]).toBe(0);
        for (const i of order.slice(0, 2)) if (w1[g + i] !== w0[g + i]) moved++;
      }
    }
    expect(moved).toBeGreaterThan(0);
    // Its weights evaluate the same with and without the annotations (the zeros are stored).
    const a = evaluate(compileVariant(subject, v, ft), split());
    const b = evaluate(compileVariant(subject, f32, ft), split());
    expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(1e-6 * Math.abs(b.loss));
  }, 300_000);
});
