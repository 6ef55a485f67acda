// The slice of the WebGPU API the runtime uses, typed structurally: the `webgpu` package (Dawn)
// in Node and `navigator.gpu` in a browser both fit it, and fmc's types need neither the DOM
// library nor @webgpu/types. Usage flags are the spec's numbers (GPUBufferUsage and friends
// are globals only in a browser).

export const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const MAP_READ = 0x1;
export const STAGE_COMPUTE = 0x4;

export interface GpuBuffer {
  readonly size: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

export interface GpuBufferBinding {
  readonly buffer: GpuBuffer;
  readonly offset?: number;
  readonly size?: number;
}

export interface GpuComputePass {
  setPipeline(p: unknown): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

export interface GpuCommandEncoder {
  beginComputePass(): GpuComputePass;
  copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void;
  finish(): unknown;
}

export interface GpuCompilationInfo {
  readonly messages: readonly { readonly type: string; readonly message: string; readonly lineNum: number }[];
}

export interface GpuDevice {
  readonly limits: Readonly<Record<string, number>>;
  readonly features: { has(name: string): boolean };
  readonly queue: {
    writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView, dataOffset?: number, size?: number): void;
    submit(buffers: readonly unknown[]): void;
    onSubmittedWorkDone(): Promise<void>;
  };
  createBuffer(d: { size: number; usage: number }): GpuBuffer;
  createShaderModule(d: { code: string }): { getCompilationInfo(): Promise<GpuCompilationInfo> };
  createBindGroupLayout(d: {
    entries: { binding: number; visibility: number; buffer: { type: 'read-only-storage' | 'storage' | 'uniform' } }[];
  }): unknown;
  createPipelineLayout(d: { bindGroupLayouts: unknown[] }): unknown;
  createComputePipelineAsync(d: {
    layout: unknown;
    compute: { module: unknown; entryPoint: string };
  }): Promise<unknown>;
  createBindGroup(d: { layout: unknown; entries: { binding: number; resource: GpuBufferBinding }[] }): unknown;
  createCommandEncoder(): GpuCommandEncoder;
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ readonly message: string } | null>;
  destroy(): void;
}

export interface GpuAdapter {
  readonly limits: Readonly<Record<string, number>>;
  readonly features: { has(name: string): boolean };
  requestDevice(d?: { requiredLimits?: Record<string, number>; requiredFeatures?: string[] }): Promise<GpuDevice>;
}

/** `navigator.gpu`, or what the `webgpu` package's `create([])` returns. */
export interface Gpu {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapter | null>;
}
