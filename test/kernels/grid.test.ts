// Grid binding (src/kernels/grid.ts), TVM style: a kernel before and the kernel expected after.

import { describe, expect, it } from 'vitest';
import { type KExpr, type KStmt, type Kernel, cmp, f32, int, ivar, ix, loop } from '../../src/ir/kernel.js';
import { bindGrid, bindPlanGrids } from '../../src/kernels/grid.js';
import type { Plan } from '../../src/kernels/plan.js';

const kernel = (body: KStmt[]): Kernel => ({
  name: 'k0_ew',
  params: [{ dtype: 'f32', access: 'write' }],
  body,
  note: 'test',
  schedule: {},
});
const store = (index: KExpr): KStmt => ({ k: 'store', buf: 0, index, value: f32(1) });
const dim0: KExpr = { k: 'dim', slot: 0 };
const gid: KExpr = { k: 'gid' };

describe('bindGrid', () => {
  it('a collapsed parallel nest becomes gid, decomposed row-major and guarded', () => {
    const inner = loop('k', int(4), [store(ix('+', ix('*', ivar('i'), int(12)), ivar('k')))]);
    const before = kernel([
      { k: 'comment', text: 'rows' },
      loop('i', dim0, [loop('j', int(3), [inner])], 'parallel', { collapse: 2 }),
    ]);
    const count = ix('*', dim0, int(3));
    const expected = kernel([
      { k: 'comment', text: 'rows' },
      {
        k: 'if',
        cond: cmp('<', gid, count),
        then: [
          { k: 'let', name: 'i', t: 'i64', value: ix('/', gid, int(3)) },
          { k: 'let', name: 'j', t: 'i64', value: ix('%', gid, int(3)) },
          inner,
        ],
      },
    ]);
    expect(bindGrid(before, { workgroup: 32 })).toEqual({ ...expected, grid: { invocations: count, workgroup: 32 } });
  });

  it('lower bounds and steps: v = lo + position * step, the trip count rounded up', () => {
    const before = kernel([loop('i', dim0, [store(ivar('i'))], 'parallel', { lo: int(2), step: 4 })]);
    const count = ix('/', ix('+', ix('-', dim0, int(2)), int(3)), int(4));
    expect(bindGrid(before).grid).toEqual({ invocations: count, workgroup: 64 });
    expect(bindGrid(before).body).toEqual([
      {
        k: 'if',
        cond: cmp('<', gid, count),
        then: [{ k: 'let', name: 'i', t: 'i64', value: ix('+', int(2), ix('*', gid, int(4))) }, store(ivar('i'))],
      },
    ]);
  });

  it('a nest with bounds from its own variables collapses only the rectangular prefix', () => {
    const tri = loop('j', ivar('i'), [store(ivar('j'))]);
    const before = kernel([loop('i', int(8), [tri], 'parallel', { collapse: 2 })]);
    const after = bindGrid(before);
    expect(after.grid).toEqual({ invocations: int(8), workgroup: 64 });
    expect(after.body).toEqual([
      { k: 'if', cond: cmp('<', gid, int(8)), then: [{ k: 'let', name: 'i', t: 'i64', value: gid }, tri] },
    ]);
  });

  it('serial kernels (statements around the loop, no parallel loop) are one invocation, unchanged', () => {
    for (const body of [
      [loop('i', int(8), [store(ivar('i'))])],
      [store(int(0)), loop('i', int(8), [store(ivar('i'))], 'parallel')],
    ]) {
      const before = kernel(body);
      expect(bindGrid(before)).toEqual({ ...before, grid: { invocations: int(1), workgroup: 1 } });
    }
  });

  it('bindPlanGrids binds every kernel of a plan', () => {
    const k = kernel([loop('i', int(8), [store(ivar('i'))], 'parallel')]);
    const plan = { kernels: [k, k] } as unknown as Plan;
    expect(bindPlanGrids(plan).kernels.map((x) => x.grid?.invocations)).toEqual([int(8), int(8)]);
  });
});
