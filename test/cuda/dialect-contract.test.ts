// The CUDA dialect's contract (src/codegen/cuda.ts, CUDA-CONTRACT.md) on rendered programs:
// no #include and no user text (block paths only in escaped comments), kernels named
// fmc_k0.. in plan order with their grids, buffer params typed by storage dtype (const where
// read) and the dims last, FMC_DIM_SLOTS the plan's slot count; the index legalization keeps
// integer values 64-bit (a gather's index read from data) while index locals are 32-bit.

import { describe, expect, it } from 'vitest';
import { renderCudaProgram } from '../../src/codegen/cuda.js';
import { Builder } from '../../src/ir/build.js';
import type { Dtype } from '../../src/ir/dtype.js';
import { lowerGraph } from '../../src/kernels/lower.js';

const USER = 'evil*/ #include <x> "q"';

/** Inputs of every storage dtype a host lays out, cast to f32 and summed, under a hostile block path. */
function allDtypes() {
  const g = new Builder();
  const dtypes: Dtype[] = ['f32', 'f16', 'bf16', 'i8', 'i32', 'i64', 'bool'];
  const xs = dtypes.map((d) => g.input(`x_${d}`, d, ['N']));
  return g.within(USER, '', () => {
    const sum = xs.map((x) => g.cast(x, 'f32')).reduce((a, b) => g.add(a, b));
    return g.graph('forward', { y: sum, z: g.cast(sum, 'i64') });
  });
}

/** Rows of a table picked by an i64 index read from data. */
function gather() {
  const g = new Builder();
  const table = g.input('table', 'f32', [10, 'D']);
  return g.graph('forward', { y: g.gather(table, g.input('idx', 'i64', ['N']), 0) });
}

describe('the CUDA dialect contract', () => {
  it('self-contained, generated names, storage-typed params, dims last', () => {
    const plan = lowerGraph(allDtypes(), { target: 'gpu' });
    const { source, kernels } = renderCudaProgram(plan, USER);
    expect(source).not.toMatch(/#include/);
    expect(source).not.toContain('evil*/');
    expect(source).toContain(`#define FMC_DIM_SLOTS ${Math.max(1, plan.slots.length)}`);
    expect(kernels.map((k) => k.name)).toEqual(plan.kernels.map((_, i) => `fmc_k${i}`));
    for (const k of kernels) expect(k.workgroup).toBe(k.grid.workgroup);
    const sigs = [...source.matchAll(/extern "C" __global__ void __launch_bounds__\((\d+), \d+\) (\w+)\(([^)]*)\)/g)];
    expect(sigs.map((m) => m[2])).toEqual(kernels.map((k) => k.name));
    const params = sigs.flatMap((m) => m[3]!.split(', '));
    expect(sigs.every((m) => m[3]!.endsWith('const fmc_dims d'))).toBe(true);
    const read = new Set(params.filter((p) => p.startsWith('const ') && p.includes('*')).map((p) => p.split(' *')[0]));
    expect([...read].sort()).toEqual(
      ['float', 'unsigned short', 'signed char', 'int', 'long long', 'unsigned char'].map((t) => `const ${t}`).sort(),
    );
    expect(params.some((p) => /^long long \*__restrict__ b\d+$/.test(p))).toBe(true); // written: no const
  });

  it('an index read from data stays 64-bit; index locals are 32-bit', () => {
    const { source } = renderCudaProgram(lowerGraph(gather(), { target: 'gpu' }));
    const body = source.slice(source.indexOf('extern "C"'));
    // The loaded index is a 64-bit value clamped in 64 bits (an index 2^32 + 1 is past the
    // end, not 1), the grid's loop indices int.
    expect(body).toMatch(/fmc_max_ix\(0, fmc_min_ix\(9, \(int64_t\)b\d+\[/);
    expect(body).toMatch(/int32_t i_\d+ = \(fmc_gid/);
  });
});
