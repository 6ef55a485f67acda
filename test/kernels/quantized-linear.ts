// The graph the quantized GEMM tests run: `y = x @ W.T (+ b)` with W [N, K] quantized by the
// quantize pass to `spec` ('none': f32) and fused as the C pipeline fuses it.

import { Builder } from '../../src/ir/build.js';
import { type Graph, graphParams } from '../../src/ir/graph.js';
import { initParam } from '../../src/ir/init.js';
import { NO_HINTS } from '../../src/ir/module.js';
import type { QuantSpec } from '../../src/ir/quantize.js';
import type { HostTensor } from '../../src/ir/value.js';
import { fusion } from '../../src/passes/fusion/index.js';
import type { PassContext } from '../../src/passes/pass.js';
import { quantize } from '../../src/passes/quantize.js';

export function quantizedLinear(N: number, K: number, spec: QuantSpec | 'none', bias = true): Graph {
  const b = new Builder();
  const x = b.input('x', 'f32', ['M', K]);
  const w = b.param('fc.w', 'f32', [N, K], 'param', { fn: 'kaiming_uniform', args: {} });
  const xw = b.einsum('mk,nk->mn', x, w);
  const y = bias
    ? b.add(xw, b.param('fc.b', 'f32', [N], 'param', { fn: 'uniform', args: { low: -0.1, high: 0.1 } }))
    : xw;
  const g = b.graph(`linear_${N}_${K}`, { y });
  const ctx: PassContext = {
    target: 'c',
    mode: 'inference',
    hints: NO_HINTS,
    options: { quantize: [{ path: 'fc', spec }] },
  };
  return fusion.run(quantize.run(g, ctx), ctx);
}

/** A seeded param of the unquantized graph, by path. */
export function weight(g: Graph, path: string): HostTensor {
  return initParam(graphParams(g).find((n) => n.args.path === path)!.args, new Map(), 3);
}
