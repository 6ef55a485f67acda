// The WebGPU device: WGSL kernels on a GPUDevice, following the GPU launch contract
// (docs/runtime.md): param i of a kernel is @group(0) @binding(i) (read-only-storage when it
// only reads, storage otherwise), the dims are @group(1) @binding(0), a uniform array of
// `dimVec4s` vec4<i32>, and each launch dispatches (x, y, 1) workgroups. Every pipeline has an
// explicit layout. A run's launches, its copies and the copies of its results into a staging
// buffer go in one command encoder, submitted when the results are downloaded (or at
// synchronize). Buffers hold the host's bytes, each rounded up to a multiple of 4.
//
// No Node imports: the same file runs in a browser on `navigator.gpu` (node-webgpu.ts finds
// a GPU in Node).

import type { Dtype } from '../ir/dtype.js';
import type { Device, DeviceRange, LaunchList } from './device.js';
import {
  MAP_READ,
  STAGE_COMPUTE,
  USAGE,
  type Gpu,
  type GpuBuffer,
  type GpuCommandEncoder,
  type GpuDevice,
} from './webgpu-types.js';

/** One kernel as WGSL: a module with entry point `main`, and how it uses each buffer param. */
export interface WgslKernel {
  readonly name: string;
  readonly code: string;
  readonly params: readonly { readonly access: 'read' | 'write' | 'readwrite'; readonly dtype: Dtype }[];
}

/** The kernels of one plan and the length of their dims array (max(1, ceil(slots / 4))). */
export interface WgslProgram {
  readonly kernels: readonly WgslKernel[];
  readonly dimVec4s: number;
}

/** A kernel the GPU would not compile, or a GPU that cannot be had; says which and why. */
export class WebGpuError extends Error {
  override name = 'WebGpuError';
}

/** Bytes of a GPU buffer or binding for `bytes` of data: a multiple of 4, at least 4. */
export const gpuBytes = (bytes: number): number => Math.max(4, Math.ceil(bytes / 4) * 4);

/** Offsets of storage bindings in one buffer are multiples of this (minStorageBufferOffsetAlignment). */
export const BINDING_ALIGN = 256;

/** The storage limits fmc asks for: the adapter's own, not the spec's defaults. */
const LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
];

/**
 * A device on `gpu`'s adapter with the adapter's storage limits and, where the adapter has it,
 * `shader-f16` (programs compiled for a profile with shaderF16 need it); a WebGpuError when
 * there is no adapter.
 */
export async function requestGpuDevice(gpu: Gpu): Promise<GpuDevice> {
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new WebGpuError('WebGPU has no adapter here (no GPU, or no Vulkan/Metal/D3D12 driver for one)');
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMITS) if (adapter.limits[k] !== undefined) requiredLimits[k] = adapter.limits[k]!;
  const requiredFeatures = adapter.features.has(SHADER_F16) ? [SHADER_F16] : [];
  return adapter.requestDevice({ requiredLimits, requiredFeatures });
}

const SHADER_F16 = 'shader-f16';

/** A kernel module that computes in native f16 (rendered with WgslOptions.shaderF16) starts with this directive. */
const usesF16 = (code: string): boolean => /^enable f16;$/m.test(code);

/** A GPU buffer that kernels read and write and that copies go in and out of. */
function storage(device: GpuDevice, bytes: number): GpuBuffer {
  return device.createBuffer({ size: gpuBytes(bytes), usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
}

/** The compiled pipelines of a program on a GPUDevice; kernels that do not compile are a WebGpuError. */
export async function loadProgram(device: GpuDevice, program: WgslProgram): Promise<WebGpuDevice> {
  const f16 = program.kernels.find((k) => usesF16(k.code));
  if (f16 && !device.features.has(SHADER_F16))
    throw new WebGpuError(
      `kernel ${f16.name} computes in f16 natively (compiled for a device profile with shaderF16), and this WebGPU device has no shader-f16: compile for this device (--device-profile adapter) or for a profile without shaderF16`,
    );
  const dimsLayout = device.createBindGroupLayout({
    entries: [{ binding: 0, visibility: STAGE_COMPUTE, buffer: { type: 'uniform' } }],
  });
  device.pushErrorScope('validation');
  const kernels = await Promise.all(
    program.kernels.map(async (k) => {
      const module = device.createShaderModule({ code: k.code });
      const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
      if (errors.length > 0)
        throw new WebGpuError(
          `kernel ${k.name} does not compile as WGSL: ${errors.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`,
        );
      const layout = device.createBindGroupLayout({
        entries: k.params.map((p, binding) => ({
          binding,
          visibility: STAGE_COMPUTE,
          buffer: { type: p.access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
        })),
      });
      const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout, dimsLayout] });
      const pipeline = await device.createComputePipelineAsync({
        layout: pipelineLayout,
        compute: { module, entryPoint: 'main' },
      });
      return { pipeline, layout };
    }),
  );
  const error = await device.popErrorScope();
  if (error) throw new WebGpuError(`the kernels do not load on this GPU: ${error.message}`);
  const dims = device.createBuffer({ size: program.dimVec4s * 16, usage: USAGE.UNIFORM | USAGE.COPY_DST });
  const dimsGroup = device.createBindGroup({
    layout: dimsLayout,
    entries: [{ binding: 0, resource: { buffer: dims } }],
  });
  return new WebGpuDevice(device, kernels, program.dimVec4s, dims, dimsGroup);
}

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

