// The CUDA CPU shim (shim.ts, shim/fmc_cuda_cpu.h) on hand-written kernels that follow the CUDA
// dialect's contract (extern "C" __global__ kernels, `T* __restrict__` buffers then
// `const fmc_dims d`, the flat invocation index over a 2-D grid of 1-D blocks): a vector add,
// a block reduction in __shared__ whose missing barriers the thread orders expose, divergent
// barriers and out-of-bounds accesses reported as errors, warp-shuffle reductions, and the
// tensor-core emulation (mma.m16n8k16 f16/bf16, ldmatrix.x4) against a float64 matmul of the
// same inputs, with a wrong fragment mapping shown to fail.

import { describe, expect, it } from 'vitest';
import { bf16Bits, bitsToBf16, bitsToF16, f16Bits } from '../../src/ir/value.js';
import { ShimBinary, ShimError, type ShimJob, type ThreadOrder, runCuda, shimUnavailable } from './shim.js';

const why = shimUnavailable();
if (why) console.warn(`skipping the CUDA shim tests: ${why}`);

const HEAD = `#define FMC_DIM_SLOTS 1
struct fmc_dims { long long v[FMC_DIM_SLOTS]; };
#define FMC_GID ((blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x)
`;
const ORDERS: readonly ThreadOrder[] = ['forward', 'reverse', { shuffle: 1 }, { shuffle: 2 }];

