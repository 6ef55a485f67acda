// The typed binding of the native addon (runtime-native/, built by `npm run build`): the only
// TypeScript file that loads it. The addon holds no graph logic: aligned buffers, dlopen of
// compiled kernel libraries, one-call execution of a launch list, a lazy CUDA probe, NVRTC
// compilation and a CUDA device (runtime-native/src/cuda_*.cpp, nvrtc_compile.cpp).

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What `cudaStatus()` found; `driver` and `nvrtc` name the libraries that loaded, or ''. */
export interface CudaStatus {
  readonly available: boolean;
  readonly driver: string;
  readonly nvrtc: string;
  /** What is missing or failing, or e.g. "CUDA 13000 driver, 1 device(s), NVRTC 13.0". */
  readonly message: string;
}

/** The NVRTC that loaded (`nvrtcInfo()`); `error` says why none is usable, else ''. */
export interface NvrtcInfo {
  /** The soname that loaded (libnvrtc.so.13, .12 or .11.2), or ''. */
  readonly library: string;
  /** NVRTC's version, e.g. '11.8', or ''. */
  readonly version: string;
  /** Whether it can output CUBIN (nvrtcGetCUBIN), not only PTX. */
  readonly cubin: boolean;
  /** The compute capabilities it compiles for (major * 10 + minor), or [] where it cannot say. */
  readonly archs: readonly number[];
  /** nvrtcCompileProgram calls this process made. */
  readonly compiles: number;
  readonly error: string;
}

/** What `nvrtcCompile` gives: the image (PTX with its terminating NUL, or CUBIN), or the log of a failure. */
export interface NvrtcOutput {
  readonly ok: boolean;
  readonly log: string;
  /** NVRTC's result when not ok, e.g. 'error 6 (NVRTC_ERROR_COMPILATION)'. */
  readonly error?: string;
  readonly image?: Uint8Array;
}

/**
 * One GPU through the CUDA driver (`cudaOpen`): a context and a stream. Addresses are bigints;
 * copies are synchronous and ordered after the launches queued before them.
 */
export interface NativeCudaDevice {
  readonly name: string;
  /** major * 10 + minor, e.g. 90. */
  readonly computeCapability: number;
  /** Zeroed memory (at least 256 bytes), freed by free() or at close(). */
  alloc(bytes: number): bigint;
  /** Frees an allocation once the work queued before has finished; a RangeError for another address. */
  free(address: bigint): void;
  upload(address: bigint, bytes: Uint8Array): void;
  download(address: bigint, bytes: number): ArrayBuffer;
  /** Loads a CUBIN or PTX image and its kernels by name; the module's index. A JIT failure throws with its log. */
  load(image: Uint8Array, names: readonly string[]): number;
  /**
   * Queues records `[kernel, argCount, id...]` of a module on the stream: launch n has
   * (grids[2n], grids[2n + 1], 1) blocks of blocks[kernel] threads; its arguments are
   * addresses[id] for each id, then the dims (dimSlots 64-bit values) by value.
   */
  launch(
    module: number,
    records: Int32Array,
    addresses: BigUint64Array,
    grids: Uint32Array,
    blocks: Uint32Array,
    dims: BigInt64Array,
    dimSlots: number,
  ): void;
  synchronize(): void;
  /**
   * [launch lists captured into CUDA graphs, graph launches] since the device opened: a list
   * launched twice in a row with the same arguments becomes a graph (cuda_graph.h;
   * FMC_CUDA_GRAPHS=0 turns this off).
   */
  graphStats(): [number, number];
  close(): void;
}

/**
 * The most kernel threads a library takes: the bound of its `setThreads`
 * (runtime-native/src/library.h). Every `--threads` flag and the API's `threads` option are
 * checked against it before anything is compiled.
 */
export const MAX_THREADS = 65536;

/** Why `n` is no thread count (an integer in [1, MAX_THREADS]), or undefined when it is one. */
export function threadsProblem(n: unknown): string | undefined {
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_THREADS) return undefined;
  return `threads must be an integer from 1 to ${MAX_THREADS}, got ${typeof n === 'number' ? n : (JSON.stringify(n) ?? String(n))}`;
}

/**
 * A dlopen'ed kernel library with the C ABI `fmc_abi_version` (1), `fmc_kernel_count`,
 * `fmc_kernels[]` (`void (*)(void *const *args, const int64_t *dims)`) and `fmc_set_threads`.
 */
