// Every table that dispatches on the primitive ops has an entry for each op (the types
// require it; this checks the tables at run time too), and the text form, which
// op-args.ts describes, round-trips a node of every op.

import { describe, expect, it } from 'vitest';
import { FLOPS } from '../../src/ir/cost.js';
import { dimConst, dimMul, dimSym } from '../../src/ir/dims.js';
import { type Graph, GraphBuilder, liveNodes, type Node } from '../../src/ir/graph.js';
import { argEntries, OP_TEXT } from '../../src/ir/op-args.js';
import { OP_NAMES } from '../../src/ir/ops.js';
import { parseGraph } from '../../src/ir/parse.js';
import { formatOp, printGraph } from '../../src/ir/print.js';
import { ELEMENT } from '../../src/kernels/expr.js';
import { KERNELS } from '../../src/kernels/lower.js';
import { ONNX_OPS } from '../../src/export/onnx-lower.js';

const TABLES: Record<string, object> = { FLOPS, ELEMENT, KERNELS, ONNX_OPS, OP_TEXT };

describe('op tables', () => {
  it.each(Object.keys(TABLES))('%s has exactly one entry per op', (name) => {
    expect(Object.keys(TABLES[name]!).sort()).toEqual([...OP_NAMES].sort());
  });
});

/** A graph with at least one node of every op, each one an output. */
function everyOp(): Graph {
  const b = new GraphBuilder();
  const B = dimSym('B');
  const c = dimConst;
  const x = b.node('input', { name: 'x', index: 0, dtype: 'f32', shape: [B, c(6)] }, []);
  const i = b.node('input', { name: 'i', index: 1, dtype: 'i32', shape: [c(3)] }, []);
  const w = b.node(
    'param',
    {
      path: 'lin.w',
      role: 'param',
      dtype: 'f32',
      shape: [c(6)],
      init: { fn: 'normal', args: { std: 0.02, mean: 0 } },
    },
    [],
    'lin',
  );
  const mean = b.node(
    'param',
    { path: 'bn.mean', role: 'buffer', dtype: 'f32', shape: [c(6)], init: { fn: 'zeros', args: {} } },
    [],
    'bn',
  );
  const full = b.node('full', { value: -0, dtype: 'f32', shape: [B, c(6)] }, []);
  const gathered = b.node('gather', { axis: 1 }, [x, i]);
  const nodes: Node[] = [
    x,
    i,
    w,
    mean,
    full,
    b.node('full', { value: NaN, dtype: 'bf16', shape: [] }, []),
    b.node('dim', { value: dimMul(c(2), B), dtype: 'i64' }, []),
    b.node('iota', { axis: 1, dtype: 'i32', shape: [c(2), c(3)] }, []),
    b.node('random', { seed: 7, key: 'drop "1"', shape: [B, c(6)] }, [], 'drop', 'dropout'),
    b.node('unary', { fn: 'exp' }, [x]),
    b.node('binary', { fn: 'add' }, [x, w]),
    b.node('where', {}, [b.node('binary', { fn: 'lt' }, [x, full]), x, full]),
    b.node('reduce', { fn: 'max', axes: [1], keepdim: true }, [x]),
    b.node('reduce', { fn: 'sum', axes: [0, 1], keepdim: false }, [x]),
    b.node('reshape', { shape: [B, c(2), c(3)] }, [x]),
    b.node('permute', { axes: [1, 0] }, [x]),
    b.node('expand', { shape: [B, c(6)] }, [mean]),
    b.node(
      'pad',
      {
        pads: [
          [c(0), c(0)],
          [c(1), c(-2)],
        ],
        value: -Infinity,
      },
      [x],
    ),
    b.node('slice', { starts: [c(0), c(1)], sizes: [B, c(2)], steps: [1, 2] }, [x]),
    b.node('window', { axes: [1], size: [3], stride: [1], dilation: [2] }, [x]),
    b.node('concat', { axis: 1 }, [x, x]),
    b.node('einsum', { spec: 'bi,i->b' }, [x, w]),
    gathered,
    b.node('scatter_add', { axis: 1 }, [x, i, gathered]),
    b.node('cumsum', { axis: 1, exclusive: true, reverse: false }, [x]),
    b.node('cast', { dtype: 'i32' }, [x]),
    b.node('topk', { k: 2, axis: 1, output: 'indices' }, [x]),
    b.node('topk', { k: 1, axis: 1, output: 'values' }, [x]),
    b.node('barrier', { key: 'ckpt.0' }, [x]),
  ];
  return {
    name: 'every_op',
    dims: ['B'],
    inputs: [x, i],
    outputs: nodes.map((node, k) => ({ name: `o${k}`, node })),
    updates: [],
  };
}

describe('the text form of every op', () => {
  const g = everyOp();
  const live = liveNodes(g);

  it('covers every op', () => {
    expect([...new Set(live.map((n) => n.op))].sort()).toEqual([...OP_NAMES].sort());
  });

  it('describes every arg of every op', () => {
    for (const n of live) expect(argEntries(n.op).map((a) => a.key)).toEqual(Object.keys(n.args));
  });

  it('prints the args as described', () => {
    const ops = new Map(live.map((n) => [formatOp(n), n.op]));
    expect([...ops.keys()]).toEqual(
      expect.arrayContaining([
        'input "x" #0',
        'param "lin.w" normal(mean=0, std=0.02)',
        'buffer "bn.mean" zeros()',
        'full {value: -0.0}',
        'full {value: nan}',
        'dim {value: 2*B}',
        'iota {axis: 1}',
        'random {seed: 7, key: "drop \\"1\\""}',
        'unary.exp',
        'where',
        'reduce.max {axes: [1], keepdim: true}',
        'reshape',
        'pad {pads: [[0, 0], [1, -2]], value: -inf}',
        'slice {starts: [0, 1], steps: [1, 2]}',
        'window {axes: [1], size: [3], stride: [1], dilation: [2]}',
        'einsum {spec: "bi,i->b"}',
        'topk {k: 2, axis: 1, output: indices}',
        'cumsum {axis: 1, exclusive: true, reverse: false}',
        'barrier {key: "ckpt.0"}',
      ]),
    );
  });

  it('print -> parse -> print is the identity', () => {
    const text = printGraph(g);
    const back = parseGraph(text);
    expect(printGraph(back)).toBe(text);
    const before = new Map(live.map((n) => [formatOp(n), n]));
    for (const n of liveNodes(back)) {
      const m = before.get(formatOp(n))!;
      expect(n.op).toBe(m.op);
      expect(Object.keys(n.args)).toEqual(Object.keys(m.args)); // the same args, in the same order
    }
  });
});
