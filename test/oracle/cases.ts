// The models the torch oracle checks: every seed model at small hyperparameters, plus three
// models that are not in the repository (an MLP-Mixer, a conv + attention regressor and a cross-attention tagger, as
// .fm source with their torch mirrors in Python), each at two bindings of its symbolic dims.

import type { Lowered } from '../../src/frontend/lower.js';
import type { HostTensor } from '../../src/ir/value.js';
import {
  type InputSpec,
  lowerSmall,
  lowerSource,
  oracleInputs,
  oracleWeights,
  runTorchBatch,
  type TorchJob,
  type TorchResult,
  trainableParams,
} from './torch-harness.js';
import { GROUP_STATS_FM, GROUP_STATS_PY } from './cases-stats.js';

export interface OracleCase {
  /** Test name. */
  readonly name: string;
  /** The torch mirror (torch_models.py, or `extraPython`). */
  readonly torch: string;
  /** Hyperparameters: the small variant's overrides (fmc) and the mirror's config (torch). */
  readonly config: Readonly<Record<string, number | string>>;
  /** Lowers the `loss` function. */
  readonly lower: () => Lowered;
  /** How integer and bool inputs are drawn. */
  readonly inputs: Readonly<Record<string, InputSpec>>;
  /** Two bindings of the symbolic dims. */
  readonly bindings: readonly Readonly<Record<string, number>>[];
  readonly extraPython?: string;
}

const lm = (vocab: number): Record<string, InputSpec> => ({
  tokens: { kind: 'index', high: vocab },
  targets: { kind: 'labels', high: vocab, ignored: 0.2 },
});
const SEQ = [
  { B: 2, T: 5 },
  { B: 1, T: 8 },
];
const BATCH = [{ B: 2 }, { B: 3 }];

const seed = (
  name: string,
  config: Record<string, number | string>,
  inputs: Record<string, InputSpec>,
  bindings: readonly Record<string, number>[],
  file = name,
): OracleCase => ({ name, torch: file, config, lower: () => lowerSmall(file, config), inputs, bindings });

// ---------------------------------------------------------------------------------------------
// Models that are not in the repository

/** An MLP-Mixer over 3×8×8 images: 2×2 patches of 4×4 pixels, token- and channel-mixing MLPs. */
export const MIXER_FM = `
import { gelu, gelu_tanh } from "std/act"
import { Patchify, avg_pool2d, max_pool2d } from "std/conv"
import { cross_entropy } from "std/loss"
import { mean } from "std/math"
import { FeedForward, LayerNorm, Linear } from "std/nn"

block MixerLayer(tokens: int, d: int, token_hidden: int, channel_hidden: int) {
  norm1 = LayerNorm(d, eps = 1e-6)
  token_mlp = FeedForward(tokens, token_hidden, act = gelu_tanh)
  norm2 = LayerNorm(d, eps = 1e-6)
  channel_mlp = FeedForward(d, channel_hidden, act = gelu)

  fn forward(x: f32[B, tokens, d]) -> f32[B, tokens, d] {
    let mixed = permute(token_mlp(permute(norm1(x), [0, 2, 1])), [0, 2, 1]) // across tokens
    let h = x + mixed
    return h + channel_mlp(norm2(h))
  }
}

model Mixer(
  image = 8,
  channels = 3,
  patch = 4,
  d = 16,
  token_hidden = 8,
  channel_hidden = 32,
  layers = 2,
  classes = 6,
) {
  let tokens = (image / patch) * (image / patch)

  patchify = Patchify(channels, d, patch)
  mixer = repeat layers MixerLayer(tokens, d, token_hidden, channel_hidden)
  norm = LayerNorm(d, eps = 1e-6)
  head = Linear(d, classes)

  fn forward(images: f32[B, channels, image, image]) -> (logits: f32[B, classes]) {
    // same-size 3×3 smoothing: the mean (padding counts as 0) plus the max (padding never wins)
    let smooth = avg_pool2d(images, kernel = 3, stride = 1, padding = 1)
    let peak = max_pool2d(images, kernel = 3, stride = 1, padding = 1)
    let h = norm(mixer(patchify(smooth + peak))) // [B, tokens, d]
    return head(mean(h, 1))
  }

  fn loss(images: f32[B, channels, image, image], labels: i32[B]) -> f32[] {
    return cross_entropy(forward(images), labels, label_smoothing = 0.05)
  }
}
`;

