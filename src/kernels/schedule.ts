// Scheduling choices that depend on the machine the C code is compiled for (-march=native):
// the GEMM register tile. 14 × 32 fills AVX-512's 32 registers (28 accumulators), 6 × 16
// fills AVX2's 16 (12 accumulators), 4 × 8 is a portable fallback. The choice is an explicit
// value in the kernel (and so in the C source and its cache key).

import * as fs from 'node:fs';

export interface GemmSchedule {
  /** Register tile rows and columns. */
  readonly MR: number;
  readonly NR: number;
  /** Cache blocks: K (L1 micro-panels), M (L2 A block), N (B block). */
  readonly KC: number;
  readonly MC: number;
  readonly NC: number;
  /** Below this many rows, a contraction streams B once without packing. */
  readonly SMALL_M: number;
  /** M splits into at least this many blocks (of at least MR rows), for the threads. */
  readonly MSPLIT: number;
  /** GPU targets: the tiled GEMM's shape (gemm-tiled.ts), or false for one output per invocation. */
  readonly gpuTiled?: { readonly T: number; readonly R: number; readonly TK: number } | false;
  /** GPU targets: GEMMs of f16 or bf16 operands on typed tiles (gemm-frag.ts). */
  readonly gpuFragments?: boolean;
  /** CUDA: weights marked 2:4 on sparse tensor cores (mma.sp, gemm-frag-sparse.ts); WGSL has none. */
  readonly gpuSparseFragments?: boolean;
  /** A tuned schedule for a GEMM kernel shape (gemmShapeKey), when one is known (`fmc tune`). */
  readonly tuned?: (shape: string) => GemmSchedule | undefined;
}

const BLOCKS = { KC: 256, NC: 512, SMALL_M: 4, MSPLIT: 4 };

export const SCHEDULES = {
  // K blocks of 1024 (kcMax 1280): a tile's B panel (128 KiB) and A panel (56 KiB) stream
  // from L2, and C is read and written a quarter as often as with 256; measured on a
  // Sapphire Rapids class Xeon, 512³ to 2048³ one thread: +10 to +30% over KC 256, MC 98.
  avx512: { MR: 14, NR: 32, ...BLOCKS, KC: 1024, MC: 196 },
  avx2: { MR: 6, NR: 16, MC: 96, ...BLOCKS },
  portable: { MR: 4, NR: 8, MC: 96, ...BLOCKS },
} as const satisfies Record<string, GemmSchedule>;

let flags: string | undefined;

/** This CPU's feature flags from /proc/cpuinfo (x86 `flags`, ARM `Features`), '' elsewhere. */
export function hostCpuFlags(): string {
  if (flags !== undefined) return flags;
  try {
    flags = /^(?:flags|Features)\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? '';
  } catch {
    flags = ''; // not Linux: the portable schedule
  }
  return flags;
}

let host: GemmSchedule | undefined;

/** The schedule for this machine's CPU (portable when its features are unknown). */
export function hostSchedule(): GemmSchedule {
  if (host) return host;
  const has = (f: string): boolean => hostCpuFlags().split(/\s+/).includes(f);
  host = has('avx512f') ? SCHEDULES.avx512 : has('avx2') && has('fma') ? SCHEDULES.avx2 : SCHEDULES.portable;
  return host;
}
