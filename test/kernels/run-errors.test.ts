// Bad calls of a compiled function (Executable.run, Model.run) and bad Tensors: each is a
// RunError or TensorError naming the problem, or a documented result (NaN inputs propagate
// as in the reference; an empty batch gives empty outputs) -- never a crash, and the
// Executable keeps working afterwards.

import { beforeAll, describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import type { Graph } from '../../src/ir/graph.js';
import { weightBuffers } from '../../src/runtime/compile.js';
import { type Executable, RunError } from '../../src/runtime/executable.js';
import { Model } from '../../src/runtime/model.js';
import { Tensor, TensorError } from '../../src/runtime/tensor.js';
import { CBatch, assertClean, ht, runAndCompare, seededParams } from './c-harness.js';

// x: f32[B, T], ids: i32[B]; out = softmax(x + emb[ids]) over T, a sum over T, and a
// full of the free dim N (which no input determines).
function model(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 'T']);
  const ids = g.input('ids', 'i32', ['B']);
  const emb = g.param('emb', 'f32', [4, 1]);
  const h = g.add(x, g.node('gather', { axis: 0 }, [emb, ids]));
  const m = g.amax(h, [1], true);
  const e = g.exp(g.sub(h, m));
  return g.graph('forward', {
    probs: g.div(e, g.sum(e, [1], true)),
    total: g.sum(x, [0, 1]),
  });
}

function withFree(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', [2]);
  return g.graph('forward', { y: g.exp(x), f: g.full(1, 'f32', ['N']) });
}

let batch: CBatch;
let exe: Executable;
let free: Executable;
const graph = model();
const params = seededParams(graph, new Map(), 1);
const weights = weightBuffers(params);

beforeAll(() => {
  batch = CBatch.build([graph, withFree()]);
  exe = batch.executable(0, weights);
  free = batch.executable(1, new Map());
});

