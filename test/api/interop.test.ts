// The public API's interop: fmc Tensors to and from onnxruntime-node Tensors (same memory, a
// model output fed to ONNX Runtime and back), and safetensors files read and written through
// Tensors with every bit kept (i64 beyond 2^53, f16/bf16 bits, NaN payloads).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { SafetensorsError, Tensor, TensorError, fromOrt, readTensors, toOrt, writeTensors } from '../../src/index.js';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-interop-'));

describe('ONNX Runtime tensors', () => {
  it('cross both ways on the same memory, for every dtype ORT shares with fmc', () => {
    const cases: Tensor[] = [
      new Tensor('f32', Float32Array.of(1.5, -2, NaN), [3]),
      new Tensor('f16', Uint16Array.of(0x3c00, 0xc000), [2, 1]),
      new Tensor('i8', Int8Array.of(-128, 127), [2]),
      new Tensor('i32', Int32Array.of(-7, 1 << 30), [1, 2]),
      new Tensor('i64', BigInt64Array.of(2n ** 62n + 1n, -3n), [2]),
      new Tensor('bool', Uint8Array.of(1, 0, 1), [3]),
    ];
    for (const t of cases) {
      const o = toOrt(t, ort.Tensor);
      expect(o).toBeInstanceOf(ort.Tensor);
      expect(o.data, t.dtype).toBe(t.data);
      expect([...o.dims]).toEqual([...t.dims]);
      const back = fromOrt(o);
      expect(back.dtype).toBe(t.dtype);
      expect(back.data).toBe(t.data);
      expect([...back.dims]).toEqual([...t.dims]);
    }
    expect(toOrt(cases[0]!, ort.Tensor).type).toBe('float32');
    expect(toOrt(cases[4]!, ort.Tensor).type).toBe('int64');
  });

  it('refuses what has no counterpart, saying why', () => {
    expect(() => toOrt(new Tensor('bf16', new Uint16Array(1), [1]), ort.Tensor)).toThrow(
      new TensorError(
        'a bf16 tensor has no ONNX Runtime tensor type (ONNX Runtime has no bfloat16 tensor); cast it first',
      ),
    );
    expect(() => fromOrt(new ort.Tensor('float64', new Float64Array(1), [1]))).toThrow(
      /an ONNX Runtime 'float64' tensor has no fmc dtype \(fmc takes float32, float16, int8, int32, int64, bool\)/,
    );
    // The Tensor constructor's own checks still apply (a lying `dims`).
    expect(() => fromOrt({ type: 'float32', data: new Float32Array(2), dims: [3] })).toThrow(TensorError);
  });
});

describe('safetensors through Tensors', () => {
  it('round-trips every dtype bit for bit, with metadata', () => {
    const file = path.join(DIR, 'all.safetensors');
    const nanBits = new Float32Array(new Uint32Array([0x7fc00123]).buffer);
    const tensors = {
      f: new Tensor('f32', Float32Array.of(0.1, -0, nanBits[0]!), [3]),
      h: new Tensor('f16', Uint16Array.of(0x7bff, 0x0001), [2]),
      b: new Tensor('bf16', Uint16Array.of(0x3f80, 0xff80), [1, 2]),
      q: new Tensor('i8', Int8Array.of(-128, 5), [2]),
      n: new Tensor('i32', Int32Array.of(2 ** 31 - 1), [1]),
      l: new Tensor('i64', BigInt64Array.of(2n ** 53n + 1n, -(2n ** 63n)), [2]),
      m: new Tensor('bool', Uint8Array.of(0, 1), [2]),
    };
    writeTensors(file, tensors, { author: 'fmc test' });
    const back = readTensors(file);
    expect(back.metadata).toEqual({ author: 'fmc test' });
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const r = back.tensors[name]!;
      expect(r.dtype, name).toBe(t.dtype);
      expect([...r.dims], name).toEqual([...t.dims]);
      const bytes = (x: Tensor) => [...new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength)];
      expect(bytes(r), name).toEqual(bytes(t));
    }
  });

  it('reports a bad file as a SafetensorsError naming it', () => {
    const file = path.join(DIR, 'bad.safetensors');
    fs.writeFileSync(file, 'not a safetensors file');
    expect(() => readTensors(file)).toThrow(SafetensorsError);
    expect(() => readTensors(file)).toThrow(file);
  });
});