/** A deterministic pseudo-random sequence in [-1, 1). */
function noise(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

describe.skipIf(why !== '')('the CUDA CPU shim', () => {
  it('runs a vector add over a 2-D grid, bounds-checked by the flat index', () => {
    const src = `${HEAD}extern "C" __global__ void __launch_bounds__(128) vadd(float* __restrict__ p0,
        const float* __restrict__ p1, const float* __restrict__ p2, const fmc_dims d) {
      long long i = FMC_GID;
      if (i < d.v[0]) p0[i] = p1[i] + p2[i];
    }`;
    const n = 1000;
    const a = Float32Array.from(noise(n, 1));
    const b = Float32Array.from(noise(n, 2));
    const [c] = runCuda(
      { source: src, kernels: ['vadd'] },
      {
        buffers: [new Float32Array(n), a, b],
        dims: [BigInt(n)],
        launches: [{ kernel: 'vadd', grid: [4, 2], workgroup: 128, args: [0, 1, 2] }],
        order: 'reverse',
      },
    );
    expect(Array.from(c as Float32Array)).toEqual(Array.from(a, (x, i) => Math.fround(x + b[i]!)));
  });

  // A block sum in __shared__: the barrier after the stores (0) and the one in the tree (1).
  const reduction = (drop?: 0 | 1): string => `${HEAD}
    extern "C" __global__ void __launch_bounds__(256) bsum(int* __restrict__ p0, const int* __restrict__ p1,
        const fmc_dims d) {
      __shared__ int s[256];
      long long i = FMC_GID;
      s[threadIdx.x] = i < d.v[0] ? p1[i] : 0;
      ${drop === 0 ? '' : '__syncthreads();'}
      for (unsigned st = 128; st > 0; st >>= 1) {
        if (threadIdx.x < st) s[threadIdx.x] += s[threadIdx.x + st];
        ${drop === 1 ? '' : '__syncthreads();'}
      }
      if (threadIdx.x == 0) p0[blockIdx.x] = s[0];
    }`;
  const sums = (source: string, raceCheck = true): number[][] => {
    const n = 1000;
    const x = Int32Array.from({ length: n }, (_, i) => (i * 7919) % 1001);
    const jobs: ShimJob[] = ORDERS.map((order) => ({
      buffers: [new Int32Array(4), x],
      dims: [BigInt(n)],
      launches: [{ kernel: 'bsum', grid: [4, 1], workgroup: 256, args: [0, 1] }],
      order,
    }));
    return ShimBinary.build([{ source, kernels: ['bsum'], raceCheck }])
      .run(jobs)
      .map(([o]) => Array.from(o as Int32Array));
  };
  const expected = [0, 1, 2, 3].map((b) => {
    let s = 0;
    for (let i = b * 256; i < Math.min(1000, b * 256 + 256); i++) s += (i * 7919) % 1001;
    return s;
  });

  it('reduces a block in __shared__ with barriers, the same in every thread order', () => {
    for (const got of sums(reduction())) expect(got).toEqual(expected);
  });

  it.each([0, 1] as const)('exposes a missing barrier (%i) by comparing thread orders', (drop) => {
    const got = sums(reduction(drop), false);
    // Without the oracle: the orders disagree. With it: some order is wrong.
    expect(new Set(got.map((g) => g.join())).size).toBeGreaterThan(1);
    expect(got.some((g) => g.join() !== expected.join())).toBe(true);
  });

  it.each([
    [
      0,
      /block \(0,0\): data race on the __shared__ array of line 7, element 128: thread 128 writes, since the last barrier, what was read by thread 0$/,
    ],
    [
      1,
      /block \(0,0\): data race on the __shared__ array of line 7, element 1: thread 1 writes, since the last barrier, what was read by other threads$/,
    ],
  ] as const)('reports the data race of a missing barrier (%i) in __shared__ memory', (drop, race) => {
    expect(() => sums(reduction(drop))).toThrow(race);
  });

  it("runs the blocks of a launch in the order too: a read of another block's output shows", () => {
    const source = `${HEAD}extern "C" __global__ void chain(int* __restrict__ p0, const fmc_dims d) {
      if (threadIdx.x == 0) p0[blockIdx.x] = blockIdx.x == 0 ? 1 : p0[blockIdx.x - 1] + 1;
    }`;
    const jobs: ShimJob[] = ORDERS.map((order) => ({
      buffers: [new Int32Array(8)],
      dims: [8n],
      launches: [{ kernel: 'chain', grid: [8, 1], workgroup: 32, args: [0] }],
      order,
    }));
    const got = ShimBinary.build([{ source, kernels: ['chain'] }])
      .run(jobs)
      .map(([o]) => Array.from(o as Int32Array).join());
    expect(got[0]).toBe('1,2,3,4,5,6,7,8'); // forward: each block after the one it reads
    expect(got[1]).toBe('1,1,1,1,1,1,1,1'); // reverse: each block before it (0 + 1)
    expect(new Set(got).size).toBeGreaterThan(2); // the shuffles differ from both
  });

  const fails = (body: string, workgroup = 32): string => {
    const source = `${HEAD}extern "C" __global__ void k(float* __restrict__ p0, const fmc_dims d) {\n${body}\n}`;
    const job: ShimJob = {
      buffers: [new Float32Array(64)],
      dims: [64n],
      launches: [{ kernel: 'k', grid: [2, 1], workgroup, args: [0] }],
      order: 'forward',
    };
    try {
      runCuda({ source, kernels: ['k'] }, job);
    } catch (e) {
      if (e instanceof ShimError) return e.message;
      throw e;
    }
    throw new Error('the shim reported no error');
  };

  it('reports a barrier some threads skip by returning, never hangs', () => {
    expect(fails('if (threadIdx.x >= 16) return;\n__syncthreads();\np0[threadIdx.x] = 1.0f;')).toMatch(
      /kernel k block \(0,0\): divergent barrier \(some threads returned while others wait\); threads 0-15 wait at __syncthreads \(program0\.cu:6\); threads 16-31 returned/,
    );
  });

  it('reports threads waiting at different barriers', () => {
    expect(fails('if (threadIdx.x % 2)\n__syncthreads();\nelse\n__syncthreads();')).toMatch(
      /divergent barrier \(threads wait at different barriers\); threads 0,2,4,6,8,10,12,14,\.\.\. wait at __syncthreads \(program0\.cu:8\); threads 1,3,5,.*,15,\.\.\. wait at __syncthreads \(program0\.cu:6\)$/,
    );
  });

  it('reports a warp collective that some lanes never reach', () => {
    expect(
      fails('float v = 1.0f;\nif (threadIdx.x < 8) v = __shfl_xor_sync(0xffffffffu, v, 1);\n__syncthreads();'),
    ).toMatch(
      /deadlock: a warp collective some lanes of the warp never reach; threads 0-7 wait at __shfl_xor_sync \(program0\.cu:6\); threads 8-31 wait at __syncthreads \(program0\.cu:7\)$/,
    );
  });

  it('reports an access past the end of a buffer', () => {
    expect(fails('p0[d.v[0] + threadIdx.x] = 1.0f;')).toMatch(
      /block \(0,0\): thread 0: past the end of buffer 0, by 0 bytes/,
    );
  });

  it('reports a fiber stack overflow', () => {
    expect(fails('volatile char big[300000];\nbig[threadIdx.x] = 1;\np0[threadIdx.x] = big[threadIdx.x];')).toMatch(
      /block \(0,0\): thread 0: a fiber stack overflow \(locals over 256 KiB\)$/,
    );
  });

  it('reduces with warp shuffles (xor, down, broadcast, sub-warp width)', () => {
    const src = `${HEAD}extern "C" __global__ void __launch_bounds__(64) wsum(int* __restrict__ p0,
        const int* __restrict__ p1, const fmc_dims d) {
      unsigned i = FMC_GID, lane = threadIdx.x % 32;
      int x = p1[i], a = x, b = x, c = x;
      for (int m = 16; m > 0; m >>= 1) a += __shfl_xor_sync(0xffffffffu, a, m);
      for (int m = 16; m > 0; m >>= 1) b += __shfl_down_sync(0xffffffffu, b, m);
      b = __shfl_sync(0xffffffffu, b, 0);
      for (int m = 4; m > 0; m >>= 1) c += __shfl_xor_sync(0xffffffffu, c, m, 8);
      p0[3 * i] = a; p0[3 * i + 1] = b; p0[3 * i + 2] = c;
    }`;
    const x = Int32Array.from({ length: 64 }, (_, i) => (i * i) % 37);
    const [out] = runCuda(
      { source: src, kernels: ['wsum'] },
      {
        buffers: [new Int32Array(192), x],
        dims: [64n],
        launches: [{ kernel: 'wsum', grid: [1, 1], workgroup: 64, args: [0, 1] }],
        order: { shuffle: 7 },
      },
    );
    const sum = (lo: number, n: number): number => x.slice(lo, lo + n).reduce((s, v) => s + v, 0);
    const want = Array.from({ length: 64 }, (_, i) => [sum(i & ~31, 32), sum(i & ~31, 32), sum(i & ~7, 8)]).flat();
    expect(Array.from(out as Int32Array)).toEqual(want);
  });

  // One m16n8k16 tile per warp (2 warps): fragments loaded per the PTX ISA's formulas (or A
  // through ldmatrix.x4 from __shared__), D = A * B + C on the emulated tensor core.
  const mmaSource = (mma: string): string => `${HEAD}
    extern "C" __global__ void __launch_bounds__(64) tile(float* __restrict__ p0, const unsigned short* __restrict__ p1,
        const unsigned short* __restrict__ p2, const float* __restrict__ p3, const fmc_dims d) {
      __shared__ unsigned short sa[256];
      unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, groupID = lane >> 2, tig = lane % 4;
      unsigned a[4], b[2];
      float c[4], acc[4];
      unsigned short ah[8], bh[4];
      for (int i = 0; i < 8; ++i) {
        unsigned row = (i < 2 || (4 <= i && i < 6)) ? groupID : groupID + 8;
        unsigned col = i < 4 ? tig * 2 + (i & 1) : tig * 2 + (i & 1) + 8;
        ah[i] = p1[row * 16 + col];
      }
      for (int i = 0; i < 4; ++i) bh[i] = p2[(i < 2 ? tig * 2 + (i & 1) : tig * 2 + (i & 1) + 8) * 8 + groupID];
      for (int i = 0; i < 4; ++i) c[i] = p3[warp * 128 + (i < 2 ? groupID : groupID + 8) * 8 + tig * 2 + (i & 1)];
      for (int r = 0; r < 4; ++r) a[r] = ah[2 * r] | (unsigned)ah[2 * r + 1] << 16;
      for (int r = 0; r < 2; ++r) b[r] = bh[2 * r] | (unsigned)bh[2 * r + 1] << 16;
#ifdef LDMATRIX
      for (int i = threadIdx.x; i < 256; i += blockDim.x) sa[i] = p1[i];
      __syncthreads();
      FMC_LDMATRIX_X4(a, &sa[(lane % 16) * 16 + (lane / 16) * 8]);
#endif
#ifdef WRONG_LANES
      unsigned t = a[1]; a[1] = a[2]; a[2] = t;
#endif
      ${mma}(acc, a, b, c);
      for (int i = 0; i < 4; ++i) p0[warp * 128 + (i < 2 ? groupID : groupID + 8) * 8 + tig * 2 + (i & 1)] = acc[i];
    }`;
  const tileRun = (bf16: boolean): { got: Float32Array[]; want: { v: number; mag: number }[] } => {
    const [bits, value] = bf16 ? [bf16Bits, bitsToBf16] : [f16Bits, bitsToF16];
    const ab = Uint16Array.from(noise(256, 3), (v) => bits(v * 2));
    const bb = Uint16Array.from(noise(128, 4), (v) => bits(v * 2));
    ab[0] = bits(2 ** -20); // an f16 subnormal
    ab[53] = bits(-0);
    bb[17] = bits(1000);
    const c = Float32Array.from(noise(256, 5));
    const want = Array.from({ length: 256 }, (_, i) => {
      const [row, col] = [(i % 128) >> 3, i % 8];
      let [v, mag] = [c[i]!, Math.abs(c[i]!)];
      for (let k = 0; k < 16; k++) {
        const p = value(ab[row * 16 + k]!) * value(bb[k * 8 + col]!);
        [v, mag] = [v + p, mag + Math.abs(p)];
      }
      return { v, mag };
    });
    const mma = bf16 ? 'FMC_MMA_M16N8K16_BF16F32' : 'FMC_MMA_M16N8K16_F16F32';
    const defines = ['', '#define LDMATRIX\n', '#define WRONG_LANES\n', '#define LDMATRIX\n#define WRONG_LANES\n'];
    const bin = ShimBinary.build(defines.map((d) => ({ source: d + mmaSource(mma), kernels: ['tile'] })));
    const got = defines.map((_, program) => {
      const job: ShimJob = {
        program,
        buffers: [new Float32Array(256), ab, bb, c],
        dims: [0n],
        launches: [{ kernel: 'tile', grid: [1, 1], workgroup: 64, args: [0, 1, 2, 3] }],
        order: 'reverse',
      };
      return bin.run([job])[0]![0] as Float32Array;
    });
    return { got, want };
  };
  /** The largest error relative to the sum of the magnitudes of the terms. */
  const maxErr = (got: Float32Array, want: { v: number; mag: number }[]): number =>
    Math.max(...want.map((w, i) => Math.abs(got[i]! - w.v) / w.mag));

  it.each([false, true])(
    'emulates mma.m16n8k16 with the PTX fragment layouts (bf16: %s), also through ldmatrix.x4',
    (bf16) => {
      const { got, want } = tileRun(bf16);
      // f32 accumulation of 17 terms (f16 and bf16 products are exact in f32).
      expect(maxErr(got[0]!, want)).toBeLessThan(17 * 2 ** -24);
      expect(maxErr(got[1]!, want)).toBeLessThan(17 * 2 ** -24);
      // Registers a1 and a2 swapped (rows g+8 read as columns +8): the tile is wrong.
      expect(maxErr(got[2]!, want)).toBeGreaterThan(0.05);
      expect(maxErr(got[3]!, want)).toBeGreaterThan(0.05);
    },
  );
});