const x23 = (): Tensor => new Tensor('f32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
const ids2 = (): Tensor => new Tensor('i32', Int32Array.from([0, 3]), [2]);
const good = () => ({ x: x23(), ids: ids2() });

/** The error `f` throws (fails when it returns). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

function expectRunError(f: () => unknown, message: RegExp): void {
  const e = thrown(f);
  expect(e).toBeInstanceOf(RunError);
  expect(e.message).toMatch(message);
  // The Executable still runs correctly afterwards.
  expect(exe.run(good())['probs']!.dims).toEqual([2, 3]);
}

describe('Executable.run rejects bad inputs with a RunError', () => {
  it('an unknown input name', () => {
    expectRunError(() => exe.run({ ...good(), idz: ids2() }), /unknown input 'idz'; the inputs are 'x', 'ids'/);
  });
  it('a missing input', () => {
    expectRunError(() => exe.run({ x: x23() }), /missing input 'ids'/);
  });
  it('a wrong dtype', () => {
    const ids = new Tensor('i64', BigInt64Array.from([0n, 1n]), [2]);
    expectRunError(() => exe.run({ x: x23(), ids }), /input 'ids' has dtype i64, expected i32\[B\]/);
  });
  it('a wrong rank', () => {
    const x = new Tensor('f32', Float32Array.from([1, 2, 3]), [3]);
    expectRunError(() => exe.run({ x, ids: ids2() }), /input 'x' has rank 1 \(\[3\]\), expected f32\[B, T\]/);
  });
  it('a dim that contradicts another input', () => {
    const ids = new Tensor('i32', Int32Array.from([0, 1, 2]), [3]);
    expectRunError(() => exe.run({ x: x23(), ids }), /input 'ids' axis 0: expected (B = )?2, got 3/);
  });
  it('a given dim that contradicts the inputs', () => {
    expectRunError(() => exe.run(good(), { dims: { T: 4 } }), /input 'x' axis 1: expected (T = )?4, got 3/);
  });
  it('an object that is not a Tensor', () => {
    const fake = { dtype: 'f32', dims: [2, 3], data: new Float32Array(6), size: 6 } as unknown as Tensor;
    expectRunError(() => exe.run({ x: fake, ids: ids2() }), /input 'x' is not a Tensor/);
  });
  it('a disposed tensor', () => {
    const x = x23();
    x.dispose();
    expectRunError(() => exe.run({ x, ids: ids2() }), /input 'x': tensor was disposed/);
  });
  it('inputs that are not an object', () => {
    expectRunError(() => exe.run(null as unknown as Record<string, Tensor>), /inputs must be an object/);
  });
  it('a dim no input determines, unless given; bad given values', () => {
    const x = new Tensor('f32', Float32Array.of(1, 2), [2]);
    const e = thrown(() => free.run({ x }));
    expect(e).toBeInstanceOf(RunError);
    expect(e.message).toMatch(/'N'/);
    expect(free.run({ x }, { dims: { N: 3 } })['f']!.dims).toEqual([3]);
    for (const N of [-1, 1.5, NaN]) expect(() => free.run({ x }, { dims: { N } })).toThrow(RunError);
    // Far beyond what can be allocated: an error naming the allocation, not a crash.
    expect(() => free.run({ x }, { dims: { N: 2 ** 50 } })).toThrow(/alloc|bytes/);
    expect(free.run({ x }, { dims: { N: 0 } })['f']!.dims).toEqual([0]);
  });
  it('a timings array of the wrong length', () => {
    expectRunError(() => exe.run(good(), { timings: new Float64Array(1) }), /timings needs \d+ slots, got 1/);
  });
});

describe('Tensor rejects bad data with a TensorError', () => {
  it('wrong data length, wrong array type, bad dims, unknown dtype', () => {
    expect(() => new Tensor('f32', new Float32Array(5), [2, 3])).toThrow(TensorError);
    expect(() => new Tensor('f32', new Float32Array(5), [2, 3])).toThrow(/data has 5 elements, dims \[2, 3\] need 6/);
    expect(() => new Tensor('f32', new Float64Array(6) as unknown as Float32Array, [2, 3])).toThrow(
      /a f32 tensor needs a Float32Array, got Float64Array/,
    );
    expect(() => new Tensor('i64', new Int32Array(2) as unknown as BigInt64Array, [2])).toThrow(TensorError);
    expect(() => new Tensor('f32', new Float32Array(2), [-2])).toThrow(/dims must be non-negative integers/);
    expect(() => new Tensor('f32', new Float32Array(2), [2.5] as number[])).toThrow(TensorError);
    expect(() => new Tensor('f64' as 'f32', new Float32Array(2), [2])).toThrow(/unknown dtype 'f64'/);
  });
});

describe('documented results', () => {
  it('NaN and Inf inputs propagate to the outputs as in the reference', () => {
    const x = ht('f32', [2, 3], [NaN, 1, 2, Infinity, 0, -1]);
    const r = runAndCompare(batch, 0, { inputs: { x }, exe: { exe, weights, params } });
    assertClean(graph, r.problems);
    const probs = [...(r.c['probs']!.data as Float32Array)];
    expect(probs.slice(0, 3).every(Number.isNaN)).toBe(true);
    expect(Number.isNaN((r.c['total']!.data as Float32Array)[0]!)).toBe(true);
  });

  it('an empty batch (B = 0) gives empty outputs and reduces to zeros', () => {
    const x = ht('f32', [0, 3], []);
    const ids = ht('i32', [0], []);
    const r = runAndCompare(batch, 0, { inputs: { x, ids }, exe: { exe, weights, params } });
    assertClean(graph, r.problems);
    expect(r.c['probs']!.dims).toEqual([0, 3]);
    expect([...(r.c['total']!.data as Float32Array)]).toEqual([0]);
    // T = 0 as well: softmax over an empty axis.
    const r2 = runAndCompare(batch, 0, { inputs: { x: ht('f32', [2, 0], []) }, exe: { exe, weights, params } });
    assertClean(graph, r2.problems);
  });
});

describe('Model.run', () => {
  it('names the compiled functions for an unknown one, and needs inputs', () => {
    const m = new Model('Tiny', new Map([['forward', exe]]));
    expect(m.functions).toEqual(['forward']);
    expect(m.run(good())['probs']!.dims).toEqual([2, 3]);
    expect(m.run('forward', good())['total']!.dims).toEqual([]);
    expect(() => m.run('loss', good())).toThrow(/Tiny has no compiled function 'loss'; compiled: 'forward'/);
    expect(() => (m.run as unknown as (fn: string) => unknown)('forward')).toThrow(RunError);
    expect(() => m.setThreads(0)).toThrow(/threads must be an integer from 1 to 65536, got 0/);
    // Past the runtime's bound: a RunError, not the addon's bare RangeError.
    expect(() => m.setThreads(65537)).toThrow(RunError);
    expect(() => m.run({ x: x23() })).toThrow(/missing input 'ids'/);
  });
});
