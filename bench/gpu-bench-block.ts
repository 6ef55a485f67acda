// The Transformer-block and sliding-window benchmarks of `scripts/gpu-check` (issue 14),
// beside gpu-bench.ts's GEMM and attention:
// - a pre-norm causal Transformer block (d 1024, 16 heads, FFN 4096, GELU; B 8, T 2048), fmc
//   compiled with bf16 compute against the same block in PyTorch (torch.nn, bf16) under
//   `torch.compile` (goal: at least 1.0× its speed);
// - sliding-window attention (window 256, d 64, 16 heads) at T 1k to 16k with the tokens fixed
//   (B·T = 16384), so a cost linear in T·W shows as a flat time; PyTorch's
//   scaled_dot_product_attention with the band as a boolean mask is timed beside it.
// gpu_check_torch.py builds PyTorch's side ("block", "swa"); test/cuda/gpu-bench-shim.test.ts
// runs these functions small on the shim device against the interpreter.

export const BLOCK = { d: 1024, heads: 16, ffn: 4096, B: 8, T: 2048 } as const;
export const SWA = { window: 256, H: 16, E: 64, tokens: 16384, T: [1024, 2048, 4096, 8192, 16384] } as const;

/** The benchmarked functions: `forward`, the block (input f32, computed at the precision compiled for) and `swa`. */
export const BLOCK_SOURCE = `
import { gelu } from "std/act"
import { MultiHeadAttention, sliding_window_mask } from "std/attention"
import { masked_softmax } from "std/math"
import { FeedForward, LayerNorm } from "std/nn"

model GpuBlock(d = 1024, heads = 16, ffn = 4096, window = 256, e = 64) {
  attn = MultiHeadAttention(d, heads, causal = true)
  norm1 = LayerNorm(d)
  mlp = FeedForward(d, ffn, act = gelu)
  norm2 = LayerNorm(d)

  fn forward(x: f32[B, T, d]) -> f32[B, T, d] {
    let h = x + attn(norm1(x))
    return h + mlp(norm2(h))
  }

  // As SDPA computes it (and gpu-bench.ts's attention): QKᵀ in bf16, the masked softmax in
  // f32, P in bf16 for P·V, which the fusion pass runs as the flash kernel.
  fn swa(q: bf16[B, H, T, e], k: bf16[B, H, T, e], v: bf16[B, H, T, e]) -> bf16[B, H, T, e] {
    let s = cast(einsum("bhtd,bhsd->bhts", q, k) * (1.0 / sqrt(e)), f32)
    let p = masked_softmax(s, expand(sliding_window_mask(T, window), [B, H, T, T]))
    return einsum("bhts,bhse->bhte", cast(p, bf16), v)
  }
}
`;

/** Multiply-adds ×2 of one block run: the four projections, the FFN, and causal attention. */
export function blockFlops({ d, ffn, B, T } = BLOCK): number {
  return B * T * (2 * 4 * d * d + 2 * 2 * d * ffn) + (4 * B * T * T * d) / 2;
}

/** Of sliding-window attention: each query against at most `window` keys (QKᵀ and PV). */
export function swaFlops(T: number, { window, H, E, tokens } = SWA): number {
  return 4 * (tokens / T) * H * T * Math.min(window, T) * E;
}
