"""The torch oracle: computes a model's loss and its gradients in float64 with torch.

usage: torch_oracle.py MODEL --weights W.safetensors --inputs I.safetensors --out O.safetensors
                       [--config JSON] [--extra FILE.py]
       torch_oracle.py --jobs JOBS.json   (many of the above in one process)

- MODEL names a torch mirror in torch_models.py (or in --extra, a Python file defining
  MODELS = {name: nn.Module class}); --config holds its hyperparameters as JSON.
- The weights file names every param and buffer by its fmc param path; its metadata "params"
  (a JSON list) says which are params (gradients are taken) and which are buffers (not).
  The model's own state dict must have exactly these names.
- The inputs file holds the `loss` function's inputs by name (floats become float64, integers
  int64, bools stay bool).
- The output holds `loss` (F64, shape []) and `grad.<path>` (F64) for every param, zeros
  where torch's gradient is None (a param the loss does not use), and `seconds` (F64, the
  time the job took).
"""

import argparse
import importlib.util
import json
import os
import sys
import time
import traceback

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import safetensors_io  # noqa: E402
import torch_models  # noqa: E402


def load_models(extra):
    models = dict(torch_models.MODELS)
    if extra:
        spec = importlib.util.spec_from_file_location("oracle_extra", extra)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        models.update(mod.MODELS)
    return models


def as_input(t):
    if t.is_floating_point():
        return t.to(torch.float64)
    if t.dtype == torch.bool:
        return t
    return t.to(torch.int64)


class OracleError(Exception):
    pass


def run_job(model_name, config, weights_path, inputs_path, out_path, extra=None):
    """Builds the mirror, loads the weights, computes the loss and its gradients, writes them."""
    t0 = time.perf_counter()
    models = load_models(extra)
    if model_name not in models:
        raise OracleError(f"no model {model_name!r} (have {', '.join(sorted(models))})")
    model = models[model_name](**config).to(torch.float64).eval()

    weights, meta = safetensors_io.read(weights_path)
    params = json.loads(meta.get("params", "[]"))
    state = model.state_dict()
    missing = sorted(set(state) - set(weights))
    unexpected = sorted(set(weights) - set(state))
    if missing or unexpected:
        raise OracleError(
            f"{model_name}: the torch mirror and fmc disagree on params\n"
            f"  only in torch: {missing}\n  only in fmc: {unexpected}"
        )
    for name, t in weights.items():
        if tuple(t.shape) != tuple(state[name].shape):
            raise OracleError(f"{name}: fmc has {list(t.shape)}, torch {list(state[name].shape)}")
    model.load_state_dict({k: v.to(torch.float64) for k, v in weights.items()}, strict=True)
    named = dict(model.named_parameters())
    if set(named) != set(params):
        raise OracleError(
            f"{model_name}: params and buffers differ: params only in torch {sorted(set(named) - set(params))}, "
            f"only in fmc {sorted(set(params) - set(named))}"
        )

    inputs, _ = safetensors_io.read(inputs_path)
    loss = model.loss(**{k: as_input(v) for k, v in inputs.items()})
    if loss.dim() != 0:
        raise OracleError(f"{model_name}: the loss has shape {list(loss.shape)}")
    grads = torch.autograd.grad(loss, [named[p] for p in params], allow_unused=True)
    out = {"loss": loss.detach().to(torch.float64)}
    for p, g in zip(params, grads):
        out[f"grad.{p}"] = torch.zeros_like(named[p]) if g is None else g.detach()
    out["seconds"] = torch.tensor(time.perf_counter() - t0, dtype=torch.float64)
    safetensors_io.write(out_path, out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?")
    ap.add_argument("--weights")
    ap.add_argument("--inputs")
    ap.add_argument("--out")
    ap.add_argument("--config", default="{}")
    ap.add_argument("--extra", default=None)
    ap.add_argument("--jobs", default=None, help="a JSON list of {model, config, weights, inputs, out, extra}")
    args = ap.parse_args()

    torch.set_default_dtype(torch.float64)
    if args.jobs:
        # Many jobs in one process (importing torch takes a second); a failing job leaves
        # <out>.error with its message and the others go on.
        with open(args.jobs) as f:
            jobs = json.load(f)
        for job in jobs:
            try:
                run_job(job["model"], job["config"], job["weights"], job["inputs"], job["out"], job.get("extra"))
            except Exception:  # noqa: BLE001 - reported to the caller per job
                with open(job["out"] + ".error", "w") as f:
                    f.write(traceback.format_exc())
        return
    if not (args.model and args.weights and args.inputs and args.out):
        ap.error("MODEL, --weights, --inputs and --out are required without --jobs")
    try:
        run_job(args.model, json.loads(args.config), args.weights, args.inputs, args.out, args.extra)
    except OracleError as e:
        sys.exit(f"torch_oracle: {e}")


if __name__ == "__main__":
    main()
