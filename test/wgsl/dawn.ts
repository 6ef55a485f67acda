// A WebGPU device for tests: Dawn (the `webgpu` package) on SwiftShader. `gpuDevice()` gives
// the device, or the reason none can be created (tests skip with it printed, never silently).
// Also a minimal dispatcher that follows the GPU launch contract (src/ir/kernel.ts,
// src/codegen/wgsl.ts), independent of the runtime's, for the codegen's own tests.

import type { WgslKernel } from '../../src/codegen/wgsl.js';

export interface Gpu {
  readonly device: GPUDevice;
  /** The object create() returned; kept alive while the device is used. */
  readonly keep: unknown;
}

let cached: Promise<Gpu | string> | undefined;

export function gpuDevice(): Promise<Gpu | string> {
  cached ??= (async () => {
    try {
      process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
      const { create, globals } = await import('webgpu');
      Object.assign(globalThis, globals);
      const gpu = create([]);
      const adapter = await gpu.requestAdapter();
      if (!adapter) return 'no WebGPU adapter (Dawn found no Vulkan device: is chromium/SwiftShader installed?)';
      const device = await adapter.requestDevice({
        requiredLimits: { maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage },
      });
      return { device, keep: gpu };
    } catch (e) {
      return `no WebGPU device: ${(e as Error).message}`;
    }
  })();
  return cached;
}

/** The compilation errors of a module, empty when Dawn accepts it. */
export async function compileErrors(device: GPUDevice, code: string): Promise<string[]> {
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  return info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
}

/** The explicit layout of the contract: group 0 one storage entry per param, group 1 the dims uniform. */
export function pipelineOf(device: GPUDevice, k: WgslKernel): GPUComputePipeline {
  const g0 = device.createBindGroupLayout({
    entries: k.params.map((p, i) => ({
      binding: i,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: p.access === 'read' ? 'read-only-storage' : 'storage' },
    })),
  });
  const g1 = device.createBindGroupLayout({
    entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } }],
  });
  return device.createComputePipeline({
    layout: device.createPipelineLayout({ bindGroupLayouts: [g0, g1] }),
    compute: { module: device.createShaderModule({ code: k.code }), entryPoint: 'main' },
  });
}

/** Pipeline creation errors (validation), empty when it succeeds. */
export async function pipelineErrors(device: GPUDevice, k: WgslKernel): Promise<string[]> {
  device.pushErrorScope('validation');
  pipelineOf(device, k);
  const e = await device.popErrorScope();
  return e ? [e.message] : [];
}

const padded = (n: number): number => Math.max(4, Math.ceil(n / 4) * 4);

/**
 * Runs one kernel: `buffers` (host bytes, one per param) uploaded, the kernel dispatched over
 * `invocations` (the grid's expression, evaluated by the caller), the buffers read back.
 */
export async function dispatch(
  device: GPUDevice,
  k: WgslKernel,
  buffers: readonly Uint8Array[],
  dims: readonly number[],
  vec4s: number,
  invocations: number,
): Promise<Uint8Array[]> {
  const pipeline = pipelineOf(device, k);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const gpuBufs = buffers.map((b) => {
    const g = device.createBuffer({ size: padded(b.byteLength), usage });
    const data = new Uint8Array(padded(b.byteLength));
    data.set(b);
    device.queue.writeBuffer(g, 0, data);
    return g;
  });
  const dimBuf = device.createBuffer({ size: vec4s * 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const dimData = new Int32Array(vec4s * 4);
  dimData.set(dims);
  device.queue.writeBuffer(dimBuf, 0, dimData);
  const bind0 = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: gpuBufs.map((buffer, i) => ({ binding: i, resource: { buffer } })),
  });
  const bind1 = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(1),
    entries: [{ binding: 0, resource: { buffer: dimBuf } }],
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind0);
  pass.setBindGroup(1, bind1);
  const n = Math.ceil(invocations / k.grid.workgroup);
  const x = Math.min(n, 65535);
  if (n > 0) pass.dispatchWorkgroups(x, Math.ceil(n / x), 1);
  pass.end();
  const reads = gpuBufs.map((g) => {
    const r = device.createBuffer({ size: g.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    enc.copyBufferToBuffer(g, 0, r, 0, g.size);
    return r;
  });
  device.queue.submit([enc.finish()]);
  return Promise.all(
    reads.map(async (r, i) => {
      await r.mapAsync(GPUMapMode.READ);
      return new Uint8Array(r.getMappedRange().slice(0, buffers[i]!.byteLength));
    }),
  );
}