export interface NativeLibrary {
  readonly kernelCount: number;
  readonly path: string;
  /** The OpenMP thread count of the library's kernels (an integer >= 1). */
  setThreads(n: number): void;
  /** dlclose; any later use of the library throws "library closed". */
  close(): void;
}

export interface NativeAddon {
  /**
   * A zero-filled ArrayBuffer whose data is 64-byte aligned; freed when collected. 0 <= bytes <= 2^46.
   * Node frees it only when the event loop turns (its finalizer is deferred), so it suits
   * long-lived buffers (weights); per-call buffers are plain ArrayBuffers aligned with alignOffset.
   * With `huge` and at least 4 MiB, it starts on a 2 MiB boundary and is advised huge pages
   * before it is zeroed (adviseHugePages).
   */
  alignedBuffer(bytes: number, huge?: boolean): ArrayBuffer;
  /** Bytes from the start of `buffer`'s data to its first 64-byte boundary (0 to 63). */
  alignOffset(buffer: ArrayBuffer): number;
  /**
   * Asks Linux to back the whole 2 MiB pages of `buffer`'s data with transparent huge pages
   * (madvise MADV_HUGEPAGE; advice only), so that its first writes fault once per 2 MiB, not
   * per 4 KiB. Returns the bytes advised (0 elsewhere, or when the buffer holds no whole one).
   */
  adviseHugePages(buffer: ArrayBuffer): number;
  /** dlopen(RTLD_NOW | RTLD_LOCAL) and check the ABI symbols; throws naming what failed. */
  loadLibrary(path: string): NativeLibrary;
  /**
   * Runs a launch list in one call. `launches` holds records `[kernelIndex, argCount, view_0 …
   * view_{argCount-1}]` (argCount <= 4096); argument j is `data(views[view_j]) + viewOffsets[view_j]`;
   * every kernel gets `dims`. Everything is validated before any kernel runs. `timings`, if
   * given, needs one slot per record and receives each launch's wall time in nanoseconds.
   * `viewBytes`, if given, holds the bytes from each view's offset that the kernels touch; a
   * buffer shorter than that when the call starts (resized, transferred) is a RangeError.
   */
  run(
    lib: NativeLibrary,
    launches: Int32Array,
    views: readonly ArrayBuffer[],
    viewOffsets: Float64Array,
    dims: BigInt64Array,
    timings?: Float64Array,
    viewBytes?: Float64Array,
  ): void;
  /**
   * run() on a libuv worker thread: validated the same way before it returns, then resolves
   * when the kernels are done. The buffers must not be touched until then (the executable
   * hands it only its own). One launch list executes at a time in the process: a run() meanwhile
   * waits for it. No timings.
   */
  runAsync(
    lib: NativeLibrary,
    launches: Int32Array,
    views: readonly ArrayBuffer[],
    viewOffsets: Float64Array,
    dims: BigInt64Array,
    timings: undefined,
    viewBytes?: Float64Array,
  ): Promise<void>;
  /** Loads the CUDA driver and NVRTC at the first call (never at addon load); never throws. */
  cudaStatus(): CudaStatus;
  /** Loads NVRTC at the first call; never throws. */
  nvrtcInfo(): NvrtcInfo;
  /** Compiles CUDA C++ with NVRTC (`options` as nvrtcCompileProgram takes them); throws when NVRTC is missing. */
  nvrtcCompile(source: string, name: string, options: readonly string[], cubin: boolean): NvrtcOutput;
  /** A context and stream on GPU `ordinal` (default 0); throws naming what is missing (libcuda.so.1, a device). */
  cudaOpen(ordinal?: number): NativeCudaDevice;
  /** The steady clock in nanoseconds. */
  now(): number;
}

/** The package root: the nearest directory above this file whose package.json is named "fmc". */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'fmc') return dir;
      } catch {
        // not the package's manifest: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the fmc package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Where `npm run build` puts the addon. */
export function nativeAddonPath(): string {
  return join(packageRoot(), 'runtime-native', 'build', 'Release', 'fmc_native.node');
}

let addon: NativeAddon | undefined;

/** The native addon, loaded at the first call. */
export function native(): NativeAddon {
  if (addon) return addon;
  const path = nativeAddonPath();
  if (!existsSync(path)) throw new Error(`the native runtime is not built: run \`npm run build\` (missing ${path})`);
  addon = createRequire(import.meta.url)(path) as NativeAddon;
  return addon;
}
