// int8 activations (src/passes/quantize-act.ts, src/kernels/gemm-int8.ts): the calibration's
// ranges against the reference interpreter on the same batches; the mlp and the cnn (every
// weight int8 per channel) compiled with it on C against the reference interpreter running
// the same int8 graph (the integers exact, so the outputs equal up to f32 rounding), the
// quantization error against f32 reported apart; the C source picks the CPU's int8 dot
// product (vpdpbusd with AVX-512 VNNI).

import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { calibrate, rangeOf } from '../../src/api/calibrate.js';
import { compileModel, lowerModel } from '../../src/api/compile.js';
import { type Graph, liveNodes } from '../../src/ir/graph.js';
import { randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { pruneWeights } from '../../src/ir/sparsity.js';
import type { HostTensor } from '../../src/ir/value.js';
import { type Calibration, modelHash } from '../../src/passes/calibration.js';
import { MAX_INT8_K } from '../../src/passes/quantize-act.js';
import type { QuantRule } from '../../src/passes/pass.js';
import { seededWeights } from '../../src/runtime/compile.js';
import { C_FLAGS } from '../../src/runtime/cache.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { smallModelFile } from '../models/small-models.js';
import { CACHE_DIR, assembly, countOp } from './c-harness.js';

const INT8: QuantRule[] = [{ path: 'all', spec: { dtype: 'int8', symmetric: true } }];

/** `count` batches of B samples for graph `g`'s inputs, seeded. */
function batchesFor(g: Graph, B: number, count: number): Map<string, HostTensor>[] {
  const dims = new Map(g.dims.map((d) => [d, B]));
  return Array.from(
    { length: count },
    (_, i) => new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 7 + i)])),
  );
}

/** The value of the activation that the contraction reading param `weight` multiplies, on the reference interpreter. */
function referenceActivation(file: string, weight: string, batch: Map<string, HostTensor>, seed: number): HostTensor {
  const l = lowerModel(file, { fns: ['forward'] })[0]!;
  const reads = (n: (typeof l.graph.inputs)[number] | ReturnType<typeof liveNodes>[number], path: string): boolean =>
    n.op === 'param' ? n.args.path === path : n.op === 'reshape' && reads(n.inputs[0]!, path);
  const e = liveNodes(l.graph).find((n) => n.op === 'einsum' && reads(n.inputs[1]!, weight))!;
  const g = { ...l.graph, outputs: [{ name: 'x', node: e.inputs[0]! }] };
  const dims = new Map(g.dims.map((d) => [d, batch.values().next().value!.shape[0]!]));
  const params = seededWeights(l, seed, dims);
  pruneWeights(params, l);
  return evaluate(g, { inputs: batch, params, dims }).outputs.get('x')!;
}

const INT4: QuantRule[] = [{ path: 'all', spec: { dtype: 'int4', symmetric: true } }];

// model, batch, rules, some site keys, the number of int8 contractions
const MODELS: [string, number, QuantRule[], string[], number][] = [
  ['mlp', 4, INT8, ['fc1.w', 'fc2.w', 'fc3.w'], 3],
  // int4 per output channel: the nibbles unpacked into the same byte rows.
  ['mlp', 4, INT4, ['fc1.w', 'fc2.w', 'fc3.w'], 3],
  ['cnn', 2, INT8, ['stage1a.conv.w', 'stage2b.conv.w', 'fc1.w', 'fc2.w'], 7],
];

