// The std composite cases (every top-level `fn` and `block` of std/*.fm used by some case,
// `missingStd()` names the others), shared by the autodiff test (autodiff-composites.test.ts)
// and the WGSL test (test/wgsl/std.test.ts): each case is a small model lowered from .fm
// source whose `forward` returns a scalar loss, `dot(composite(...))` = Σ y · w with
// w = sin(1.7 i + 0.3) a fixed pseudo-random cotangent computed in the graph. Composites
// without params read their input from a param of the test model (`param x: ...`); integer
// and bool operands (targets, indices, masks) are buffers with fixed values.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { renderDiagnostic } from '../../src/frontend/diagnostics.js';
import { type Lowered, lowerFile } from '../../src/frontend/lower.js';
import { type Host, nodeHost } from '../../src/frontend/program.js';
import { isFloat } from '../../src/ir/dtype.js';
import { graphParams } from '../../src/ir/graph.js';
import { concreteShape } from '../../src/ir/interp.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';
import { exact, rng } from './gradcheck.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const FILE = path.join(ROOT, 'test', 'passes', 'autodiff-composites.fm');

export interface Case {
  readonly name: string;
  /** Members of the test model: params (the composite's inputs), buffers, children. */
  readonly members: string;
  /** The loss expression (f32[]), usually `dot(...)` of the composite's results. */
  readonly loss: string;
  /** Statements before the loss. */
  readonly lets?: string;
  /** Lower the training variant (dropout on, batch statistics). */
  readonly training?: boolean;
  /** Range of the random float params (default [-1, 1]). */
  readonly range?: readonly [number, number];
  /** Fixed values of buffers (integer indices and targets, bool masks), by path. */
  readonly values?: Readonly<Record<string, readonly number[]>>;
}

const PRELUDE = `
import "std/act"
import "std/attention"
import "std/conv"
import "std/loss"
import "std/math"
import "std/moe"
import "std/nn"

// Σ y · w with a fixed pseudo-random w in [-1, 1]: the dot-product test of the VJP.
fn dot(y: float[...]) -> f32[] {
  let flat = reshape(y, [-1])
  let w = sin(cast(iota([size(flat, 0)], 0), f32) * 1.7 + 0.3)
  return sum(flat * w)
}
`;

const source = (c: Case): string => `${PRELUDE}
model T {
  ${c.members}
  fn forward() -> (loss: f32[]) {
    ${c.lets ?? ''}
    return ${c.loss}
  }
}
`;

export function lower(c: Case): Lowered {
  const src = source(c);
  const host: Host = {
    read: (p) => (p === FILE ? new TextEncoder().encode(src) : nodeHost.read(p)),
    display: (p) => path.relative(ROOT, p),
  };
  const r = lowerFile(FILE, { training: c.training ?? false }, host);
  if (!r.ok) throw new Error(r.diagnostics.map((d) => renderDiagnostic(d, (f) => r.program.source(f))).join('\n\n'));
  return r.lowered;
}

/** Values for every param and buffer: random floats, fixed integers and bools (see Case). */
export function feeds(lowered: Lowered, c: Case, seed: number): Map<string, HostTensor> {
  const r = rng(seed);
  const out = new Map<string, HostTensor>();
  for (const p of graphParams(lowered.graph)) {
    const { path: at, role, dtype } = p.args;
    const shape = concreteShape(p.type.shape, new Map());
    const size = shape.reduce((a, d) => a * d, 1);
    const given = c.values?.[at];
    if (given) {
      expect(given.length, `values of ${at}`).toBe(size);
      out.set(at, hostTensor(dtype, shape, given));
    } else if (!isFloat(dtype)) throw new Error(`${c.name}: ${dtype} ${role} "${at}" needs fixed values`);
    else {
      // Float buffers (running statistics) are positive.
      const [lo, hi] = role === 'buffer' ? [0.5, 1.5] : (c.range ?? [-1, 1]);
      out.set(
        at,
        exact(
          shape,
          Array.from({ length: size }, () => r(lo, hi)),
        ),
      );
    }
  }
  return out;
}

