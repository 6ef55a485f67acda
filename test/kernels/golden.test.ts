// Golden files of the C backend: the rendered C (prelude elided: test/codegen/prelude.test.ts
// covers it) and the plan of a few small graphs, under golden/kernels/. A changed output fails
// with a diff; `npm run golden:accept` writes the new files for review. The GEMM uses a fixed
// schedule so the files do not depend on the machine's CPU.

import { describe, it } from 'vitest';
import { renderC } from '../../src/codegen/c.js';
import { C_PRELUDE } from '../../src/codegen/prelude-c.js';
import type { Graph } from '../../src/ir/graph.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { SCHEDULES } from '../../src/kernels/schedule.js';
import { planToJson } from '../../src/runtime/plan-json.js';
import { expectGolden } from '../golden/golden.js';
import { G } from './c-harness.js';

function elementwise(): Graph {
  const g = new G('mlp.act');
  const x = g.input('x', 'f32', ['B', 8]);
  const bias = g.input('bias', 'f32', [8]);
  const h = g.bin('add', x, bias);
  // gelu(tanh form) on the biased input, then cast to bf16: one fused kernel.
  const c = g.full(0.7978845608028654, 'f32', []);
  const inner = g.bin(
    'mul',
    c,
    g.bin('add', h, g.bin('mul', g.full(0.044715, 'f32', []), g.bin('pow', h, g.full(3, 'f32', [])))),
  );
  const gelu = g.bin(
    'mul',
    g.bin('mul', g.full(0.5, 'f32', []), h),
    g.bin('add', g.full(1, 'f32', []), g.un('tanh', inner)),
  );
  return g.graph({ y: g.cast(gelu, 'bf16') });
}

function reduction(): Graph {
  const g = new G('pool');
  const x = g.input('x', 'f32', ['B', 'T', 16]);
  return g.graph({
    mean: g.bin(
      'div',
      g.op('reduce', { fn: 'sum', axes: [1], keepdim: true }, x),
      g.cast(g.op('dim', { value: g.inputs[0]!.args.shape[1]!, dtype: 'i32' }), 'f32'),
    ),
    max: g.op('reduce', { fn: 'max', axes: [0, 2], keepdim: false }, x),
  });
}

function softmax(): Graph {
  const g = new G('attn');
  const x = g.input('scores', 'f32', ['B', 'T', 'T']);
  const m = g.op('reduce', { fn: 'max', axes: [2], keepdim: true }, x);
  const e = g.un('exp', g.bin('sub', x, m));
  return g.graph({ probs: g.bin('div', e, g.op('reduce', { fn: 'sum', axes: [2], keepdim: true }, e)) });
}

function matmul(): Graph {
  const g = new G('lin');
  const x = g.input('x', 'f32', ['B', 64]);
  const w = g.param('lin.weight', 'f32', [32, 64]);
  const b = g.param('lin.bias', 'f32', [32]);
  return g.graph({ y: g.bin('add', g.einsum('bi,oi->bo', x, w), b) });
}

const GRAPHS: Record<string, () => Graph> = { elementwise, reduction, softmax, matmul };

describe('golden C of small graphs', () => {
  for (const [name, make] of Object.entries(GRAPHS)) {
    it(name, () => {
      const plan = lowerGraph(make(), { gemm: SCHEDULES.avx2 });
      const source = renderC(plan.kernels, `golden/kernels/${name}.c`);
      const prelude = C_PRELUDE.trim();
      if (!source.includes(prelude)) throw new Error('the rendered file does not contain the C prelude');
      expectGolden(`kernels/${name}.c`, source.replace(prelude, '/* C_PRELUDE (src/codegen/prelude-c.ts) */'));
      expectGolden(`kernels/${name}.plan.json`, `${JSON.stringify(planToJson(plan), null, 2)}\n`);
    });
  }
});
