// The kernels' thread pool (runtime-native/src/pool.cpp) through a hand-written library with
// the fmc_set_parallel ABI: every iteration of a parallel loop runs exactly once, for any
// length, over thousands of loops in one launch list (generations turning over), nested
// (the inner loop runs on the calling thread), on one thread, and a second thread really
// takes part when there are two.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NativeAddon, type NativeLibrary, native } from '../../src/runtime/native.js';

const SOURCE = `
#include <pthread.h>
#include <stdint.h>
typedef void (*fmc_kernel)(void *const *restrict, const int64_t *restrict);
typedef void (*fmc_body)(const void *, int64_t, int64_t);
typedef void (*fmc_parallel_fn)(fmc_body, const void *, int64_t);
static void serial(fmc_body f, const void *c, int64_t n) { f(c, 0, n); }
static fmc_parallel_fn par = serial;
void fmc_set_parallel(fmc_parallel_fn f) { par = f ? f : serial; }
void fmc_set_threads(int32_t n) { (void)n; }

struct ctx { int32_t *hits; uint64_t *who; int64_t spin; int64_t cols; };
static void count(const void *p, int64_t lo, int64_t hi) {
  const struct ctx *c = p;
  for (int64_t i = lo; i < hi; i++) {
    __atomic_fetch_add(&c->hits[i], 1, __ATOMIC_RELAXED);
    if (c->who) c->who[i] = (uint64_t)pthread_self();
    for (volatile int64_t s = 0; s < c->spin; s++) {}
  }
}
/* a[0]: int32 hits[d[0]], a[1]: uint64 who[d[0]]; d[1]: busy work per iteration. */
static void cover(void *const *restrict a, const int64_t *restrict d) {
  struct ctx c = {a[0], a[1], d[1], 0};
  par(count, &c, d[0]);
}
static void rows(const void *p, int64_t lo, int64_t hi) {
  const struct ctx *c = p;
  for (int64_t i = lo; i < hi; i++) {
    struct ctx row = {c->hits + i * c->cols, 0, 0, 0};
    par(count, &row, c->cols);
  }
}
/* a[0]: int32 hits[d[0] * d[2]]: a parallel loop over rows, each a parallel loop over columns. */
static void nested(void *const *restrict a, const int64_t *restrict d) {
  struct ctx c = {a[0], 0, 0, d[2]};
  par(rows, &c, d[0]);
}
/* a[0]: uint64 the calling thread. */
static void caller(void *const *restrict a, const int64_t *restrict d) {
  (void)d;
  *(uint64_t *)a[0] = (uint64_t)pthread_self();
}
const int32_t fmc_abi_version = 1;
const int32_t fmc_kernel_count = 3;
const fmc_kernel fmc_kernels[3] = {cover, nested, caller};
`;
const COVER = 0;
const NESTED = 1;
const CALLER = 2;

let addon: NativeAddon;
let lib: NativeLibrary;
const dir = mkdtempSync(join(tmpdir(), 'fmc-pool-'));
beforeAll(() => {
  writeFileSync(join(dir, 'pool.c'), SOURCE);
  execFileSync('cc', ['-O2', '-shared', '-fPIC', '-pthread', '-o', join(dir, 'libpool.so'), join(dir, 'pool.c')]);
  addon = native();
  lib = addon.loadLibrary(join(dir, 'libpool.so'));
});
afterAll(() => {
  lib?.close();
  rmSync(dir, { recursive: true, force: true });
});

const dims = (...d: number[]): BigInt64Array => BigInt64Array.from(d.map(BigInt));

/** Runs `launches` cover loops of length n; returns the hit counts and the threads seen. */
function cover(n: number, launches: number, spin = 0): { hits: Int32Array; who: BigUint64Array } {
  const hits = new ArrayBuffer(4 * Math.max(n, 1));
  const who = new ArrayBuffer(8 * Math.max(n, 1));
  const records = new Int32Array(4 * launches);
  for (let i = 0; i < launches; i++) records.set([COVER, 2, 0, 1], 4 * i);
  addon.run(lib, records, [hits, who], Float64Array.of(0, 0), dims(n, spin));
  return { hits: new Int32Array(hits, 0, n), who: new BigUint64Array(who, 0, n) };
}

function callerThread(): bigint {
  const out = new ArrayBuffer(8);
  addon.run(lib, Int32Array.of(CALLER, 1, 0), [out], Float64Array.of(0), dims());
  return new BigUint64Array(out)[0]!;
}

describe('thread pool', () => {
  it('runs every iteration exactly once, for any length and over many loops', () => {
    lib.setThreads(2);
    for (const n of [0, 1, 2, 3, 7, 16, 17, 1000, 100_003]) {
      const { hits } = cover(n, 1);
      expect(
        hits.every((h) => h === 1),
        `n = ${n}`,
      ).toBe(true);
    }
    // 3000 loops back to back in one launch list: each iteration hit once per loop.
    const { hits } = cover(37, 3000);
    expect(hits.every((h) => h === 3000)).toBe(true);
  });

  it('runs a loop nested in a loop body on the calling thread, each iteration once', () => {
    lib.setThreads(2);
    const hits = new ArrayBuffer(4 * 33 * 45);
    addon.run(lib, Int32Array.of(NESTED, 1, 0), [hits], Float64Array.of(0), dims(33, 0, 45));
    expect(new Int32Array(hits).every((h) => h === 1)).toBe(true);
  });

  it('runs everything on the calling thread with one thread', () => {
    lib.setThreads(1);
    const self = callerThread();
    const { hits, who } = cover(64, 20, 2000);
    expect(hits.every((h) => h === 20)).toBe(true);
    expect(new Set(who)).toEqual(new Set([self]));
    lib.setThreads(2);
  });

  it('has a second thread take chunks with two threads', { timeout: 30_000 }, () => {
    lib.setThreads(2);
    const self = callerThread();
    // On a loaded machine the worker may miss a few loops; it must join within a few seconds.
    const seen = new Set<bigint>();
    const until = performance.now() + 10_000;
    while (performance.now() < until && seen.size < 2) for (const t of cover(64, 20, 20_000).who) seen.add(t);
    expect(seen.has(self)).toBe(true);
    expect(seen.size).toBe(2);
  });
});
