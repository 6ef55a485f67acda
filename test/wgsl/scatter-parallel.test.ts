// scatter_add into a short target axis on the WGSL target (src/kernels/scatter-gpu.ts: a
// workgroup per column, the index positions split among its invocations, a tree per target
// in workgroup memory) on Dawn (SwiftShader) against the interpreter: 1-D scatters with
// repeated, negative and out-of-range indices at 0, 1, 63, 64, 65, 1000 and 100003 source
// elements; columns before and after the target axis; an index of rank 2; i32, i64 and bool
// sums; x's -0 kept where no index hits; a 1-D scatter into a long or unknown axis (a
// workgroup per target). Each case checks that it lowered to a workgroup form (a long axis
// with columns does not), a large float scatter gives the same bits on every
// run, and the wall time of the serial form (LowerOptions.workgroups false) and of the
// workgroup form on one large scatter is printed. Skipped, with the reason printed, where no
// WebGPU adapter can be created.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import type { Dtype } from '../../src/ir/dtype.js';
import type { Graph } from '../../src/ir/graph.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { REDUCE_WORKGROUP } from '../../src/kernels/reduce-gpu.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { fromHost } from '../../src/runtime/tensor.js';
import { buildWgslExecutable } from '../../src/runtime/wgsl-program.js';
import { assertClean } from '../kernels/c-harness.js';
import { compileGraph, runAndCompareWgsl } from './wgsl-harness.js';
import { serialVsWorkgroups, values } from './workgroup-cases.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the WGSL parallel scatter_add tests: ${why}`);

/** scatter_add(x, idx, src) along `axis`, with x [...pre, V, ...post] and src [...pre, ...idx, ...post]. */
function scatter(d: Dtype, pre: number[], V: number | string, post: number[], idx: (string | number)[]): Graph {
  const g = new Builder();
  const x = g.input('x', d, [...pre, V, ...post]);
  const i = g.input('idx', 'i32', idx);
  const src = g.input('src', d, [...pre, ...idx, ...post]);
  return g.graph('forward', { y: g.node('scatter_add', { axis: pre.length }, [x, i, src]) });
}

/** Whether `g` lowers to the workgroup form of scatter_add. */
function tree(g: Graph): boolean {
  const plan = bindPlanGrids(lowerGraph(g, { target: 'gpu' }));
  return plan.kernels.some(
    (k) => k.grid?.tiled && k.grid.workgroup === REDUCE_WORKGROUP && k.name.endsWith('_scatter_add'),
  );
}

/** Indices in [-2, V + 2): mostly in range, repeated, a few negative or past the end (dropped). */
const indices = (shape: number[], V: number): HostTensor =>
  hostTensor(
    'i32',
    shape,
    Array.from(values('f32', shape, 7).data, (u) => Math.floor(((u + 1) / 2) * (V + 4)) - 2),
  );

const inputs = (d: Dtype, pre: number[], V: number, post: number[], idx: number[]) => ({
  x: values(d, [...pre, V, ...post], 3),
  idx: indices(idx, V),
  src: values(d, [...pre, ...idx, ...post], 5),
});

