// An oracle case for statistics over several axes (std/math `mean` and `var` with `[int]`
// axes), kept apart from cases.ts: a per-channel normalization over the batch and the length
// (as BatchNorm1d computes it in training), an unbiased variance over two axes, keepdim and
// negative axes, compared with torch's mean(dim = (0, 2)) and var(dim = (0, 2)).

export const GROUP_STATS_FM = `
import { mse } from "std/loss"
import { mean, var } from "std/math"
import { Linear } from "std/nn"

model GroupStats(c = 4, outputs = 3) {
  proj = Linear(c, c)
  head = Linear(c, outputs)

  fn forward(x: f32[B, c, L]) -> (y: f32[B, outputs]) {
    let h = permute(proj(permute(x, [0, 2, 1])), [0, 2, 1]) // [B, c, L]
    let m = mean(h, [0, 2], keepdim = true) // [1, c, 1]
    let v = var(h, [0, -1], keepdim = true, correction = 1) // [1, c, 1], unbiased
    let z = (h - m) * rsqrt(v + 1e-5)
    return head(mean(z * z + z, -1)) // [B, outputs]
  }

  fn loss(x: f32[B, c, L], target: f32[B, outputs]) -> f32[] {
    let h = permute(proj(permute(x, [0, 2, 1])), [0, 2, 1])
    let spread = sum(var(h, [-2, 2])) / B // population variance per row
    return mse(forward(x), target) + 0.1 * spread + 0.01 * sum(mean(h, [2, 0]))
  }
}
`;

/** The torch mirror (loaded by torch_oracle.py with --extra). */
export const GROUP_STATS_PY = `
import torch
import torch.nn as nn
from torch_models import Linear, f32c, to_f32


class GroupStats(nn.Module):
    def __init__(self, c=4, outputs=3):
        super().__init__()
        self.proj = Linear(c, c)
        self.head = Linear(c, outputs)

    def hidden(self, x):
        return self.proj(x.transpose(1, 2)).transpose(1, 2)

    def forward(self, x):
        h = self.hidden(x)
        m = h.mean(dim=(0, 2), keepdim=True)
        v = h.var(dim=(0, 2), keepdim=True, unbiased=True)
        z = (h - m) * torch.rsqrt(v + f32c(1e-5))
        return self.head((z * z + z).mean(-1))

    def loss(self, x, target):
        h = self.hidden(x)
        spread = h.var(dim=(1, 2), unbiased=False).sum() / x.shape[0]
        # std/loss.fm mse: the difference is cast to f32 (rounded) before it is squared
        fit = (to_f32(self.forward(x) - target) ** 2).mean()
        return fit + f32c(0.1) * spread + f32c(0.01) * h.mean(dim=(0, 2)).sum()


MODELS = {"group_stats": GroupStats}
`;
