// Device limits of the WGSL target without a GPU: profile files (validated, clear errors),
// kernels split to fit the storage-buffer limit (fit-groups.ts: expressions, fused row
// kernels, concats), the limit report, and run-time checks of symbolic binding sizes that
// name the `.fm` line. Runs on SwiftShader: test/wgsl/limits-run.test.ts.

import { describe, expect, it } from 'vitest';
import { CompileError, compileModel } from '../../src/api/compile.js';
import type { Graph } from '../../src/ir/graph.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { type Dim, dimConst, dimConstValue, dimSubst } from '../../src/ir/dims.js';
import {
  DEFAULT_PROFILE,
  PROFILES,
  ProfileError,
  builtinProfile,
  parseProfile,
} from '../../src/kernels/device-profile.js';
import { DeviceLimitError, fitDevice, lowerForDevice } from '../../src/kernels/fit-device.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { wide, wideConcat, wideSoftmax } from './limit-graphs.js';

const at = (d: Dim, n: number): number => dimConstValue(dimSubst(d, new Map([['N', dimConst(n)]])))!;

const maxParams = (g: Graph, p = DEFAULT_PROFILE): number =>
  Math.max(...lowerForDevice(g, p).plan.kernels.map((k) => k.params.length));
const unfitted = (g: Graph): number =>
  Math.max(...bindPlanGrids(lowerGraph(g, { target: 'gpu' })).kernels.map((k) => k.params.length));

