// The benchmarks of `scripts/gpu-check` (gpu-check.ts), against PyTorch on the same GPU in the
// same run: bf16 GEMM 4096³ and 8192³ (fmc's default CUDA lowering, and the fragment lowering
// that uses tensor cores) against torch.matmul, x·Wᵀ at 4096³ with a 2:4-pruned W on the dense
// fragment GEMM and on sparse tensor cores (mma.sp: gpu-bench-sparse.ts; flops counted dense,
// so the two rows' times compare directly), and attention (T 1k to 16k, d 64 and 128,
// causal and not; B·T = 16384 tokens, H·d = 2048) against scaled_dot_product_attention.
// Both sides are timed the same way: one untimed run, then the wall time of `REPS` runs queued
// back to back and a synchronize, divided by REPS (fmc: CudaExecutable.timeAsync, inputs
// uploaded once). PyTorch runs in $FMC_PYTHON or /usr/bin/python3 (gpu_check_torch.py); without torch or its
// CUDA the benchmarks are skipped, saying why. fmc's attention is the std's, which the fusion
// pass runs as the GPU flash kernel (src/kernels/attention-gpu.ts: the [B, H, T, T] scores are
// never stored), so every size runs, the largest included. The Transformer block (against
// torch.compile) and sliding-window attention's cost against T are gpu-bench-block.ts's.

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { compileModel } from '../src/api/compile.js';
import { renderCudaProgram } from '../src/codegen/cuda.js';
import { Builder } from '../src/ir/build.js';
import type { Dtype } from '../src/ir/dtype.js';
import type { Graph } from '../src/ir/graph.js';
import { bindPlanGrids } from '../src/kernels/grid.js';
import { lowerGraph } from '../src/kernels/lower.js';
import type { CudaExecutable } from '../src/runtime/cuda-executable.js';
import { buildCudaExecutable, compileCudaProgram } from '../src/runtime/cuda-program.js';
import { Tensor } from '../src/runtime/tensor.js';
import { BLOCK, BLOCK_SOURCE, SWA, blockFlops, swaFlops } from './gpu-bench-block.js';
import { sparseBenchCases } from './gpu-bench-sparse.js';
import { ROOT } from './common.js';

/** A check's line in the report (gpu-check.ts). */
export interface Row {
  readonly part: string;
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail: string;
}

/** x[M, K] @ w[K, N] (or w[N, K] with `t`), both inputs. */
export function gemmGraph(d: Dtype, [M, K, N]: readonly number[], t: boolean): Graph {
  const g = new Builder();
  const x = g.input('x', d, [M!, K!]);
  const w = g.input('w', d, t ? [N!, K!] : [K!, N!]);
  return g.graph('forward', { y: g.einsum(t ? 'mk,nk->mn' : 'mk,kn->mn', x, w) });
}

/** A graph lowered with tensor-core fragments, compiled for this GPU (its weights: none). */
export function fragmentExecutable(g: Graph) {
  const plan = bindPlanGrids(lowerGraph(g, { target: 'gpu', fragments: true, sparseFragments: true }));
  const program = compileCudaProgram(plan, renderCudaProgram);
  return { mma: /FMC_MMA_M16N8K16_/.test(program.source), exe: buildCudaExecutable(program, new Map()) };
}

export interface BenchRow {
  readonly name: string;
  readonly flops: number;
  /** Seconds per run, or why there is none. */
  readonly fmc: number | string;
  readonly torch: number | string;
}

const REPS = 5;
const PY = process.env.FMC_PYTHON || '/usr/bin/python3';

/**
 * The functions benchmarked, in .fm (bf16 inputs; the masks are the std's): the GEMM is
 * `forward`; attention is std's attention as a bf16 model computes it (`@precision(bf16)`):
 * Q·Kᵀ in bf16, the masked softmax in f32, P cast to bf16 for P·V, as SDPA does (the chain the
 * fusion pass runs as one flash kernel).
 */
