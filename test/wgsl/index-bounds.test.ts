// The host's proof of the WGSL kernels' 32-bit index arithmetic (checkIndexBounds in
// src/runtime/gpu-executable.ts): a call whose buffers have more elements than i32 indices
// reach (2^31 - 1; an i64 buffer, indexed by 32-bit words, two an element: 2^30 - 1) is a
// RunError naming the tensor, raised before anything is allocated; the largest sizes that fit
// pass the check; a small call of the same executable runs. The executable test needs a
// WebGPU adapter and is skipped, with the reason printed, where none can be created.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { checkIndexBounds } from '../../src/runtime/gpu-executable.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { RunError } from '../../src/runtime/run-args.js';
import { buildWgslExecutable } from '../../src/runtime/wgsl-program.js';
import { compileGraph } from './wgsl-harness.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the WGSL index bound run: ${why}`);

/** y = iota over [N] as `dtype` (N given at the call). */
function iota(dtype: 'i64' | 'f32') {
  const g = new Builder();
  return g.graph('forward', { y: g.iota(0, dtype, ['N']) });
}

describe('the host proves the WGSL index bounds', () => {
  it('passes the largest buffers that fit, refuses the next size up', () => {
    for (const [dtype, max] of [
      ['f32', 2 ** 31 - 1],
      ['i64', 2 ** 30 - 1],
    ] as const) {
      const plan = lowerGraph(iota(dtype), { target: 'gpu' });
      const buffer = plan.outputs[0]!.buffer;
      const elements = (n: number): number[] => plan.buffers.map((b) => (b.id === buffer ? n : 1));
      expect(() => checkIndexBounds(plan, elements(max))).not.toThrow();
      expect(() => checkIndexBounds(plan, elements(max + 1))).toThrow(RunError);
      expect(() => checkIndexBounds(plan, elements(max + 1))).toThrow(
        new RegExp(
          `^'y' has ${max + 1} ${dtype} elements with these dims: more than the WGSL target's 32-bit indices reach`,
        ),
      );
    }
  });

  it.skipIf(why !== '')('a call past the bound is a RunError; a small call of the same executable runs', async () => {
    const exe = buildWgslExecutable(compileGraph(iota('i64')).compiled, new Map());
    await expect(exe.runAsync({}, { dims: { N: 2 ** 30 } })).rejects.toThrow(/'y' has 1073741824 i64 elements/);
    const { y } = await exe.runAsync({}, { dims: { N: 5 } });
    expect(Array.from(y!.data as BigInt64Array, Number)).toEqual([0, 1, 2, 3, 4]);
  });
});
