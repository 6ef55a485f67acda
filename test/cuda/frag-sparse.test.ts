// The sparse tensor-core GEMM (src/kernels/gemm-frag-sparse.ts: 2:4 weights on mma.sp) in the
// CUDA dialect: run on the CPU shim, whose mma.sp emulation follows the PTX ISA's fragment and
// metadata layouts on its own (test/cuda/shim/fmc_cpu_mma_sp.h), against the interpreter running
// the dense product on the same pruned weights, for f16 and bf16 (sizes off the 64×64×32 block,
// K not a multiple of 32, a fused epilogue, an f32 master weight cast to bf16 as the precision
// pass reads it) in three thread orders; a swapped selector, or the metadata's two rows swapped,
// makes it fail. Compiled by NVRTC to PTX for compute_80 and compute_90 (mma.sp in the PTX),
// and by nvcc for sm_80 and sm_90 without spills. Each part says why it skips.

import { describe, expect, it } from 'vitest';
import { renderCudaProgram } from '../../src/codegen/cuda.js';
import { renderWgsl } from '../../src/codegen/wgsl.js';
import { Builder } from '../../src/ir/build.js';
import type { Graph } from '../../src/ir/graph.js';
import { bindDims, evaluate } from '../../src/ir/interp.js';
import { sparseMask } from '../../src/ir/sparsity.js';
import type { HostTensor } from '../../src/ir/value.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { TWO_FOUR_KEY } from '../../src/passes/sparsity.js';
import { compileCuda } from '../../src/runtime/cuda-cache.js';
import { native } from '../../src/runtime/native.js';
import { toHost } from '../../src/runtime/tensor.js';
import { compare, fullDims, seededInputs, seededParams } from '../kernels/c-harness.js';
import { compileCubin, findNvcc } from './nvcc-ptxas.js';
import { shimUnavailable } from './shim.js';
import { ShimPlans } from './shim-plan.js';

const why = shimUnavailable();
if (why) console.warn(`skipping the sparse fragment GEMM on the CUDA shim: ${why}`);
const nvrtc = native().nvrtcInfo();
if (nvrtc.error) console.warn(`skipping the sparse fragment GEMM's NVRTC build: ${nvrtc.error}`);
const nvcc = findNvcc();
if ('why' in nvcc) console.warn(`skipping the sparse fragment GEMM's nvcc build: ${nvcc.why}`);

type Case = [() => Graph, Record<string, number>];

/** The GEMM cases of one dtype: W marked 2:4 as the sparsity pass marks it. */
function cases(d: 'f16' | 'bf16'): Record<string, Case> {
  /** tanh(x @ W.T + b): M symbolic (70), N 81 (a 32-row tile past N), K 96 (three steps). */
  const epilogue = (): Graph => {
    const g = new Builder();
    const x = g.input('x', d, ['B', 96]);
    const w = g.barrier(g.param('w', d, [81, 96]), TWO_FOUR_KEY);
    const b = g.param('b', d, [81]);
    return g.graph('forward', { y: g.unary('tanh', g.add(g.einsum('bi,oi->bo', x, w), b)) });
  };
  /** x @ cast(W).T with an f32 W (the precision pass's master weight), x of rank 3 (M 39): K 40, the last step partial. */
  const cast = (): Graph => {
    const g = new Builder();
    const x = g.input('x', d, [3, 13, 40]);
    const w = g.cast(g.barrier(g.param('w', 'f32', [130, 40]), TWO_FOUR_KEY), d);
    return g.graph('forward', { y: g.einsum('btk,nk->btn', x, w) });
  };
  return { [`${d} epilogue`]: [epilogue, { B: 70 }], [`${d} cast`]: [cast, {}] };
}

const CASES: Record<string, Case> = { ...cases('f16'), ...cases('bf16') };
const names = Object.keys(CASES);
const plans = () =>
  names.map((n) =>
    bindPlanGrids(lowerGraph(CASES[n]![0](), { target: 'gpu', fragments: true, sparseFragments: true })),
  );

/** Seeded params with every weight `w` pruned 2:4 along its rows. */
function pruned(g: Graph, dims: ReadonlyMap<string, number>): Map<string, HostTensor> {
  const params = seededParams(g, dims, 7);
  const w = params.get('w')!;
  const mask = sparseMask(w.data, w.shape, { kind: 'n:m', n: 2, m: 4 });
  params.set('w', { ...w, data: w.data.map((v, i) => v * mask[i]!) });
  return params;
}

/** Each case's outputs on the shim against the interpreter, in three thread orders: the problems found. */
function problems(shim: ShimPlans): string[][] {
  return names.map((name, i) => {
    const [make, given] = CASES[name]!;
    const g = make();
    const dims = bindDims(g, new Map(), new Map(Object.entries(given)));
    const inputs = seededInputs(g, dims, 7);
    const params = pruned(g, fullDims(g, inputs, dims));
    const ref = evaluate(g, { inputs, params, dims });
    return shim
      .run(i, { dims: fullDims(g, inputs, dims), inputs, params }, ['forward', 'reverse', { shuffle: 5 }])
      .flatMap((r) =>
        g.outputs.flatMap((o) => compare(`${name} ${o.name}`, toHost(r.outputs[o.name]!), ref.outputs.get(o.name)!)),
      );
  });
}