/**
 * A sequence regressor: per block, a grouped dilated conv + batch norm + mish, a GLU (gelu_tanh
 * gate) back to d channels, then causal grouped-query attention with a clipped relative
 * position bias; a stride-2 conv halves the length; the loss is MSE plus variance and
 * logsumexp-of-cumsum penalties.
 */
export const CONV_ATTN_FM = `
import { elu, gelu_tanh, mish } from "std/act"
import { MultiHeadAttention } from "std/attention"
import { Conv1d } from "std/conv"
import { mse } from "std/loss"
import { cumsum, logsumexp, var } from "std/math"
import { BatchNorm1d, GLU, Linear, RMSNorm } from "std/nn"

block ConvAttnBlock(d: int, heads: int, kv_heads: int) {
  conv = Conv1d(d, 2 * d, 3, padding = 2, dilation = 2, groups = 2)
  bn = BatchNorm1d(2 * d)
  glu = GLU(2 * d, d, act = gelu_tanh)
  norm = RMSNorm(d)
  attn = MultiHeadAttention(d, heads, kv_heads = kv_heads, causal = true, rel_pos = true, max_distance = 3)

  fn forward(x: f32[B, T, d]) -> f32[B, T, d] {
    let c = mish(bn(conv(rearrange(x, "b t c -> b c t")))) // [B, 2d, T]
    let h = x + glu(rearrange(c, "b c t -> b t c"))
    return h + attn(norm(h))
  }
}

model ConvAttnRegressor(d = 8, heads = 4, kv_heads = 2, layers = 2, features = 5, outputs = 3) {
  inp = Linear(features, d)
  blocks = repeat layers ConvAttnBlock(d, heads, kv_heads)
  down = Conv1d(d, d, 2, stride = 2, bias = false)
  head = Linear(d, outputs)

  // x: [B, 2·T, features] frames; the stride-2 conv halves them to T outputs.
  fn forward(x: f32[B, 2 * T, features]) -> (y: f32[B, T, outputs]) {
    let h = blocks(elu(inp(x))) // [B, 2·T, d]
    let pooled = down(rearrange(h, "b t c -> b c t")) // [B, d, T]
    return head(rearrange(pooled, "b c t -> b t c"))
  }

  fn loss(x: f32[B, 2 * T, features], target: f32[B, T, outputs]) -> f32[] {
    let y = forward(x)
    let spread = sum(var(y, -1, correction = 1)) / (B * T)
    let tail = sum(logsumexp(cumsum(y), -1)) / (B * T)
    return mse(y, target) + 0.1 * spread + 0.01 * tail
  }
}
`;

/**
 * A tagger with cross-attention into a memory (std's CrossAttention, key padding), sinusoidal
 * positions and an L2-normalized memory; the loss is nll_loss of log_softmax, a KL term
 * towards a teacher's softmax (kl_div), and the log-probability at each argmax picked with
 * take_along_last (argmin of the negated log-probabilities must agree).
 */
export const CROSS_TAGGER_FM = `
import { CrossAttention, sinusoidal_positions } from "std/attention"
import { kl_div, nll_loss } from "std/loss"
import { argmax, argmin, log_softmax, normalize, softmax, take_along_last } from "std/math"
import { Embedding, LayerNorm, Linear } from "std/nn"

model CrossTagger(vocab = 12, d = 8, heads = 2, mem_dim = 6, classes = 5) {
  embed = Embedding(vocab, d)
  cross = CrossAttention(d, heads, kv_dim = mem_dim)
  norm = LayerNorm(d)
  head = Linear(d, classes)
  teacher = Linear(mem_dim, classes)

  fn forward(tokens: i32[B, T], memory: f32[B, S, mem_dim], valid: bool[B, S]) -> (logits: f32[B, T, classes]) {
    let x = embed(tokens) + sinusoidal_positions(T, d)
    return head(norm(x + cross.forward_padded(x, normalize(memory), valid)))
  }

  fn loss(tokens: i32[B, T], memory: f32[B, S, mem_dim], valid: bool[B, S], labels: i32[B, T]) -> f32[] {
    let logp = log_softmax(forward(tokens, memory, valid), -1) // [B, T, classes]
    let p = softmax(teacher(sum(memory, 1)), -1) // [B, classes]
    let distill = kl_div(logp, expand(reshape(p, [B, 1, classes]), [B, T, classes]))
    let best = argmax(logp) // [B, T]
    let same = sum(cast(best == argmin(-logp), f32)) / (B * T) // 1
    let picked = take_along_last(logp, reshape(best, [B, T, 1])) // the max log-probability
    return nll_loss(logp, labels) + 0.5 * distill - 0.1 * sum(picked) / (B * T) * same
  }
}
`;

