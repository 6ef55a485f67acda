// The CUDA builtins of the prelude's closed list (src/codegen/prelude-cuda.ts) on the CPU shim,
// each used by a hand-written kernel and its value checked: the indices over a 2-D grid, the
// bit casts and constants, the never-fused f32 arithmetic and fmaf's single rounding, the f32
// and f64 math, and the reserved atomics on 32-bit words (an atomicAdd count and an
// atomicCAS loop adding floats). Shuffles: shim.test.ts. The list is in a comment, so the test
// also checks that every `__`-builtin and atomic the comment names is one this file uses.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCuda, shimUnavailable } from './shim.js';

const why = shimUnavailable();
if (why) console.warn(`skipping the CUDA shim builtin tests: ${why}`);

const SOURCE = `#define FMC_DIM_SLOTS 1
struct fmc_dims { long long v[FMC_DIM_SLOTS]; };
extern "C" __global__ void __launch_bounds__(32) builtins(double* __restrict__ p0, int* __restrict__ p1,
    unsigned* __restrict__ p2, const fmc_dims d) {
  long long b = (long long)blockIdx.y * gridDim.x + blockIdx.x, i = b * blockDim.x + threadIdx.x;
  p1[i] = (int)(blockIdx.y * 1000 + blockIdx.x * 100 + threadIdx.x);
  atomicAdd(&p1[600], 1);
  unsigned old = p2[0], seen;
  do {  /* a float add through atomicCAS on its bits */
    seen = old;
    float sum = __fadd_rn(__int_as_float((int)seen), 0.5f);
    unsigned bits;
    memcpy(&bits, &sum, 4);
    old = atomicCAS(&p2[0], seen, bits);
  } while (old != seen);
  __syncthreads();
  if (i != 0) return;
  float one = __int_as_float(0x3f800000), e = 0x1p-13f;
  double v[] = {one, INFINITY, NAN, __fadd_rn(0.1f, 0.2f), __fsub_rn(0.1f, 0.2f), __fmul_rn(0.1f, 0.3f),
      fmaf(1.0f + e, 1.0f - e, -1.0f), sqrtf(2.0f), sinf(0.5f), cosf(0.5f), fabsf(-3.5f), floorf(-2.5f),
      fmodf(7.5f, 2.0f), powf(2.0f, 0.5f), (double)signbit(-0.0f), exp(0.5), log(3.0), sin(0.5), cos(0.5),
      tanh(0.5), erf(0.5), sqrt(2.0), pow(2.0, 0.5), fabs(-3.25)};
  for (int k = 0; k < (int)(sizeof v / sizeof v[0]); ++k) p0[k] = v[k];
}`;

const f = Math.fround;
const WANT: readonly number[] = [
  1,
  Infinity,
  NaN,
  f(f(0.1) + f(0.2)),
  f(f(0.1) - f(0.2)),
  f(f(0.1) * f(0.3)),
  -(2 ** -26), // fused: (1 + e)(1 - e) - 1 exactly; a separate multiply would round it to 0
  f(Math.SQRT2),
  f(Math.sin(0.5)),
  f(Math.cos(0.5)),
  3.5,
  -3,
  1.5,
  f(Math.SQRT2),
  1,
  Math.exp(0.5),
  Math.log(3),
  Math.sin(0.5),
  Math.cos(0.5),
  Math.tanh(0.5),
  0.5204998778130465, // erf(0.5)
  Math.SQRT2,
  Math.SQRT2,
  3.25,
];

describe.skipIf(why !== '')('the builtins of the CUDA prelude on the CPU shim', () => {
  it('give their values, atomics and indices included', () => {
    const [v, ids, acc] = runCuda(
      { source: SOURCE, kernels: ['builtins'] },
      {
        buffers: [new Float64Array(WANT.length), new Int32Array(601), new Uint32Array(1)],
        dims: [0n],
        launches: [{ kernel: 'builtins', grid: [3, 2], workgroup: 32, args: [0, 1, 2] }],
        order: { shuffle: 3 },
      },
    ) as [Float64Array, Int32Array, Uint32Array];
    WANT.forEach((w, k) => {
      if (!Number.isFinite(w)) expect(v[k], `value ${k}`).toBe(w);
      else expect(Math.abs(v[k]! - w), `value ${k}: ${v[k]} vs ${w}`).toBeLessThanOrEqual(Math.abs(w) * 2 ** -52);
    });
    const want = Array.from({ length: 192 }, (_, i) => {
      const [b, t] = [Math.floor(i / 32), i % 32];
      return Math.floor(b / 3) * 1000 + (b % 3) * 100 + t;
    });
    expect(Array.from(ids.subarray(0, 192))).toEqual(want);
    expect(ids[600]).toBe(192);
    expect(new Float32Array(acc.buffer)[0]).toBe(96);
  });

  it("cover every __-builtin and atomic of the prelude's list", () => {
    const text = readFileSync(new URL('../../src/codegen/prelude-cuda.ts', import.meta.url), 'utf8');
    const list = text.slice(text.indexOf('closed list'), text.indexOf('Special instructions'));
    expect(list.length).toBeGreaterThan(100);
    const named = [...new Set(list.match(/\b(__[a-z]\w*|atomic\w+)\b/g))].filter(
      (n) => !/^__(global|device|forceinline|launch_bounds|shared|restrict)__$/.test(n),
    );
    expect(named).toEqual(expect.arrayContaining(['__syncthreads', '__fadd_rn', 'atomicCAS', '__shfl_xor_sync']));
    const shuffles = ['__shfl_xor_sync', '__shfl_down_sync']; // shim.test.ts
    expect(named.filter((n) => !SOURCE.includes(n) && !shuffles.includes(n))).toEqual([]);
  });
});