const X = 'param x: f32[2, 3, 4] = normal()';
/** An elementwise function of x over both signs (away from kinks: the values are random). */
const act = (call: string, range: readonly [number, number] = [-3, 3]): Case => ({
  name: call,
  members: X,
  loss: `dot(${call})`,
  range,
});
// bool and int buffer values
const bools = (s: string): number[] => [...s].map((ch) => (ch === '1' ? 1 : 0));

const ACTIVATIONS: Case[] = [
  act('relu(x)'),
  act('gelu(x)'),
  act('gelu_tanh(x)'),
  act('sigmoid(x)'),
  act('silu(x)'),
  act('swish(x) + swish(x, 0.5)'),
  act('tanh_act(x)'),
  act('softplus(x) + softplus(x, beta = 2.0)'),
  act('mish(x)'),
  act('leaky_relu(x) + leaky_relu(x, 0.2)'),
  act('elu(x) + elu(x, alpha = 0.7)'),
  // Both clamps active: the kinks are at ±3.
  act('hard_sigmoid(x)', [-5, 5]),
];

const MATH: Case[] = [
  { name: 'mean', members: X, loss: 'dot(mean(x) * mean(x)) + dot(mean(x, 1, keepdim = true) * x)' },
  { name: 'var', members: X, loss: 'dot(var(x)) + dot(var(x, 0, keepdim = true, correction = 1))' },
  { name: 'softmax', members: X, loss: 'dot(softmax(x)) + dot(softmax(x, 1))', range: [-3, 3] },
  {
    name: 'masked_softmax with a fully masked row',
    members: `${X}\n  buffer m: bool[2, 3, 4] = zeros()`,
    loss: 'dot(masked_softmax(x, m))',
    range: [-3, 3],
    values: { m: bools('1011' + '0000' + '0100' + '1111' + '1100' + '0001') },
  },
  { name: 'log_softmax', members: X, loss: 'dot(log_softmax(x)) + dot(log_softmax(x, 0))', range: [-3, 3] },
  {
    name: 'logsumexp',
    members: X,
    loss: 'dot(logsumexp(x)) + dot(logsumexp(x, 0, keepdim = true))',
    range: [-3, 3],
  },
  { name: 'cumsum', members: X, loss: 'dot(cumsum(x) * cumsum(x))' },
  {
    name: 'argmax, argmin, take_along_last',
    members: X,
    loss: 'dot(take_along_last(x, reshape(argmax(x), [2, 3, 1])) + take_along_last(x * x, reshape(argmin(x), [2, 3, 1])))',
  },
  { name: 'normalize', members: X, loss: 'dot(normalize(x)) + dot(normalize(x * 1e-7))' },
  { name: 'sinusoidal_positions', members: X, loss: 'dot(x * reshape(sinusoidal_positions(3, 4), [1, 3, 4]))' },
  {
    name: 'triu_mask, tril_mask',
    members: 'param x: f32[4, 4] = normal()',
    loss: 'dot(where(triu_mask(4), x, 0.0) + where(tril_mask(4, -1), x * x, 0.0) + where(triu_mask(4, 2), exp(x), 0.0))',
  },
  {
    name: 'one_hot (an out-of-range index gives a zero row)',
    members: `${X}\n  buffer t: i32[2, 3] = zeros()`,
    loss: 'dot(one_hot(t, 4) * x * x)',
    values: { t: [0, 3, 2, 2, 7, 1] },
  },
  {
    name: 'squeeze_last, unsqueeze_last',
    members: 'param x: f32[2, 3, 1] = normal()',
    loss: 'dot(unsqueeze_last(tanh(squeeze_last(x))) * x)',
  },
];

