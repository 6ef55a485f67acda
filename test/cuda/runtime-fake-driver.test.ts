// runtime-native's CUDA device (cuda_device.cpp) against a fake libcuda.so.1 found through
// LD_LIBRARY_PATH in a child process: device memory is host memory, a module is accepted
// unless its image starts with "BAD" (then the JIT log is filled in), and `fmc_k0` is a host
// function that cuLaunchKernel runs for every thread of the grid, reading its parameters as
// a CUDA kernel would (two buffer addresses, then `fmc_dims` by value). Every other kernel is
// a no-op that the fake logs. This checks the parameter layout, grids, zeroed allocations,
// copies and errors without a GPU; then `fmc run --target cuda` end to end on the fake
// (NVRTC's CUBIN for the fake's sm_90, one logged launch per launch of the plan), and the
// CUDA graph a launch list becomes when it is launched twice in a row (cuda_graph.h).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { concreteInt } from '../../src/ir/interp.js';
import { piped } from '../../src/runtime/compile.js';
import { lowerForCuda } from '../../src/runtime/cuda-program.js';
import { evalGrid } from '../../src/runtime/gpu-executable.js';
import { nativeAddonPath, native } from '../../src/runtime/native.js';

const dir = mkdtempSync(join(tmpdir(), 'fmc-fake-cuda-'));
const nvrtcMissing = native().nvrtcInfo().error;
if (nvrtcMissing) console.warn(`skipping fmc run --target cuda on the fake driver: ${nvrtcMissing}`);
const ROOT = resolve(__dirname, '../..');

const FAKE = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
typedef unsigned long long P;
static P ptr(const void *p) { return (P)(uintptr_t)p; }
static void *mem(P p) { return (void *)(uintptr_t)p; }
int cuInit(unsigned f) { (void)f; return 0; }
int cuDriverGetVersion(int *v) { *v = 13000; return 0; }
int cuDeviceGetCount(int *n) { *n = 1; return 0; }
int cuDeviceGet(int *d, int o) { *d = o; return 0; }
int cuDeviceGetName(char *s, int n, int d) { (void)d; strncpy(s, "Fake GPU", n); return 0; }
int cuDeviceGetAttribute(int *v, int a, int d) { (void)d; *v = a == 75 ? 9 : 0; return 0; }
int cuCtxCreate_v2(void **c, unsigned f, int d) { (void)f; (void)d; *c = (void *)1; return 0; }
int cuCtxDestroy_v2(void *c) { (void)c; return 0; }
int cuCtxSetCurrent(void *c) { return c == (void *)1 ? 0 : 201; }
int cuCtxSynchronize(void) { return 0; }
int cuStreamCreate(void **s, unsigned f) { (void)f; *s = (void *)2; return 0; }
int cuStreamDestroy_v2(void *s) { (void)s; return 0; }
int cuStreamSynchronize(void *s) { (void)s; return 0; }
int cuMemAlloc_v2(P *p, size_t n) { void *m = malloc(n); memset(m, 0xab, n); *p = ptr(m); return 0; }
int cuMemFree_v2(P p) { free(mem(p)); return 0; }
int cuMemsetD8_v2(P p, unsigned char v, size_t n) { memset(mem(p), v, n); return 0; }
int cuMemcpyHtoD_v2(P d, const void *s, size_t n) { memcpy(mem(d), s, n); return 0; }
int cuMemcpyDtoH_v2(void *d, P s, size_t n) { memcpy(d, mem(s), n); return 0; }
int cuModuleLoadData(void **m, const void *img) { (void)img; *m = (void *)3; return 0; }
int cuModuleLoadDataEx(void **m, const void *img, unsigned n, int *o, void **v) {
  if (memcmp(img, "BAD", 3) == 0) {
    for (unsigned i = 0; i < n; i++) if (o[i] == 5) strcpy((char *)v[i], "ptxas fatal: the fake refuses this image");
    return 218;
  }
  *m = (void *)3;
  return 0;
}
int cuModuleUnload(void *m) { (void)m; return 0; }
int cuGetErrorString(int e, const char **s) { *s = e == 218 ? "a PTX JIT compilation failed" : "fake error"; return 0; }
static unsigned gx, bdx, bx, by, tx;
typedef struct { long long v[2]; } dims2;
/* fmc_k0(const float *x, float *y, fmc_dims d): y[i] = x[i] * d.v[0] for i < d.v[1]. */
static void scale(void **p) {
  const float *x = *(const float **)p[0];
  float *y = *(float **)p[1];
  dims2 d = *(const dims2 *)p[2];
  long long i = ((long long)by * gx + bx) * bdx + tx;
  if (i < d.v[1]) y[i] = x[i] * (float)d.v[0];
}
static void nothing(void **p) { (void)p; }
static char names[4096][16];
static int named;
int cuModuleGetFunction(void **f, void *m, const char *name) {
  (void)m;
  if (strcmp(name, "fmc_k0") == 0 && !getenv("FAKE_ALL_NOOP")) { *f = (void *)scale; return 0; }
  snprintf(names[named], 16, "%s", name);
  *f = (void *)names[named++];
  return 0;
}
static void say(const char *what, void *f, unsigned x, unsigned y, unsigned b) {
  const char *log = getenv("FAKE_LOG");
  if (log) { FILE *o = fopen(log, "a"); fprintf(o, "%s%s %u %u %u\\n", what, f == (void *)scale ? "scale" : (char *)f, x, y, b); fclose(o); }
}
static void run(void *f, unsigned x, unsigned y, unsigned b, void **p) {
  if (f != (void *)scale) return;
  gx = x; bdx = b;
  for (by = 0; by < y; by++) for (bx = 0; bx < x; bx++) for (tx = 0; tx < b; tx++) scale(p);
}
/* Graphs: a capture records each launch with a copy of its parameters (fmc_k0's two
   addresses and dims; other kernels' are not read); a graph launch runs the records. */
