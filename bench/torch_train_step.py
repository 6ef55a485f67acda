#!/usr/bin/python3
# PyTorch's side of the train-step benchmark (bench/train.ts): one long-lived process per
# workload, driven by JSON lines on stdin and answering one JSON line per command on stdout,
# so that Python's start and `import torch` never count.
#
#   {"cmd": "setup", "workload": "mlp" | "cnn" | "encoder", "threads": 2, "seed": 1}
#       builds the model, AdamW and one batch (the same synthetic data as fmc's side)
#   {"cmd": "run", "steps": K}
#       K train steps; answers their wall times (ms) and losses
#   {"cmd": "reset_peak"}
#       resets VmHWM (writes 5 to /proc/self/clear_refs) so that the peak counts steps only
#   {"cmd": "stats"}
#       VmHWM and VmRSS in KiB (/proc/self/status)
#   {"cmd": "profile", "steps": K}
#       K steps under torch.autograd.profiler: the top ops by self CPU time
#   {"cmd": "quit"}
#
# A step is zero_grad(set_to_none=True), forward, loss, backward, optimizer.step() and
# loss.item(): what fmc's trainer.step does in one compiled launch list. fp32; AdamW at lr 1e-3,
# betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on weights with 2 or more axes (none on
# biases and norms, as fmc does); no clipping, constant learning rate.
#
# The architectures mirror bench/train.ts's workloads, FLOP for FLOP (not bit for bit):
# models/mlp.fm (784-256-256-10), models/cnn.fm (channels 1, size 28: 28 → 14 → 7 → 3 through
# the poolings, width 32, hidden 256, label smoothing 0.1) and bench/encoder.fm, with
# fmc's initializers (fmc_init).

import gc
import json
import math
import os
import sys
import time

# Thread counts must be fixed before torch (and its BLAS) start their pools.
_threads = os.environ.get("BENCH_THREADS", "2")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def synthetic(n, seed):
    """n values in [0, 1): the hash bench/train.ts uses (synthetic() there), so both sides see
    the same batch."""
    i = np.arange(n, dtype=np.uint64)
    m = np.uint64(0xFFFFFFFF)
    u = (i * np.uint64(0x9E3779B1) + np.uint64((seed * 0x85EBCA77) & 0xFFFFFFFF)) & m
    u ^= u >> np.uint64(16)
    u = (u * np.uint64(0x85EBCA6B)) & m
    u ^= u >> np.uint64(13)
    u = (u * np.uint64(0xC2B2AE35)) & m
    u ^= u >> np.uint64(16)
    return (u.astype(np.float64) / 4294967296.0).astype(np.float32)


def labels(n, classes, seed):
    return torch.from_numpy(np.floor(synthetic(n, seed).astype(np.float64) * classes).astype(np.int64))


# --- models -----------------------------------------------------------------------------