const NN: Case[] = [
  { name: 'Linear', members: `${X}\n  lin = Linear(4, 3)`, loss: 'dot(tanh(lin(x)))' },
  { name: 'Linear without bias', members: `${X}\n  lin = Linear(4, 5, bias = false)`, loss: 'dot(lin(x) * lin(x))' },
  {
    name: 'Embedding (repeated and clamped indices)',
    members: 'emb = Embedding(5, 3)\n  buffer idx: i32[2, 3] = zeros()',
    loss: 'dot(emb(idx) * emb(idx))',
    values: { idx: [0, 4, 2, 2, 7, -1] },
  },
  { name: 'dropout (inference: identity)', members: X, loss: 'dot(dropout(x, 0.3) * x)' },
  { name: 'dropout (training)', members: X, loss: 'dot(dropout(x, 0.3) * x)', training: true },
  {
    name: 'Dropout (training)',
    members: `${X}\n  drop = Dropout(0.5)`,
    loss: 'dot(drop(tanh(x)))',
    training: true,
  },
  { name: 'LayerNorm', members: `${X}\n  ln = LayerNorm(4)`, loss: 'dot(ln(x))' },
  { name: 'RMSNorm', members: `${X}\n  rms = RMSNorm(4, eps = 1e-3)`, loss: 'dot(rms(x))' },
  {
    name: 'BatchNorm1d (training: batch statistics)',
    members: 'param x: f32[3, 2, 4] = normal()\n  bn = BatchNorm1d(2)',
    loss: 'dot(bn(x))',
    training: true,
  },
  {
    name: 'BatchNorm1d (inference: running statistics)',
    members: 'param x: f32[3, 2, 4] = normal()\n  bn = BatchNorm1d(2)',
    loss: 'dot(bn(x) * bn(x))',
  },
  {
    name: 'BatchNorm2d (training: batch statistics)',
    members: 'param x: f32[2, 2, 3, 3] = normal()\n  bn = BatchNorm2d(2)',
    loss: 'dot(bn(x))',
    training: true,
  },
  {
    name: 'BatchNorm2d (inference: running statistics)',
    members: 'param x: f32[2, 2, 3, 3] = normal()\n  bn = BatchNorm2d(2)',
    loss: 'dot(bn(x) * x)',
  },
  { name: 'glu', members: X, loss: 'dot(glu(x)) + dot(glu(x, act = gelu))', range: [-2, 2] },
  { name: 'GLU', members: `${X}\n  g = GLU(4, 3, act = silu)`, loss: 'dot(g(x))' },
  { name: 'SwiGLU', members: `${X}\n  ff = SwiGLU(4, 6)`, loss: 'dot(ff(x))' },
  { name: 'FeedForward', members: `${X}\n  ff = FeedForward(4, 8)`, loss: 'dot(ff(x))' },
  {
    name: 'FeedForward with dropout (training)',
    members: `${X}\n  ff = FeedForward(4, 6, act = silu, bias = false, drop = 0.25)`,
    loss: 'dot(ff(x))',
    training: true,
  },
  {
    name: '@checkpoint FeedForward and LayerNorm (recomputed in the backward)',
    members: `${X}\n  @checkpoint\n  ff = FeedForward(4, 6)\n  @checkpoint\n  ln = LayerNorm(4)`,
    loss: 'dot(ln(ff(x)) * x)',
  },
];

