// Every primitive op and every unary/binary fn through the C backend, against the reference
// interpreter (the cases: primitive-cases.ts), all graphs built into one C file; and one
// compiled library run at two bindings of its symbolic dims.

import { beforeAll, describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import { dimConst, dimSym } from '../../src/ir/dims.js';
import { weightBuffers } from '../../src/runtime/compile.js';
import { toHost } from '../../src/runtime/tensor.js';
import { CBatch, assertClean, compare, ht, runAndCompare, seededParams } from './c-harness.js';
import { cases, uncovered } from './primitive-cases.js';

// ---------- the batch ----------

let batch: CBatch;
beforeAll(() => {
  batch = CBatch.build(
    cases.map((c) => c.graph),
    { lower: (i) => cases[i]!.lower },
  );
}, 120_000);

describe('C backend vs interpreter: primitive ops', () => {
  it('covers every primitive op and fn', () => {
    expect(uncovered()).toEqual([]);
  });

  it('rejects a repeated letter in one operand (ii->i) when the graph is built', () => {
    const g = new Builder();
    const sq = g.input('sq', 'f32', [3, 3]);
    expect(() => g.einsum('ii->i', sq)).toThrow(/repeated letter/);
  });

  it('compares for real (a wrong value is caught)', () => {
    const good = ht('f32', [3], [1, NaN, Infinity]);
    expect(compare('t', good, good)).toEqual([]);
    expect(compare('t', ht('f32', [3], [1.001, NaN, Infinity]), good)).toHaveLength(1);
    expect(compare('t', ht('f32', [3], [1, 0, Infinity]), good)).toHaveLength(1);
    expect(compare('t', ht('f32', [3], [1, NaN, -Infinity]), good)).toHaveLength(1);
    expect(compare('t', ht('i32', [2], [1, 2]), ht('i32', [2], [1, 3]))).toHaveLength(1);
  });

  for (const [i, c] of cases.entries()) {
    it(c.name, () => {
      c.runs.forEach((run, k) => assertClean(c.graph, runAndCompare(batch, i, run).problems, `run ${k}`));
    });
  }
});

// ---------- one library, two bindings ----------

describe('symbolic dims: one compiled library, two bindings on one Executable', () => {
  it('runs [B, T] graphs at two sizes with the same Executable', () => {
    const g = new Builder();
    const x = g.input('x', 'f32', ['B', 'T', 8]);
    const ids = g.input('ids', 'i32', ['B', 'T']);
    const w = g.param('emb.weight', 'f32', [10, 8]);
    const emb = g.node('gather', { axis: 0 }, [w, ids]);
    const h = g.add(x, emb);
    const m = g.amax(h, [2], true);
    const e = g.exp(g.sub(h, m));
    const soft = g.div(e, g.sum(e, [2], true));
    const scores = g.einsum('btd,bsd->bts', soft, h);
    const top = g.node('topk', { k: 2, axis: 2, output: 'indices' }, [scores]);
    const T = dimSym('T');
    const pooled = g.node('window', { axes: [1], size: [2], stride: [2], dilation: [1] }, [h]);
    const pad = g.node(
      'pad',
      {
        pads: [
          [dimConst(0), dimConst(0)],
          [dimConst(1), T],
          [dimConst(0), dimConst(0)],
        ],
        value: 0,
      },
      [h],
    );
    const graph = g.graph('forward', {
      soft,
      scores,
      top,
      pooled,
      pad,
      t: g.node('dim', { value: T, dtype: 'i32' }, []),
    });
    const one = CBatch.build([graph]);
    const params = seededParams(graph, new Map(), 5);
    const weights = weightBuffers(params);
    const exe = one.executable(0, weights);
    const shapes: [number, number][] = [
      [1, 6],
      [3, 11],
      [1, 6],
    ];
    for (const [B, T] of shapes) {
      const r = runAndCompare(one, 0, { exe: { exe, weights, params }, seed: B * 100 + T, dims: { B, T } });
      assertClean(graph, r.problems, `B=${B} T=${T}`);
      expect(r.c['soft']!.dims).toEqual([B, T, 8]);
      expect(toHost(r.c['t']!).data[0]).toBe(T);
    }
    expect(one.lib.kernelCount).toBe(one.plans[0]!.kernels.length);
  });
});
