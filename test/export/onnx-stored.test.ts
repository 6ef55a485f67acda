// The ONNX export of weights as they are stored: a weight whose values nobody has read
// (seeded into storage, or read from a file) becomes its initializer's raw_data byte for byte,
// and the protobuf writer keeps large payloads by reference through every level of nesting.
// The file must equal the one made from the same weights decoded to float64s, and run in
// ONNX Runtime to the C target's numbers.

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { exportOnnx } from '../../src/export/onnx.js';
import { type HostTensor, storedBytes } from '../../src/ir/value.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { CACHE_DIR } from '../kernels/c-harness.js';

const SOURCE = `import { relu } from "std/act"
import { Linear } from "std/nn"
model Mlp(k = 192, h = 96, n = 10) {
  fc1 = Linear(k, h)
  @quantize(int8)
  fc2 = Linear(h, n)
  fn forward(x: f32[B, k]) -> (y: f32[B, n]) {
    return fc2(relu(fc1(x)))
  }
}
`;

describe('ONNX export of stored weights', () => {
  it('writes stored bytes as raw_data, the same file as from decoded values, and runs in ORT', async () => {
    const c = compileModel(SOURCE, { isPath: false, fns: ['forward'], cacheDir: CACHE_DIR, seed: 5 });
    const g = c.modules[0]!.graph;
    // fc1.w is 72 KiB: above the writer's 4 KiB by-reference size.
    const w = c.weights.get('fc1.w')!;
    expect(storedBytes(w)?.byteLength).toBe(192 * 96 * 4);
    const fromStored = exportOnnx(g, c.weights);
    // The same weights as plain float64 tensors (reading a stored tensor's data decodes it).
    const plain = new Map<string, HostTensor>(
      [...c.weights].map(([k, t]) => [k, { dtype: t.dtype, shape: [...t.shape], data: Float64Array.from(t.data) }]),
    );
    const fromValues = exportOnnx(g, plain);
    expect(fromStored.byteLength).toBe(fromValues.byteLength);
    expect(Buffer.from(fromStored).equals(Buffer.from(fromValues))).toBe(true);

    const x = Float32Array.from({ length: 3 * 192 }, (_, i) => Math.sin(i));
    const want = c.model.run({ x: new Tensor('f32', x, [3, 192]) }).y!.data as Float32Array;
    const session = await ort.InferenceSession.create(fromStored);
    try {
      const got = (await session.run({ x: new ort.Tensor('float32', x, [3, 192]) })).y!.data as Float32Array;
      expect(got.length).toBe(30);
      for (let i = 0; i < got.length; i++)
        expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4 + 1e-4 * Math.abs(want[i]!));
    } finally {
      await session.release();
    }
  });
});