/** Torch mirrors of the models above (loaded by torch_oracle.py with --extra). */
export const EXTRA_PY = `
import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch_models import (
    BatchNorm, Conv1d, Embedding, FeedForward, GLU, LayerNorm, Linear, MultiHeadAttention, Patchify,
    RMSNorm, cross_entropy, f32c, gelu, masked_softmax, to_f32,
)


def gelu_tanh(x):
    # std/act.fm: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), both constants f32
    return 0.5 * x * (1.0 + torch.tanh(f32c(0.7978845608028654) * (x + f32c(0.044715) * x * x * x)))


def mish(x):
    return F.mish(x)


class MixerLayer(nn.Module):
    def __init__(self, tokens, d, token_hidden, channel_hidden):
        super().__init__()
        self.norm1 = LayerNorm(d, eps=1e-6)
        self.token_mlp = FeedForward(tokens, token_hidden, act=gelu_tanh)
        self.norm2 = LayerNorm(d, eps=1e-6)
        self.channel_mlp = FeedForward(d, channel_hidden, act=gelu)

    def forward(self, x):
        h = x + self.token_mlp(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return h + self.channel_mlp(self.norm2(h))


class Mixer(nn.Module):
    def __init__(self, image=8, channels=3, patch=4, d=16, token_hidden=8, channel_hidden=32, layers=2, classes=6):
        super().__init__()
        tokens = (image // patch) ** 2
        self.patchify = Patchify(channels, d, patch)
        self.mixer = nn.ModuleList([MixerLayer(tokens, d, token_hidden, channel_hidden) for _ in range(layers)])
        self.norm = LayerNorm(d, eps=1e-6)
        self.head = Linear(d, classes)

    def loss(self, images, labels):
        smooth = F.avg_pool2d(images, 3, stride=1, padding=1, count_include_pad=True)
        peak = F.max_pool2d(images, 3, stride=1, padding=1)
        h = self.patchify(smooth + peak)
        for layer in self.mixer:
            h = layer(h)
        logits = self.head(self.norm(h).mean(1))
        return cross_entropy(logits, labels, label_smoothing=0.05)


class ConvAttnBlock(nn.Module):
    def __init__(self, d, heads, kv_heads):
        super().__init__()
        self.conv = Conv1d(d, 2 * d, 3, padding=2, dilation=2, groups=2)
        self.bn = BatchNorm(2 * d)
        self.glu = GLU(2 * d, d)
        self.norm = RMSNorm(d)
        self.attn = MultiHeadAttention(d, heads, kv_heads=kv_heads, causal=True, rel_pos=True, max_distance=3)

    def forward(self, x):
        c = mish(self.bn(self.conv(x.transpose(1, 2))))  # [B, 2d, T]
        a, b = self.glu.proj(c.transpose(1, 2)).chunk(2, dim=-1)
        h = x + a * gelu_tanh(b)  # GLU with a gelu_tanh gate
        return h + self.attn(self.norm(h))


class ConvAttnRegressor(nn.Module):
    def __init__(self, d=8, heads=4, kv_heads=2, layers=2, features=5, outputs=3):
        super().__init__()
        self.inp = Linear(features, d)
        self.blocks = nn.ModuleList([ConvAttnBlock(d, heads, kv_heads) for _ in range(layers)])
        self.down = Conv1d(d, d, 2, stride=2, bias=False)
        self.head = Linear(d, outputs)

    def loss(self, x, target):
        h = F.elu(self.inp(x))
        for block in self.blocks:
            h = block(h)
        y = self.head(self.down(h.transpose(1, 2)).transpose(1, 2))  # [B, T, outputs]
        b, t, _ = y.shape
        # std/loss.fm mse: the difference is cast to f32 (rounded) before it is squared
        fit = (to_f32(y - target) ** 2).mean()
        spread = y.var(-1, unbiased=True).sum() / (b * t)
        tail = torch.logsumexp(torch.cumsum(y, -1), -1).sum() / (b * t)
        return fit + f32c(0.1) * spread + f32c(0.01) * tail


class CrossAttention(nn.Module):
    def __init__(self, d, heads, kv_dim=None, bias=True):
        super().__init__()
        kv_dim = d if kv_dim is None else kv_dim
        self.heads, self.d_head = heads, d // heads
        self.q = Linear(d, d, bias)
        self.k = Linear(kv_dim, d, bias)
        self.v = Linear(kv_dim, d, bias)
        self.o = Linear(d, d, bias)

    def forward(self, x, memory, valid):
        b, t, _ = x.shape
        s = memory.shape[1]
        q = self.q(x).view(b, t, self.heads, self.d_head).transpose(1, 2)
        k = self.k(memory).view(b, s, self.heads, self.d_head).transpose(1, 2)
        v = self.v(memory).view(b, s, self.heads, self.d_head).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) * f32c(1.0 / math.sqrt(self.d_head))
        p = masked_softmax(scores, valid[:, None, None, :])
        return self.o(torch.matmul(p, v).transpose(1, 2).reshape(b, t, self.heads * self.d_head))


def sinusoidal_positions(n, d, base=10000.0):
    pos = torch.arange(n, dtype=torch.float64)[:, None].expand(n, d)
    col = torch.arange(d)[None, :].expand(n, d)
    angle = pos * torch.exp((col - col % 2).to(torch.float64) * f32c(-math.log(base) / d))
    return torch.where(col % 2 == 0, torch.sin(angle), torch.cos(angle))


class CrossTagger(nn.Module):
    def __init__(self, vocab=12, d=8, heads=2, mem_dim=6, classes=5):
        super().__init__()
        self.d = d
        self.embed = Embedding(vocab, d)
        self.cross = CrossAttention(d, heads, kv_dim=mem_dim)
        self.norm = LayerNorm(d)
        self.head = Linear(d, classes)
        self.teacher = Linear(mem_dim, classes)

    def loss(self, tokens, memory, valid, labels):
        b, t = tokens.shape
        x = self.embed(tokens) + sinusoidal_positions(t, self.d)
        h = self.norm(x + self.cross(x, F.normalize(memory, dim=-1, eps=f32c(1e-12)), valid))
        logp = F.log_softmax(self.head(h), dim=-1)
        # std/loss.fm casts both losses' inputs to f32 (rounding them): to_f32 here too
        p = to_f32(F.softmax(self.teacher(memory.sum(1)), dim=-1)[:, None, :].expand(logp.shape))
        terms = torch.where(p > 0, p * (torch.log(torch.where(p > 0, p, 1.0)) - to_f32(logp)), 0.0)
        distill = terms.sum() / (b * t)
        flat, tgt = to_f32(logp).reshape(-1, logp.shape[-1]), labels.reshape(-1).long()
        counted = tgt != -100
        nll = -flat.gather(-1, tgt.clamp(min=0)[:, None])[:, 0]
        nll = torch.where(counted, nll, 0.0).sum() / counted.sum().clamp(min=1)
        picked = logp.gather(-1, logp.argmax(-1, keepdim=True))
        return nll + f32c(0.5) * distill - f32c(0.1) * picked.sum() / (b * t)


MODELS = {"mixer": Mixer, "conv_attn": ConvAttnRegressor, "cross_tagger": CrossTagger}
`;

