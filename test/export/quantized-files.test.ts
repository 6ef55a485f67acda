// Quantized weights saved and loaded as safetensors, and exported from the saved file: `fmc
// compile -o` writes q, scale and zero (the values compile() derives, not the f32 weights they
// replace); load() of the folder runs as compile() does, bit for bit; `fmc export --weights`
// of that file (which holds no f32 source for them) gives one DequantizeLinear per quantized
// weight, and ONNX Runtime runs it with the loaded model's outputs (f32: rtol 1e-4, atol 1e-5).

import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { toOrt } from '../../src/export/ort-tensors.js';
import { load } from '../../src/index.js';
import { randomInput } from '../../src/ir/init.js';
import type { HostTensor } from '../../src/ir/value.js';
import { readSafetensorsFile } from '../../src/runtime/safetensors.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import * as fs from 'node:fs';
import { CACHE, fmc, tempDir } from '../api/helpers.js';
import { compare, OP_TOL } from '../kernels/c-harness.js';
import { decodeModel } from './onnx-decode.js';

const DIR = tempDir('quantized-files');
const MODULE = path.join(DIR, 'mlp');
const WEIGHTS = path.join(MODULE, 'weights.safetensors');
// fc1 by its @quantize(int8); fc2 and fc3 by the rules.
const RULES = ['--quantize', 'fc2=int4:32:asym', '--quantize', 'fc3=int8:asym'];
const QUANTIZE = [
  { path: 'fc2', spec: { dtype: 'int4', group: 32, symmetric: false } },
  { path: 'fc3', spec: { dtype: 'int8', symmetric: false } },
] as const;

const direct = () => compileModel('models/mlp.fm', { fns: ['forward'], seed: 3, cacheDir: CACHE, quantize: QUANTIZE });

beforeAll(() => {
  const r = fmc('compile', 'models/mlp.fm', '-o', MODULE, '--fn', 'forward', '--seed', '3', ...RULES);
  expect(r.code, r.err).toBe(0);
});

describe('quantized weights in safetensors', () => {
  it('holds q, scale and zero as compile() derives them, and not the f32 weights', () => {
    const saved = readSafetensorsFile(WEIGHTS).tensors;
    const want: Record<string, [string, number[]]> = {
      'fc1.w:int8.q': ['i8', [512, 784]],
      'fc1.w:int8.scale': ['f32', [512, 1]],
      'fc2.w:int4g32a.q': ['i8', [256, 256]], // 512 values a row: 8 blocks of 64 in 32 bytes each
      'fc2.w:int4g32a.scale': ['f32', [256, 16]],
      'fc2.w:int4g32a.zero': ['f32', [256, 16]],
      'fc3.w:int8a.q': ['i8', [10, 256]],
      'fc3.w:int8a.scale': ['f32', [10, 1]],
      'fc3.w:int8a.zero': ['f32', [10, 1]],
    };
    const weights = direct().weights;
    for (const [name, [dtype, shape]] of Object.entries(want)) {
      const t = saved.get(name)!;
      expect([t.dtype, t.shape], name).toEqual([dtype, shape]);
      expect(t.data, name).toEqual(weights.get(name)!.data);
    }
    for (const f32 of ['fc1.w', 'fc2.w', 'fc3.w']) expect(saved.has(f32)).toBe(false);
  });

  it('load() runs the saved weights as compile() runs its own, and the export of the file in ORT agrees', async () => {
    const model = load(MODULE, { cacheDir: CACHE });
    const c = direct();
    const g = c.modules[0]!.graph;
    const dims = new Map([['B', 3]]);
    const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 4)]));
    const feeds = Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)]));
    const loaded = model.run(feeds);
    const original = c.model.run(feeds);
    for (const o of g.outputs) expect([...loaded[o.name]!.data]).toEqual([...original[o.name]!.data]);

    const onnx = path.join(DIR, 'mlp.onnx');
    const r = fmc('export', 'models/mlp.fm', '--weights', WEIGHTS, ...RULES, '--onnx', onnx);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/warning/);
    const bytes = fs.readFileSync(onnx);
    const dqs = decodeModel(bytes).nodes.filter((n) => n.opType === 'DequantizeLinear');
    expect(dqs.map((n) => n.inputs[0]).sort()).toEqual(['fc1.w:int8.q', 'fc2.w:int4g32a.q', 'fc3.w:int8a.q']);
    const session = await ort.InferenceSession.create(bytes);
    const got = await session.run(Object.fromEntries([...inputs].map(([k, t]) => [k, toOrt(ort, t)])));
    await session.release();
    for (const o of g.outputs) {
      const ortOut: HostTensor = {
        dtype: 'f32',
        shape: [...got[o.name]!.dims],
        data: Float64Array.from(got[o.name]!.data as Float32Array),
      };
      expect(compare(`${o.name}: ORT vs the loaded model`, ortOut, toHost(loaded[o.name]!), OP_TOL)).toEqual([]);
    }
  });
});
