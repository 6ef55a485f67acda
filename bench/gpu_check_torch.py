# PyTorch's side of bench/gpu-bench.ts: argv[1] = runs to time, argv[2] = a JSON list of cases
# ({"kind": "gemm", "n"}, {"kind": "attention", "B", "H", "T", "D", "causal"}, {"kind": "block",
# "d", "heads", "ffn", "B", "T"} under torch.compile, {"kind": "swa", ..., "window"}), bf16 on
# cuda:0. Prints one JSON line: seconds per run of each case (one untimed run, then the wall
# time of the runs queued back to back and a synchronize), or the reason a case failed.
import json
import sys
import time

import torch
import torch.nn.functional as F



class Block(torch.nn.Module):
    """bench/gpu-bench-block.ts's block: pre-norm, causal multi-head attention, GELU FFN."""

    def __init__(self, d, heads, ffn):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.qkv, self.o = torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d)
        self.up, self.down = torch.nn.Linear(d, ffn), torch.nn.Linear(ffn, d)

    def forward(self, x):
        B, T, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(B, T, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, d)
        h = x + self.o(a)
        return h + self.down(F.gelu(self.up(self.norm2(h))))


torch.set_grad_enabled(False)
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
        elif c["kind"] == "block":
            blk = torch.compile(Block(c["d"], c["heads"], c["ffn"]).to("cuda", torch.bfloat16))
            x = rnd(c["B"], c["T"], c["d"])
            f = lambda: blk(x)
        elif c["kind"] == "swa":
            q, k, v = (rnd(c["B"], c["H"], c["T"], c["D"]) for _ in range(3))
            i = torch.arange(c["T"], device="cuda")
            band = (i[None, :] <= i[:, None]) & (i[:, None] - i[None, :] < c["window"])
            f = lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=band)
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