// ---------------------------------------------------------------------------------------------

export const CASES: readonly OracleCase[] = [
  seed('mlp', { pixels: 12, hidden1: 16, hidden2: 8, classes: 5 }, { labels: { kind: 'index', high: 5 } }, BATCH),
  seed('cnn', { size: 8, width: 4, hidden: 16, classes: 5 }, { labels: { kind: 'index', high: 5 } }, BATCH),
  seed(
    'bert',
    { vocab: 50, max_len: 16, d: 32, heads: 4, ffn: 64, layers: 2 },
    {
      tokens: { kind: 'index', high: 50 },
      segment_ids: { kind: 'index', high: 2 },
      valid: { kind: 'valid' },
      labels: { kind: 'labels', high: 50, ignored: 0.3 },
    },
    SEQ,
  ),
  seed('swa_lm', { vocab: 50, d: 32, layers: 2, heads: 4, kv_heads: 2, hidden: 48, window: 3 }, lm(50), SEQ),
  seed('moe_lm', { vocab: 50, d: 16, layers: 2, heads: 2, hidden: 24, experts: 4, top_k: 2 }, lm(50), SEQ),
  seed(
    'moe_lm_dense',
    { vocab: 50, d: 16, layers: 2, heads: 2, hidden: 24, experts: 4, top_k: 2, dispatch: 'dense' },
    lm(50),
    SEQ,
    'moe_lm',
  ),
  seed(
    'conformer',
    { features: 6, subsample: 2, d: 16, heads: 2, ffn: 32, kernel: 3, layers: 2, classes: 7 },
    { valid: { kind: 'valid' }, labels: { kind: 'labels', high: 7, ignored: 0.1 } },
    SEQ,
  ),
  seed(
    'hybrid_vit',
    { image: 32, d: 16, heads: 2, mlp_dim: 32, layers: 2, classes: 5 },
    { labels: { kind: 'index', high: 5 } },
    BATCH,
  ),
  {
    name: 'mixer (inline)',
    torch: 'mixer',
    config: {},
    lower: () => lowerSource('mixer', MIXER_FM),
    inputs: { labels: { kind: 'index', high: 6 } },
    bindings: BATCH,
    extraPython: EXTRA_PY,
  },
  {
    name: 'conv_attn (inline)',
    torch: 'conv_attn',
    config: {},
    lower: () => lowerSource('conv_attn', CONV_ATTN_FM),
    inputs: {},
    bindings: [
      { B: 2, T: 3 },
      { B: 1, T: 5 },
    ],
    extraPython: EXTRA_PY,
  },
  {
    name: 'cross_tagger (inline)',
    torch: 'cross_tagger',
    config: {},
    lower: () => lowerSource('cross_tagger', CROSS_TAGGER_FM),
    inputs: {
      tokens: { kind: 'index', high: 12 },
      valid: { kind: 'valid' },
      labels: { kind: 'labels', high: 5, ignored: 0.2 },
    },
    bindings: [
      { B: 2, T: 3, S: 4 },
      { B: 1, T: 5, S: 2 },
    ],
    extraPython: EXTRA_PY,
  },
  {
    name: 'group_stats (inline)',
    torch: 'group_stats',
    config: {},
    lower: () => lowerSource('group_stats', GROUP_STATS_FM),
    inputs: {},
    bindings: [
      { B: 2, L: 3 },
      { B: 3, L: 2 },
    ],
    extraPython: GROUP_STATS_PY,
  },
];

