// The Device: where a Plan's buffers live and its kernels run. Every target's executable goes
// through one: allocate and upload memory, launch the launch list (each launch a kernel, its
// argument buffers, its grid, the dims), download results, synchronize. A launch list is
// handed over whole, so the CPU device runs it in one native call (as the C runtime always
// has) and the WebGPU device records it in one command encoder (webgpu.ts).
//
// This file imports nothing from Node: webgpu.ts implements it in a browser as well.

/**
 * One run's launches over memory `M`. Buffer id `i` of the plan is `bytes[i]` bytes at
 * `offsets[i]` in `mem[i]`; a record is `[kernel, argCount, id_0 … id_{argCount-1}]`.
 */
export interface LaunchList<M> {
  readonly records: Int32Array;
  readonly mem: readonly M[];
  readonly offsets: Float64Array;
  readonly bytes: Float64Array;
  /** The dim slot values every kernel gets. */
  readonly dims: BigInt64Array;
  /** GPU targets: the workgroups (x, y) of each record, two numbers a record (see KernelGrid). */
  readonly grids?: Uint32Array;
  /** Receives each launch's wall time in nanoseconds when given (CPU only). */
  readonly timings?: Float64Array;
}

/** Bytes to copy out of device memory. */
export interface DeviceRange<M> {
  readonly mem: M;
  readonly offset: number;
  readonly bytes: number;
}

export interface Device<M> {
  /** The target whose kernels it runs. */
  readonly target: 'c' | 'wgsl' | 'cuda';
  /** Zeroed memory of at least `bytes` (`what` names it in an out-of-memory error). */
  allocate(bytes: number, what: string): M;
  /** Copies `src` into `dst` from byte `offset`. */
  upload(dst: M, offset: number, src: Uint8Array): void;
  /** Runs (CPU) or queues (GPU) a launch list; the GPU's results are ready after synchronize or download. */
  launch(list: LaunchList<M>): void;
  /** The bytes of each range, once the work queued before has finished. */
  download(ranges: readonly DeviceRange<M>[]): Promise<Uint8Array[]>;
  /** Resolves when the work queued before has finished. */
  synchronize(): Promise<void>;
}
