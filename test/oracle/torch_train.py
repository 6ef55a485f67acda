"""The torch oracle for training: trains a model's torch mirror with torch.optim on given
batches and reports the loss of every micro-batch and the gradient norm of every update.

usage: torch_train.py JOB.json

JOB.json: {"model": name in torch_models.MODELS (or in "extra"), "config": {...hyperparameters},
           "extra": a Python file defining MODELS (or null), "weights": W.safetensors (fmc paths;
           metadata "params" lists the learnable ones), "batches": B.safetensors (tensor
           "<i>.<input>" is input <input> of micro-batch i), "count": number of micro-batches,
           "train": {"optimizer": {"kind": "sgd"|"adam"|"adamw", "lr", "momentum", "nesterov",
           "betas", "eps", "weight_decay"}, "schedule": {"kind", ...}, "clip": number|null,
           "accumulate": N}, "out": O.safetensors}

It is written from PyTorch's documented semantics, not from fmc's code:
- param groups: weight decay only on params of 2 or more dimensions;
- each micro-batch: (loss / accumulate).backward(); every accumulate-th: clip_grad_norm_
  (the returned total norm is reported; with no clip it is computed with max_norm = inf),
  optimizer.step(), scheduler.step(), optimizer.zero_grad();
- the schedule is a LambdaLR whose factor at update t is written below from docs/training.md.
Everything runs in float64. The output holds "loss" [count] and "grad_norm" [updates] (F64).
"""

import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import safetensors_io  # noqa: E402
import torch_oracle  # noqa: E402


def schedule_factor(s, base_lr):
    """LambdaLR's factor at update t (docs/training.md, "Schedules")."""
    kind = s["kind"]
    if kind == "constant":
        return lambda t: 1.0
    if kind == "step":
        return lambda t: s["gamma"] ** (t // s["every"])

    def warm_then(t):
        if t < s["warmup"]:
            return (t + 1) / s["warmup"]
        p = min(1.0, (t - s["warmup"]) / max(1, s["steps"] - s["warmup"]))
        if kind == "linear":
            return 1.0 - p
        lo = s["minLr"] / base_lr
        return lo + (1.0 - lo) * 0.5 * (1.0 + math.cos(math.pi * p))

    return warm_then


def make_optimizer(params, o):
    decay = [p for p in params if p.dim() >= 2]
    other = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": o["weight_decay"]}, {"params": other, "weight_decay": 0.0}]
    if o["kind"] == "sgd":
        return torch.optim.SGD(groups, lr=o["lr"], momentum=o["momentum"], nesterov=o["nesterov"])
    cls = torch.optim.Adam if o["kind"] == "adam" else torch.optim.AdamW
    return cls(groups, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"])


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    torch.set_default_dtype(torch.float64)
    models = torch_oracle.load_models(job.get("extra"))
    model = models[job["model"]](**job["config"]).to(torch.float64).eval()
    weights, meta = safetensors_io.read(job["weights"])
    model.load_state_dict({k: v.to(torch.float64) for k, v in weights.items()}, strict=True)
    names = json.loads(meta["params"])
    named = dict(model.named_parameters())
    if set(named) != set(names):
        sys.exit(f"torch_train: params differ: torch {sorted(named)}, fmc {sorted(names)}")
    params = [named[n] for n in names]
    cfg = job["train"]
    opt = make_optimizer(params, cfg["optimizer"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule_factor(cfg["schedule"], cfg["optimizer"]["lr"]))
    batches, _ = safetensors_io.read(job["batches"])
    acc = cfg["accumulate"]
    clip = cfg["clip"]
    losses, norms = [], []
    opt.zero_grad()
    for i in range(job["count"]):
        prefix = f"{i}."
        inputs = {k[len(prefix):]: torch_oracle.as_input(v) for k, v in batches.items() if k.startswith(prefix)}
        loss = model.loss(**inputs)
        losses.append(loss.item())
        (loss / acc).backward()
        if (i + 1) % acc == 0:
            norm = torch.nn.utils.clip_grad_norm_(params, clip if clip is not None else math.inf)
            norms.append(float(norm))
            opt.step()
            sched.step()
            opt.zero_grad()
    safetensors_io.write(
        job["out"],
        {"loss": torch.tensor(losses, dtype=torch.float64), "grad_norm": torch.tensor(norms, dtype=torch.float64)},
    )


if __name__ == "__main__":
    main()
