// The fragment GEMM (src/kernels/gemm-frag.ts) in the CUDA dialect, where fragments are the
// tensor cores' registers (src/codegen/cuda-frag.ts) and a product is mma.sync m16n8k16: run
// on the CPU shim, whose mma emulation follows the PTX ISA's fragment figures on its own
// (test/cuda/shim/), against the interpreter for f16 and bf16 operands (the GPU GEMM cases:
// sizes off the 64×64×16 block, both operand layouts, an epilogue, batch letters, a K of 0)
// in two thread orders; a fragment element loaded at another place than PTX's makes it fail.
// And compiled by nvcc for sm_80 and sm_90 with no spills. Each part says why it skips.

import { describe, expect, it } from 'vitest';
import { renderCudaProgram } from '../../src/codegen/cuda.js';
import { bindDims, evaluate } from '../../src/ir/interp.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { toHost } from '../../src/runtime/tensor.js';
import { compare, fullDims, seededInputs, seededParams } from '../kernels/c-harness.js';
import { type GemmCases, gemmCases } from '../wgsl/gemm-cases.js';
import { compileCubin, findNvcc } from './nvcc-ptxas.js';
import { shimUnavailable } from './shim.js';
import { ShimPlans } from './shim-plan.js';

const why = shimUnavailable();
if (why) console.warn(`skipping the fragment GEMM on the CUDA shim: ${why}`);
const nvcc = findNvcc();
if ('why' in nvcc) console.warn(`skipping the fragment GEMM's nvcc build: ${nvcc.why}`);

const CASES: GemmCases = { ...gemmCases('f16'), epilogue: gemmCases('bf16').epilogue! };
const names = Object.keys(CASES);
const plans = () => names.map((n) => bindPlanGrids(lowerGraph(CASES[n]![0](), { target: 'gpu', fragments: true })));

/** Each case's outputs on the shim against the interpreter, in two thread orders: the problems found. */
function problems(shim: ShimPlans): string[][] {
  return names.map((name, i) => {
    const [make, given] = CASES[name]!;
    const g = make();
    const dims = bindDims(g, new Map(), new Map(Object.entries(given)));
    const inputs = seededInputs(g, dims, 7);
    const params = seededParams(g, fullDims(g, inputs, dims), 7);
    const ref = evaluate(g, { inputs, params, dims });
    return shim
      .run(i, { dims: fullDims(g, inputs, dims), inputs, params }, ['forward', 'reverse'])
      .flatMap((r) =>
        g.outputs.flatMap((o) => compare(`${name} ${o.name}`, toHost(r.outputs[o.name]!), ref.outputs.get(o.name)!)),
      );
  });
}

describe.skipIf(why !== '')('the fragment GEMM on the CUDA CPU shim vs the interpreter', () => {
  it('every case, tensor-core fragments as PTX lays them out', { timeout: 300_000 }, () => {
    const ps = plans();
    for (const p of ps) expect(renderCudaProgram(p).source).toMatch(/FMC_MMA_M16N8K16_(F16|BF16)F32\(/);
    expect(problems(ShimPlans.build(ps))).toEqual(names.map(() => []));
  });

  it('fails when a fragment element is loaded at another place', { timeout: 300_000 }, () => {
    // Swap a b fragment's two halves in its first register: elements b0 and b1 trade places.
    const edit = (src: string) =>
      src.replace(/(fb_\d+\[0\] = \(uint32_t\)\()(.*?)(\) \| \(\(uint32_t\)\()(.*?)(\) << 16\);)/g, '$1$4$3$2$5');
    const shim = ShimPlans.build(plans(), { edit: (s) => (expect(edit(s)).not.toBe(s), edit(s)) });
    const found = problems(shim);
    expect(found.filter((p) => p.length > 0).length).toBeGreaterThanOrEqual(names.length - 1); // K = 0 computes nothing
  });
});

describe.skipIf('why' in nvcc)('the fragment GEMM through nvcc', () => {
  for (const arch of ['sm_80', 'sm_90'])
    it(`compiles for ${arch} without spills`, { timeout: 120_000 }, () => {
      if ('why' in nvcc) return;
      const kernels = plans().flatMap((p, i) => compileCubin(nvcc.nvcc, renderCudaProgram(p).source, arch, `frag${i}`));
      expect(kernels.length).toBeGreaterThan(0);
      for (const k of kernels) expect([k.name, k.spillStores, k.spillLoads]).toEqual([k.name, 0, 0]);
    });
});
