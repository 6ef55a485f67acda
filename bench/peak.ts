// The machine's FMA peak: a generated C kernel of independent FMA chains on the widest
// vectors the compiler targets (-march=native: 512-bit with AVX-512, 256 with AVX, else 128),
// built through fmc's compile cache with the kernels' own flags and run on fmc's thread pool
// (eight chunks per thread, each a long loop of CHAINS independent vector FMAs, more than the
// FMA units' latency × ports keep busy). Best of `reps` timings: the peak the GEMM is
// measured against (bench/gemm.ts prints both).
//
//   node dist/bench/peak.js [--threads 2] [--reps 5]

import { compileC } from '../src/runtime/cache.js';
import { native } from '../src/runtime/native.js';
import { flags, positive } from './common.js';

/** Independent accumulator chains: 12 vectors leave registers for the operands on 16-register ISAs. */
const CHAINS = 12;
const ITERS = 20_000_000;

export const PEAK_SOURCE = `/* fmc FMA peak probe */
#include <stdint.h>
typedef void (*fmc_body)(const void *, int64_t, int64_t);
typedef void (*fmc_parallel_fn)(fmc_body, const void *, int64_t);
static void fmc_serial(fmc_body f, const void *c, int64_t n) { f(c, 0, n); }
static fmc_parallel_fn fmc_parallel = fmc_serial;
#if defined(__AVX512F__)
#define FMC_VBYTES 64
#elif defined(__AVX__)
#define FMC_VBYTES 32
#else
#define FMC_VBYTES 16
#endif
typedef float vf __attribute__((vector_size(FMC_VBYTES)));
#define LANES (FMC_VBYTES / 4)
struct probe { float *out; int64_t iters; };
/* -std=c11 turns contraction off: ask for it here, so a * x + y is one FMA */
__attribute__((optimize("fp-contract=fast"))) static void chains(const void *c, int64_t lo, int64_t hi) {
  const struct probe *p = (const struct probe *)c;
  for (int64_t t = lo; t < hi; t++) {
    vf acc[${CHAINS}], x, y;
    for (int l = 0; l < LANES; l++) { x[l] = 1.0f - 1e-7f * l; y[l] = 1e-7f; }
    for (int i = 0; i < ${CHAINS}; i++) acc[i] = x * (float)i;
    for (int64_t k = 0; k < p->iters; k++) {
      #pragma GCC unroll ${CHAINS}
      for (int i = 0; i < ${CHAINS}; i++) acc[i] = acc[i] * x + y;
      __asm__ volatile("" : "+x"(x), "+x"(y)); /* keeps the operands in registers, the loop alive */
    }
    float s = 0;
    for (int i = 0; i < ${CHAINS}; i++) for (int l = 0; l < LANES; l++) s += acc[i][l];
    p->out[t] = s;
  }
}
/* a[0]: one float per chunk; d[0]: iterations per chunk, d[1]: chunks */
static void k0(void *const *restrict a, const int64_t *restrict d) {
  const struct probe p = {(float *)a[0], d[0]};
  fmc_parallel(chains, &p, d[1]);
}
typedef void (*fmc_kernel)(void *const *restrict, const int64_t *restrict);
const int32_t fmc_abi_version = 1;
const int32_t fmc_kernel_count = 1;
const fmc_kernel fmc_kernels[1] = {k0};
const int32_t fmc_probe_lanes = LANES;
void fmc_set_threads(int32_t n) { (void)n; }
void fmc_set_parallel(fmc_parallel_fn f) { fmc_parallel = f ? f : fmc_serial; }
`;

export interface Peak {
  /** Best GFLOP/s over the repetitions (2 FLOPs per lane per FMA). */
  readonly gflops: number;
  /** Vector width in bits the compiler chose (from the CPU flags, as the kernels see them). */
  readonly vectorBits: number;
  readonly threads: number;
}

/** The vector width `-march=native` gives on this CPU, as the probe's #if sees it. */
function vectorBits(cpuFlags: string): number {
  const has = (f: string): boolean => cpuFlags.split(/\s+/).includes(f);
  return has('avx512f') ? 512 : has('avx') ? 256 : 128;
}

/** Measures the FMA peak on `threads` threads of fmc's pool. */
export async function measurePeak(threads: number, reps = 5): Promise<Peak> {
  const { hostCpuFlags } = await import('../src/kernels/schedule.js');
  const bits = vectorBits(hostCpuFlags());
  const lib = native().loadLibrary(compileC(PEAK_SOURCE).path);
  lib.setThreads(threads);
  // Eight chunks a thread, as the pool splits the GEMM's loops: a late thread's share is taken.
  const chunks = 8 * threads;
  const out = native().alignedBuffer(4 * chunks);
  const launches = Int32Array.from([0, 1, 0]);
  const dims = BigInt64Array.from([BigInt(ITERS / 80), BigInt(chunks)]);
  const flops = 2 * CHAINS * (bits / 32) * chunks * (ITERS / 80);
  let best = 0;
  for (let r = 0; r < reps + 1; r++) {
    const t0 = performance.now();
    native().run(lib, launches, [out], Float64Array.from([0]), dims);
    const s = (performance.now() - t0) / 1e3;
    if (r > 0) best = Math.max(best, flops / s / 1e9); // the first run warms the clocks up
  }
  return { gflops: best, vectorBits: bits, threads };
}

async function main(): Promise<void> {
  const f = flags({ threads: '2', reps: '5' });
  const p = await measurePeak(positive('threads', f.threads!), positive('reps', f.reps!));
  console.log(`FMA peak: ${p.gflops.toFixed(1)} GFLOP/s on ${p.threads} threads (${p.vectorBits}-bit vectors, fp32)`);
}

if (process.argv[1]?.endsWith('peak.js')) await main();