describe.skipIf(why !== '')('the 2:4 sparse fragment GEMM on the CUDA CPU shim vs the interpreter', () => {
  it(
    'every case, on mma.sp as PTX lays it out, its weight derived into a packed buffer by a kernel before it',
    { timeout: 300_000 },
    () => {
      const ps = plans();
      for (const p of ps) {
        const src = renderCudaProgram(p).source;
        expect(src).toMatch(/FMC_MMA_SP_M16N8K32_(F16|BF16)F32\(/);
        expect(src).not.toMatch(/FMC_MMA_M16N8K16_(F16|BF16)F32\(fc/);
        // The derive kernel, then the GEMM; the storage is one i32 buffer derived from W.
        expect(p.kernels.map((k) => k.note)).toEqual([
          '2:4 weight as mma.sp registers',
          expect.stringMatching(/^einsum/),
        ]);
        expect(p.buffers.filter((b) => b.kind === 'packed').map((b) => b.dtype)).toEqual(['i32']);
      }
      expect(problems(ShimPlans.build(ps))).toEqual(names.map(() => []));
    },
  );

  it('fails with the sparsity selector swapped', { timeout: 300_000 }, () => {
    const edit = (src: string) =>
      src.replace(/(FMC_MMA_SP_M16N8K32_\w+\([^;]*?, )([01])(, fc_)/g, (_, a, s, b) => `${a}${1 - Number(s)}${b}`);
    const shim = ShimPlans.build(plans(), { edit: (s) => (expect(edit(s)).not.toBe(s), edit(s)) });
    expect(problems(shim).filter((p) => p.length > 0).length).toBe(names.length);
  });

  it('fails with the metadata of rows g and g + 8 swapped', { timeout: 300_000 }, () => {
    // The derive kernel packs row g's 16 position bits low and row g + 8's high: swap them.
    const edit = (src: string) =>
      src.replace(/fmc_wrap\(ma_(\d+), 32\)(.*?)fmc_wrap\(mb_(\d+), 32\)/g, 'fmc_wrap(mb_$3, 32)$2fmc_wrap(ma_$1, 32)');
    const shim = ShimPlans.build(plans(), { edit: (s) => (expect(edit(s)).not.toBe(s), edit(s)) });
    expect(problems(shim).filter((p) => p.length > 0).length).toBe(names.length);
  });
});

describe.skipIf(nvrtc.error !== '')('the 2:4 sparse fragment GEMM through NVRTC', () => {
  it.each([80, 90])('compiles to PTX for compute_%i, mma.sp in it, and to a CUBIN', { timeout: 120_000 }, (arch) => {
    for (const p of plans()) {
      const source = renderCudaProgram(p).source;
      const ptx = Buffer.from(compileCuda(source, { arch, kind: 'ptx' }).bytes).toString('latin1');
      // ::ordered_metadata from CUDA 12.5 (PTX ISA 8.5) on; NVRTC 11.8 gets the plain form.
      const [major, minor] = nvrtc.version.split('.').map(Number) as [number, number];
      const op = major > 12 || (major === 12 && minor >= 5) ? 'mma\\.sp::ordered_metadata' : 'mma\\.sp';
      expect(ptx).toMatch(new RegExp(`${op}\\.sync\\.aligned\\.m16n8k32\\.row\\.col\\.f32\\.b?f16\\.b?f16\\.f32`));
      // And NVRTC's own assembler takes it (the CUBIN the runtime loads where NVRTC makes one).
      if (nvrtc.cubin) expect(compileCuda(source, { arch, kind: 'cubin' }).bytes.length).toBeGreaterThan(0);
    }
  });
});

describe.skipIf('why' in nvcc)('the 2:4 sparse fragment GEMM through nvcc', () => {
  for (const arch of ['sm_80', 'sm_90'])
    it(`compiles for ${arch} without spills`, { timeout: 120_000 }, () => {
      if ('why' in nvcc) return;
      const kernels = plans().flatMap((p, i) => compileCubin(nvcc.nvcc, renderCudaProgram(p).source, arch, `sp${i}`));
      expect(kernels.length).toBe(2 * names.length);
      for (const k of kernels) expect([k.name, k.spillStores, k.spillLoads]).toEqual([k.name, 0, 0]);
    });
});

describe('a 2:4 weight without sparse fragments (WGSL)', () => {
  it('lowers to the dense fragment GEMM, which WGSL renders', () => {
    for (const n of names) {
      const p = lowerGraph(CASES[n]![0](), { target: 'gpu', fragments: true });
      expect(p.kernels.map((k) => k.note)).not.toContain('2:4 weight as mma.sp registers');
      expect(renderWgsl(p).kernels.length).toBe(p.kernels.length);
    }
  });
});
