// Native f16 end to end: a module compiled for a device profile with `shaderF16` renders its
// f16 values as WGSL f16 (`enable f16;`), one compiled for a profile without it does not; the
// device fmc asks for takes `shader-f16` wherever the adapter has it; a native-f16 program on
// a device without the feature is refused with the reason before any pipeline is made (not a
// Dawn validation error). SwiftShader has no shader-f16, so the native modules' numbers are
// checked where an adapter has it (test/wgsl/half-types.test.ts type-checks them here).

import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { DEFAULT_PROFILE } from '../../src/kernels/device-profile.js';
import type { Gpu, GpuDevice } from '../../src/runtime/webgpu-types.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { WebGpuError, loadProgram, requestGpuDevice } from '../../src/runtime/webgpu.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the run of a native-f16 module on this machine's adapter: ${why}`);

const SRC = `model Half() {
  fn forward(x: f16[N], y: f16[N]) -> f16[N] {
    return exp(x) * y + x
  }
}
`;

const modules = (shaderF16: boolean) =>
  compileModel(SRC, { target: 'wgsl', deviceProfile: { ...DEFAULT_PROFILE, name: 'p', shaderF16 } }).wgsl[0]!;

/** A GPU whose one adapter has `features`; records what the device was asked for. */
function fakeGpu(features: string[]): { gpu: Gpu; asked: { requiredFeatures?: string[] }[] } {
  const asked: { requiredFeatures?: string[] }[] = [];
  const adapter = {
    limits: { maxStorageBuffersPerShaderStage: 10 },
    features: new Set(features),
    requestDevice: async (d?: { requiredFeatures?: string[] }) => {
      asked.push(d ?? {});
      return { features: new Set(d?.requiredFeatures ?? []) } as unknown as GpuDevice;
    },
  };
  return { gpu: { requestAdapter: async () => adapter }, asked };
}

describe('native f16 on WGSL', () => {
  it('a profile with shaderF16 renders f16 values as WGSL f16, one without it does not', () => {
    const native = modules(true).sources;
    const emulated = modules(false).sources;
    expect(native.some((s) => /^enable f16;$/m.test(s) && /\bf16\b/.test(s.replace(/^enable f16;$/m, '')))).toBe(true);
    expect(emulated.some((s) => /\benable f16\b/.test(s))).toBe(false);
    expect(native).not.toEqual(emulated);
  });

  it('the device takes shader-f16 where the adapter has it, and only there', async () => {
    const withF16 = fakeGpu(['shader-f16']);
    expect((await requestGpuDevice(withF16.gpu)).features.has('shader-f16')).toBe(true);
    expect(withF16.asked[0]!.requiredFeatures).toEqual(['shader-f16']);
    const without = fakeGpu([]);
    await requestGpuDevice(without.gpu);
    expect(without.asked[0]!.requiredFeatures).toEqual([]);
  });

  it('a native-f16 program on a device without shader-f16 is refused with the reason', async () => {
    const device = { features: new Set<string>() } as unknown as GpuDevice;
    await expect(loadProgram(device, modules(true).program)).rejects.toThrow(WebGpuError);
    await expect(loadProgram(device, modules(true).program)).rejects.toThrow(
      /computes in f16 natively .* no shader-f16: compile for this device \(--device-profile adapter\)/,
    );
  });

  it.skipIf(!!why)('on this machine the run says why (SwiftShader has no shader-f16) or runs', async () => {
    const c = compileModel(SRC, { target: 'wgsl', deviceProfile: { ...DEFAULT_PROFILE, name: 'p', shaderF16: true } });
    const x = new Tensor('f16', new Uint16Array(4).fill(0x3c00), [4]); // 1.0
    const run = c.model.runAsync('forward', { x, y: x });
    const { nodeGpuDevice } = await import('../../src/runtime/node-webgpu.js');
    if ((await nodeGpuDevice()).features.has('shader-f16')) {
      const out = Object.values(await run)[0]!;
      expect(Array.from(out.data as Uint16Array)).toEqual(Array(4).fill(0x4370)); // exp(1) = 2.71875 in f16, + 1 = 3.71875
    } else await expect(run).rejects.toThrow(/no shader-f16/);
  });
});
