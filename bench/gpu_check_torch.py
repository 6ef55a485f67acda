# PyTorch's side of bench/gpu-bench.ts: argv[1] = runs to time, argv[2] = a JSON list of cases
# ({"kind": "gemm", "n"} or {"kind": "attention", "B", "H", "T", "D", "causal"}), bf16 on
# cuda:0. Prints one JSON line: seconds per run of each case (one untimed run, then the wall
# time of the runs queued back to back and a synchronize), or the reason a case failed.
import json
import sys
import time

import torch
import torch.nn.functional as F

if not torch.cuda.is_available():
    sys.exit(f"torch {torch.__version__} has no CUDA device")
reps, cases = int(sys.argv[1]), json.loads(sys.argv[2])
out = []
for c in cases:
    try:
        g = torch.Generator(device="cuda").manual_seed(0)
        rnd = lambda *s: torch.randn(*s, device="cuda", dtype=torch.bfloat16, generator=g)
        if c["kind"] == "gemm":
            a, b = rnd(c["n"], c["n"]), rnd(c["n"], c["n"])
            f = lambda: torch.matmul(a, b)
        else:
            q, k, v = (rnd(c["B"], c["H"], c["T"], c["D"]) for _ in range(3))
            f = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=c["causal"])
        f()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(reps):
            f()
        torch.cuda.synchronize()
        out.append((time.perf_counter() - t0) / reps)
    except Exception as e:  # one case failing (out of memory) says so and the others go on
        out.append(f"torch failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    torch.cuda.empty_cache()
print(json.dumps(out))
