"""fmc's seed models (models/*.fm) and the std/*.fm blocks they use, written again with torch
modules and functional ops, to serve as an independent oracle for losses and gradients.

Conventions that make the results comparable with fmc's reference interpreter:

- Parameter and buffer names are fmc's param paths (`blocks.0.attn.q.w`), so that
  `load_state_dict(strict=True)` checks that both sides have exactly the same params: fmc's
  Linear has `w` [out, in] and `b`, Embedding `table`, the norms `gamma` and `beta`, BatchNorm
  the buffers `running_mean` and `running_var`; `repeat N` is a ModuleList (`blocks.0...`) and
  `stack N` too (`expert.0...`: fmc stores a stacked block's params per instance).
- Everything runs in float64, in eval mode (fmc lowers `loss` with `training` false: dropout
  is the identity and batch norm uses its running statistics).
- Where fmc's arithmetic is not exactly torch's, the difference is mirrored, not hidden:
  * a float literal used with an f32 tensor is an f32 constant in fmc (the interpreter stores
    constants in their dtype), so the constants of the .fm code are rounded to f32 here with
    `f32c` (eps, 1/sqrt(D), sqrt(2) in gelu, label smoothing, loss weights). torch's own
    F.gelu (which multiplies by the float64 1/sqrt(2)) would differ by ~1e-8 relative;
  * `cast(x, f32)` rounds to f32 in the interpreter even when x is already an f32 tensor
    (cross_entropy and mse cast each item's loss or difference, rope casts cos and sin):
    `to_f32` does the same here, with the identity as its derivative, as in fmc.
  Everything else uses torch's own ops: F.linear, F.embedding, F.layer_norm, F.batch_norm,
  F.conv1d/conv2d, F.unfold, F.max_pool2d, F.glu, F.silu, F.softmax, F.cross_entropy,
  torch.topk, repeat_interleave, and a plain loop for capacity-limited MoE dispatch.
"""

import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F


