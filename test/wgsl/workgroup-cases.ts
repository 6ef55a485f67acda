// Shared pieces of the tests of the workgroup kernel forms (reduce-parallel, scatter-parallel):
// pseudo-random values of a dtype, and the wall time of a graph's serial GPU form
// (LowerOptions.workgroups false) against its workgroup form on one set of inputs.

import type { Dtype } from '../../src/ir/dtype.js';
import type { Graph } from '../../src/ir/graph.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';
import type { Tensor } from '../../src/runtime/tensor.js';
import { buildWgslExecutable } from '../../src/runtime/wgsl-program.js';
import { compileGraph } from './wgsl-harness.js';

/** Pseudo-random values: floats in [-1, 1), integers in [-1000, 1000), bools 1% true. */
export function values(d: Dtype, shape: readonly number[], at = 0): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, (_, i) => {
    const h = Math.sin((i + 1 + at) * 12.9898) * 43758.5453;
    const u = h - Math.floor(h);
    return d === 'bool' ? (u < 0.01 ? 1 : 0) : d === 'f32' ? 2 * u - 1 : Math.floor(2000 * u) - 1000;
  });
  return hostTensor(d, [...shape], v);
}

/** The best of 5 wall times (ms, after a warm-up run) of `g`'s serial and workgroup forms, printed. */
export async function serialVsWorkgroups(
  what: string,
  g: Graph,
  feeds: Readonly<Record<string, Tensor>>,
  weights: ReadonlyMap<string, ArrayBuffer> = new Map(),
): Promise<[number, number]> {
  const ms: number[] = [];
  for (const workgroups of [false, true]) {
    const exe = buildWgslExecutable(compileGraph(g, { workgroups }).compiled, weights);
    await exe.runAsync(feeds);
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      await exe.runAsync(feeds);
      best = Math.min(best, performance.now() - t0);
    }
    ms.push(best);
  }
  const [serial, wg] = [ms[0]!, ms[1]!];
  console.log(
    `${what} on this adapter: serial ${serial.toFixed(1)} ms, workgroups ${wg.toFixed(1)} ms (${(serial / wg).toFixed(1)}x)`,
  );
  return [serial, wg];
}
