// A NativeCudaDevice backed by the CUDA CPU shim (shim.ts), for tests of the CUDA runtime's
// TypeScript side without a GPU: device memory is host arrays addressed as the driver would,
// a module's "image" is its CUDA source, and each launch runs on the shim.

import type { NativeCudaDevice } from '../../src/runtime/native.js';
import { ShimBinary } from './shim.js';

/** A NativeCudaDevice whose memory is host arrays and whose "image" is the CUDA source, run on the shim. */
export class ShimGpu implements NativeCudaDevice {
  readonly name = 'CUDA CPU shim';
  readonly computeCapability = 80;
  private readonly blocks: { base: bigint; data: Uint8Array }[] = [];
  private next = 0x7f0000000000n;
  private readonly modules: { binary: ShimBinary; names: readonly string[] }[] = [];
  allocs = 0;
  frees = 0;
  uploads = 0;
  downloads = 0;
  launches = 0;

  alloc(bytes: number): bigint {
    const size = Math.max(256, bytes);
    const base = this.next;
    this.next += BigInt(Math.ceil(size / 256) * 256 + 256);
    this.blocks.push({ base, data: new Uint8Array(size) });
    this.allocs++;
    return base;
  }

  /** The bytes from `address` to the end of its allocation (a RangeError outside every one). */
  private tail(address: bigint, bytes = 0): Uint8Array {
    const b = this.blocks.find((x) => address >= x.base && address + BigInt(bytes) <= x.base + BigInt(x.data.length));
    if (!b) throw new RangeError(`address 0x${address.toString(16)} (+${bytes}) is in no allocation`);
    return b.data.subarray(Number(address - b.base));
  }

  free(address: bigint): void {
    const i = this.blocks.findIndex((b) => b.base === address);
    if (i < 0) throw new RangeError('free: not an allocation of this device');
    this.blocks.splice(i, 1);
    this.frees++;
  }

  upload(address: bigint, bytes: Uint8Array): void {
    this.tail(address, bytes.length).set(bytes);
    this.uploads++;
  }

  download(address: bigint, bytes: number): ArrayBuffer {
    this.downloads++;
    return this.tail(address, bytes).slice(0, bytes).buffer;
  }

  load(image: Uint8Array, names: readonly string[]): number {
    const source = new TextDecoder().decode(image);
    this.modules.push({ binary: ShimBinary.build([{ source, kernels: names }]), names });
    return this.modules.length - 1;
  }

  /**
   * Each launch is one shim job whose buffers are the argument addresses to the end of their
   * allocations; only the bytes a kernel changed are written back, so arena ranges passed to
   * one launch (disjoint, by the memory plan) never clobber each other.
   */
  launch(
    module: number,
    records: Int32Array,
    addresses: BigUint64Array,
    grids: Uint32Array,
    blocks: Uint32Array,
    dims: BigInt64Array,
    dimSlots: number,
  ): void {
    const m = this.modules[module]!;
    const slots = Array.from({ length: Math.max(1, dimSlots) }, (_, i) => dims[i] ?? 0n);
    for (let at = 0, n = 0; at < records.length; n++) {
      const k = records[at]!;
      const argc = records[at + 1]!;
      const views = Array.from(records.subarray(at + 2, at + 2 + argc), (id) => this.tail(addresses[id]!));
      at += 2 + argc;
      const grid: [number, number] = [grids[2 * n]!, grids[2 * n + 1]!];
      if (grid[0] === 0) continue;
      const before = views.map((v) => v.slice());
      const launch = { kernel: m.names[k]!, grid, workgroup: blocks[k]!, args: views.map((_, i) => i) };
      const got = m.binary.run([{ buffers: before, dims: slots, launches: [launch], order: 'forward' }])[0]!;
      got.forEach((g, i) => {
        const after = new Uint8Array(g.buffer, g.byteOffset, g.byteLength);
        for (let j = 0; j < after.length; j++) if (after[j] !== before[i]![j]) views[i]![j] = after[j]!;
      });
      this.launches++;
    }
  }

  synchronize(): void {}
  close(): void {}
}

/** The process's GPU in tests that mock cuda-device.js: one ShimGpu (`vi.mock(..., (o) => withShimGpu(o))`). */
export const SHIM_GPU = new ShimGpu();

/** cuda-device.js with its shared GPU replaced by SHIM_GPU. */
export async function withShimGpu<M extends object>(original: () => Promise<M>): Promise<M> {
  return { ...(await original()), sharedGpu: () => SHIM_GPU };
}

/** cuda-cache.js with NVRTC replaced by handing the source to the shim device (its "image"). */
export async function withShimNvrtc<M extends object>(original: () => Promise<M>): Promise<M> {
  return {
    ...(await original()),
    nvrtc: () => ({ library: 'the CUDA CPU shim', version: 'shim', archs: [], cubin: false, compiles: 0 }),
    compileCuda: (source: string) => ({ bytes: new TextEncoder().encode(source), kind: 'ptx', arch: 80 }),
  };
}
