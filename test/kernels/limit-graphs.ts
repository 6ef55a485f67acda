// Graphs that exceed a device's storage-buffer limit in one kernel, for the device-limit
// tests (device-limits.test.ts on the CPU side, test/wgsl/limits-run.test.ts on SwiftShader).

import { Builder } from '../../src/ir/build.js';
import type { Graph, Node } from '../../src/ir/graph.js';

const inputs = (g: Builder, n: number, shape: (string | number)[]): Node[] =>
  Array.from({ length: n }, (_, i) => g.input(`x${i}`, 'f32', shape));

/** Σ x[2i]·x[2i+1] - ... over `n` inputs: one elementwise kernel binding n + 1 buffers. */
export function wide(n = 14): Graph {
  const g = new Builder();
  const xs = inputs(g, n, ['B', 5]);
  let acc = g.mul(xs[0]!, xs[1]!);
  for (let i = 2; i + 1 < n; i += 2) {
    const p = g.mul(xs[i]!, xs[i + 1]!);
    acc = i % 4 === 0 ? g.sub(acc, p) : g.add(acc, p);
  }
  return g.graph('forward', { y: acc });
}

/** A softmax row kernel over a sum of 8 products: its fused kernel binds 17 buffers. */
export function wideSoftmax(): Graph {
  const g = new Builder();
  const xs = inputs(g, 16, ['B', 6]);
  let s = g.mul(xs[0]!, xs[1]!);
  for (let i = 2; i < 16; i += 2) s = g.add(s, g.mul(xs[i]!, xs[i + 1]!));
  const e = g.exp(g.sub(s, g.amax(s, [1], true)));
  return g.graph('forward', { p: g.div(e, g.sum(e, [1], true)) });
}

/** A concat of 10 inputs along axis 1, read by an elementwise op: 11 buffers in one kernel. */
export function wideConcat(): Graph {
  const g = new Builder();
  const xs = inputs(g, 10, ['B', 3]);
  return g.graph('forward', { y: g.unary('tanh', g.concat(xs, 1)) });
}