class MLP(nn.Module):
    def __init__(self, pixels=784, hidden1=256, hidden2=256, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(pixels, hidden1)
        self.fc2 = nn.Linear(hidden1, hidden2)
        self.fc3 = nn.Linear(hidden2, classes)

    def loss(self, images, labels):
        h = F.relu(self.fc2(F.relu(self.fc1(images))))
        return F.cross_entropy(self.fc3(h), labels)


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class CNN(nn.Module):
    def __init__(self, channels=1, size=28, width=32, hidden=256, classes=10):
        super().__init__()
        self.stage1a = ConvBnRelu(channels, width)
        self.stage1b = ConvBnRelu(width, width)
        self.stage2a = ConvBnRelu(width, 2 * width)
        self.stage2b = ConvBnRelu(2 * width, 2 * width)
        self.stage3 = ConvBnRelu(2 * width, 4 * width)
        self.fc1 = nn.Linear(4 * width * (size // 8) ** 2, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def loss(self, images, labels):
        s1 = F.max_pool2d(self.stage1b(self.stage1a(images)), 2)
        s2 = F.max_pool2d(self.stage2b(self.stage2a(s1)), 2)
        s3 = F.max_pool2d(self.stage3(s2), 2)
        h = F.relu(self.fc1(torch.flatten(s3, 1)))
        return F.cross_entropy(self.fc2(h), labels, label_smoothing=0.1)


class Attention(nn.Module):
    """std/attention.fm's MultiHeadAttention without a mask: q, k, v, o projections and
    softmax(q kᵀ / √D) v, written out (torch 1.13 has no scaled_dot_product_attention)."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads

        def split(y):
            return y.view(b, t, h, d // h).transpose(1, 2)  # [B, H, T, D]

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        p = torch.softmax(q @ k.transpose(-1, -2) * (1.0 / math.sqrt(d // h)), dim=-1)
        return self.o((p @ v).transpose(1, 2).reshape(b, t, d))


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.attn = Attention(d, heads)
        self.norm1 = nn.LayerNorm(d)
        self.up = nn.Linear(d, ffn)
        self.down = nn.Linear(ffn, d)
        self.norm2 = nn.LayerNorm(d)

    def forward(self, x):
        h = self.norm1(x + self.attn(x))
        return self.norm2(h + self.down(F.gelu(self.up(h))))


class Encoder(nn.Module):
    def __init__(self, d=256, heads=4, ffn=1024, layers=4, classes=16):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(d, heads, ffn) for _ in range(layers))
        self.head = nn.Linear(d, classes)

    def loss(self, x, labels):
        for layer in self.layers:
            x = layer(x)
        logits = self.head(x)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))


# --- workloads: the model and its batch (bench/train.ts builds the same) ---------------


def workload(name, seed):
    if name == "mlp":
        b = 128
        model = MLP()
        batch = (torch.from_numpy(synthetic(b * 784, seed)).view(b, 784), labels(b, 10, seed + 1))
    elif name == "cnn":
        b = 64
        model = CNN()
        batch = (torch.from_numpy(synthetic(b * 28 * 28, seed)).view(b, 1, 28, 28), labels(b, 10, seed + 1))
    elif name == "encoder":
        b, t, d = 8, 128, 256
        model = Encoder()
        x = torch.from_numpy(synthetic(b * t * d, seed)).view(b, t, d) * 2 - 1
        batch = (x, labels(b * t, 16, seed + 1).view(b, t))
    else:
        raise ValueError(f"unknown workload {name}")
    return model, batch


def fmc_init(model):
    """fmc's initializers (std/nn.fm, std/conv.fm): Linear and Conv2d weights kaiming_uniform()
    with a = 0 (bound √(6 / fan_in), √6 times nn.Linear's default), zero biases; norms at
    ones and zeros as in torch. With torch's own defaults the encoder's loss falls much faster
    (2.9 to 0.07 in 25 steps against fmc's 3.6 to 2.8); with these, torch's curve is fmc's."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_uniform_(m.weight, a=0)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def optimizer(model):
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": 0.01}, {"params": other, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)


def main():
    state = {}

    def step():
        model, opt, batch = state["model"], state["opt"], state["batch"]
        opt.zero_grad(set_to_none=True)
        loss = model.loss(*batch)
        loss.backward()
        opt.step()
        return loss.item()

    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        cmd = msg["cmd"]
        try:
            if cmd == "setup":
                threads = int(msg.get("threads", 2))
                torch.set_num_threads(threads)
                seed = int(msg.get("seed", 1))
                torch.manual_seed(seed)
                base = status_kib("VmRSS")
                model, batch = workload(msg["workload"], seed)
                fmc_init(model)
                model.train()
                state.update(model=model, opt=optimizer(model), batch=batch)
                params = sum(p.numel() for p in model.parameters())
                reply = {
                    "ok": True,
                    "baseRssKiB": base,
                    "params": params,
                    "torch": torch.__version__,
                    "threads": torch.get_num_threads(),
                    "blas": os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3"),
                }
            elif cmd == "run":
                times, losses = [], []
                for _ in range(int(msg["steps"])):
                    t0 = time.perf_counter()
                    loss = step()
                    times.append((time.perf_counter() - t0) * 1000)
                    losses.append(loss)
                reply = {"ok": True, "ms": times, "loss": losses}
            elif cmd == "reset_peak":
                gc.collect()
                try:
                    with open("/proc/self/clear_refs", "w") as f:
                        f.write("5")
                    reply = {"ok": True}
                except OSError as e:
                    reply = {"ok": False, "error": f"cannot reset the peak RSS: {e}"}
            elif cmd == "stats":
                reply = {"ok": True, "hwmKiB": status_kib("VmHWM"), "rssKiB": status_kib("VmRSS")}
            elif cmd == "profile":
                from torch.autograd import profiler

                steps = int(msg.get("steps", 3))
                with profiler.profile() as prof:
                    for _ in range(steps):
                        step()
                rows = []
                for e in sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:12]:
                    rows.append({"op": e.key, "calls": e.count // steps, "ms": e.self_cpu_time_total / 1000 / steps})
                reply = {"ok": True, "top": rows}
            elif cmd == "quit":
                print(json.dumps({"ok": True}), flush=True)
                return
            else:
                reply = {"ok": False, "error": f"unknown command {cmd}"}
        except Exception as e:  # noqa: BLE001 - report it to the driver, which prints it
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