export const BENCH_SOURCE = `
import { causal_mask } from "std/attention"
import { masked_softmax } from "std/math"

fn attend_masked(q: bf16[B, H, T, D], k: bf16[B, H, T, D], v: bf16[B, H, T, D], mask: bool[T, T]) -> bf16[B, H, T, D] {
  let s = cast(einsum("bhtd,bhsd->bhts", q, k) * (1.0 / sqrt(D)), f32)
  let p = masked_softmax(s, expand(mask, [B, H, T, T]))
  return einsum("bhts,bhse->bhte", cast(p, bf16), v)
}

model GpuBench(d = 64) {
  fn forward(a: bf16[M, K], b: bf16[K, N]) -> bf16[M, N] {
    return a @ b
  }

  fn attend(q: bf16[B, H, T, d], k: bf16[B, H, T, d], v: bf16[B, H, T, d]) -> bf16[B, H, T, d] {
    return attend_masked(q, k, v, full([T, T], true, dtype = bool))
  }

  fn attend_causal(q: bf16[B, H, T, d], k: bf16[B, H, T, d], v: bf16[B, H, T, d]) -> bf16[B, H, T, d] {
    return attend_masked(q, k, v, causal_mask(T))
  }
}
`;

interface Case {
  readonly name: string;
  readonly flops: number;
  /** What gpu_check_torch.py runs. */
  readonly torch: Record<string, number | string | boolean>;
  /** fmc's seconds per run, or why it is not run. */
  readonly fmc: () => Promise<number | string>;
}

/** bf16 values of moderate size (|x| in [1/8, 2)), random bits. */
function bf16(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const bits = new Uint16Array(n);
  let r = 1;
  for (let i = 0; i < n; i++) {
    r = (Math.imul(r, 1103515245) + 12345) >>> 0;
    bits[i] = ((r >>> 31) << 15) | ((124 + ((r >>> 20) & 3)) << 7) | ((r >>> 8) & 127);
  }
  return new Tensor('bf16', bits, shape);
}

/** f32 values in [-1, 1), seeded. */
function f32(shape: number[]): Tensor {
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let r = 7;
  for (let i = 0; i < x.length; i++) x[i] = (r = (Math.imul(r, 1103515245) + 12345) >>> 0) / 2 ** 31 - 1;
  return new Tensor('f32', x, shape);
}

/** Seconds per run of `exe` on `inputs`; its device memory for them is freed after. */
async function timed(exe: CudaExecutable, inputs: Record<string, Tensor>): Promise<number> {
  try {
    return await exe.timeAsync(inputs, REPS);
  } finally {
    exe.releaseBindings();
  }
}

