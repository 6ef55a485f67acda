// Reductions with a long reduced extent on the WGSL target (src/kernels/reduce-gpu.ts: a
// workgroup per output, a tree in workgroup memory) on Dawn (SwiftShader) against the
// interpreter: whole-tensor sums and maxima at extents 0, 1, one below, at and above the
// workgroup size and large ones that are not multiples of it; a reduced leading axis; NaN
// propagation through max; i32, i64 and bool sums; keepdim; no outputs at all; row kernels
// (softmax) over long rows. Each case checks that its reduction really lowered to the tree
// kernel; a large float sum gives the same bits on every run. Skipped, with the reason
// printed, where no WebGPU adapter can be created.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import type { Dtype } from '../../src/ir/dtype.js';
import type { Graph } from '../../src/ir/graph.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { REDUCE_WORKGROUP, SPLIT_MAX_OUTPUTS, SPLIT_PARTS } from '../../src/kernels/reduce-gpu.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { fromHost } from '../../src/runtime/tensor.js';
import { buildWgslExecutable } from '../../src/runtime/wgsl-program.js';
import { assertClean } from '../kernels/c-harness.js';
import { scaledMax, softmax } from '../kernels/fusion-graphs.js';
import { compileGraph, runAndCompareWgsl } from './wgsl-harness.js';
import { serialVsWorkgroups, values } from './workgroup-cases.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the WGSL parallel reduction tests: ${why}`);

/** fn over `axes` of x[N] or x[N, 3] (dtype d). */
function reduce(fn: 'sum' | 'max', d: Dtype, shape: (string | number)[], axes: number[], keepdim = false): Graph {
  const g = new Builder();
  const x = g.input('x', d, shape);
  return g.graph('forward', { y: g.node('reduce', { fn, axes, keepdim }, [x]) });
}

/** Whether the plan of `g` has a `kind` kernel that reduces with a workgroup tree (a tiled grid of REDUCE_WORKGROUP). */
function tree(g: Graph, kind = 'reduce'): boolean {
  const plan = bindPlanGrids(lowerGraph(g, { target: 'gpu' }));
  return plan.kernels.some(
    (k) => k.grid?.tiled && k.grid.workgroup === REDUCE_WORKGROUP && k.name.endsWith(`_${kind}`),
  );
}

const W = REDUCE_WORKGROUP;
const EXTENTS = [0, 1, W - 1, W, W + 1, 1000, 100_003];

describe.skipIf(why !== '')('parallel reductions on Dawn vs the interpreter', () => {
  for (const fn of ['sum', 'max'] as const)
    it(`${fn} of a whole f32 vector at extents ${EXTENTS.join(', ')}`, { timeout: 120_000 }, async () => {
      const g = reduce(fn, 'f32', ['N'], [0]);
      expect(tree(g)).toBe(true);
      const w = compileGraph(g);
      for (const n of EXTENTS)
        assertClean(g, await runAndCompareWgsl(w, { inputs: { x: values('f32', [n]) } }), `N ${n}`);
    });

  it('max propagates a NaN from any position, the last one included', { timeout: 60_000 }, async () => {
    const g = reduce('max', 'f32', ['N'], [0]);
    const w = compileGraph(g);
    for (const [n, at] of [
      [1000, 0],
      [1000, 999],
      [1000, 517],
      [65, 64],
    ] as const) {
      const x = values('f32', [n]);
      const data = Array.from(x.data);
      data[at] = NaN;
      const problems = await runAndCompareWgsl(w, { inputs: { x: hostTensor('f32', [n], data) } });
      assertClean(g, problems, `NaN at ${at} of ${n}`);
    }
  });

  for (const d of ['i32', 'i64', 'bool'] as const)
    it(`sum and max of ${d} are exact`, { timeout: 60_000 }, async () => {
      for (const fn of ['sum', 'max'] as const) {
        const g = reduce(fn, d, ['N'], [0]);
        expect(tree(g)).toBe(true);
        const w = compileGraph(g);
        for (const n of [0, 1, W + 1, 5001])
          assertClean(g, await runAndCompareWgsl(w, { inputs: { x: values(d, [n]) } }), `${fn} N ${n}`);
      }
    });

  it('a reduced leading axis, keepdim, and no outputs', { timeout: 60_000 }, async () => {
    for (const keepdim of [false, true]) {
      const g = reduce('sum', 'f32', ['N', 'C'], [0], keepdim);
      expect(tree(g)).toBe(true);
      const w = compileGraph(g);
      for (const [N, C] of [
        [3001, 3],
        [200, 0],
        [0, 2],
      ] as const) {
        const x = values('f32', [N * C]);
        const problems = await runAndCompareWgsl(w, { inputs: { x: hostTensor('f32', [N, C], Array.from(x.data)) } });
        assertClean(g, problems, `[${N}, ${C}] keepdim ${keepdim}`);
      }
    }
  });

  it('row kernels: softmax over long rows, a max over rows with a NaN', { timeout: 60_000 }, async () => {
    const soft = softmax();
    expect(tree(soft, 'rows')).toBe(true);
    assertClean(soft, await runAndCompareWgsl(compileGraph(soft), { dims: { B: 2, T: 70 }, seed: 3 }), 'softmax');
    const max = scaledMax();
    expect(tree(max, 'rows')).toBe(true);
    const x = Array.from(values('f32', [3 * 1001]).data);
    x[1001 + 700] = NaN;
    const problems = await runAndCompareWgsl(compileGraph(max), { inputs: { x: hostTensor('f32', [3, 1001], x) } });
    assertClean(max, problems, 'max rows');
  });

  it('wall time: serial vs workgroup form of a sum of 2^22 elements', { timeout: 300_000 }, async () => {
    // A param, uploaded once: the runs time the kernel, not the upload.
    const b = new Builder();
    const g = b.graph('forward', { y: b.sum(b.param('x', 'f32', [2 ** 22]), [0]) });
    const x = Float32Array.from(values('f32', [2 ** 22]).data);
    const ms = await serialVsWorkgroups('sum of 2^22', g, {}, new Map([['x', x.buffer]]));
    expect(ms.every((t) => t > 0)).toBe(true);
  });

  it('few outputs split into partials and their combine; many outputs or a short extent do not', () => {
    const reduces = (g: Graph): number =>
      bindPlanGrids(lowerGraph(g, { target: 'gpu' })).kernels.filter((k) => k.name.endsWith('_reduce')).length;
    expect(reduces(reduce('sum', 'f32', ['N'], [0]))).toBe(2);
    expect(reduces(reduce('max', 'f32', ['N', SPLIT_MAX_OUTPUTS], [0]))).toBe(2);
    expect(reduces(reduce('sum', 'f32', ['N', SPLIT_MAX_OUTPUTS + 1], [0]))).toBe(1);
    expect(reduces(reduce('sum', 'f32', [3, SPLIT_PARTS * W - 1], [1]))).toBe(1);
  });

  it('a short known extent stays one invocation per output', () => {
    expect(tree(reduce('sum', 'f32', ['N', W - 1], [1]))).toBe(false);
    expect(tree(reduce('sum', 'f32', ['N', W], [1]))).toBe(true);
  });
});