export class WebGpuDevice implements Device<GpuBuffer> {
  readonly target = 'wgsl';
  /** The encoder of work not yet submitted. */
  private open: GpuCommandEncoder | undefined;

  constructor(
    readonly gpu: GpuDevice,
    private readonly kernels: readonly { readonly pipeline: unknown; readonly layout: unknown }[],
    private readonly dimVec4s: number,
    private readonly dims: GpuBuffer,
    private readonly dimsGroup: unknown,
  ) {}

  allocate(bytes: number, what: string): GpuBuffer {
    const max = this.gpu.limits.maxBufferSize ?? Infinity;
    if (gpuBytes(bytes) > max)
      throw new WebGpuError(`${what} needs ${bytes} bytes, more than this GPU's largest buffer (${max} bytes)`);
    return storage(this.gpu, bytes);
  }

  /** Writes `src` at `offset` (a multiple of 4); the queue orders it after the work before it. */
  upload(dst: GpuBuffer, offset: number, src: Uint8Array): void {
    if (src.length === 0) return;
    this.flush();
    const padded = src.length % 4 === 0 ? src : padTo4(src);
    this.gpu.queue.writeBuffer(dst, offset, padded, 0, padded.length);
  }

  /** Error scopes opened by launch() and not yet checked (download and synchronize check them). */
  private scopes = 0;

  /** Records the launches (one compute pass); they run once submitted. */
  launch(l: LaunchList<GpuBuffer>): void {
    const grids = l.grids;
    if (!grids) throw new WebGpuError('internal: a WebGPU launch list needs its grids');
    // What WebGPU refuses (a bad binding, memory it cannot give) is reported asynchronously:
    // collect it in error scopes and throw it where the run is awaited.
    this.gpu.pushErrorScope('out-of-memory');
    this.gpu.pushErrorScope('validation');
    this.scopes++;
    const words = new Int32Array(this.dimVec4s * 4);
    l.dims.forEach((v, i) => {
      if (v < INT32_MIN || v > INT32_MAX) throw new WebGpuError(`internal: dim slot ${i} (${v}) is outside i32`);
      words[i] = Number(v);
    });
    this.upload(this.dims, 0, new Uint8Array(words.buffer));
    const pass = this.encoder().beginComputePass();
    const r = l.records;
    for (let at = 0, n = 0; at < r.length; n++) {
      const kernel = this.kernels[r[at]!]!;
      const argc = r[at + 1]!;
      const x = grids[2 * n]!;
      const y = grids[2 * n + 1]!;
      if (x > 0) {
        const entries = [];
        for (let j = 0; j < argc; j++) {
          const id = r[at + 2 + j]!;
          entries.push({
            binding: j,
            resource: { buffer: l.mem[id]!, offset: l.offsets[id]!, size: gpuBytes(l.bytes[id]!) },
          });
        }
        pass.setPipeline(kernel.pipeline);
        pass.setBindGroup(0, this.gpu.createBindGroup({ layout: kernel.layout, entries }));
        pass.setBindGroup(1, this.dimsGroup);
        pass.dispatchWorkgroups(x, y, 1);
      }
      at += 2 + argc;
    }
    pass.end();
  }

  /** Records a copy of `bytes` (rounded up to 4) between buffers. */
  copy(from: DeviceRange<GpuBuffer>, to: GpuBuffer, toOffset: number): void {
    if (from.bytes > 0) this.encoder().copyBufferToBuffer(from.mem, from.offset, to, toOffset, gpuBytes(from.bytes));
  }

  /** Copies the ranges into one staging buffer in the open encoder, submits, and maps it. */
  async download(ranges: readonly DeviceRange<GpuBuffer>[]): Promise<Uint8Array[]> {
    const at: number[] = [];
    let size = 0;
    for (const r of ranges) {
      at.push(size);
      size += gpuBytes(r.bytes);
    }
    const staging = this.gpu.createBuffer({ size: Math.max(4, size), usage: USAGE.MAP_READ | USAGE.COPY_DST });
    ranges.forEach((r, i) => this.copy(r, staging, at[i]!));
    this.flush();
    await this.checkScopes();
    try {
      await staging.mapAsync(MAP_READ);
      const bytes = new Uint8Array(staging.getMappedRange());
      return ranges.map((r, i) => bytes.slice(at[i]!, at[i]! + r.bytes));
    } finally {
      staging.destroy();
    }
  }

  async synchronize(): Promise<void> {
    this.flush();
    await this.checkScopes();
    await this.gpu.queue.onSubmittedWorkDone();
  }

  /** Closes the error scopes of the launches so far; the first error they caught is thrown. */
  private async checkScopes(): Promise<void> {
    // Taken before any await: runs in flight at once must not pop the same scopes twice.
    const n = this.scopes;
    this.scopes = 0;
    let first: { message: string } | null = null;
    for (let i = 0; i < 2 * n; i++) first ??= await this.gpu.popErrorScope();
    if (first) throw new WebGpuError(`the GPU refused the run: ${first.message.split('\n')[0]}`);
  }

  private encoder(): GpuCommandEncoder {
    this.open ??= this.gpu.createCommandEncoder();
    return this.open;
  }

  /** Submits the open encoder, if any. */
  private flush(): void {
    if (!this.open) return;
    this.gpu.queue.submit([this.open.finish()]);
    this.open = undefined;
  }
}

function padTo4(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(gpuBytes(src.length));
  out.set(src);
  return out;
}