const CONV: Case[] = [
  { name: 'Conv1d', members: 'param x: f32[2, 2, 7] = normal()\n  c = Conv1d(2, 4, 3)', loss: 'dot(c(x))' },
  {
    name: 'Conv1d with stride, padding, dilation and groups',
    members:
      'param x: f32[2, 4, 9] = normal()\n  c = Conv1d(4, 6, 3, stride = 2, padding = 2, dilation = 2, groups = 2)',
    loss: 'dot(tanh(c(x)))',
  },
  {
    name: 'Conv1d without bias, stride 3',
    members: 'param x: f32[1, 3, 10] = normal()\n  c = Conv1d(3, 2, 2, stride = 3, bias = false)',
    loss: 'dot(c(x) * c(x))',
  },
  { name: 'Conv2d', members: 'param x: f32[1, 2, 5, 5] = normal()\n  c = Conv2d(2, 3, 3)', loss: 'dot(c(x))' },
  {
    name: 'Conv2d with stride, padding, dilation and groups',
    members:
      'param x: f32[2, 4, 6, 7] = normal()\n  c = Conv2d(4, 4, 2, stride = 2, padding = 1, dilation = 2, groups = 2)',
    loss: 'dot(tanh(c(x)))',
  },
  {
    // Stride 1: the window's adjoint is a transposed convolution (autodiff/conv-adjoint.ts).
    name: 'Conv2d stride 1 with padding, dilation and groups (transposed-convolution adjoint)',
    members: 'param x: f32[2, 4, 6, 7] = normal()\n  c = Conv2d(4, 6, 3, padding = 1, dilation = 2, groups = 2)',
    loss: 'dot(tanh(c(x)))',
  },
  {
    name: 'Conv1d stride 1, no padding, dilation 3 (transposed-convolution adjoint)',
    members: 'param x: f32[2, 3, 11] = normal()\n  c = Conv1d(3, 5, 2, dilation = 3)',
    loss: 'dot(c(x) * c(x))',
  },
  {
    name: 'Conv2d depthwise (groups = channels), no bias',
    members: 'param x: f32[1, 3, 4, 4] = normal()\n  c = Conv2d(3, 3, 3, padding = 1, groups = 3, bias = false)',
    loss: 'dot(c(x) * x)',
  },
  {
    name: 'DepthwiseConv1d',
    members: 'param x: f32[2, 3, 8] = normal()\n  c = DepthwiseConv1d(3, 3, stride = 2, padding = 1, dilation = 2)',
    loss: 'dot(tanh(c(x)))',
  },
  {
    name: 'max_pool2d (default, and padded with -inf)',
    members: 'param x: f32[1, 2, 6, 6] = normal()',
    loss: 'dot(max_pool2d(x)) + dot(max_pool2d(x, kernel = 3, stride = 2, padding = 1))',
  },
  {
    name: 'avg_pool2d (default, and padded with zeros)',
    members: 'param x: f32[1, 2, 5, 5] = normal()',
    loss: 'dot(avg_pool2d(x) * avg_pool2d(x)) + dot(avg_pool2d(x, kernel = 3, stride = 1, padding = 1))',
  },
  {
    name: 'global_avg_pool2d',
    members: 'param x: f32[2, 3, 2, 3] = normal()',
    loss: 'dot(global_avg_pool2d(x * x))',
  },
  { name: 'flatten', members: 'param x: f32[2, 3, 2, 2] = normal()', loss: 'dot(tanh(flatten(x)))' },
  {
    name: 'Patchify',
    members: 'param x: f32[2, 2, 4, 6] = normal()\n  p = Patchify(2, 3, 2)',
    loss: 'dot(p(x) * p(x))',
  },
];

// q [B=1, H=2, T=3, D=4], k [1, 2, S=5, 4], v [1, 2, 5, E=3]
const QKV =
  'param q: f32[1, 2, 3, 4] = normal()\n  param k: f32[1, 2, 5, 4] = normal()\n  param v: f32[1, 2, 5, 3] = normal()';
const QKV4 =
  'param q: f32[2, 2, 4, 4] = normal()\n  param k: f32[2, 2, 4, 4] = normal()\n  param v: f32[2, 2, 4, 3] = normal()';
const MASK = `buffer m: bool[1, 1, 3, 5] = zeros()`;
const MASK_VALUES = bools('10110' + '00000' + '11111');
const square = (mask: string): string => `expand(reshape(${mask}, [1, 1, 4, 4]), [2, 1, 4, 4])`;