typedef struct { void *f; unsigned x, y, b; P a0, a1; dims2 d; } rec;
typedef struct { int n; rec r[64]; } graph;
static graph *capture;
int cuStreamBeginCapture_v2(void *s, int mode) {
  if (s != (void *)2 || mode != 1 || getenv("FAKE_NO_CAPTURE")) return 900;
  capture = calloc(1, sizeof(graph));
  return 0;
}
int cuStreamEndCapture(void *s, void **g) { (void)s; *g = capture; capture = 0; return 0; }
int cuGraphInstantiateWithFlags(void **e, void *g, unsigned long long f) { (void)f; *e = g; return 0; }
int cuGraphExecDestroy(void *e) { (void)e; return 0; }
int cuGraphDestroy(void *g) { free(g); return 0; }
int cuGraphLaunch(void *e, void *s) {
  graph *g = e;
  if (s != (void *)2) return 1;
  for (int i = 0; i < g->n; i++) {
    rec *r = &g->r[i];
    void *p[3] = {&r->a0, &r->a1, &r->d};
    say("graph ", r->f, r->x, r->y, r->b);
    run(r->f, r->x, r->y, r->b, p);
  }
  return 0;
}
int cuLaunchKernel(void *f, unsigned x, unsigned y, unsigned z, unsigned b, unsigned b2, unsigned b3, unsigned sh,
                   void *s, void **p, void **extra) {
  if (s != (void *)2 || z != 1 || b2 != 1 || b3 != 1 || sh != 0 || extra) return 1;
  if (capture) {
    rec *r = &capture->r[capture->n++];
    r->f = f; r->x = x; r->y = y; r->b = b;
    if (f == (void *)scale) { r->a0 = *(P *)p[0]; r->a1 = *(P *)p[1]; r->d = *(dims2 *)p[2]; }
    say("captured ", f, x, y, b);
    return 0;
  }
  say("", f, x, y, b);
  run(f, x, y, b, p);
  return 0;
}
`;

const fakeDir = join(dir, 'lib');
execFileSync('mkdir', ['-p', fakeDir]);
writeFileSync(join(dir, 'fake.c'), FAKE);
execFileSync('cc', ['-O1', '-shared', '-fPIC', '-o', join(fakeDir, 'libcuda.so.1'), join(dir, 'fake.c')]);

/** Runs `script` in node with the fake driver first on the library path; its stdout parsed as JSON. */
function child(script: string, env: Record<string, string> = {}): unknown {
  const r = spawnSync(process.execPath, ['-e', script, nativeAddonPath()], {
    env: { ...process.env, ...env, LD_LIBRARY_PATH: fakeDir },
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as unknown;
}

describe('the CUDA device on a fake driver', () => {
  it('allocates zeroed memory, copies, and launches with buffer addresses then the dims by value', () => {
    const got = child(`
      const a = require(process.argv[1]);
      const gpu = a.cudaOpen(0);
      const n = 100;
      const x = gpu.alloc(4 * n), y = gpu.alloc(4 * 128);
      const zero = Array.from(new Float32Array(gpu.download(y, 4 * 128)));
      gpu.upload(x, new Uint8Array(Float32Array.from({ length: n }, (_, i) => i + 0.5).buffer));
      const m = gpu.load(new TextEncoder().encode('FAKE'), ['fmc_k0']);
      // Two launches of fmc_k0: the first scaled by 3, then (x, y) 2 x 1 blocks of 64 scaled by 2 over 100.
      gpu.launch(m, Int32Array.of(0, 2, 0, 1, 0, 2, 0, 1), BigUint64Array.of(x, y), Uint32Array.of(1, 1, 2, 1),
                 Uint32Array.of(64), BigInt64Array.of(2n, 100n), 2);
      gpu.synchronize();
      const out = Array.from(new Float32Array(gpu.download(y, 4 * 128)));
      gpu.free(x);
      let twice = '';
      try { gpu.free(x); } catch (e) { twice = e.message; }
      let bad = '';
      try { gpu.load(new TextEncoder().encode('BAD'), ['fmc_k0']); } catch (e) { bad = e.message; }
      gpu.close();
      let closed = '';
      try { gpu.alloc(4); } catch (e) { closed = e.message; }
      console.log(JSON.stringify({ name: gpu.name, cc: gpu.computeCapability, zero, out, twice, bad, closed }));`);
    const r = got as {
      name: string;
      cc: number;
      zero: number[];
      out: number[];
      twice: string;
      bad: string;
      closed: string;
    };
    expect(r.twice).toBe('free: not an allocation of this device');
    expect(r.name).toBe('Fake GPU');
    expect(r.cc).toBe(90);
    expect(r.zero.every((v) => v === 0)).toBe(true);
    expect(r.out).toEqual(Array.from({ length: 128 }, (_, i) => (i < 100 ? (i + 0.5) * 2 : 0)));
    expect(r.bad).toBe(
      'CUDA: the kernels do not load on Fake GPU (cuModuleLoadDataEx: error 218 (a PTX JIT compilation failed)):\nptxas fatal: the fake refuses this image',
    );
    expect(r.closed).toBe('CUDA device closed');
  });

  it('turns a launch list launched twice in a row into a CUDA graph, and replays it', () => {
    // Each call: two launches of fmc_k0 (y = x · 2 over 100, then y = x · dims[0] again) with x
    // uploaded afresh, so a replay must read the current memory, not what the capture saw.
    const script = `
      const a = require(process.argv[1]);
      const gpu = a.cudaOpen(0);
      const x = gpu.alloc(4 * 100), y = gpu.alloc(4 * 100);
      const m = gpu.load(new TextEncoder().encode('FAKE'), ['fmc_k0']);
      const call = (v, dims, records = Int32Array.of(0, 2, 0, 1, 0, 2, 0, 1)) => {
        gpu.upload(x, new Uint8Array(new Float32Array(100).fill(v).buffer));
        gpu.launch(m, records, BigUint64Array.of(x, y), Uint32Array.of(2, 1, 2, 1), Uint32Array.of(64), dims, 2);
        gpu.synchronize();
        return [new Float32Array(gpu.download(y, 400))[99], ...gpu.graphStats()];
      };
      const out = [call(1, BigInt64Array.of(2n, 100n)), call(2, BigInt64Array.of(2n, 100n)), call(3, BigInt64Array.of(2n, 100n)),
        call(4, BigInt64Array.of(3n, 100n)), call(5, BigInt64Array.of(3n, 100n)), call(6, BigInt64Array.of(3n, 100n)),
        call(7, BigInt64Array.of(3n, 100n), Int32Array.of(0, 2, 0, 1)), call(8, BigInt64Array.of(3n, 100n), Int32Array.of(0, 2, 0, 1))];
      gpu.close();
      console.log(JSON.stringify(out));`;
    const log = join(dir, 'graphs.log');
    const got = child(script, { FAKE_LOG: log }) as number[][];
    // [y, captures, graph launches]: the 2nd call of a list captures it and launches the graph;
    // other dims are another list (captured on its own 2nd call); one kernel is never a graph.
    expect(got).toEqual([
      [2, 0, 0],
      [4, 1, 1],
      [6, 1, 2],
      [12, 1, 2],
      [15, 2, 3],
      [18, 2, 4],
      [21, 2, 4],
      [24, 2, 4],
    ]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.slice(0, 6)).toEqual([
      'scale 2 1 64',
      'scale 2 1 64',
      'captured scale 2 1 64',
      'captured scale 2 1 64',
      'graph scale 2 1 64',
      'graph scale 2 1 64',
    ]);
    // Turned off, or refused by the driver (then off for the device): launch by launch, same results.
    for (const env of [{ FMC_CUDA_GRAPHS: '0' }, { FAKE_NO_CAPTURE: '1' }]) {
      const off = child(script, env) as number[][];
      expect(off.map((r) => r[0])).toEqual(got.map((r) => r[0]));
      expect(off.every((r) => r[1] === 0 && r[2] === 0)).toBe(true);
    }
  });

  it('refuses records that point past the addresses, kernels or grids it was given', () => {
    const got = child(`
      const a = require(process.argv[1]);
      const gpu = a.cudaOpen(0);
      const m = gpu.load(new TextEncoder().encode('FAKE'), ['fmc_k0']);
      const x = gpu.alloc(4);
      const errors = [
        [Int32Array.of(0, 2, 0, 5), Uint32Array.of(1, 1)],
        [Int32Array.of(1, 2, 0, 0), Uint32Array.of(1, 1)],
        [Int32Array.of(0, 2, 0, 0, 0, 2, 0, 0), Uint32Array.of(1, 1)],
        [Int32Array.of(0, 9, 0), Uint32Array.of(1, 1)],
      ].map(([r, g]) => { try { gpu.launch(m, r, BigUint64Array.of(x), g, Uint32Array.of(64), BigInt64Array.of(1n), 1); return ''; } catch (e) { return e.message; } });
      console.log(JSON.stringify(errors));`);
    expect(got).toEqual([
      'launch: buffer id out of range',
      'launch: kernel index out of range',
      'launch: a truncated record or too few grids',
      'launch: bad argument count',
    ]);
  });

  it.skipIf(nvrtcMissing !== '')(
    'fmc run --target cuda compiles for the device and queues every launch of the plan',
    { timeout: 120_000 },
    () => {
      const log = join(dir, 'launches.log');
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'fmc.js'), 'run', '--target', 'cuda', 'models/mlp.fm'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          ...process.env,
          LD_LIBRARY_PATH: fakeDir,
          FAKE_LOG: log,
          FAKE_ALL_NOOP: '1',
          FMC_CACHE_DIR: join(dir, 'c'),
        },
        timeout: 110_000,
      });
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.status).toBe(0);
      // The fake's kernels do nothing: the logits are the zeros of the fresh output buffer.
      expect(r.stdout).toMatch(/MLP\.forward on cuda .*\n\s+logits: f32\[2, 10\]\s+mean 0 /);
      const launches = readFileSync(log, 'utf8').trim().split('\n');
      // Each launch of the plan at B = 2: its kernel, ceil(invocations / workgroup) blocks, the workgroup.
      const l = lowerModel(join(ROOT, 'models/mlp.fm'), { fns: ['forward'] })[0]!;
      const { plan } = lowerForCuda(piped(l, {}).graph);
      const slots = BigInt64Array.from(plan.slots.map((s) => BigInt(concreteInt(s, new Map([['B', 2]])))));
      const want = plan.launches.map((p) => {
        const grid = plan.kernels[p.kernel]!.grid!;
        return `fmc_k${p.kernel} ${Math.ceil(evalGrid(grid.invocations, slots) / grid.workgroup)} 1 ${grid.workgroup}`;
      });
      expect(launches).toEqual(want);
      // NVRTC made a CUBIN for the fake's compute capability 9.0.
      const cubins = execFileSync('ls', [join(dir, 'c', 'cuda')], { encoding: 'utf8' });
      expect(cubins).toMatch(/\.cubin\n/);
    },
  );
});
