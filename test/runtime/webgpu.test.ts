// The WebGPU device and executable on hand-written WGSL kernels that follow the GPU launch
// contract (webgpu-plans.ts): byte-exact round trips of f32, i64, f16 and bool, a launch list
// of two kernels through a transient and a param, a dispatch of more than 65535 workgroups
// (y > 1), dims outside i32, and `run` refused. Skipped, with the reason printed, where no
// WebGPU adapter can be created.

import { describe, expect, it } from 'vitest';
import { GpuExecutable } from '../../src/runtime/gpu-executable.js';
import { loadNodeProgram, webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { RunError } from '../../src/runtime/run-args.js';
import { Tensor, type TensorData } from '../../src/runtime/tensor.js';
import { weightsChanged } from '../../src/runtime/weight-versions.js';
import { type TestPlan, copyPlan, dimPlan, iotaPlan, twoKernelPlan } from './webgpu-plans.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the WebGPU runtime tests: ${why}`);

async function exe(t: TestPlan, weights = new Map<string, ArrayBuffer>()): Promise<GpuExecutable> {
  return new GpuExecutable(t.plan, t.program, await loadNodeProgram(t.program), weights);
}

const bytes = (d: TensorData): Uint8Array => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

describe.skipIf(why !== '')('the WebGPU runtime (hand-written kernels)', () => {
  it('round-trips f32, i64, f16 and bool byte for byte, at sizes that are not whole words', async () => {
    const f32 = new Float32Array([1.5, -0, Infinity, -Infinity, 1e-45, 3.4e38, 0, -2.25]);
    new Uint32Array(f32.buffer)[6] = 0x7fc00123; // a NaN with a payload
    const cases: [Tensor, number][] = [
      [new Tensor('f32', f32, [8]), 4],
      [new Tensor('i64', BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, -1n, 0x123456789abcdefn, 7n]), [5]), 8],
      [new Tensor('f16', Uint16Array.from([0x7c00, 0xfc00, 0x7e01, 0x8000, 0x3c00]), [5]), 2],
      [new Tensor('bool', Uint8Array.from([1, 0, 1, 1, 0, 1, 1]), [7]), 1],
    ];
    for (const [x, width] of cases) {
      const e = await exe(copyPlan(x.dtype, width));
      const { y } = await e.runAsync({ x });
      expect(y!.dtype).toBe(x.dtype);
      expect(y!.dims).toEqual(x.dims);
      expect(bytes(y!.data)).toEqual(bytes(x.data));
    }
  });

  it('runs a launch list of two kernels through a transient and a param kept between runs', async () => {
    const n = 1000;
    const w = new Float32Array(n).map((_, i) => i / 8);
    const weights = new Map([['w', w.buffer as ArrayBuffer]]);
    const e = await exe(twoKernelPlan(), weights);
    const x = new Float32Array(n).map((_, i) => Math.fround(Math.sin(i)));
    const want = (ws: Float32Array) => x.map((v, i) => Math.fround(Math.fround(2 * v) + ws[i]!));
    const first = await e.runAsync({ x: new Tensor('f32', x, [n]) });
    expect(Array.from(first.y!.data as Float32Array)).toEqual(Array.from(want(w)));
    // New host weights are uploaded at the next run once marked changed.
    w.fill(1);
    weightsChanged([w.buffer as ArrayBuffer]);
    const second = await e.runAsync({ x: new Tensor('f32', x, [n]) });
    expect(Array.from(second.y!.data as Float32Array)).toEqual(Array.from(want(w)));
    // Concurrent runs at other sizes each get their own answer.
    const sizes = [3, 17, 1000];
    const outs = await Promise.all(sizes.map((k) => e.runAsync({ x: new Tensor('f32', x.slice(0, k), [k]) })));
    outs.forEach((o, j) =>
      expect(Array.from(o.y!.data as Float32Array)).toEqual(Array.from(want(w).slice(0, sizes[j]))),
    );
  });

  it('dispatches more than 65535 workgroups as (x, y): every index written once', async () => {
    const wg = 2;
    const n = 65535 * wg * 2 + 7; // 131075 workgroups: x = 65535, y = 3
    const e = await exe(iotaPlan(wg));
    const { y } = await e.runAsync({}, { dims: { N: n } });
    const got = y!.data as Int32Array;
    expect(got.length).toBe(n);
    let bad = -1;
    for (let i = 0; i < n && bad < 0; i++) if (got[i] !== i) bad = i;
    expect(bad).toBe(-1);
  });

  it('gives a RunError for a dim outside i32, and passes one inside it', async () => {
    const e = await exe(dimPlan());
    const x = new Tensor('f32', new Float32Array(1), [1]);
    await expect(e.runAsync({ x }, { dims: { K: 2 ** 31 } })).rejects.toThrow(RunError);
    await expect(e.runAsync({ x }, { dims: { K: 2 ** 31 } })).rejects.toThrow(/does not fit in i32/);
    const { y } = await e.runAsync({ x }, { dims: { K: 2 ** 31 - 1 } });
    expect(Array.from(y!.data as Int32Array)).toEqual([2 ** 31 - 1]);
  });

  it('refuses run() with a message that says to use runAsync, and rejects bad inputs', async () => {
    const e = await exe(copyPlan('f32', 4));
    const x = new Tensor('f32', new Float32Array(2), [2]);
    expect(() => e.run({ x })).toThrow(/asynchronous: use runAsync/);
    await expect(e.runAsync({ y: x } as never)).rejects.toThrow(/unknown input 'y'/);
    await expect(e.runAsync({ x: new Tensor('i32', new Int32Array(2), [2]) })).rejects.toThrow(/has dtype i32/);
  });
});