describe('device profiles', () => {
  it('fills what a file leaves out with the WebGPU minimums', () => {
    const p = parseProfile('{"maxStorageBuffersPerShaderStage": 10, "shaderF16": true}', 'gpu.json');
    expect(p).toEqual({ ...DEFAULT_PROFILE, name: 'gpu.json', maxStorageBuffersPerShaderStage: 10, shaderF16: true });
  });
  it.each([
    ['{', /^bad\.json: not JSON \(/],
    ['[8]', /^bad\.json: a device profile is a JSON object of limits/],
    [
      '{"maxStorageBuffers": 8}',
      /^bad\.json: unknown key "maxStorageBuffers"; the keys are maxStorageBuffersPerShaderStage, /,
    ],
    ['{"maxBufferSize": "1 GiB"}', /^bad\.json: "maxBufferSize" must be an integer of at least 1, not "1 GiB"$/],
    ['{"maxStorageBuffersPerShaderStage": 2.5}', /must be an integer of at least 1, not 2\.5$/],
    [
      '{"maxComputeWorkgroupsPerDimension": 1000}',
      /"maxComputeWorkgroupsPerDimension" must be an integer of at least 65535/,
    ],
    ['{"shaderF16": 1}', /^bad\.json: "shaderF16" must be true or false$/],
  ])('refuses %s', (text, want) => {
    expect(() => parseProfile(text, 'bad.json')).toThrow(ProfileError);
    expect(() => parseProfile(text, 'bad.json')).toThrow(want);
  });
  it('has the built-ins; an unknown name lists them', () => {
    expect(builtinProfile('default').maxStorageBuffersPerShaderStage).toBe(8);
    expect(PROFILES.swiftshader!.maxStorageBuffersPerShaderStage).toBe(12);
    expect(() => builtinProfile('rtx')).toThrow(
      'no built-in device profile "rtx"; the built-ins are default, swiftshader',
    );
  });
});

describe('kernels split to fit the storage-buffer limit', () => {
  it('splits a 14-input expression (15 buffers fused) into kernels of at most 8, or 12 on swiftshader', () => {
    expect(unfitted(wide())).toBe(15);
    expect(maxParams(wide())).toBeLessThanOrEqual(8);
    expect(maxParams(wide(), PROFILES.swiftshader)).toBeLessThanOrEqual(12);
    expect(lowerForDevice(wide(), PROFILES.swiftshader).plan.kernels.length).toBe(2);
    // A profile it fits leaves the kernel whole.
    expect(
      lowerForDevice(wide(), { ...DEFAULT_PROFILE, maxStorageBuffersPerShaderStage: 15 }).plan.kernels,
    ).toHaveLength(1);
  });
  it('takes a fused row kernel apart, then splits its expression', () => {
    expect(unfitted(wideSoftmax())).toBe(17);
    const { plan } = lowerForDevice(wideSoftmax(), DEFAULT_PROFILE);
    expect(Math.max(...plan.kernels.map((k) => k.params.length))).toBeLessThanOrEqual(8);
    expect(plan.kernels.some((k) => k.name.endsWith('_reduce'))).toBe(true);
  });
  it('stores a concat of many inputs one input at a time', () => {
    expect(unfitted(wideConcat())).toBe(11);
    const { plan } = lowerForDevice(wideConcat(), DEFAULT_PROFILE);
    expect(plan.kernels.filter((k) => k.name.endsWith('_concat_part'))).toHaveLength(10);
    expect(Math.max(...plan.kernels.map((k) => k.params.length))).toBe(2);
  });
  it('reports what no split can fit, naming the node', () => {
    const tight = { ...DEFAULT_PROFILE, name: 'tight', maxStorageBuffersPerShaderStage: 2 };
    const r = lowerForDevice(wide(4), tight).report;
    expect(r.problems.map((p) => [p.limit, p.needs, p.node?.op])).toEqual([
      ['maxStorageBuffersPerShaderStage', 5, 'binary'],
    ]);
    expect(() => fitDevice(wide(4), tight)).toThrow(DeviceLimitError);
    // With three, each product gets a kernel and the sum reads two buffers.
    expect(maxParams(wide(4), { ...tight, maxStorageBuffersPerShaderStage: 3 })).toBe(3);
  });
});

describe('binding sizes', () => {
  const src = `model Outer() {
  fn forward(x: f32[N]) -> f32[N, N] {
    let y = reshape(x, [N, 1]) * reshape(x, [1, N])
    return y
  }
}
`;
  it('checks a symbolic size when dims are bound, naming the .fm line', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-limits-')), 'outer.fm');
    fs.writeFileSync(file, src);
    const r = lowerFile(file);
    if (!r.ok) throw new Error('does not lower');
    const m = runPipeline(r.lowered, { target: 'c', mode: 'inference' });
    const { plan, report } = lowerForDevice(m.graph, DEFAULT_PROFILE, (n) => {
      const s = n && m.spans?.of(n);
      return s ? `${s.file}@${s.start}` : '';
    });
    expect(report.problems).toEqual([]);
    const check = plan.checks.find((c) => c.what.includes('the value of this binary'))!;
    expect(check.what).toBe(
      `${file}@${src.indexOf('reshape')}: the value of this binary in kernel k0_ew needs more than the 134217728 bytes of a binding on device profile \`default\` (maxStorageBufferBindingSize)`,
    );
    // 4·N² bytes: N = 5792 fits (134,184,448), N = 5793 does not.
    expect(at(check.value, 5792)).toBeGreaterThanOrEqual(0);
    expect(at(check.value, 5793)).toBeLessThan(0);
  });
});

describe('compile() with a device profile', () => {
  it('refuses an unknown built-in', () => {
    expect(() =>
      compileModel('model M() {\n  fn forward(x: f32[N]) -> f32[N] { return x }\n}\n', {
        target: 'wgsl',
        deviceProfile: 'rtx',
      }),
    ).toThrow(
      new CompileError('deviceProfile: no built-in device profile "rtx"; the built-ins are default, swiftshader'),
    );
  });
  it('reports what cannot fit at the line of source text', () => {
    const src =
      'model M() {\n  fn forward(x: f32[64]) -> f32[64, 64] {\n    return reshape(x, [64, 1]) * reshape(x, [1, 64])\n  }\n}\n';
    const small = { ...DEFAULT_PROFILE, name: 'small', maxStorageBufferBindingSize: 1024 };
    expect(() => compileModel(src, { target: 'wgsl', deviceProfile: small })).toThrow(
      /^<source>\.fm:3:12: error FM0806: The value of this binary takes 16384 bytes, more than the 1024 of a binding on device profile `small` \(maxStorageBufferBindingSize\)\n 3 \| /,
    );
  });
});
