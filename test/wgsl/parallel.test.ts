// Which kernels of the seed models' forward run serially on a GPU (grid invocations 1: one
// invocation does the whole kernel, very slow on SwiftShader). Only those listed may: the
// rows kernels of whole-tensor reductions over a short known row (moe_lm's load-balancing
// loss sums over its 8 experts; a longer row takes a workgroup, reduce-gpu.ts). Also: row
// kernels, reductions and topk run one invocation per row of all their leading dims, a
// scatter_add into a short axis a workgroup per column (scatter-gpu.ts), and a GEMM one
// invocation per TM output rows × column.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { Builder } from '../../src/ir/build.js';
import { piped } from '../../src/runtime/compile.js';
import { WGSL_BACKEND } from '../../src/runtime/wgsl-program.js';
import { GPU_GEMM_ROWS } from '../../src/kernels/gemm-plain.js';
import { REDUCE_WORKGROUP } from '../../src/kernels/reduce-gpu.js';
import { evalGrid } from './run-plan.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MODELS = fs
  .readdirSync(path.join(ROOT, 'models'))
  .filter((f) => f.endsWith('.fm'))
  .sort();

const SERIAL: Readonly<Record<string, readonly string[]>> = { 'moe_lm.fm': ['rows', 'rows'] };

describe('GPU kernels of the seed models', () => {
  for (const file of MODELS)
    it(`${file}: serial kernels`, () => {
      const [l] = lowerModel(path.join(ROOT, 'models', file), { fns: ['forward'] });
      const plan = WGSL_BACKEND.lower(piped(l!).graph);
      const serial = plan.kernels
        .filter((k) => k.grid!.invocations.k === 'const' && k.grid!.invocations.v === 1)
        .map((k) => k.name.replace(/^k\d+_/, ''))
        .sort();
      expect(serial).toEqual(SERIAL[file] ?? []);
    });

  it('rows, reductions, topk, scatter_add and GEMMs take every parallel dim', () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [3, 5, 7]);
    const idx = g.input('idx', 'i32', [4]);
    const src = g.input('src', 'f32', [3, 4, 7]);
    const w = g.input('w', 'f32', [9, 7]);
    const e = g.exp(x);
    const graph = g.graph('forward', {
      soft: g.div(e, g.sum(e, [2], true)),
      sum: g.sum(x, [2]),
      top: g.node('topk', { k: 2, axis: 2, output: 'indices' }, [x]),
      scatter: g.node('scatter_add', { axis: 1 }, [x, idx, src]),
      mm: g.einsum('btk,nk->btn', x, w),
    });
    const plan = WGSL_BACKEND.lower(graph);
    const grids = Object.fromEntries(
      plan.kernels.map((k) => [k.name.replace(/^k\d+_/, ''), evalGrid(k.grid!.invocations, [])]),
    );
    // 3 × 5 rows; 3 × 7 scatter columns of a workgroup each; ceil(15 / TM) row tiles × 9 columns.
    expect(grids).toEqual({
      rows: 15,
      reduce: 15,
      topk: 15,
      scatter_add: 21 * REDUCE_WORKGROUP,
      gemm: Math.ceil(15 / GPU_GEMM_ROWS) * 9,
    });
  });
});