describe('int8 activations on C', () => {
  for (const [model, B, rules, keys, sites] of MODELS)
    it(
      `${model} ${rules[0]!.spec === 'none' ? '' : rules[0]!.spec.dtype}: calibration, then int8 × int8 against the reference`,
      { timeout: 300_000 },
      () => {
        const file = smallModelFile(model);
        const g0 = lowerModel(file, { fns: ['forward'] })[0]!.graph;
        const batches = batchesFor(g0, B, 3);
        const cal = calibrate(file, batches, { quantize: rules, cacheDir: CACHE_DIR, seed: 3 });
        expect(Object.keys(cal.entries)).toEqual(expect.arrayContaining(keys));
        expect(cal).toMatchObject({ format: 'fmc-calibration', method: 'max', batches: 3, samples: 3 * B });
        // Each range is max |x| of the activation over the three batches, as the interpreter computes it.
        for (const k of keys) {
          const want = rangeOf(
            batches.map((b) => Float32Array.from(referenceActivation(file, k, b, 3).data, Math.abs)),
            { kind: 'max' },
          );
          expect(cal.entries[k]!.range, k).toBeCloseTo(want, 5);
          expect(cal.entries[k]!.scale).toBe(Math.fround(cal.entries[k]!.range / 127));
        }
        const compiled = (calibration?: Calibration, quantize = rules) =>
          compileModel(file, {
            fns: ['forward'],
            cacheDir: CACHE_DIR,
            seed: 3,
            quantize,
            ...(calibration ? { calibration: { file: 'calib.json', calibration } } : {}),
          });
        const q8 = compiled(cal);
        const g = q8.modules[0]!.graph;
        const int8 = liveNodes(g).filter((n) => n.op === 'einsum' && n.type.dtype === 'i32');
        expect(int8.length).toBe(sites);
        expect(q8.functions[0]!.source).toContain('fmc_dot8(');
        const inputs = batches[1]!;
        const feeds = Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)]));
        const dims = new Map(g.dims.map((d) => [d, B]));
        const y = toHost(q8.model.run(feeds).logits!);
        const ref = evaluate(g, { inputs, params: q8.weights, dims }).outputs.get('logits')!;
        // The same integers and the same f32 ops after them: equal up to f32 rounding.
        const scale = Math.max(...ref.data.map(Math.abs));
        const worst = Math.max(...y.data.map((v, i) => Math.abs(v - ref.data[i]!))) / scale;
        const exact = y.data.filter((v, i) => v === ref.data[i]).length;
        console.log(
          `${model}: C vs reference, max |Δ| ${worst.toExponential(2)} of max |y|; ${exact}/${y.data.length} equal`,
        );
        expect(worst).toBeLessThan(1e-5);
        // The quantization error itself, against the f32 model and against weight-only int8.
        const yf = toHost(compiled(undefined, [{ path: 'all', spec: 'none' }]).model.run(feeds).logits!).data;
        const yw = toHost(compiled().model.run(feeds).logits!).data;
        const err = (a: Float64Array) => Math.max(...y.data.map((v, i) => Math.abs(v - a[i]!))) / scale;
        console.log(
          `${model} ${rules === INT4 ? 'int4' : 'int8'} weights: int8 activations vs f32 ${(100 * err(yf)).toFixed(2)}%, vs weight-only ${(100 * err(yw)).toFixed(2)}% of max |y|`,
        );
        expect(err(yf)).toBeGreaterThan(0);
        expect(err(yf)).toBeLessThan(0.2);
      },
    );

  it('grouped weights keep f32 activations, with the reason in the file', { timeout: 120_000 }, () => {
    // The cnn's own @quantize(int8, group = 128) on fc1, whose K is 4·16·2·2 = 256 here.
    const file = smallModelFile('cnn', { size: 16, width: 16, hidden: 32 });
    const g0 = lowerModel(file, { fns: ['forward'] })[0]!.graph;
    const cal = calibrate(file, batchesFor(g0, 1, 1), { cacheDir: CACHE_DIR });
    expect(cal.entries).toEqual({});
    expect(cal.skipped['fc1.w']).toMatch(/groups or with a zero point/);
  });

  it('a K whose int8 sums could overflow i32 is a compile error', { timeout: 120_000 }, () => {
    const K = MAX_INT8_K + 1;
    const source = `import { Linear } from "std/nn"
model Wide() {
  @quantize(int8)
  fc = Linear(${K}, 2)
  fn forward(x: f32[B, ${K}]) -> f32[B, 2] { return fc(x) }
}
`;
    const g = lowerModel(source, { fns: ['forward'] })[0]!.graph;
    const calibration: Calibration = {
      format: 'fmc-calibration',
      version: 1,
      model: 'Wide',
      fn: 'forward',
      modelHash: modelHash(g),
      method: 'max',
      batches: 1,
      samples: 1,
      data: '',
      entries: { 'fc.w': { range: 1, scale: Math.fround(1 / 127) } },
      skipped: {},
    };
    expect(K * 127 * 127).toBeGreaterThanOrEqual(2 ** 31);
    expect(() =>
      compileModel(source, { fns: ['forward'], cacheDir: CACHE_DIR, calibration: { file: 'wide.json', calibration } }),
    ).toThrow(/'fc\.w': int8 activations sum K = 133145 products of up to 127·127, which can overflow i32/);
  });

  it('the percentile method takes the nearest rank of |x|', { timeout: 120_000 }, () => {
    const file = smallModelFile('mlp');
    const g0 = lowerModel(file, { fns: ['forward'] })[0]!.graph;
    const batches = batchesFor(g0, 8, 2);
    const cal = calibrate(file, batches, { cacheDir: CACHE_DIR, method: 'percentile=99', data: 'random' });
    // fc1 (the only @quantize weight) multiplies the images themselves.
    const all = batches.flatMap((b) => [...b.get('images')!.data].map((v) => Math.abs(Math.fround(v))));
    all.sort((a, b) => a - b);
    expect(Object.keys(cal.entries)).toEqual(['fc1.w']);
    expect(cal.entries['fc1.w']!.range).toBe(all[Math.ceil(0.99 * all.length) - 1]);
    expect(cal.method).toBe('percentile=99');
    expect(cal.skipped).toEqual({});
  });

  it(
    'the kernel uses the CPU integer dot product (vpdpbusd with AVX-512 VNNI), and the portable loop agrees',
    { timeout: 180_000 },
    () => {
      const file = smallModelFile('mlp');
      const g0 = lowerModel(file, { fns: ['forward'] })[0]!.graph;
      const batches = batchesFor(g0, 3, 1);
      const cal = calibrate(file, batches, { cacheDir: CACHE_DIR });
      const build = (flags: readonly string[]) =>
        compileModel(file, {
          fns: ['forward'],
          cacheDir: CACHE_DIR,
          flags,
          calibration: { file: 'c.json', calibration: cal },
        });
      const c = build(C_FLAGS);
      const source = c.functions[0]!.source;
      const [vnniAsm, plainAsm] = [assembly(source), assembly(source, '-DFMC_NO_VNNI')];
      const ops = ['vpdpbusd', 'vpdpwssd', 'vpmaddwd', 'vpmullw'];
      console.log(
        `int8 kernel: ${ops.map((o) => `${o} ${countOp(vnniAsm, o)}`).join(', ')}; with -DFMC_NO_VNNI: ${ops.map((o) => `${o} ${countOp(plainAsm, o)}`).join(', ')}`,
      );
      if (/\bavx512_vnni\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8')))
        expect(countOp(vnniAsm, 'vpdpbusd')).toBeGreaterThan(0);
      else expect(ops.some((o) => countOp(vnniAsm, o) > 0)).toBe(true);
      expect(ops.slice(1).some((o) => countOp(plainAsm, o) > 0)).toBe(true);
      // Both libraries compute the same integers: the same outputs, bit for bit.
      const feeds = Object.fromEntries([...batches[0]!].map(([k, t]) => [k, fromHost(t)]));
      const plain = build([...C_FLAGS, '-DFMC_NO_VNNI']);
      expect(toHost(plain.model.run(feeds).logits!).data).toEqual(toHost(c.model.run(feeds).logits!).data);
    },
  );
});
