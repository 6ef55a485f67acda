// The native addon (runtime-native/) through its typed binding: aligned zero-filled buffers,
// a tiny C kernel library built with `cc -fopenmp` and run through launch lists (numbers,
// offsets, timings, every malformed record rejected before anything runs), ABI checks on
// load, close(), and the lazy CUDA probe against fake libcuda/libnvrtc libraries in child
// processes (the real ones, where present, only for the shape of the answer).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_THREADS,
  type NativeAddon,
  type NativeLibrary,
  native,
  nativeAddonPath,
} from '../../src/runtime/native.js';

const dir = mkdtempSync(join(tmpdir(), 'fmc-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Compiles C source into a shared library in the temp dir and returns its path. */
function cc(name: string, source: string, flags: string[] = []): string {
  const src = join(dir, `${name}.c`);
  const lib = join(dir, name);
  writeFileSync(src, source);
  execFileSync('cc', ['-O2', '-shared', '-fPIC', ...flags, '-o', lib, src], { stdio: 'pipe' });
  return lib;
}

const HEADER = `
#include <stdint.h>
#include <omp.h>
typedef void (*fmc_kernel)(void *const *restrict args, const int64_t *restrict dims);
void fmc_set_threads(int32_t n) { omp_set_num_threads(n); }
`;

// 0 add: out = a + b (n = dims[0]); 1 scale: out = in * dims[1]; 2 align: out = args[1] % 64;
// 3 threads: out = omp_get_max_threads(); 4 sum: out = sum of *args[1..63]; 5 dims: out[i] = dims[i].
const KERNELS = `${HEADER}
static void add(void *const *restrict args, const int64_t *restrict dims) {
  float *out = args[0]; const float *a = args[1], *b = args[2];
  #pragma omp parallel for
  for (int64_t i = 0; i < dims[0]; i++) out[i] = a[i] + b[i];
}
static void scale(void *const *restrict args, const int64_t *restrict dims) {
  float *out = args[0]; const float *in = args[1];
  for (int64_t i = 0; i < dims[0]; i++) out[i] = in[i] * (float)dims[1];
}
static void align(void *const *restrict args, const int64_t *restrict dims) {
  (void)dims; *(int64_t *)args[0] = (int64_t)((uintptr_t)args[1] % 64);
}
static void threads(void *const *restrict args, const int64_t *restrict dims) {
  (void)dims; *(int32_t *)args[0] = omp_get_max_threads();
}
static void sum(void *const *restrict args, const int64_t *restrict dims) {
  (void)dims; float s = 0; for (int j = 1; j < 64; j++) s += *(const float *)args[j];
  *(float *)args[0] = s;
}
static void copy_dims(void *const *restrict args, const int64_t *restrict dims) {
  for (int i = 0; i < 4; i++) ((int64_t *)args[0])[i] = dims[i];
}
const int32_t fmc_abi_version = 1;
const int32_t fmc_kernel_count = 6;
const fmc_kernel fmc_kernels[6] = {add, scale, align, threads, sum, copy_dims};
`;

const ADD = 0;
const SCALE = 1;
const ALIGN = 2;
const THREADS = 3;
const SUM = 4;
const DIMS = 5;

let addon: NativeAddon;
let kernels: string;
beforeAll(() => {
  addon = native();
  kernels = cc('libkernels.so', KERNELS, ['-fopenmp']);
});

/** Where a buffer's data lies modulo 64, as the kernel sees the pointer (view offset `offset`). */
function misalignment(lib: NativeLibrary, buffer: ArrayBuffer, offset = 0): number {
  const out = addon.alignedBuffer(8);
  addon.run(lib, Int32Array.of(ALIGN, 2, 0, 1), [out, buffer], Float64Array.of(0, offset), new BigInt64Array(0));
  return Number(new BigInt64Array(out)[0]);
}

describe('alignedBuffer', () => {
  it('is 64-byte aligned and zero-filled for any size', () => {
    const lib = addon.loadLibrary(kernels);
    for (const bytes of [1, 3, 63, 64, 100, 4096, 1 << 20, 3_000_001]) {
      const buffer = addon.alignedBuffer(bytes);
      expect(buffer).toBeInstanceOf(ArrayBuffer);
      expect(buffer.byteLength).toBe(bytes);
      expect(misalignment(lib, buffer)).toBe(0);
      expect(new Uint8Array(buffer).every((b) => b === 0)).toBe(true);
    }
    // The probe kernel itself sees offsets.
    expect(misalignment(lib, addon.alignedBuffer(128), 4)).toBe(4);
    expect(misalignment(lib, addon.alignedBuffer(128), 65)).toBe(1);
    lib.close();
  });

  it('gives a valid empty buffer for 0 bytes', () => {
    const buffer = addon.alignedBuffer(0);
    expect(buffer).toBeInstanceOf(ArrayBuffer);
    expect(buffer.byteLength).toBe(0);
    expect(new Uint8Array(buffer).length).toBe(0);
  });

  it('rejects sizes that are not integers in [0, 2^46]', () => {
    const bad = addon.alignedBuffer as (bytes: unknown) => ArrayBuffer;
    expect(() => bad(-1)).toThrow(RangeError);
    expect(() => bad(2 ** 46 + 1)).toThrow(RangeError);
    expect(() => bad(1e300)).toThrow(RangeError);
    expect(() => bad(1.5)).toThrow(TypeError);
    expect(() => bad(Number.NaN)).toThrow(TypeError);
    expect(() => bad(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => bad('8')).toThrow(TypeError);
    expect(() => bad(undefined)).toThrow(TypeError);
  });

  it('survives many allocations being collected', () => {
    for (let i = 0; i < 2000; i++) addon.alignedBuffer(1 << 16);
    (globalThis as { gc?: () => void }).gc?.();
    expect(addon.alignedBuffer(16).byteLength).toBe(16);
  });

  // Transparent huge pages (Linux): where the kernel has them, madvise(MADV_HUGEPAGE) succeeds
  // (whatever the enabled mode), and the faults it takes are counted in /proc/vmstat.
  const THP = '/sys/kernel/mm/transparent_hugepage/enabled';
  const noThp = process.platform !== 'linux' ? 'not Linux' : existsSync(THP) ? '' : `no ${THP}`;
  if (noThp) console.warn(`skipping the huge page tests: ${noThp}`);
  const MiB = 1 << 20;
  const vmstat = (key: string): number =>
    Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(readFileSync('/proc/vmstat', 'utf8'))?.[1] ?? 0);

  describe.skipIf(noThp !== '')('huge pages', () => {
    it('adviseHugePages advises the whole 2 MiB pages of a buffer, none of a smaller one', () => {
      expect(addon.adviseHugePages(new ArrayBuffer(MiB))).toBe(0);
      const advised = addon.adviseHugePages(new ArrayBuffer(16 * MiB));
      expect(advised % (2 * MiB)).toBe(0);
      expect(advised).toBeGreaterThanOrEqual(14 * MiB);
      expect(addon.adviseHugePages(new ArrayBuffer(0))).toBe(0);
      expect(() => (addon.adviseHugePages as (b: unknown) => number)(new Uint8Array(8))).toThrow(TypeError);
    });

    it('alignedBuffer(bytes, true) from 4 MiB starts on a huge page, is advised whole and zero-filled', () => {
      const before = vmstat('thp_fault_alloc') + vmstat('thp_fault_fallback');
      const buffer = addon.alignedBuffer(8 * MiB, true);
      // Its zero fill faulted (or tried to fault) huge pages in.
      if (!readFileSync(THP, 'utf8').includes('[never]'))
        expect(vmstat('thp_fault_alloc') + vmstat('thp_fault_fallback')).toBeGreaterThan(before);
      expect(addon.adviseHugePages(buffer)).toBe(8 * MiB);
      expect(new Uint8Array(buffer).every((b) => b === 0)).toBe(true);
      // Under 4 MiB, or without the flag: 64-byte aligned only, as before.
      expect(addon.alignedBuffer(3 * MiB, true).byteLength).toBe(3 * MiB);
      expect(addon.adviseHugePages(addon.alignedBuffer(2 * MiB + 64, true))).toBeLessThanOrEqual(2 * MiB);
    });
  });
});

describe('loadLibrary and run', () => {
  const n = 1 << 16;
  /** One buffer holding a (at 0), b (at 4n + 64) and two outputs, viewed through offsets. */
  function setup() {
    const data = addon.alignedBuffer(4 * (4 * n + 64));
    const a = new Float32Array(data, 0, n);
    const b = new Float32Array(data, 4 * (n + 16), n);
    for (let i = 0; i < n; i++) {
      a[i] = i;
      b[i] = 0.5 * i;
    }
    const views = [data, data, data, data];
    const offsets = Float64Array.of(0, 4 * (n + 16), 4 * (2 * n + 32), 4 * (3 * n + 48));
    const out1 = new Float32Array(data, offsets[2]!, n);
    const out2 = new Float32Array(data, offsets[3]!, n);
    return { views, offsets, out1, out2 };
  }

  it('runs a two-launch list through views with offsets and fills timings', () => {
    const lib = addon.loadLibrary(kernels);
    expect(lib.kernelCount).toBe(6);
    expect(lib.path).toBe(kernels);
    const { views, offsets, out1, out2 } = setup();
    // out1 = a + b; out2 = out1 * 3.
    const launches = Int32Array.of(ADD, 3, 2, 0, 1, SCALE, 2, 3, 2);
    const timings = new Float64Array(2);
    const t0 = addon.now();
    addon.run(lib, launches, views, offsets, BigInt64Array.of(BigInt(n), 3n), timings);
    const t1 = addon.now();
    for (const i of [0, 1, 2, 1000, n - 1]) {
      expect(out1[i]).toBe(1.5 * i);
      expect(out2[i]).toBe(4.5 * i);
    }
    for (const t of timings) {
      expect(t).toBeGreaterThan(0);
      expect(Number.isInteger(t)).toBe(true);
    }
    expect(timings[0]! + timings[1]!).toBeLessThanOrEqual(t1 - t0);
    // Timings are optional (undefined too).
    addon.run(lib, launches, views, offsets, BigInt64Array.of(BigInt(n), 2n));
    addon.run(lib, launches, views, offsets, BigInt64Array.of(BigInt(n), 1n), undefined);
    expect(out2[10]).toBe(15);
    lib.close();
  });

  it('passes dims, 64 arguments, and empty launch lists', () => {
    const lib = addon.loadLibrary(kernels);
    const out = addon.alignedBuffer(64);
    addon.run(lib, Int32Array.of(DIMS, 1, 0), [out], Float64Array.of(0), BigInt64Array.of(-1n, 2n ** 40n, 0n, 7n));
    expect([...new BigInt64Array(out, 0, 4)]).toEqual([-1n, 2n ** 40n, 0n, 7n]);

    const values = new Float32Array(addon.alignedBuffer(4 * 64));
    values.forEach((_, i) => (values[i] = i));
    const views = Array.from({ length: 64 }, () => values.buffer as ArrayBuffer);
    const offsets = Float64Array.from({ length: 64 }, (_, i) => 4 * i);
    const record = Int32Array.of(SUM, 64, ...Array.from({ length: 64 }, (_, i) => i));
    addon.run(lib, record, views, offsets, new BigInt64Array(0));
    expect(values[0]).toBe((63 * 64) / 2);

    const timings = new Float64Array(0);
    addon.run(lib, new Int32Array(0), [], new Float64Array(0), new BigInt64Array(0), timings);
    lib.close();
  });

  it('sets the OpenMP thread count of the library', () => {
    const lib = addon.loadLibrary(kernels);
    const out = addon.alignedBuffer(4);
    for (const threads of [3, 1, 2]) {
      lib.setThreads(threads);
      addon.run(lib, Int32Array.of(THREADS, 1, 0), [out], Float64Array.of(0), new BigInt64Array(0));
      expect(new Int32Array(out)[0]).toBe(threads);
    }
    expect(() => lib.setThreads(0)).toThrow(RangeError);
    expect(() => lib.setThreads(1.5)).toThrow(RangeError);
    // MAX_THREADS, which every --threads flag and the API check, is the library's own bound.
    expect(() => lib.setThreads(MAX_THREADS + 1)).toThrow(`[1, ${MAX_THREADS}]`);
    lib.close();
  });

  it('validates every record before running any, and throws instead of crashing', () => {
    const lib = addon.loadLibrary(kernels);
    const { views, offsets, out1 } = setup();
    const dims = BigInt64Array.of(BigInt(n), 3n);
    const good = [ADD, 3, 2, 0, 1];
    const cases: [number[], RegExp][] = [
      [[6, 0], /^run: launch record at index 5: kernel index 6 out of range \[0, 6\)$/],
      [[-1, 0], /index 5: kernel index -1 out of range/],
      [[ADD, 3, 2, 0, 4], /index 5: view index 4 out of range \[0, 4\)$/],
      [[ADD, 3, 2, -1, 0], /index 5: view index -1 out of range/],
      [[ADD, 3, 2, 0], /index 5: truncated \(3 view indices expected, 2 left\)$/],
      [[ADD], /index 5: truncated \(no argCount\)$/],
      [[ADD, 4097], /index 5: argCount 4097 out of range \[0, 4096\]$/],
      [[ADD, -1], /index 5: argCount -1 out of range/],
    ];
    for (const [bad, message] of cases) {
      expect(() => addon.run(lib, Int32Array.from([...good, ...bad]), views, offsets, dims)).toThrow(message);
      expect(out1.every((v) => v === 0)).toBe(true);
    }
    const launches = Int32Array.from(good);
    const size = views[0]!.byteLength;
    for (const offset of [-4, 0.5, size + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const bad = Float64Array.from(offsets);
      bad[1] = offset;
      expect(() => addon.run(lib, launches, views, bad, dims)).toThrow(/viewOffsets\[1\]/);
    }
    const atEnd = Float64Array.from(offsets);
    atEnd[3] = size; // a pointer one past the end is a valid (empty) view
    addon.run(lib, Int32Array.of(SCALE, 2, 3, 0), views, atEnd, BigInt64Array.of(0n, 1n));
    expect(() => addon.run(lib, launches, views, offsets.subarray(1), dims)).toThrow(/viewOffsets.length/);
    expect(() => addon.run(lib, launches, views, offsets, dims, new Float64Array(2))).toThrow(/timings.length/);

    const loose = addon.run as (...args: unknown[]) => void;
    expect(() => loose(lib, [...good], views, offsets, dims)).toThrow(/Int32Array/);
    expect(() => loose(lib, launches, [new Uint8Array(8), ...views.slice(1)], offsets, dims)).toThrow(/ArrayBuffer/);
    expect(() => loose(lib, launches, views, Array.from(offsets), dims)).toThrow(/Float64Array/);
    expect(() => loose(lib, launches, views, offsets, new Int32Array(2))).toThrow(/BigInt64Array/);
    expect(() => loose(lib, launches, views, offsets, dims, [0])).toThrow(/timings/);
    expect(() => loose({ kernelCount: 6 }, launches, views, offsets, dims)).toThrow(TypeError);
    expect(() => loose(lib, launches, views, offsets)).toThrow(TypeError);
    expect(out1.every((v) => v === 0)).toBe(true);
    // A getter on the views array that closes the library runs before the library is used.
    const tricky = [...views];
    Object.defineProperty(tricky, 0, { get: () => (lib.close(), views[0]) });
    expect(() => addon.run(lib, launches, tricky, offsets, dims)).toThrow(/library closed/);
    expect(out1.every((v) => v === 0)).toBe(true);
  });

  it('throws "library closed" after close()', () => {
    const lib = addon.loadLibrary(kernels);
    lib.setThreads(2);
    const out = addon.alignedBuffer(4);
    addon.run(lib, Int32Array.of(THREADS, 1, 0), [out], Float64Array.of(0), new BigInt64Array(0));
    lib.close();
    lib.close();
    expect(() => addon.run(lib, Int32Array.of(THREADS, 1, 0), [out], Float64Array.of(0), new BigInt64Array(0))).toThrow(
      /library closed/,
    );
    expect(() => lib.setThreads(1)).toThrow(/library closed/);
    expect(lib.kernelCount).toBe(6);
  });

  it('closes and reloads OpenMP libraries without crashing or leaking threads', () => {
    // dlclose of the last user of libgomp would unmap it under its parked worker threads: the
    // addon pins the OpenMP runtime, so the next load reuses the same thread pool.
    const out = addon.alignedBuffer(4 * 4096);
    const counts: number[] = [];
    for (let cycle = 0; cycle < 5; cycle++) {
      const lib = addon.loadLibrary(kernels);
      lib.setThreads(4);
      addon.run(lib, Int32Array.of(ADD, 3, 0, 0, 0), [out], Float64Array.of(0), BigInt64Array.of(4096n));
      lib.close();
      counts.push(readdirSync('/proc/self/task').length);
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
  });

  it('rejects libraries that break the ABI, naming the symbol and the path', () => {
    const noKernels = cc(
      'libnokernels.so',
      `${HEADER}\nconst int32_t fmc_abi_version = 1;\nconst int32_t fmc_kernel_count = 0;\n`,
      ['-fopenmp'],
    );
    expect(() => addon.loadLibrary(noKernels)).toThrow(`symbol fmc_kernels missing in ${noKernels}`);
    const abi2 = cc(
      'libabi2.so',
      `${HEADER}\nconst int32_t fmc_abi_version = 2;\nconst int32_t fmc_kernel_count = 0;\nconst fmc_kernel fmc_kernels[1];\n`,
      ['-fopenmp'],
    );
    expect(() => addon.loadLibrary(abi2)).toThrow(`fmc_abi_version is 2 in ${abi2}, expected 1`);
    const noThreads = cc(
      'libnothreads.so',
      `#include <stdint.h>\nconst int32_t fmc_abi_version = 1;\nconst int32_t fmc_kernel_count = 0;\nconst void *fmc_kernels[1];\n`,
    );
    expect(() => addon.loadLibrary(noThreads)).toThrow(`symbol fmc_set_threads missing in ${noThreads}`);
    const noAbi = cc('libnoabi.so', 'int unrelated(void) { return 1; }\n');
    expect(() => addon.loadLibrary(noAbi)).toThrow(`symbol fmc_abi_version missing in ${noAbi}`);
  });

  it('reports dlopen failures with the dlerror text', () => {
    const text = join(dir, 'not-a-library.so');
    writeFileSync(text, 'this is not an ELF file, just some text that is long enough\n'.repeat(8));
    expect(() => addon.loadLibrary(text)).toThrow(`dlopen failed: ${text}: invalid ELF header`);
    const missing = join(dir, 'missing.so');
    expect(() => addon.loadLibrary(missing)).toThrow(/cannot open shared object file: No such file or directory/);
    expect(() => (addon.loadLibrary as (path: unknown) => NativeLibrary)(42)).toThrow(TypeError);
  });
});

describe('cudaStatus', () => {
  const DRIVER = [
    'cuInit',
    'cuDriverGetVersion',
    'cuDeviceGetCount',
    'cuDeviceGet',
    'cuDeviceGetName',
    'cuDeviceGetAttribute',
    'cuCtxCreate_v2',
    'cuCtxDestroy_v2',
    'cuCtxSetCurrent',
    'cuModuleLoadData',
    'cuModuleLoadDataEx',
    'cuModuleUnload',
    'cuModuleGetFunction',
    'cuLaunchKernel',
    'cuMemAlloc_v2',
    'cuMemFree_v2',
    'cuMemsetD8_v2',
    'cuMemcpyHtoD_v2',
    'cuMemcpyDtoH_v2',
    'cuStreamCreate',
    'cuStreamDestroy_v2',
    'cuStreamSynchronize',
    'cuCtxSynchronize',
    'cuGetErrorString',
  ];
  const NVRTC = [
    'nvrtcVersion',
    'nvrtcGetErrorString',
    'nvrtcCreateProgram',
    'nvrtcCompileProgram',
    'nvrtcGetPTXSize',
    'nvrtcGetPTX',
    'nvrtcGetProgramLogSize',
    'nvrtcGetProgramLog',
    'nvrtcDestroyProgram',
  ];
  const SPECIAL = `
#include <stdlib.h>
int cuInit(unsigned flags) { (void)flags; const char *r = getenv("FAKE_CUINIT"); return r ? atoi(r) : 0; }
int cuDriverGetVersion(int *v) { *v = 13000; return 0; }
int cuDeviceGetCount(int *n) { *n = 2; return 0; }
int cuGetErrorString(int e, const char **s) { *s = e == 100 ? "no CUDA-capable device is detected" : "unknown"; return 0; }
int nvrtcVersion(int *major, int *minor) { *major = 12; *minor = 8; return 0; }
`;
  /** A fake library defining `names` (stubs returning 0, except the functions in SPECIAL). */
  function fake(sub: string, name: string, names: string[]): void {
    mkdirSync(join(dir, sub), { recursive: true });
    const special = names.filter((s) => SPECIAL.includes(` ${s}(`));
    const stubs = names.filter((s) => !special.includes(s)).map((s) => `int ${s}(void) { return 0; }`);
    const body = SPECIAL.split('\n')
      .filter((line) => !line.startsWith('int ') || special.some((s) => line.startsWith(`int ${s}(`)))
      .join('\n');
    cc(join(sub, name), `${body}\n${stubs.join('\n')}\n`);
  }

  /** cudaStatus() in a fresh node process with LD_LIBRARY_PATH = sub, and the libcuda mappings. */
  function probe(sub: string, env: Record<string, string> = {}) {
    const script = `
      const { readFileSync } = require('node:fs');
      const cuda = () => readFileSync('/proc/self/maps', 'utf8').includes('libcuda');
      const addon = require(process.argv[1]);
      const before = cuda();
      const status = addon.cudaStatus();
      console.log(JSON.stringify({ before, after: cuda(), status, again: addon.cudaStatus() }));`;
    const result = spawnSync(process.execPath, ['-e', script, nativeAddonPath()], {
      env: { ...process.env, ...env, LD_LIBRARY_PATH: join(dir, sub) },
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as {
      before: boolean;
      after: boolean;
      status: Record<string, unknown>;
      again: Record<string, unknown>;
    };
  }

  it('does not load libcuda with the addon, and answers the same shape every time', () => {
    native();
    expect(readFileSync('/proc/self/maps', 'utf8')).not.toContain('libcuda');
    const status = addon.cudaStatus();
    expect(Object.keys(status).sort()).toEqual(['available', 'driver', 'message', 'nvrtc']);
    expect(typeof status.available).toBe('boolean');
    expect(typeof status.driver).toBe('string');
    expect(typeof status.nvrtc).toBe('string');
    expect(status.message.length).toBeGreaterThan(0);
    expect(addon.cudaStatus()).toEqual(status);
    if (status.driver === '') {
      expect(status.available).toBe(false);
      expect(status.message).toContain('libcuda.so.1');
    }
    if (status.available) expect(status.message).toMatch(/^CUDA \d+ driver, \d+ device\(s\), NVRTC \d+\.\d+$/);
  });

  it('reports a usable fake driver, loading libcuda only when asked', () => {
    fake('ok', 'libcuda.so.1', DRIVER);
    fake('ok', 'libnvrtc.so.13', NVRTC);
    const { before, after, status, again } = probe('ok');
    expect(before).toBe(false);
    expect(after).toBe(true);
    expect(status).toEqual({
      available: true,
      driver: 'libcuda.so.1',
      nvrtc: 'libnvrtc.so.13',
      message: 'CUDA 13000 driver, 2 device(s), NVRTC 12.8',
    });
    expect(again).toEqual(status);
  });

  it('says precisely what is missing or failing', () => {
    const cuInitFails = probe('ok', { FAKE_CUINIT: '100' }).status;
    expect(cuInitFails.available).toBe(false);
    expect(cuInitFails.message).toBe('cuInit failed with error 100 (no CUDA-capable device is detected)');

    fake(
      'partial',
      'libcuda.so.1',
      DRIVER.filter((s) => s !== 'cuLaunchKernel'),
    );
    fake(
      'partial',
      'libnvrtc.so.13',
      NVRTC.filter((s) => s !== 'nvrtcGetPTX'),
    );
    expect(probe('partial').status).toEqual({
      available: false,
      driver: '',
      nvrtc: '',
      message: 'symbol cuLaunchKernel missing in libcuda.so.1; symbol nvrtcGetPTX missing in libnvrtc.so.13',
    });
  });

  it('falls back to libnvrtc.so.12 and libnvrtc.so.11.2 where no newer NVRTC is installed', () => {
    // Only where the system has no libcuda.so.1 or NVRTC of its own (they would be found first).
    const system = addon.cudaStatus();
    fake('nvrtc12', 'libnvrtc.so.12', NVRTC);
    fake('nvrtc12', 'libnvrtc.so.11.2', NVRTC);
    fake('nvrtc', 'libnvrtc.so.11.2', NVRTC);
    const v12 = probe('nvrtc12');
    const v11 = probe('nvrtc');
    if (system.nvrtc === '') {
      expect(v12.status.nvrtc).toBe('libnvrtc.so.12');
      expect(v11.status.nvrtc).toBe('libnvrtc.so.11.2');
    }
    if (system.driver === '') {
      expect(v12.before || v12.after).toBe(false);
      expect(v12.status.driver).toBe('');
      expect(v12.status.message).toMatch(
        /^libcuda\.so\.1 not found \(dlopen: libcuda\.so\.1: cannot open shared object file: No such file or directory\)$/,
      );
    }
  });
});