describe.skipIf(why !== '')('parallel scatter_add on Dawn vs the interpreter', () => {
  it('1-D f32 at 0, 1, 63, 64, 65, 1000 and 100003 source elements', { timeout: 120_000 }, async () => {
    const g = scatter('f32', [], 8, [], ['N']);
    expect(tree(g)).toBe(true);
    const w = compileGraph(g);
    for (const n of [0, 1, 63, 64, 65, 1000, 100_003])
      assertClean(g, await runAndCompareWgsl(w, { inputs: inputs('f32', [], 8, [], [n]) }), `N ${n}`);
    // The same bits on every run.
    const exe = buildWgslExecutable(w.compiled, new Map());
    const feeds = Object.fromEntries(
      Object.entries(inputs('f32', [], 8, [], [100_003])).map(([k, t]) => [k, fromHost(t)]),
    );
    const runs = [await exe.runAsync(feeds), await exe.runAsync(feeds), await exe.runAsync(feeds)];
    const bits = runs.map((r) => Array.from(new Uint32Array((r.y!.data as Float32Array).slice().buffer)).join(','));
    expect(new Set(bits).size).toBe(1);
  });

  it('columns before and after the target axis, an index of rank 2', { timeout: 60_000 }, async () => {
    for (const [pre, V, post, idx] of [
      [[], 5, [3], [1001]],
      [[2], 7, [3], [130]],
      [[3], 64, [], [2, 500]],
    ] as const) {
      const g = scatter('f32', [...pre], V, [...post], [...idx]);
      expect(tree(g)).toBe(true);
      const problems = await runAndCompareWgsl(compileGraph(g), {
        inputs: inputs('f32', [...pre], V, [...post], [...idx]),
      });
      assertClean(g, problems, `pre ${pre} V ${V} post ${post} idx ${idx}`);
    }
  });

  for (const d of ['i32', 'i64', 'bool'] as const)
    it(`${d} sums are exact`, { timeout: 60_000 }, async () => {
      const g = scatter(d, [], 13, [2], ['N']);
      expect(tree(g)).toBe(true);
      const w = compileGraph(g);
      for (const n of [0, 1, 3001])
        assertClean(g, await runAndCompareWgsl(w, { inputs: inputs(d, [], 13, [2], [n]) }), `N ${n}`);
    });

  it("keeps x's -0 where no index hits", { timeout: 60_000 }, async () => {
    const g = scatter('f32', [], 4, [], ['N']);
    const x = hostTensor('f32', [4], [-0, -0, 1, -0]);
    const idx = hostTensor('i32', [3], [2, 2, 9]);
    const src = hostTensor('f32', [3], [0.5, 0.25, 7]);
    const exe = buildWgslExecutable(compileGraph(g).compiled, new Map());
    const out = await exe.runAsync({ x: fromHost(x), idx: fromHost(idx), src: fromHost(src) });
    expect(Array.from(out.y!.data as Float32Array).map((v) => (Object.is(v, -0) ? '-0' : `${v}`))).toEqual([
      '-0',
      '-0',
      '1.75',
      '-0',
    ]);
  });

  it(
    '1-D into an axis of unknown length or longer than the workgroup: a workgroup per target',
    { timeout: 60_000 },
    async () => {
      for (const d of ['f32', 'i64'] as const) {
        const g = scatter(d, [], 'V', [], ['N']);
        expect(tree(g)).toBe(true);
        const w = compileGraph(g);
        for (const [V, n] of [
          [200, 3001],
          [1, 65],
          [0, 10],
          [70, 0],
        ] as const)
          assertClean(g, await runAndCompareWgsl(w, { inputs: inputs(d, [], V, [], [n]) }), `${d} V ${V} N ${n}`);
      }
      const long = scatter('f32', [], 1000, [], ['N']);
      expect(tree(long)).toBe(true);
      assertClean(long, await runAndCompareWgsl(compileGraph(long), { inputs: inputs('f32', [], 1000, [], [5000]) }));
    },
  );

  it('with columns, a target axis longer than the workgroup stays one invocation per column', () => {
    expect(tree(scatter('f32', [], REDUCE_WORKGROUP + 1, [2], ['N']))).toBe(false);
    expect(tree(scatter('f32', [], 'V', [2], ['N']))).toBe(false);
    // i64 partials take two words each: 32 targets fill the 16 KiB that 64 of f32 do.
    expect(tree(scatter('i64', [], 32, [2], ['N']))).toBe(true);
    expect(tree(scatter('i64', [], 33, [2], ['N']))).toBe(false);
  });

  it('wall time: serial vs workgroup form of a 1-D scatter of 2^20 elements', { timeout: 300_000 }, async () => {
    const g = scatter('f32', [], 8, [], ['N']);
    const feeds = Object.fromEntries(
      Object.entries(inputs('f32', [], 8, [], [2 ** 20])).map(([k, t]) => [k, fromHost(t)]),
    );
    const ms = await serialVsWorkgroups('scatter_add of 2^20 into 8', g, feeds);
    expect(ms.every((t) => t > 0)).toBe(true);
  });
});