/** One case at one binding, ready to evaluate on both sides. */
export interface Prepared {
  readonly label: string;
  readonly lowered: Lowered;
  readonly dims: Map<string, number>;
  readonly weights: Map<string, HostTensor>;
  readonly inputs: Map<string, HostTensor>;
  readonly job: TorchJob;
}

/** Lowers a case (once) and seeds weights and inputs for each of its bindings. */
export function prepare(c: OracleCase, seed = 7): Prepared[] {
  const lowered = c.lower();
  return c.bindings.map((b, k) => {
    const dims = new Map(lowered.graph.dims.map((d) => [d, b[d] ?? 1]));
    const weights = oracleWeights(lowered, dims, seed);
    const inputs = oracleInputs(lowered.graph, dims, seed + 100 + k, c.inputs);
    const job: TorchJob = {
      model: c.torch,
      config: c.config,
      weights,
      inputs,
      params: trainableParams(lowered),
      ...(c.extraPython !== undefined ? { extraPython: c.extraPython } : {}),
    };
    return { label: `${c.name} ${JSON.stringify(Object.fromEntries(dims))}`, lowered, dims, weights, inputs, job };
  });
}

/** Every case prepared and all their torch jobs run in one process (torch takes a second to import). */
export function prepareAll(cases: readonly OracleCase[] = CASES): {
  readonly prepared: Map<string, Prepared[]>;
  readonly torch: Map<string, TorchResult | Error>;
  /** How many runs torch made and how long it took. */
  readonly note: string;
} {
  const prepared = new Map<string, Prepared[]>();
  const all: Prepared[] = [];
  for (const c of cases) {
    const ps = prepare(c);
    prepared.set(c.name, ps);
    all.push(...ps);
  }
  const t0 = performance.now();
  const results = runTorchBatch(all.map((p) => p.job));
  const torch = new Map(all.map((p, i) => [p.label, results[i]!] as const));
  const note = `torch oracle: ${all.length} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s (one process)`;
  return { prepared, torch, note };
}
