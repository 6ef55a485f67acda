"""The QAT mirror of the MLP for torch_oracle.py (test/passes/qat.test.ts): each quantized
weight is read as w + (fq(w) - w).detach(), the straight-through estimator as PyTorch users
write it, with fq a float64 quantize-dequantize (scales rounded to f32, round half to even)."""

import json

import torch
import torch.nn.functional as F

import torch_models


def fq(w, dtype, group, symmetric):
    Q = 127 if dtype == "int8" else 7
    N = w.shape[0]
    K = w.numel() // N
    g = group or K
    x = w.reshape(N, K // g, g)
    hi = x.amax(2, keepdim=True)
    lo = x.amin(2, keepdim=True)
    scale = torch.maximum(hi, -lo) / Q if symmetric else (hi - lo) / (2 * Q + 1)
    scale = scale.to(torch.float32).to(torch.float64)
    safe = torch.where(scale == 0, torch.ones_like(scale), scale)
    zero = torch.zeros_like(scale) if symmetric else torch.clamp(torch.round(-lo / safe) - Q - 1, -Q - 1, Q)
    q = torch.clamp(torch.round(x / safe) + zero, -Q if symmetric else -Q - 1, Q)
    return ((q - zero) * scale).reshape(w.shape)


class QatMLP(torch_models.MLP):
    def __init__(self, specs, **config):
        super().__init__(**config)
        self.specs = json.loads(specs)

    def linear(self, name, x):
        layer = getattr(self, name)
        w = layer.w
        spec = self.specs.get(f"{name}.w")
        if spec is not None:
            w = w + (fq(w, *spec) - w).detach()
        return F.linear(x, w, layer.b)

    def loss(self, images, labels):
        h = torch_models.relu(self.linear("fc2", torch_models.relu(self.linear("fc1", images))))
        return torch_models.cross_entropy(self.linear("fc3", h), labels)


MODELS = {"qat_mlp": QatMLP}
