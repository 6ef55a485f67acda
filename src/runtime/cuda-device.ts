// The CUDA device: a program's kernels (one module, CUBIN or PTX from cuda-program.ts) on one
// GPU through the native addon's driver binding (runtime-native/src/cuda_device.cpp). Memory
// is device memory addressed by 64-bit addresses; a launch list is queued on the device's
// stream in one native call, each kernel getting its buffers' addresses and then the dims as
// the `fmc_dims` struct by value (the CUDA contract, docs/runtime.md). Copies are synchronous
// and ordered after the work queued before them.

import type { Device, DeviceRange, LaunchList } from './device.js';
import { type NativeCudaDevice, native } from './native.js';
import { RunError } from './run-args.js';

/** Device memory: `bytes` bytes at `address`. */
export interface CudaMemory {
  readonly address: bigint;
  readonly bytes: number;
}

/** No GPU or driver, or a kernel image that does not load: says which. */
export class CudaError extends RunError {
  override name = 'CudaError';
}

/** GPU `ordinal` with a context and a stream; a CudaError saying what is missing (libcuda.so.1, a device). */
export function openCuda(ordinal = 0): NativeCudaDevice {
  try {
    return native().cudaOpen(ordinal);
  } catch (e) {
    const why = (e as Error).message;
    throw new CudaError(
      why.startsWith('libcuda.so.1 not found')
        ? `no GPU or NVIDIA driver found: ${why}; the CUDA target needs an NVIDIA GPU and its driver`
        : `the CUDA target cannot use a GPU here: ${why}`,
    );
  }
}

let opened: NativeCudaDevice | undefined;

/** The process's GPU 0, opened at the first call and shared by every CUDA executable. */
export function sharedGpu(): NativeCudaDevice {
  opened ??= openCuda(0);
  return opened;
}

export class CudaDevice implements Device<CudaMemory> {
  readonly target = 'cuda';
  private readonly module: number;
  private readonly blocks: Uint32Array;

  /** Loads `image` (its kernels named `kernels[i].name`, launched with `kernels[i].workgroup` threads a block). */
  constructor(
    readonly gpu: NativeCudaDevice,
    image: Uint8Array,
    kernels: readonly { readonly name: string; readonly workgroup: number }[],
    /** The plan's dim slots (the program's FMC_DIM_SLOTS is at least 1). */
    private readonly dimSlots: number,
  ) {
    try {
      this.module = gpu.load(
        image,
        kernels.map((k) => k.name),
      );
    } catch (e) {
      throw new CudaError((e as Error).message);
    }
    this.blocks = Uint32Array.from(kernels.map((k) => k.workgroup));
  }

  allocate(bytes: number, what: string): CudaMemory {
    try {
      return { address: this.gpu.alloc(bytes), bytes };
    } catch (e) {
      throw new CudaError(`${what}: ${(e as Error).message}`);
    }
  }

  /** Frees memory of allocate() once the work queued before has finished (not part of Device). */
  free(mem: CudaMemory): void {
    this.gpu.free(mem.address);
  }

  upload(dst: CudaMemory, offset: number, src: Uint8Array): void {
    if (offset + src.length > Math.max(256, dst.bytes)) throw new RunError('internal: an upload past a device buffer');
    this.gpu.upload(dst.address + BigInt(offset), src);
  }

  launch(l: LaunchList<CudaMemory>): void {
    if (!l.grids) throw new CudaError('internal: a CUDA launch list needs its grids');
    const addresses = new BigUint64Array(l.mem.length);
    l.mem.forEach((m, id) => {
      if (m) addresses[id] = m.address + BigInt(l.offsets[id] ?? 0);
    });
    this.gpu.launch(this.module, l.records, addresses, l.grids, this.blocks, l.dims, Math.max(1, this.dimSlots));
  }

  download(ranges: readonly DeviceRange<CudaMemory>[]): Promise<Uint8Array[]> {
    try {
      return Promise.resolve(
        ranges.map((r) => new Uint8Array(this.gpu.download(r.mem.address + BigInt(r.offset), r.bytes))),
      );
    } catch (e) {
      return Promise.reject(new CudaError((e as Error).message));
    }
  }

  synchronize(): Promise<void> {
    try {
      this.gpu.synchronize();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(new CudaError((e as Error).message));
    }
  }
}