const ATTENTION: Case[] = [
  {
    name: 'attention (a query that sees no key)',
    members: `${QKV}\n  ${MASK}`,
    loss: 'dot(attention(q, k, v, m))',
    range: [-2, 2],
    values: { m: MASK_VALUES },
  },
  {
    name: 'attention_bias',
    members: `${QKV}\n  ${MASK}\n  param bias: f32[2, 3, 5] = normal()`,
    loss: 'dot(attention_bias(q, k, v, m, bias))',
    range: [-2, 2],
    values: { m: MASK_VALUES },
  },
  {
    name: 'attend_scores',
    members: `param s: f32[1, 2, 3, 5] = normal()\n  param v: f32[1, 2, 5, 3] = normal()\n  ${MASK}`,
    loss: 'dot(attend_scores(s, v, m))',
    range: [-2, 2],
    values: { m: MASK_VALUES },
  },
  {
    name: 'attention with causal_mask',
    members: QKV4,
    loss: `dot(attention(q, k, v, ${square('causal_mask(4)')}))`,
    range: [-2, 2],
  },
  {
    name: 'attention with sliding_window_mask',
    members: QKV4,
    loss: `dot(attention(q, k, v, ${square('sliding_window_mask(4, 2)')}))`,
    range: [-2, 2],
  },
  {
    name: 'attention with self_attention_mask (all, causal, window)',
    members: QKV4,
    loss: [
      `dot(attention(q, k, v, ${square('self_attention_mask(4)')}))`,
      `dot(attention(q, k, v, ${square('self_attention_mask(4, causal = true)')}))`,
      `dot(attention(q, k, v, ${square('self_attention_mask(4, window = 3)')}))`,
    ].join(' + '),
    range: [-2, 2],
  },
  {
    name: 'attention with padding_mask (an all-padding sequence)',
    members: `${QKV4}\n  buffer valid: bool[2, 4] = zeros()`,
    loss: 'dot(attention(q, k, v, expand(padding_mask(valid), [2, 1, 4, 4])))',
    range: [-2, 2],
    values: { valid: bools('1101' + '0000') },
  },
  {
    name: 'rope',
    members: 'param x: f32[1, 2, 3, 4] = normal()',
    loss: 'dot(rope(x) * rope(x)) + dot(rope(x, base = 100.0))',
    range: [-2, 2],
  },
  {
    name: 'split_heads, merge_heads',
    members: 'param x: f32[2, 3, 6] = normal()',
    loss: 'dot(merge_heads(tanh(split_heads(x, 3))) * x)',
  },
  {
    name: 'repeat_kv',
    members: 'param x: f32[1, 2, 3, 2] = normal()',
    loss: 'dot(repeat_kv(x, 3) * repeat_kv(x, 3))',
  },
  {
    name: 'RelPosBias (distances clipped)',
    members: 'rp = RelPosBias(2, max_distance = 3)',
    loss: 'dot(rp(5) * rp(5))',
  },
  {
    name: 'MultiHeadAttention',
    members: 'param x: f32[2, 3, 4] = normal()\n  attn = MultiHeadAttention(4, 2)',
    loss: 'dot(attn(x))',
  },
  {
    name: 'MultiHeadAttention: causal, rope, grouped-query, no bias',
    members:
      'param x: f32[2, 4, 8] = normal()\n  attn = MultiHeadAttention(8, 4, kv_heads = 2, causal = true, use_rope = true, bias = false)',
    loss: 'dot(attn(x))',
  },
  {
    name: 'MultiHeadAttention: sliding window, relative position bias',
    members:
      'param x: f32[1, 5, 4] = normal()\n  attn = MultiHeadAttention(4, 2, window = 2, rel_pos = true, max_distance = 3)',
    loss: 'dot(attn(x))',
  },
  {
    name: 'MultiHeadAttention.forward_padded (an all-padding sequence)',
    members:
      'param x: f32[2, 3, 4] = normal()\n  buffer valid: bool[2, 3] = zeros()\n  attn = MultiHeadAttention(4, 2, causal = true)',
    loss: 'dot(attn.forward_padded(x, valid))',
    values: { valid: bools('110' + '000') },
  },
  {
    name: 'MultiHeadAttention.forward_masked',
    members:
      'param x: f32[1, 3, 4] = normal()\n  buffer m: bool[1, 1, 3, 3] = zeros()\n  attn = MultiHeadAttention(4, 1, use_rope = true)',
    loss: 'dot(attn.forward_masked(x, m))',
    values: { m: bools('011' + '101' + '110') },
  },
  {
    name: 'CrossAttention (with memory padding)',
    members:
      'param x: f32[2, 3, 4] = normal()\n  param mem: f32[2, 5, 6] = normal()\n  buffer valid: bool[2, 5] = zeros()\n  attn = CrossAttention(4, 2, kv_dim = 6)',
    loss: 'dot(attn.forward_padded(x, mem, valid)) + dot(attn(x, mem))',
    values: { valid: bools('11100' + '10000') },
  },
];

