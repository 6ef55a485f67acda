// The tiled GPU GEMM without a GPU: its golden WGSL (workgroup arrays at module scope,
// barriers), its workgroup storage as the device limits count it, the fallback to the untiled
// GEMM under a profile too small for its tiles, and the C dialect refusing GPU indices.
// (Its numbers on Dawn: test/wgsl/gemm-tiled.test.ts.)

import { afterEach, describe, expect, it } from 'vitest';
import { renderC } from '../../src/codegen/c.js';
import { WGSL_PRELUDE } from '../../src/codegen/prelude-wgsl.js';
import { renderWgsl } from '../../src/codegen/wgsl.js';
import { DEFAULT_PROFILE } from '../../src/kernels/device-profile.js';
import { lowerForDevice } from '../../src/kernels/fit-device.js';
import { TILED, tiledBytes } from '../../src/kernels/gemm-tiled.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { checkLimits } from '../../src/kernels/limits.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { planGroups } from '../../src/passes/fusion/index.js';
import { expectGolden } from '../golden/golden.js';
import { linearGeluResidual } from './fusion-graphs.js';

const saved = process.env.FMC_GPU_TILED;
afterEach(() => {
  if (saved === undefined) delete process.env.FMC_GPU_TILED;
  else process.env.FMC_GPU_TILED = saved;
});

describe('tiled GPU GEMM', () => {
  it('renders shared tiles as var<workgroup> and barriers as workgroupBarrier (golden)', () => {
    const plan = lowerGraph(linearGeluResidual(), { target: 'gpu', tiled: true });
    const { kernels, dimVec4s } = renderWgsl(plan, 'golden/wgsl/gemm_tiled');
    const tiled = kernels.filter((k) => k.grid.tiled);
    expect(tiled.length).toBe(1);
    const code = tiled[0]!.code;
    expect(code.match(/^var<workgroup> \w+: array<f32, 1024>;$/gm)?.length).toBe(2);
    expect(code.match(/workgroupBarrier\(\);/g)?.length).toBe(2);
    const grid = `/* grid: ${JSON.stringify(tiled[0]!.grid)}; dims vec4s ${dimVec4s} */`;
    const text = `${grid}\n${code.replace(WGSL_PRELUDE.trim(), '/* WGSL_PRELUDE (src/codegen/prelude-wgsl.ts) */')}`;
    expectGolden('wgsl/gemm_tiled.wgsl', text);
  });

  it('counts its tiles as workgroup storage against the device profile', () => {
    const g = linearGeluResidual();
    const groups = planGroups(g);
    const plan = bindPlanGrids(lowerGraph({ ...g, groups }, { target: 'gpu', tiled: true }));
    const small = { ...DEFAULT_PROFILE, name: 'small', maxComputeWorkgroupStorageSize: tiledBytes(TILED) - 4 };
    const report = checkLimits(plan, g, groups, small);
    const gemm = report.usages.find((u) => u.kernel.grid?.tiled)!;
    expect(gemm.workgroupBytes).toBe(tiledBytes(TILED));
    expect(gemm.workgroup).toBe(TILED.T * TILED.T);
    expect(report.problems.map((p) => [p.limit, p.needs])).toEqual([
      ['maxComputeWorkgroupStorageSize', tiledBytes(TILED)],
    ]);
    expect(checkLimits(plan, g, groups, DEFAULT_PROFILE).problems).toEqual([]);
  });

  it('lowers untiled for a device whose workgroup storage cannot hold the tiles', () => {
    process.env.FMC_GPU_TILED = '1';
    const g = linearGeluResidual();
    const tiledCount = (bytes: number): number =>
      lowerForDevice(g, { ...DEFAULT_PROFILE, maxComputeWorkgroupStorageSize: bytes }).plan.kernels.filter(
        (k) => k.grid?.tiled,
      ).length;
    expect(tiledCount(tiledBytes(TILED))).toBe(1);
    expect(tiledCount(tiledBytes(TILED) - 4)).toBe(0);
  });

  it('the C dialect refuses the GPU indices', () => {
    for (const k of ['gid', 'wgid', 'lid'] as const)
      expect(() =>
        renderC(
          [
            {
              name: 'k0_t',
              params: [],
              body: [{ k: 'let', name: 'i', t: 'i64', value: { k } }],
              note: '',
              schedule: {},
            },
          ],
          'h',
        ),
      ).toThrow(new RegExp(`GPU\\) kernel reached the C dialect .*'${k}'`));
  });
});
