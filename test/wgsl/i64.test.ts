// 64-bit integers on the WGSL target (src/codegen/legalize-wgsl-int.ts, prelude-wgsl-i64.ts:
// integer values as two 32-bit words) on Dawn (SwiftShader), compared bit for bit with the
// reference interpreter's exact i64 (bigint) on values far beyond i32 and 2^53: a workgroup
// tree sum that wraps at 2^64, mul/div/mod/max of large operands, INT64_MIN / -1, a gather
// clamping an index beyond i32, and i64 to f32 casts rounded to nearest even, checked against an exact BigInt rounding (C's
// (float)int64_t). Skipped, with the reason printed, where no WebGPU adapter can be created.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import type { Graph } from '../../src/ir/graph.js';
import { evaluate } from '../../src/ir/interp.js';
import { hostTensor, i64Of, i64Tensor } from '../../src/ir/value.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { buildWgslExecutable } from '../../src/runtime/wgsl-program.js';
import { compileGraph } from './wgsl-harness.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the WGSL i64 tests: ${why}`);

/** Runs `g` on WGSL and in the interpreter with i64 inputs; the outputs of both, by name. */
async function both(g: Graph, inputs: Record<string, bigint[]>) {
  const exe = buildWgslExecutable(compileGraph(g).compiled, new Map());
  const feeds = Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [k, new Tensor('i64', BigInt64Array.from(v), [v.length])]),
  );
  const got = await exe.runAsync(feeds);
  const host = new Map(Object.entries(inputs).map(([k, v]) => [k, i64Tensor([v.length], BigInt64Array.from(v))]));
  const ref = evaluate(g, { inputs: host, params: new Map(), dims: new Map() }).outputs;
  return { got, ref };
}

/** The f32 nearest to integer v, ties to even: exact (no rounding through a float64 first). */
function roundF32(v: bigint): number {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const bits = a.toString(2).length;
  if (bits <= 24) return Number(v);
  const shift = BigInt(bits - 24);
  let q = a >> shift;
  const rest = a - (q << shift);
  const half = 1n << (shift - 1n);
  if (rest > half || (rest === half && (q & 1n) === 1n)) q += 1n;
  const r = Number(q << shift);
  return neg ? -r : r;
}

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const BIG = [2n ** 61n + 12345n, -(2n ** 55n) - 3n, 2n ** 40n + 1n, MAX, MIN, -7n, 3n, 2n ** 32n + 5n];

describe.skipIf(why !== '')('i64 on WGSL, bit for bit', () => {
  it('a workgroup tree sum and max of large values (the sum wraps at 2^64)', { timeout: 60_000 }, async () => {
    const g = new Builder();
    const x = g.input('x', 'i64', ['N']);
    const graph = g.graph('forward', { s: g.sum(x, [0]), m: g.amax(x, [0]) });
    const xs = Array.from({ length: 1000 }, (_, i) => BIG[i % BIG.length]! + BigInt(i));
    const { got, ref } = await both(graph, { x: xs });
    for (const o of ['s', 'm'])
      expect(Array.from(got[o]!.data as BigInt64Array)).toEqual(Array.from(i64Of(ref.get(o)!)));
  });

  it('mul, div, mod and min of large operands; INT64_MIN / -1 wraps', { timeout: 60_000 }, async () => {
    const g = new Builder();
    const a = g.input('a', 'i64', ['N']);
    const b = g.input('b', 'i64', ['N']);
    const graph = g.graph('forward', {
      mul: g.mul(a, b),
      div: g.div(a, b),
      mod: g.binary('mod', a, b),
      min: g.binary('min', a, b),
    });
    const as = [...BIG, MIN, 2n ** 62n + 1n, -(2n ** 50n), 0n];
    const bs = [3n, -(2n ** 33n) + 1n, 2n ** 31n, -1n, 7n, 0n, 12n, -5n, -1n, 2n ** 20n + 3n, 3n, -9n];
    const { got, ref } = await both(graph, { a: as, b: bs });
    for (const o of ['mul', 'div', 'mod', 'min'])
      expect(Array.from(got[o]!.data as BigInt64Array), o).toEqual(Array.from(i64Of(ref.get(o)!)));
  });

  it('a gather clamps an i64 index by its full value (not its low word)', { timeout: 60_000 }, async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [5]);
    const idx = g.input('idx', 'i64', ['N']);
    const graph = g.graph('forward', { y: g.gather(x, idx, 0) });
    const idxs = [2n ** 32n + 1n, -(2n ** 32n) + 2n, 3n, -1n, 2n ** 40n, MIN, MAX];
    const xs = [10, 11, 12, 13, 14];
    const exe = buildWgslExecutable(compileGraph(graph).compiled, new Map());
    const got = await exe.runAsync({
      x: new Tensor('f32', Float32Array.from(xs), [5]),
      idx: new Tensor('i64', BigInt64Array.from(idxs), [idxs.length]),
    });
    const inputs = new Map([
      ['x', hostTensor('f32', [5], xs)],
      ['idx', i64Tensor([idxs.length], BigInt64Array.from(idxs))],
    ]);
    const ref = evaluate(graph, { inputs, params: new Map(), dims: new Map() }).outputs.get('y')!;
    expect(Array.from(got.y!.data as Float32Array)).toEqual(Array.from(ref.data));
    expect(Array.from(ref.data)).toEqual([14, 10, 13, 10, 14, 10, 14]);
  });

  it('i64 to f32 rounds to nearest even, as C', { timeout: 60_000 }, async () => {
    const g = new Builder();
    const x = g.input('x', 'i64', ['N']);
    const graph = g.graph('forward', { y: g.cast(x, 'f32') });
    const xs = [
      2n ** 24n + 1n,
      2n ** 24n + 3n,
      -(2n ** 62n + 2n ** 38n + 1n),
      2n ** 62n + 2n ** 38n,
      MIN,
      MAX,
      -5n,
      0n,
    ];
    const exe = buildWgslExecutable(compileGraph(graph).compiled, new Map());
    const got = await exe.runAsync({ x: new Tensor('i64', BigInt64Array.from(xs), [xs.length]) });
    expect(Array.from(got.y!.data as Float32Array)).toEqual(xs.map((v) => Math.fround(roundF32(v))));
  });
});
