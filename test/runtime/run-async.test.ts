// runAsync on the C target: the kernels run on a worker thread, so the event loop keeps turning
// while they do; the arguments are read and checked at the call and the inputs copied, so the
// caller may change its buffers at once; runs of one function go one after another, a run()
// meanwhile is refused, and given outputs are written when the run ends.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunError, Tensor, compile } from '../../src/index.js';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-async-'));
const FILE = path.join(DIR, 'chain.fm');
fs.writeFileSync(
  FILE,
  `block Layer(d: int) {
  param w: f32[d, d] = normal(std = 0.05)
  fn forward(x: f32[N, d]) -> f32[N, d] { return tanh(einsum("nd,de->ne", x, w)) }
}
model Chain(d = 384) {
  layers = repeat 8 Layer(d)
  fn forward(x: f32[N, d]) -> (y: f32[N, d]) { return layers(x) }
}
`,
);
const model = compile(FILE, { seed: 1, threads: 2 });
const input = (n: number, seed: number): Tensor =>
  new Tensor(
    'f32',
    Float32Array.from({ length: n * 384 }, (_, i) => Math.sin(i * 0.37 + seed)),
    [n, 384],
  );

describe('runAsync on the C target', () => {
  it('lets the event loop turn while the kernels run, and computes what run() computes', async () => {
    const x = input(2048, 0);
    const want = model.run({ x }).y!.data;
    let ticks = 0;
    let spinning = true;
    const spin = (): void => {
      ticks++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const got = await model.runAsync({ x });
    spinning = false;
    // About 5 GFLOP: tens of milliseconds on the worker thread (on two busy cores too; a
    // fifth of it sometimes finished within one turn there), with the loop turning meanwhile.
    expect(ticks).toBeGreaterThan(1);
    expect([...got.y!.data]).toEqual([...want]);
  });

  it('copies the inputs at the call: changing them afterwards changes nothing', async () => {
    const x = input(64, 1);
    const want = [...model.run({ x }).y!.data];
    const pending = model.runAsync({ x });
    x.data.fill(123);
    expect([...(await pending).y!.data]).toEqual(want);
  });

  it('runs one after another, refuses run() meanwhile, and writes given outputs at the end', async () => {
    const a = input(32, 2);
    const b = input(32, 3);
    const [wa, wb] = [[...model.run({ x: a }).y!.data], [...model.run({ x: b }).y!.data]];
    const out = new Tensor('f32', new Float32Array(32 * 384), [32, 384]);
    const pa = model.runAsync({ x: a });
    const pb = model.runAsync({ x: b }, { outputs: { y: out } });
    expect(() => model.run({ x: a })).toThrow(
      new RunError('a runAsync of this function is in flight: await it before run()'),
    );
    const [ra, rb] = await Promise.all([pa, pb]);
    expect([...ra.y!.data]).toEqual(wa);
    expect(rb.y).toBe(out);
    expect([...out.data]).toEqual(wb);
    // Done: run() works again.
    expect([...model.run({ x: a }).y!.data]).toEqual(wa);
  });

  it('checks its arguments at the call, as run() does', async () => {
    await expect(model.runAsync({ x: new Tensor('f32', new Float32Array(4), [1, 4]) })).rejects.toThrow(RunError);
    await expect(model.runAsync({ x: input(2, 0) }, { timings: new Float64Array(8) })).rejects.toThrow(
      'timings are taken by run() only, not runAsync()',
    );
  });
});