const MOE: Case[] = [
  {
    name: 'Router (probs and renormalized top-k gates)',
    members: `${X}\n  router = Router(4, 5, top_k = 2)`,
    lets: 'let (probs, gates, idx) = router(x)',
    loss: 'dot(probs) + dot(gates * gates)',
    range: [-2, 2],
  },
  {
    name: 'load_balancing_loss',
    members: `${X}\n  router = Router(4, 3, top_k = 2)`,
    lets: 'let (probs, gates, idx) = router(x)',
    loss: 'load_balancing_loss(reshape(probs, [6, 3]), reshape(idx, [6, 2])) + dot(gates)',
    range: [-2, 2],
  },
  {
    name: 'MoE, capacity dispatch (some assignments dropped)',
    members: `${X}\n  moe = MoE(4, 6, experts = 3, top_k = 2, capacity_factor = 0.6)`,
    lets: 'let (y, aux) = moe(x)',
    loss: 'dot(y) + 0.5 * aux',
    range: [-2, 2],
  },
  {
    name: 'MoE, dense dispatch',
    members: `${X}\n  moe = MoE(4, 5, experts = 3, top_k = 1, dispatch = dense)`,
    lets: 'let (y, aux) = moe(x)',
    loss: 'dot(y) + 0.5 * aux',
    range: [-2, 2],
  },
];

const IGNORED = -100;
const LOSS: Case[] = [
  {
    name: 'cross_entropy with ignored targets',
    members: 'param x: f32[2, 3, 5] = normal()\n  buffer t: i32[2, 3] = zeros()',
    loss: 'cross_entropy(x, t)',
    range: [-3, 3],
    values: { t: [0, 4, IGNORED, 2, 2, IGNORED] },
  },
  {
    name: 'cross_entropy with label smoothing and another ignore_index',
    members: 'param x: f32[2, 3, 5] = normal()\n  buffer t: i32[2, 3] = zeros()',
    loss: 'cross_entropy(x, t, ignore_index = 1, label_smoothing = 0.1)',
    range: [-3, 3],
    values: { t: [0, 1, 3, 4, 1, 2] },
  },
  {
    name: 'cross_entropy with every target ignored (zero gradient)',
    members: 'param x: f32[3, 4] = normal()\n  buffer t: i32[3] = zeros()',
    loss: 'cross_entropy(x, t) + dot(x) * 0.01',
    values: { t: [IGNORED, IGNORED, IGNORED] },
  },
  {
    name: 'nll_loss with ignored targets',
    members: 'param x: f32[2, 3, 5] = normal()\n  buffer t: i32[2, 3] = zeros()',
    loss: 'nll_loss(log_softmax(x), t)',
    range: [-3, 3],
    values: { t: [0, 4, IGNORED, 2, 2, IGNORED] },
  },
  {
    name: 'kl_div',
    members: 'param x: f32[2, 5] = normal()\n  param y: f32[2, 5] = normal()',
    loss: 'kl_div(log_softmax(x), softmax(y))',
    range: [-3, 3],
  },
  {
    name: 'mse',
    members: `${X}\n  param y: f32[2, 3, 4] = normal()`,
    loss: 'mse(tanh(x), y)',
  },
];

export const GROUPS: [string, Case[]][] = [
  ['activations', ACTIVATIONS],
  ['math', MATH],
  ['nn', NN],
  ['conv', CONV],
  ['attention', ATTENTION],
  ['moe', MOE],
  ['loss', LOSS],
];

/** The fns and blocks of std/*.fm that no case uses (empty when all are). */
export function missingStd(): string[] {
  const names = fs
    .readdirSync(path.join(ROOT, 'std'))
    .filter((f) => f.endsWith('.fm'))
    .flatMap((f) =>
      [...fs.readFileSync(path.join(ROOT, 'std', f), 'utf8').matchAll(/^(?:fn|block)\s+(\w+)/gm)].map((m) => m[1]!),
    );
  expect(names.length).toBeGreaterThan(60);
  const used = GROUPS.flatMap(([, cases]) => cases).map((c) => `${c.members}\n${c.lets ?? ''}\n${c.loss}`);
  return names.filter((n) => !used.some((s) => new RegExp(`\\b${n}\\b`).test(s)));
}
