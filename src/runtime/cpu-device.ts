// The CPU device: the C target's kernels in a dlopen'ed library, run by the native addon. Its
// memory is host memory (ArrayBuffers, 64-byte aligned), so upload and download are copies
// and the executable hands the caller's own input and output buffers straight to the kernels.
// A launch list is one native call.

import type { Device, DeviceRange, LaunchList } from './device.js';
import { type NativeLibrary, native } from './native.js';
import { type Allocate, newBuffer } from './run-args.js';

/**
 * Per-call buffers at least this large are advised huge pages (adviseHugePages). glibc maps
 * requests of 32 MiB or more afresh every time; smaller ones may come from its heap, already
 * zeroed (no faults to save), where the advice would only mark heap memory for huge pages.
 */
export const HUGE_PAGES_FROM = 32 << 20;
/** Whether large host buffers are advised huge pages: unless FMC_HUGE_PAGES=0. */
export const HUGE_PAGES = process.env.FMC_HUGE_PAGES !== '0';

/**
 * Host memory for one call, 64-byte aligned from the returned offset, whose memory V8 owns
 * (and frees at its GCs): a synchronous loop of calls stays bounded. A large one (an output,
 * the arena) is advised huge pages before the kernels first write it: fresh memory faults
 * once per 4 KiB page otherwise, which some hypervisors make cost more than the kernels
 * (docs/runtime.md).
 */
export const hostAllocate: Allocate = (bytes, what) => {
  if (bytes === 0) return { buffer: new ArrayBuffer(0), offset: 0 };
  const buffer = newBuffer(bytes + 63, what);
  if (HUGE_PAGES && bytes >= HUGE_PAGES_FROM) native().adviseHugePages(buffer);
  return { buffer, offset: native().alignOffset(buffer) };
};

export class CpuDevice implements Device<ArrayBuffer> {
  readonly target = 'c';

  constructor(readonly lib: NativeLibrary) {}

  /** A persistent aligned buffer (weights, packed panels); Node frees it when the event loop turns. */
  allocate(bytes: number): ArrayBuffer {
    return native().alignedBuffer(bytes, HUGE_PAGES);
  }

  upload(dst: ArrayBuffer, offset: number, src: Uint8Array): void {
    new Uint8Array(dst, offset, src.length).set(src);
  }

  launch(l: LaunchList<ArrayBuffer>): void {
    native().run(this.lib, l.records, l.mem, l.offsets, l.dims, l.timings, l.bytes);
  }

  /** launch() on a worker thread, the event loop turning meanwhile (no timings). */
  launchAsync(l: LaunchList<ArrayBuffer>): Promise<void> {
    return native().runAsync(this.lib, l.records, l.mem, l.offsets, l.dims, undefined, l.bytes);
  }

  download(ranges: readonly DeviceRange<ArrayBuffer>[]): Promise<Uint8Array[]> {
    return Promise.resolve(ranges.map((r) => new Uint8Array(r.mem, r.offset, r.bytes).slice()));
  }

  synchronize(): Promise<void> {
    return Promise.resolve();
  }

  setThreads(n: number): void {
    this.lib.setThreads(n);
  }
}
