// Small graphs of each fusion kind, shared by the golden kernels (golden.test.ts) and the
// fusion tests (fusion.test.ts): a Linear with bias, tanh-GELU and a residual (one GEMM
// kernel with an epilogue), softmax, layer norm, RMS norm, log-softmax, masked softmax,
// softmax's backward and a per-row scalar result (row kernels). Nodes are attributed to a
// block path, which the kernels' notes print.

import { Builder, type DimLike } from '../../src/ir/build.js';
import type { Graph, Node } from '../../src/ir/graph.js';

/** y = gelu_tanh(x @ W.T + b) + r, x: [B, K], W: [48, K], r: [B, 48]. */
export function linearGeluResidual(K: DimLike = 64): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', K]);
  const r = g.input('r', 'f32', ['B', 48]);
  return g.within('ffn', '', () => {
    const w = g.param('ffn.weight', 'f32', [48, K]);
    const b = g.param('ffn.bias', 'f32', [48]);
    const h = g.add(g.einsum('bi,oi->bo', x, w), b);
    const inner = g.mul(0.7978845608028654, g.add(h, g.mul(0.044715, g.mul(g.mul(h, h), h))));
    const gelu = g.mul(g.mul(0.5, h), g.add(1, g.tanh(inner)));
    return g.graph('forward', { y: g.add(gelu, r) });
  });
}

const softmaxOf = (g: Builder, x: Node, axis: number): Node => {
  const e = g.exp(g.sub(x, g.amax(x, [axis], true)));
  return g.div(e, g.sum(e, [axis], true));
};

export function softmax(): Graph {
  const g = new Builder();
  const x = g.input('scores', 'f32', ['B', 'T', 'T']);
  return g.within('attn', '', () => g.graph('forward', { probs: softmaxOf(g, x, 2) }));
}

/** (x - mean) * rsqrt(var + eps) * gamma + beta over the last axis of [B, T, 32]. */
export function layerNorm(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 'T', 32]);
  return g.within('norm', '', () => {
    const gamma = g.param('norm.gamma', 'f32', [32]);
    const beta = g.param('norm.beta', 'f32', [32]);
    const centered = g.sub(x, g.div(g.sum(x, [2], true), 32));
    const v = g.div(g.sum(g.mul(centered, centered), [2], true), 32);
    return g.graph('forward', { y: g.add(g.mul(g.mul(centered, g.rsqrt(g.add(v, 1e-5))), gamma), beta) });
  });
}

/** x * rsqrt(mean(x²) + eps) * gamma over the last axis of [B, T, 32]. */
export function rmsNorm(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 'T', 32]);
  return g.within('norm', '', () => {
    const gamma = g.param('norm.gamma', 'f32', [32]);
    const ms = g.div(g.sum(g.mul(x, x), [2], true), 32);
    return g.graph('forward', { y: g.mul(g.mul(x, g.rsqrt(g.add(ms, 1e-6))), gamma) });
  });
}

/** (x - m) - log Σ e^(x - m) over a symbolic last axis. */
export function logSoftmax(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 'S']);
  const z = g.sub(x, g.amax(x, [1], true));
  return g.graph('forward', { y: g.sub(z, g.log(g.sum(g.exp(z), [1], true))) });
}

/** std's masked_softmax: masked entries 0, a row with nothing unmasked all zeros. */
export function maskedSoftmax(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 'T']);
  const mask = g.input('mask', 'bool', ['B', 'T']);
  const xm = g.where(mask, x, -Infinity);
  const m = g.amax(xm, [1], true);
  const e = g.exp(g.sub(xm, g.where(g.eq(m, -Infinity), 0, m)));
  const s = g.sum(e, [1], true);
  return g.graph('forward', { y: g.div(e, g.where(g.eq(s, 0), 1, s)) });
}

/** Softmax's backward: dx = y · (dy - Σ dy·y), y = softmax(x). */
export function softmaxBackward(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 24]);
  const dy = g.input('dy', 'f32', ['B', 24]);
  const y = softmaxOf(g, x, 1);
  return g.graph('forward', { dx: g.mul(y, g.sub(dy, g.sum(g.mul(dy, y), [1], true))), y });
}

/** log Σ e^x over the last axis without keepdim: the stored node is a per-row scalar. */
export function logSumExp(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 'T', 12]);
  const m = g.amax(x, [2], true);
  const s = g.sum(g.exp(g.sub(x, m)), [2], false);
  return g.graph('forward', { y: g.add(g.log(s), g.reshape(m, ['B', 'T'])) });
}

/** 2 · max over the last axis of [B, S] (keepdim): a row kernel whose max is the result. */
export function scaledMax(): Graph {
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 'S']);
  return g.graph('forward', { y: g.mul(g.amax(x, [1], true), 2) });
}
