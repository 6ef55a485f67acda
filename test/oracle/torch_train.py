"""The torch oracle for training: trains a model's torch mirror with torch.optim on given
batches and reports the loss of every micro-batch and the gradient norm of every update.

usage: torch_train.py JOB.json

JOB.json: {"model": name in torch_models.MODELS (or in "extra"), "config": {...hyperparameters},
           "extra": a Python file defining MODELS (or null), "weights": W.safetensors (fmc paths;
           metadata "params" lists the learnable ones), "batches": B.safetensors (tensor
           "<i>.<input>" is input <input> of micro-batch i), "count": number of micro-batches,
           "train": {"optimizer": {"kind": "sgd"|"adam"|"adamw", "lr", "momentum", "nesterov",
           "betas", "eps", "weight_decay"}, "schedule": {"kind", ...}, "clip": number|null,
           "accumulate": N, "scaler": null or {"interval", "growth", "backoff"}}, "out": O.safetensors}

It is written from PyTorch's documented semantics, not from fmc's code:
- param groups: weight decay only on params of 2 or more dimensions;
- each micro-batch: (loss / accumulate).backward(); every accumulate-th: clip_grad_norm_
  (the returned total norm is reported; with no clip it is computed with max_norm = inf),
  optimizer.step(), scheduler.step(), optimizer.zero_grad();
- the schedule is a LambdaLR whose factor at update t is written below from docs/training.md;
- with "scaler", torch.cuda.amp.GradScaler's rule written out (GradScaler itself needs CUDA):
  (loss · scale / accumulate).backward(); at an update the gradients are multiplied by
  1/scale (unscale_), found_inf is any non-finite gradient, clip_grad_norm_ runs, and
  optimizer.step() only without found_inf (scheduler.step() always); then update(): with
  found_inf scale *= backoff and the tracker is 0, else the tracker counts up and at
  `interval` the scale is multiplied by growth (if that stays finite) and the tracker is 0.
Everything runs in float64. The output holds "loss" [count] and "grad_norm" [updates] (F64),
and with "scaler" also "scale" (after each update) and "skipped" (1 or 0) [updates].
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
    scaler = cfg.get("scaler")
    scale, tracker = 65536.0, 0
    losses, norms, scales, skipped = [], [], [], []
    opt.zero_grad()
    for i in range(job["count"]):
        prefix = f"{i}."
        inputs = {k[len(prefix):]: torch_oracle.as_input(v) for k, v in batches.items() if k.startswith(prefix)}
        loss = model.loss(**inputs)
        losses.append(loss.item())
        (loss * (scale if scaler else 1.0) / acc).backward()
        if (i + 1) % acc == 0:
            found_inf = False
            if scaler:
                for p in params:
                    p.grad.mul_(1.0 / scale)
                    found_inf = found_inf or not bool(torch.isfinite(p.grad).all())
            norm = torch.nn.utils.clip_grad_norm_(params, clip if clip is not None else math.inf)
            norms.append(float(norm))
            if not found_inf:
                opt.step()
            sched.step()
            opt.zero_grad()
            if scaler:
                if found_inf:
                    scale, tracker = scale * scaler["backoff"], 0
                else:
                    tracker += 1
                    if tracker == scaler["interval"]:
                        grown = scale * scaler["growth"]
                        scale = grown if math.isfinite(grown) else scale
                        tracker = 0
                scales.append(scale)
                skipped.append(1.0 if found_inf else 0.0)
    out = {"loss": losses, "grad_norm": norms}
    if scaler:
        out.update(scale=scales, skipped=skipped)
    safetensors_io.write(job["out"], {k: torch.tensor(v, dtype=torch.float64) for k, v in out.items()})


if __name__ == "__main__":
    main()
