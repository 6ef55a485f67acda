// Every kernel of every seed model (inference, at the models' own sizes) and of the MLP's and
// the CNN's train steps, rendered as one CUDA program each (renderCudaProgram), compiles
// under nvcc for sm_90 (`nvcc -cubin -arch=sm_90 -Xptxas -v`, one call a program): ptxas's
// registers, spills, stack and shared memory of each kernel are printed as a table, and a
// kernel that spills or takes more than 48 KiB of shared memory fails. One program also
// compiles for sm_80, with the tiled GEMM, and the mlp in bf16 (its 2:4 fc2 on mma.sp) for both;
// a probe kernel compiles the prelude's special-instruction macros (mma.sync m16n8k16 f16 and
// bf16, mma.sp m16n8k32 f16 and bf16, ldmatrix x4) for both; a kernel
// made to spill shows the check catching it (and the log parser is checked on a fixed log,
// nvcc or not). The flash-attention kernel compiles at head sizes 32, 64 and 128 too. Skipped,
// with the reason printed, without nvcc.

import { afterAll, describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { lowerTrainStep } from '../../src/api/train.js';
import { renderCudaProgram } from '../../src/codegen/cuda.js';
import { cudaPrelude } from '../../src/codegen/prelude-cuda.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import type { Plan } from '../../src/kernels/plan.js';
import { piped } from '../../src/runtime/compile.js';
import { attentionPlan, planKinds } from '../kernels/attention-graphs.js';
import { type PtxasKernel, compileCubin, findNvcc, parsePtxas, ptxasTable } from './nvcc-ptxas.js';

const found = findNvcc();
if ('why' in found) console.warn(`skipping the nvcc/ptxas tests: ${found.why}`);
const nvcc = 'nvcc' in found ? found.nvcc : '';

/** The most static shared memory a kernel may take (the limit without opting in to more). */
const SHARED_BUDGET = 48 * 1024;

const MODELS = ['bert', 'cnn', 'conformer', 'hybrid_vit', 'mlp', 'moe_lm', 'swa_lm'];

function inference(model: string, tiled = false): Plan {
  const l = lowerModel(`models/${model}.fm`, { fns: ['forward'] })[0]!;
  return lowerGraph(piped(l, { mode: 'inference' }).graph, { target: 'gpu', tiled });
}

function trainStep(model: string): Plan {
  return lowerGraph(lowerTrainStep(`models/${model}.fm`).modules[0]!.graph, { target: 'gpu' });
}

/** What is over budget in a kernel, one sentence each. */
function overBudget(k: PtxasKernel): string[] {
  const out: string[] = [];
  if (k.spillStores > 0 || k.spillLoads > 0)
    out.push(`${k.name} (${k.arch}) spills: ${k.spillStores} bytes stored, ${k.spillLoads} loaded`);
  if (k.shared > SHARED_BUDGET) out.push(`${k.name} (${k.arch}) takes ${k.shared} bytes of shared memory`);
  return out;
}

/** A kernel using each special-instruction macro of the prelude. */
const PROBE = `
extern "C" __global__ void __launch_bounds__(32, 1) fmc_probe_mma(const unsigned int *__restrict__ b, float *__restrict__ out) {
  __shared__ unsigned short tile[16 * 16];
  for (int i = threadIdx.x; i < 256; i += 32) tile[i] = (unsigned short)(b[i] & 0xffffu);
  __syncthreads();
  uint32_t a[4];
  FMC_LDMATRIX_X4(a, &tile[(threadIdx.x & 15) * 16 + (threadIdx.x >> 4) * 8]);
  uint32_t bb[2] = {b[threadIdx.x], b[32 + threadIdx.x]};
  float c[4] = {0.0f, 0.0f, 0.0f, 0.0f}, d[4];
  FMC_MMA_M16N8K16_F16F32(d, a, bb, c);
  FMC_MMA_M16N8K16_BF16F32(d, a, bb, d);
  uint32_t b4[4] = {bb[0], bb[1], b[64 + threadIdx.x], b[96 + threadIdx.x]};
  FMC_MMA_SP_M16N8K32_F16F32(d, a, b4, 0x44444444u, 0, d);
  FMC_MMA_SP_M16N8K32_BF16F32(d, a, b4, b[128 + threadIdx.x], 1, d);
  for (int i = 0; i < 4; i++) out[threadIdx.x * 4 + i] = d[i];
}
`;

/** 64 accumulators live across a loop, in at most 32 registers a thread: ptxas must spill. */
const SPILLER = `
extern "C" __global__ void __launch_bounds__(1024, 2) fmc_spiller(const float *__restrict__ x, float *__restrict__ y, int n) {
  float acc[64];
  for (int j = 0; j < 64; j++) acc[j] = x[j * 1024 + threadIdx.x];
  for (int i = 0; i < n; i++) {
#pragma unroll
    for (int j = 0; j < 64; j++) acc[j] = fmaf(acc[j], acc[(j + 1) & 63], x[i]);
  }
  for (int j = 0; j < 64; j++) y[j * 1024 + threadIdx.x] = acc[j];
}
`;

const rows: (PtxasKernel & { program: string })[] = [];

afterAll(() => {
  if (rows.length === 0) return;
  const regs = rows.map((r) => r.registers);
  console.log(
    `ptxas figures of ${rows.length} kernels (registers ${Math.min(...regs)}..${Math.max(...regs)}, ` +
      `max shared ${Math.max(...rows.map((r) => r.shared))} bytes, max stack ${Math.max(...rows.map((r) => r.stack))} bytes):\n` +
      ptxasTable(rows),
  );
});

/** Compiles a plan's program, records its figures and returns what is over budget. */
function check(program: string, plan: Plan, arch: string): string[] {
  const { source, kernels } = renderCudaProgram(plan, `nvcc-ptxas ${program}`);
  const figures = compileCubin(nvcc, source, arch, program.replace(/\W/g, '_'));
  rows.push(...figures.map((f) => ({ ...f, program })));
  expect(figures.map((f) => f.name).sort()).toEqual(kernels.map((k) => k.name).sort());
  return figures.flatMap(overBudget);
}

describe('the ptxas log parser (without nvcc)', () => {
  it('reads each kernel of a -v log', () => {
    const log = [
      "ptxas info    : Compiling entry function 'fmc_k1' for 'sm_90'",
      'ptxas info    : Function properties for fmc_k1',
      '    8 bytes stack frame, 4 bytes spill stores, 12 bytes spill loads',
      'ptxas info    : Used 32 registers, used 1 barriers, 8192 bytes smem, 8 bytes cumulative stack size',
      "ptxas info    : Compiling entry function 'fmc_k0' for 'sm_80'",
      'ptxas info    : Function properties for fmc_k0',
      '    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads',
      'ptxas info    : Used 18 registers, used 0 barriers, 384 bytes cmem[0]',
    ].join('\n');
    const [k1, k0] = parsePtxas(log);
    expect(k1).toEqual({
      name: 'fmc_k1',
      arch: 'sm_90',
      registers: 32,
      spillStores: 4,
      spillLoads: 12,
      stack: 8,
      shared: 8192,
      barriers: 1,
    });
    expect(k0).toEqual({
      name: 'fmc_k0',
      arch: 'sm_80',
      registers: 18,
      spillStores: 0,
      spillLoads: 0,
      stack: 0,
      shared: 0,
      barriers: 0,
    });
    expect(overBudget(k1!)).toEqual(['fmc_k1 (sm_90) spills: 4 bytes stored, 12 loaded']);
    expect(overBudget({ ...k0!, shared: 49153 })).toEqual(['fmc_k0 (sm_80) takes 49153 bytes of shared memory']);
  });
});

describe.skipIf(nvcc === '')('nvcc and ptxas: every kernel compiles without spills', () => {
  for (const model of MODELS) {
    it(`${model} inference (sm_90)`, { timeout: 60_000 }, () => {
      expect(check(model, inference(model), 'sm_90')).toEqual([]);
    });
  }
  for (const model of ['mlp', 'cnn']) {
    it(`${model} train step (sm_90)`, { timeout: 60_000 }, () => {
      expect(check(`${model} train`, trainStep(model), 'sm_90')).toEqual([]);
    });
  }

  it('the mlp in bf16 on tensor cores, its 2:4 fc2 on mma.sp (sm_80 and sm_90)', { timeout: 60_000 }, () => {
    const l = lowerModel('models/mlp.fm', { fns: ['forward'], precision: 'bf16' })[0]!;
    const plan = lowerGraph(piped(l, { mode: 'inference' }).graph, {
      target: 'gpu',
      fragments: true,
      sparseFragments: true,
    });
    expect(plan.kernels.map((k) => k.note)).toContain('2:4 weight as mma.sp registers');
    expect(check('mlp bf16 2:4', plan, 'sm_80')).toEqual([]);
    expect(check('mlp bf16 2:4', plan, 'sm_90')).toEqual([]);
  });

  it('the CNN with tiled GEMMs (sm_80 and sm_90)', { timeout: 60_000 }, () => {
    const plan = inference('cnn', true);
    expect(plan.kernels.some((k) => k.grid?.tiled)).toBe(true);
    expect(check('cnn tiled', plan, 'sm_80')).toEqual([]);
    expect(check('cnn tiled', plan, 'sm_90')).toEqual([]);
  });

  it('the flash-attention kernel at head sizes 32, 64 and 128, causal (sm_80 and sm_90)', { timeout: 60_000 }, () => {
    for (const D of [32, 64, 128]) {
      const plan = attentionPlan({ mask: 'causal', D, E: D, H: 2 });
      expect(planKinds(plan)).toEqual(['attention']);
      for (const arch of ['sm_80', 'sm_90']) {
        expect(check(`attention d${D}`, plan, arch)).toEqual([]);
        // Its tiles fit the portable WebGPU limit (attention-gpu.ts flashTile), so CUDA's too.
        expect(rows.at(-1)!.shared).toBeLessThanOrEqual(16384);
      }
    }
  });

  it('the special-instruction macros compile (sm_80 and sm_90)', { timeout: 60_000 }, () => {
    for (const arch of ['sm_80', 'sm_90']) {
      const [k] = compileCubin(nvcc, `${cudaPrelude(1, false)}\n${PROBE}`, arch, 'probe');
      expect(k?.name).toBe('fmc_probe_mma');
      expect(k!.shared).toBe(512);
    }
  });

  it('a kernel that spills is caught', { timeout: 60_000 }, () => {
    const [k] = compileCubin(nvcc, SPILLER, 'sm_90', 'spiller');
    expect(overBudget(k!).join()).toMatch(/fmc_spiller \(sm_90\) spills/);
  });
});