function cases(): Case[] {
  const models = new Map([64, 128].map((d) => [d, compileModel(BENCH_SOURCE, { target: 'cuda', set: { d } }).model]));
  const fn = (name: string, d = 64) => models.get(d)!.executable(name) as CudaExecutable;
  const out: Case[] = [];
  for (const n of [4096, 8192]) {
    const inputs = () => ({ a: bf16([n, n]), b: bf16([n, n]) });
    const torch = { kind: 'gemm', n };
    const flops = 2 * n ** 3;
    out.push({ name: `gemm ${n}³`, flops, torch, fmc: () => timed(fn('forward'), inputs()) });
    out.push({
      name: `gemm ${n}³ (fragments)`,
      flops,
      torch,
      fmc: () =>
        timed(fragmentExecutable(gemmGraph('bf16', [n, n, n], false)).exe, { x: bf16([n, n]), w: bf16([n, n]) }),
    });
  }
  // x·Wᵀ with a 2:4-pruned W: dense W on mma.sync, then the kept values on mma.sp (gpu-bench-sparse.ts).
  for (const c of sparseBenchCases(4096, timed))
    out.push({ name: c.name, flops: 2 * 4096 ** 3, torch: { kind: 'gemm', n: 4096 }, fmc: c.run });
  for (const D of [64, 128])
    for (const T of [1024, 2048, 4096, 8192, 16384])
      for (const causal of [false, true]) {
        const [B, H] = [16384 / T, 2048 / D];
        const shape = [B, H, T, D];
        out.push({
          name: `attention T ${T} d ${D}${causal ? ' causal' : ''}`,
          flops: (4 * B * H * T * T * D) / (causal ? 2 : 1),
          torch: { kind: 'attention', B, H, T, D, causal },
          fmc: () =>
            timed(fn(causal ? 'attend_causal' : 'attend', D), { q: bf16(shape), k: bf16(shape), v: bf16(shape) }),
        });
      }
  const block = compileModel(BLOCK_SOURCE, { target: 'cuda', precision: 'bf16' }).model;
  const { d, heads, ffn, B, T } = BLOCK;
  out.push({
    name: `transformer block d ${d} T ${T} B ${B}`,
    flops: blockFlops(),
    torch: { kind: 'block', d, heads, ffn, B, T },
    fmc: () => timed(block.executable('forward') as CudaExecutable, { x: f32([B, T, d]) }),
  });
  for (const T of SWA.T) {
    const { window, H, E, tokens } = SWA;
    const shape = [tokens / T, H, T, E];
    out.push({
      name: `sliding window ${window} T ${T} (${tokens / 1024}k tokens)`,
      flops: swaFlops(T),
      torch: { kind: 'swa', B: tokens / T, H, T, D: E, window },
      fmc: () => timed(block.executable('swa') as CudaExecutable, { q: bf16(shape), k: bf16(shape), v: bf16(shape) }),
    });
  }
  return out;
}

/** PyTorch's seconds per run of each case (none: whether torch with CUDA is there), or why there are none. */
function torchTimes(cs: readonly Case[]): (number | string)[] | string {
  const script = path.join(ROOT, 'bench', 'gpu_check_torch.py');
  const r = spawnSync(PY, [script, String(REPS), JSON.stringify(cs.map((c) => c.torch))], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.error) return `${PY}: ${r.error.message}`;
  if (r.status !== 0) return r.stderr.trim().split('\n').pop() || `${PY} exited with ${r.status}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as (number | string)[];
}

const cell = (s: number | string) => (typeof s === 'number' ? `${(s * 1e3).toFixed(3)} ms` : s);

/** Runs the benchmarks, reporting each one, skip or failure through `note`; the rows measured. */
export async function benchmarks(note: (r: Row) => void): Promise<BenchRow[]> {
  const skip = (why: string): BenchRow[] => (note({ part: 'bench', name: 'all', status: 'skip', detail: why }), []);
  const ready = torchTimes([]);
  if (typeof ready === 'string') return skip(`no PyTorch with CUDA: ${ready}`);
  let cs: Case[];
  try {
    cs = cases();
  } catch (e) {
    return skip(`fmc's benchmark functions did not compile: ${(e as Error).message.split('\n')[0]}`);
  }
  const torch = torchTimes(cs);
  const rows: BenchRow[] = [];
  for (const [i, c] of cs.entries()) {
    let fmc: number | string;
    try {
      fmc = await c.fmc();
    } catch (e) {
      fmc = `failed: ${(e as Error).message.split('\n')[0]}`;
    }
    const t = typeof torch === 'string' ? torch : torch[i]!;
    rows.push({ name: c.name, flops: c.flops, fmc, torch: t });
    const [f, g] = [typeof fmc === 'number' ? fmc : NaN, typeof t === 'number' ? t : NaN];
    const both = f > 0 && g > 0;
    const ratio = both ? `, ${(g / f).toFixed(2)}× torch's speed` : '';
    const tflops = both ? ` (${(c.flops / f / 1e12).toFixed(1)} vs ${(c.flops / g / 1e12).toFixed(1)} TFLOP/s)` : '';
    const detail = `fmc ${cell(fmc)}, torch ${cell(t)}${ratio}${tflops}`;
    note({ part: 'bench', name: c.name, status: both ? 'pass' : 'skip', detail });
    console.log(`bench ${c.name}: ${detail}`);
  }
  return rows;
}