def f32c(x):
    """A Python float rounded to the nearest f32, as fmc stores a float literal next to an f32 tensor."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def to_f32(x):
    """fmc's `cast(x, f32)` on an f32 value: rounds every element to f32 (kept in float64).
    Its derivative is the identity, as in fmc's autodiff (a same-dtype cast of the gradient
    is no cast): x + (round(x) - x).detach() is round(x) exactly (the difference of two floats
    that close is exact, and so is adding it back), while torch's own backward of
    .float().double() would round the gradient to f32 too."""
    return x + (x.float().double() - x).detach()


def param(*shape):
    return nn.Parameter(torch.zeros(*shape, dtype=torch.float64))


# ----------------------------------------------------------------------------------------------
# std/act.fm, std/math.fm, std/loss.fm


def gelu(x):
    # std/act.fm: 0.5 * x * (1 + erf(x / sqrt(2))) with sqrt(2) an f32 constant
    return 0.5 * x * (1.0 + torch.erf(x / f32c(math.sqrt(2.0))))


def relu(x):
    return F.relu(x)


def silu(x):
    # std/act.fm: x * sigmoid(x) (fmc writes sigmoid through tanh; the same function)
    return F.silu(x)


def cross_entropy(logits, target, ignore_index=-100, label_smoothing=0.0):
    """std/loss.fm: the mean over targets != ignore_index of each item's loss, each item's loss
    rounded to f32 (`cast(per_item, f32)`), 0 when every target is ignored."""
    c = logits.shape[-1]
    flat = logits.reshape(-1, c)
    tgt = target.reshape(-1).long()
    counted = tgt != ignore_index
    if label_smoothing > 0.0:
        # (1 - ε)·nll - ε·Σ_c log p_c / C, with 1 - ε and ε as f32 constants
        logp = F.log_softmax(flat, dim=-1)
        nll = F.nll_loss(logp, tgt.clamp(min=0), reduction="none")
        per_item = f32c(1.0 - label_smoothing) * nll - f32c(label_smoothing) * logp.sum(-1) / c
    else:
        per_item = F.cross_entropy(flat, tgt, ignore_index=ignore_index, reduction="none")
    per_item = torch.where(counted, to_f32(per_item), torch.zeros((), dtype=per_item.dtype))
    return per_item.sum() / counted.sum().clamp(min=1).to(per_item.dtype)


def masked_softmax(scores, mask):
    """std/math.fm masked_softmax: softmax over the entries where mask holds, masked entries 0,
    a row with no visible entry all 0 (rows are filled with 0 before the softmax so that no NaN
    reaches the gradient)."""
    mask = mask.expand(scores.shape)
    any_visible = mask.any(-1, keepdim=True)
    filled = scores.masked_fill(~mask, float("-inf"))
    filled = torch.where(any_visible, filled, torch.zeros((), dtype=scores.dtype))
    return torch.where(any_visible, F.softmax(filled, dim=-1), torch.zeros((), dtype=scores.dtype))


# ----------------------------------------------------------------------------------------------
# std/nn.fm


class Linear(nn.Module):
    def __init__(self, in_dim, out_dim, bias=True):
        super().__init__()
        self.w = param(out_dim, in_dim)
        self.b = param(out_dim) if bias else None

    def forward(self, x):
        return F.linear(x, self.w, self.b)


class Embedding(nn.Module):
    def __init__(self, vocab, d):
        super().__init__()
        self.table = param(vocab, d)

    def forward(self, idx):
        return F.embedding(idx.long(), self.table)


class LayerNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.d, self.eps = d, f32c(eps)
        self.gamma = param(d)
        self.beta = param(d)

    def forward(self, x):
        return F.layer_norm(x, (self.d,), self.gamma, self.beta, self.eps)


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.eps = f32c(eps)
        self.gamma = param(d)

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.gamma


class BatchNorm(nn.Module):
    """BatchNorm1d / BatchNorm2d in eval mode (running statistics)."""

    def __init__(self, c, eps=1e-5):
        super().__init__()
        self.eps = f32c(eps)
        self.gamma = param(c)
        self.beta = param(c)
        self.register_buffer("running_mean", torch.zeros(c, dtype=torch.float64))
        self.register_buffer("running_var", torch.ones(c, dtype=torch.float64))

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.gamma, self.beta, False, 0.0, self.eps)


class GLU(nn.Module):
    def __init__(self, in_dim, out_dim, bias=True):
        super().__init__()
        self.proj = Linear(in_dim, 2 * out_dim, bias)

    def forward(self, x):
        return F.glu(self.proj(x), dim=-1)  # first half · sigmoid(second half)


class SwiGLU(nn.Module):
    def __init__(self, d, hidden, bias=False):
        super().__init__()
        self.gate = Linear(d, hidden, bias)
        self.up = Linear(d, hidden, bias)
        self.down = Linear(hidden, d, bias)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class FeedForward(nn.Module):
    def __init__(self, d, hidden, act=gelu, bias=True):
        super().__init__()
        self.act = act
        self.up = Linear(d, hidden, bias)
        self.down = Linear(hidden, d, bias)

    def forward(self, x):
        return self.down(self.act(self.up(x)))


# ----------------------------------------------------------------------------------------------
# std/conv.fm


class Conv1d(nn.Module):
    def __init__(self, in_ch, out_ch, kernel, stride=1, padding=0, dilation=1, groups=1, bias=True):
        super().__init__()
        self.opts = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        self.w = param(out_ch, in_ch // groups, kernel)
        self.b = param(out_ch) if bias else None

    def forward(self, x):
        return F.conv1d(x, self.w, self.b, **self.opts)


class Conv2d(nn.Module):
    def __init__(self, in_ch, out_ch, kernel, stride=1, padding=0, dilation=1, groups=1, bias=True):
        super().__init__()
        self.opts = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        self.w = param(out_ch, in_ch // groups, kernel, kernel)
        self.b = param(out_ch) if bias else None

    def forward(self, x):
        return F.conv2d(x, self.w, self.b, **self.opts)


class DepthwiseConv1d(nn.Module):
    def __init__(self, ch, kernel, stride=1, padding=0, dilation=1, bias=True):
        super().__init__()
        self.ch = ch
        self.opts = dict(stride=stride, padding=padding, dilation=dilation)
        self.w = param(ch, kernel)
        self.b = param(ch) if bias else None

    def forward(self, x):
        return F.conv1d(x, self.w.unsqueeze(1), self.b, groups=self.ch, **self.opts)


class Patchify(nn.Module):
    def __init__(self, in_ch, d, patch, bias=True):
        super().__init__()
        self.patch = patch
        self.proj = Linear(in_ch * patch * patch, d, bias)

    def forward(self, x):
        # F.unfold: [N, C·p·p, L], features ordered (channel, row, column), patches row-major
        cols = F.unfold(x, kernel_size=self.patch, stride=self.patch)
        return self.proj(cols.transpose(1, 2))


# ----------------------------------------------------------------------------------------------
# std/attention.fm


def rope(x, base=10000.0):
    """Rotate-half RoPE; angles in float64 from the f32 constant -2·ln(base)/D, cos and sin
    rounded to f32 (`cast(cos(angle), dtype(x))`)."""
    t, d = x.shape[-2], x.shape[-1]
    half = d // 2
    inv_freq = torch.exp(torch.arange(half, dtype=torch.float64) * f32c(-2.0 * math.log(base) / d))
    angle = torch.arange(t, dtype=torch.float64)[:, None] * inv_freq[None, :]
    c, s = to_f32(torch.cos(angle)), to_f32(torch.sin(angle))
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


class RelPosBias(nn.Module):
    def __init__(self, heads, max_distance=128):
        super().__init__()
        self.max_distance = max_distance
        self.table = param(heads, 2 * max_distance - 1)

    def forward(self, n):
        pos = torch.arange(n)
        rel = (pos[None, :] - pos[:, None]).clamp(1 - self.max_distance, self.max_distance - 1)
        return self.table[:, rel + self.max_distance - 1]  # [heads, n, n]


class MultiHeadAttention(nn.Module):
    def __init__(
        self,
        d,
        heads,
        kv_heads=None,
        causal=False,
        window=0,
        use_rope=False,
        rope_base=10000.0,
        rel_pos=False,
        max_distance=128,
        bias=True,
    ):
        super().__init__()
        kv_heads = heads if kv_heads is None else kv_heads
        assert d % heads == 0 and heads % kv_heads == 0
        self.heads, self.kv_heads, self.d_head = heads, kv_heads, d // heads
        self.causal, self.window, self.use_rope, self.rope_base = causal, window, use_rope, rope_base
        self.q = Linear(d, d, bias)
        self.k = Linear(d, kv_heads * self.d_head, bias)
        self.v = Linear(d, kv_heads * self.d_head, bias)
        self.o = Linear(d, d, bias)
        self.rel_bias = RelPosBias(heads, max_distance) if rel_pos else None

    def pattern(self, t):
        i = torch.arange(t)[:, None]
        j = torch.arange(t)[None, :]
        if self.window > 0:
            return (j <= i) & (i - j < self.window)
        if self.causal:
            return j <= i
        return torch.ones(t, t, dtype=torch.bool)

    def forward(self, x, valid=None):
        """valid: bool[B, T] key padding (forward_padded), or None (forward)."""
        b, t, _ = x.shape
        mask = self.pattern(t)[None, None]  # [1, 1, T, T]
        if valid is not None:
            mask = mask & valid[:, None, None, :]
        q = self.q(x).view(b, t, self.heads, self.d_head).transpose(1, 2)
        k = self.k(x).view(b, t, self.kv_heads, self.d_head).transpose(1, 2)
        v = self.v(x).view(b, t, self.kv_heads, self.d_head).transpose(1, 2)
        if self.use_rope:
            q, k = rope(q, self.rope_base), rope(k, self.rope_base)
        groups = self.heads // self.kv_heads
        k = k.repeat_interleave(groups, dim=1)  # query head h·groups + g uses kv head h
        v = v.repeat_interleave(groups, dim=1)
        scores = torch.matmul(q, k.transpose(-1, -2)) * f32c(1.0 / math.sqrt(self.d_head))
        if self.rel_bias is not None:
            scores = scores + self.rel_bias(t)
        p = masked_softmax(scores, mask)
        ctx = torch.matmul(p, v).transpose(1, 2).reshape(b, t, self.heads * self.d_head)
        return self.o(ctx)


# ----------------------------------------------------------------------------------------------
# std/moe.fm


class Router(nn.Module):
    def __init__(self, d, experts, top_k=2):
        super().__init__()
        self.top_k = top_k
        self.gate = Linear(d, experts, bias=False)

    def forward(self, x):
        probs = F.softmax(self.gate(x), dim=-1)
        top, idx = torch.topk(probs, self.top_k, dim=-1, largest=True, sorted=True)
        return probs, top / top.sum(-1, keepdim=True), idx


def load_balancing_loss(probs, idx, experts):
    n, k = idx.shape
    f = F.one_hot(idx, experts).to(probs.dtype).sum((0, 1)) / (n * k)
    p = probs.sum(0) / n
    return experts * (f * p).sum()


class MoE(nn.Module):
    def __init__(self, d, hidden, experts=8, top_k=2, capacity_factor=1.25, dispatch="capacity"):
        super().__init__()
        self.experts, self.top_k, self.dispatch = experts, top_k, dispatch
        self.cf_percent = int(math.floor(capacity_factor * 100.0 + 0.5))
        self.router = Router(d, experts, top_k)
        self.expert = nn.ModuleList([SwiGLU(d, hidden) for _ in range(experts)])

    def forward(self, x):
        b, t, d = x.shape
        probs, gates, idx = self.router(x)
        y = self.route_capacity(x, gates, idx) if self.dispatch == "capacity" else self.route_dense(x, gates, idx)
        aux = load_balancing_loss(probs.reshape(b * t, self.experts), idx.reshape(b * t, self.top_k), self.experts)
        return y, aux

    def route_dense(self, x, gates, idx):
        y = torch.zeros_like(x)
        for e, expert in enumerate(self.expert):
            w = (gates * (idx == e).to(x.dtype)).sum(-1, keepdim=True)  # [B, T, 1]
            y = y + w * expert(x)
        return y

    def route_capacity(self, x, gates, idx):
        """Each sequence is a routing group; expert e takes at most ceil(top_k·T·cf / experts)
        assignments: all first choices in token order, then all second choices, ...; the rest
        are dropped. Written as a plain loop over the assignments."""
        b, t, d = x.shape
        slots = -(-(self.top_k * t * self.cf_percent) // (100 * self.experts))
        rows = [[] for _ in range(self.experts)]  # (batch, token, choice) per expert
        for bi in range(b):
            used = [0] * self.experts
            for r in range(self.top_k):
                for ti in range(t):
                    e = int(idx[bi, ti, r])
                    if used[e] < slots:
                        used[e] += 1
                        rows[e].append((bi, ti, r))
        y = torch.zeros(b * t, d, dtype=x.dtype)
        flat = x.reshape(b * t, d)
        flat_gates = gates.reshape(b * t, self.top_k)
        for e, expert in enumerate(self.expert):
            if not rows[e]:
                continue
            tok = torch.tensor([bi * t + ti for bi, ti, _ in rows[e]])
            choice = torch.tensor([r for _, _, r in rows[e]])
            out = expert(flat[tok]) * flat_gates[tok, choice][:, None]
            y = y.index_add(0, tok, out)
        return y.reshape(b, t, d)


# ----------------------------------------------------------------------------------------------
# models/mlp.fm


class MLP(nn.Module):
    def __init__(self, pixels=784, hidden1=512, hidden2=256, classes=10, p_drop=0.2):
        super().__init__()
        self.fc1 = Linear(pixels, hidden1)
        self.fc2 = Linear(hidden1, hidden2)
        self.fc3 = Linear(hidden2, classes)

    def loss(self, images, labels):
        h = relu(self.fc2(relu(self.fc1(images))))
        return cross_entropy(self.fc3(h), labels)


# ----------------------------------------------------------------------------------------------
# models/cnn.fm


class ConvBnRelu(nn.Module):
    def __init__(self, in_ch, out_ch, kernel=3):
        super().__init__()
        self.conv = Conv2d(in_ch, out_ch, kernel, padding=(kernel - 1) // 2, bias=False)
        self.bn = BatchNorm(out_ch)

    def forward(self, x):
        return relu(self.bn(self.conv(x)))


class CNN(nn.Module):
    def __init__(self, channels=3, size=32, width=32, hidden=256, classes=10, p_drop=0.3):
        super().__init__()
        features = 4 * width * (size // 8) * (size // 8)
        self.stage1a = ConvBnRelu(channels, width)
        self.stage1b = ConvBnRelu(width, width)
        self.stage2a = ConvBnRelu(width, 2 * width)
        self.stage2b = ConvBnRelu(2 * width, 2 * width)
        self.stage3 = ConvBnRelu(2 * width, 4 * width)
        self.fc1 = Linear(features, hidden)
        self.fc2 = Linear(hidden, classes)

    def loss(self, images, labels):
        s1 = F.max_pool2d(self.stage1b(self.stage1a(images)), 2, 2)
        s2 = F.max_pool2d(self.stage2b(self.stage2a(s1)), 2, 2)
        s3 = F.max_pool2d(self.stage3(s2), 2, 2)
        h = relu(self.fc1(s3.flatten(1)))
        return cross_entropy(self.fc2(h), labels, label_smoothing=0.1)


# ----------------------------------------------------------------------------------------------
# models/bert.fm


class BertLayer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.attn = MultiHeadAttention(d, heads)
        self.norm1 = LayerNorm(d, eps=1e-12)
        self.mlp = FeedForward(d, ffn, act=gelu)
        self.norm2 = LayerNorm(d, eps=1e-12)

    def forward(self, x, valid):
        h = self.norm1(x + self.attn(x, valid))
        return self.norm2(h + self.mlp(h))


class Bert(nn.Module):
    def __init__(self, vocab=30522, max_len=512, segments=2, d=256, heads=4, ffn=1024, layers=4, p_drop=0.1):
        super().__init__()
        self.tok_emb = Embedding(vocab, d)
        self.pos_emb = Embedding(max_len, d)
        self.seg_emb = Embedding(segments, d)
        self.emb_norm = LayerNorm(d, eps=1e-12)
        self.encoder = nn.ModuleList([BertLayer(d, heads, ffn) for _ in range(layers)])
        self.mlm_dense = Linear(d, d)
        self.mlm_norm = LayerNorm(d, eps=1e-12)
        self.mlm_bias = param(vocab)

    def loss(self, tokens, segment_ids, valid, labels):
        t = tokens.shape[1]
        x = self.emb_norm(self.tok_emb(tokens) + self.pos_emb(torch.arange(t)) + self.seg_emb(segment_ids))
        for layer in self.encoder:
            x = layer(x, valid)
        m = self.mlm_norm(gelu(self.mlm_dense(x)))
        logits = F.linear(m, self.tok_emb.table, self.mlm_bias)  # tied output projection
        return cross_entropy(logits, labels, ignore_index=-100)


# ----------------------------------------------------------------------------------------------
# models/swa_lm.fm


class SwaDecoderLayer(nn.Module):
    def __init__(self, d, heads, kv_heads, hidden, window):
        super().__init__()
        self.attn_norm = RMSNorm(d, eps=1e-5)
        self.attn = MultiHeadAttention(
            d, heads, kv_heads=kv_heads, causal=True, window=window, use_rope=True, bias=False
        )
        self.ffn_norm = RMSNorm(d, eps=1e-5)
        self.ffn = SwiGLU(d, hidden)

    def forward(self, x):
        h = x + self.attn(self.attn_norm(x))
        return h + self.ffn(self.ffn_norm(h))


class SlidingWindowLM(nn.Module):
    def __init__(self, vocab=32000, d=512, layers=8, heads=8, kv_heads=2, hidden=1408, window=256):
        super().__init__()
        self.embed = Embedding(vocab, d)
        self.blocks = nn.ModuleList([SwaDecoderLayer(d, heads, kv_heads, hidden, window) for _ in range(layers)])
        self.norm = RMSNorm(d, eps=1e-5)
        self.lm_head = Linear(d, vocab, bias=False)

    def loss(self, tokens, targets):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return cross_entropy(self.lm_head(self.norm(x)), targets)


# ----------------------------------------------------------------------------------------------
# models/moe_lm.fm


class MoEDecoderLayer(nn.Module):
    def __init__(self, d, heads, hidden, experts, top_k, dispatch):
        super().__init__()
        self.attn_norm = RMSNorm(d)
        self.attn = MultiHeadAttention(d, heads, causal=True, use_rope=True, bias=False)
        self.moe_norm = RMSNorm(d)
        self.moe = MoE(d, hidden, experts=experts, top_k=top_k, capacity_factor=1.25, dispatch=dispatch)

    def forward(self, x, aux):
        h = x + self.attn(self.attn_norm(x))
        y, balance = self.moe(self.moe_norm(h))
        return h + y, aux + balance


class MoELM(nn.Module):
    def __init__(
        self,
        vocab=32000,
        d=512,
        layers=8,
        heads=8,
        hidden=1408,
        experts=8,
        top_k=2,
        aux_weight=0.01,
        dispatch="capacity",
    ):
        super().__init__()
        self.aux_weight = f32c(aux_weight)
        self.embed = Embedding(vocab, d)
        self.blocks = nn.ModuleList(
            [MoEDecoderLayer(d, heads, hidden, experts, top_k, dispatch) for _ in range(layers)]
        )
        self.norm = RMSNorm(d)
        self.lm_head = Linear(d, vocab, bias=False)

    def loss(self, tokens, targets):
        x, aux = self.embed(tokens), torch.zeros((), dtype=torch.float64)
        for block in self.blocks:
            x, aux = block(x, aux)
        return cross_entropy(self.lm_head(self.norm(x)), targets) + self.aux_weight * aux


# ----------------------------------------------------------------------------------------------
# models/conformer.fm


class ConvModule(nn.Module):
    def __init__(self, d, kernel):
        super().__init__()
        self.norm = LayerNorm(d)
        self.pointwise1 = GLU(d, d)
        self.depthwise = DepthwiseConv1d(d, kernel, padding=(kernel - 1) // 2)
        self.bn = BatchNorm(d)
        self.pointwise2 = Conv1d(d, d, 1)

    def forward(self, x, valid):
        g = torch.where(valid[:, :, None], self.pointwise1(self.norm(x)), torch.zeros((), dtype=x.dtype))
        c = self.depthwise(g.transpose(1, 2))  # [B, d, T]
        y = self.pointwise2(silu(self.bn(c)))  # swish with beta 1
        return y.transpose(1, 2)


class ConformerBlock(nn.Module):
    def __init__(self, d, heads, ffn, kernel):
        super().__init__()
        self.ffn1_norm = LayerNorm(d)
        self.ffn1 = FeedForward(d, ffn, act=silu)
        self.attn_norm = LayerNorm(d)
        self.attn = MultiHeadAttention(d, heads, rel_pos=True, max_distance=64)
        self.conv = ConvModule(d, kernel)
        self.ffn2_norm = LayerNorm(d)
        self.ffn2 = FeedForward(d, ffn, act=silu)
        self.out_norm = LayerNorm(d)

    def forward(self, x, valid):
        h1 = x + 0.5 * self.ffn1(self.ffn1_norm(x))
        h2 = h1 + self.attn(self.attn_norm(h1), valid)
        h3 = h2 + self.conv(h2, valid)
        h4 = h3 + 0.5 * self.ffn2(self.ffn2_norm(h3))
        return self.out_norm(h4)


class Conformer(nn.Module):
    def __init__(
        self, features=80, subsample=4, d=144, heads=4, ffn=576, kernel=31, layers=16, classes=2000, p_drop=0.1
    ):
        super().__init__()
        self.subsample = subsample
        self.input_proj = Linear(subsample * features, d)
        self.blocks = nn.ModuleList([ConformerBlock(d, heads, ffn, kernel) for _ in range(layers)])
        self.classifier = Linear(d, classes)

    def loss(self, feats, valid, labels):
        b, st, f = feats.shape
        stacked = feats.reshape(b, st // self.subsample, self.subsample * f)  # "b (t s) f -> b t (s f)"
        h = self.input_proj(stacked)
        for block in self.blocks:
            h = block(h, valid)
        return cross_entropy(self.classifier(h), labels)


# ----------------------------------------------------------------------------------------------
# models/hybrid_vit.fm


class ConvStem(nn.Module):
    def __init__(self, in_ch, d):
        super().__init__()
        self.conv1 = Conv2d(in_ch, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = BatchNorm(64)
        self.conv2 = Conv2d(64, 128, 3, stride=2, padding=1, bias=False)
        self.bn2 = BatchNorm(128)
        self.conv3 = Conv2d(128, 256, 3, stride=2, padding=1, bias=False)
        self.bn3 = BatchNorm(256)
        self.proj = Conv2d(256, d, 2, stride=2)

    def forward(self, x):
        s1 = relu(self.bn1(self.conv1(x)))
        s2 = relu(self.bn2(self.conv2(s1)))
        s3 = relu(self.bn3(self.conv3(s2)))
        return self.proj(s3)


class VitEncoderLayer(nn.Module):
    def __init__(self, d, heads, mlp_dim):
        super().__init__()
        self.norm1 = LayerNorm(d, eps=1e-6)
        self.attn = MultiHeadAttention(d, heads)
        self.norm2 = LayerNorm(d, eps=1e-6)
        self.mlp = FeedForward(d, mlp_dim, act=gelu)

    def forward(self, x):
        h = x + self.attn(self.norm1(x))
        return h + self.mlp(self.norm2(h))


class HybridViT(nn.Module):
    def __init__(
        self, image=224, channels=3, d=384, heads=6, mlp_dim=1536, layers=8, classes=1000, p_drop=0.1
    ):
        super().__init__()
        grid = image // 16
        self.stem = ConvStem(channels, d)
        self.cls = param(1, 1, d)
        self.pos = param(grid * grid + 1, d)
        self.encoder = nn.ModuleList([VitEncoderLayer(d, heads, mlp_dim) for _ in range(layers)])
        self.norm = LayerNorm(d, eps=1e-6)
        self.head = Linear(d, classes)

    def loss(self, images, labels):
        b = images.shape[0]
        grid_tokens = self.stem(images).flatten(2).transpose(1, 2)  # "b c h w -> b (h w) c"
        x = torch.cat([self.cls.expand(b, 1, -1), grid_tokens], dim=1) + self.pos
        for layer in self.encoder:
            x = layer(x)
        logits = self.head(self.norm(x)[:, 0, :])
        return cross_entropy(logits, labels, label_smoothing=0.1)


MODELS = {
    "mlp": MLP,
    "cnn": CNN,
    "bert": Bert,
    "swa_lm": SlidingWindowLM,
    "moe_lm": MoELM,
    "conformer": Conformer,
    "hybrid_vit": HybridViT,
}


def build(name, config):
    """The torch mirror of model `name` with hyperparameters `config` (the .fm defaults otherwise)."""
    if name not in MODELS:
        raise KeyError(f"no torch mirror named {name!r} (have {', '.join(sorted(MODELS))})")
    return MODELS[name](**config)
