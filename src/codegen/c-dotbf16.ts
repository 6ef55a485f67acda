// The C dialect's bf16 register tiles (KStmt 'dotbf16'): acc[i·nr + j] += A[i, 2p+1]·B[2p+1, j]
// + A[i, 2p]·B[2p, j] over 32-bit words of bf16 pairs (the even k in the low half; A in rows of
// pairs, B in pair-interleaved panels), one small function per tile shape, out of line like
// c-mma.ts's. The instructions are chosen where the library is compiled, for the CPU it runs
// on (`-march=native`, as c-dot8.ts chooses vpdpbusd), in this order:
// - AMX-BF16 (mr and nr multiples of 16, np of 16, and Linux granting the process its tile
//   state, asked once with arch_prctl): `tdpbf16ps` on 16 × 16 f32 tiles, each step
//   loading 16 rows × 16 pairs of A and 16 pairs × 16 columns of B (the panel's rows, as they
//   are). -DFMC_NO_AMX turns it off;
// - AVX-512 BF16 (nr a multiple of 16): `vdpbf16ps`, per pair step nr/16 loads of B's words,
//   one broadcast word of A per row and nr/16 instructions per row, each adding 16 pairs of
//   products into 16 f32 sums, in chunks of rows whose sums fit the registers. On the CPUs
//   measured (Sapphire Rapids) it adds the odd product first, then the even one, each rounded
//   to f32 (the products are exact), and flushes subnormal inputs and results to zero;
// - elsewhere, or with -DFMC_NO_AVX512BF16 (which also turns AMX off), a loop that widens each
//   half to f32 (a shift or a mask of the word) and adds the two products by two fmaf in the
//   same order, which GCC vectorizes: the same sums as vdpbf16ps, bit for bit, wherever no
//   subnormal occurs. AMX's order of adds is its own (within bf16's tolerance).

import type { KExpr, KStmt } from '../ir/kernel.js';
import { amxFits } from '../kernels/gemm-bf16.js';
import { bufName } from './render.js';

/** The C name of the bf16 tile function for an mr × nr tile. */
export const dotbf16Name = (mr: number, nr: number): string => `fmc_dotbf16_${mr}x${nr}`;

/** The call a 'dotbf16' statement renders to. */
export const dotbf16Call = (s: Extract<KStmt, { k: 'dotbf16' }>, x: (e: KExpr) => string): string =>
  `${dotbf16Name(s.mr, s.nr)}(${x(s.np)}, ${bufName(s.a)} + ${x(s.aOffset)}, ${x(s.lda)}, ${bufName(s.b)} + ${x(s.bOffset)}, ${s.acc});`;

export const DOTBF16_PRELUDE = `#if defined(__AVX512BF16__) && defined(__AVX512F__) && !defined(FMC_NO_AVX512BF16)
#include <immintrin.h>
#define FMC_DOTBF16_NATIVE 1
#if defined(__AMX_BF16__) && defined(__AMX_TILE__) && defined(__linux__) && defined(__x86_64__) && !defined(FMC_NO_AMX)
#define FMC_DOTBF16_AMX 1
long syscall(long number, ...);
/* Whether Linux lets this process use AMX tile data: ARCH_REQ_XCOMP_PERM (0x1023) for */
/* XFEATURE_XTILEDATA (18) through arch_prctl (158), asked once (a race asks twice, harmlessly). */
static int fmc_amx_state; /* 0 not asked, 1 granted, -1 refused */
static int fmc_amx(void) {
  int s = __atomic_load_n(&fmc_amx_state, __ATOMIC_RELAXED);
  if (s == 0) {
    s = syscall(158, 0x1023, 18) == 0 ? 1 : -1;
    __atomic_store_n(&fmc_amx_state, s, __ATOMIC_RELAXED);
  }
  return s > 0;
}
/* Palette 1, every tile 16 rows of 64 bytes. */
static void fmc_amx_config(void) {
  struct { uint8_t palette, start, zero[14]; uint16_t colsb[16]; uint8_t rows[16]; } c;
  memset(&c, 0, sizeof c);
  c.palette = 1;
  for (int t = 0; t < 8; t++) (c.colsb[t] = 64, c.rows[t] = 16);
  _tile_loadconfig(&c);
}
#endif
#endif
/* The even (low) and odd (high) bf16 half of a word, widened to f32 (exact). */
#define FMC_BF_LO(w) fmc_bits_f32((uint32_t)(w) << 16)
#define FMC_BF_HI(w) fmc_bits_f32((uint32_t)(w) & 0xffff0000u)`;

/** The portable body: widen each half and add the odd product, then the even one. */
const portable = (mr: number, nr: number): string => `  float c[${mr}][${nr}];
  for (int i = 0; i < ${mr}; i++)
    for (int j = 0; j < ${nr}; j++) c[i][j] = acc[i * ${nr} + j];
  for (int64_t p = 0; p < np; p++) {
    const int32_t *b = bp + p * ${nr};
    for (int i = 0; i < ${mr}; i++) {
      const int32_t w = ap[i * lda + p];
      const float lo = FMC_BF_LO(w), hi = FMC_BF_HI(w);
      #pragma omp simd
      for (int j = 0; j < ${nr}; j++) c[i][j] = fmaf(lo, FMC_BF_LO(b[j]), fmaf(hi, FMC_BF_HI(b[j]), c[i][j]));
    }
  }
  for (int i = 0; i < ${mr}; i++)
    for (int j = 0; j < ${nr}; j++) acc[i * ${nr} + j] = c[i][j];`;

/** Rows a vdpbf16ps chunk holds: all of a tile whose sums fit 28 registers, else 8. */
const chunkRows = (mr: number, v: number): number => (mr * v <= 28 ? mr : mr % 8 === 0 ? 8 : 1);

/** The vdpbf16ps body (nr a multiple of 16): chunks of rows, their sums in registers. */
const native = (mr: number, nr: number): string => {
  const v = nr / 16;
  const r = chunkRows(mr, v);
  return `  for (int i0 = 0; i0 < ${mr}; i0 += ${r}) {
    __m512 c[${r}][${v}];
    for (int i = 0; i < ${r}; i++)
      for (int j = 0; j < ${v}; j++) c[i][j] = _mm512_loadu_ps(acc + (i0 + i) * ${nr} + 16 * j);
    const int32_t *a = ap + i0 * lda;
    #pragma GCC unroll 2
    for (int64_t p = 0; p < np; p++) {
      const int32_t *b = bp + p * ${nr};
      __m512bh y[${v}];
      for (int j = 0; j < ${v}; j++) {
        __builtin_prefetch(b + ${8 * nr} + 16 * j, 0, 3);
        y[j] = (__m512bh)_mm512_loadu_si512((const void *)(b + 16 * j));
      }
      for (int i = 0; i < ${r}; i++) {
        const __m512bh x = (__m512bh)_mm512_set1_epi32(a[i * lda + p]);
        for (int j = 0; j < ${v}; j++) c[i][j] = _mm512_dpbf16_ps(c[i][j], x, y[j]);
      }
    }
    for (int i = 0; i < ${r}; i++)
      for (int j = 0; j < ${v}; j++) _mm512_storeu_ps(acc + (i0 + i) * ${nr} + 16 * j, c[i][j]);
  }`;
};

/** The AMX body (mr, nr multiples of 16, at most 8 tiles): (mr/16)·(nr/16) sum tiles, then A's and B's. */
const amx = (mr: number, nr: number): string => {
  const [R, C] = [mr / 16, nr / 16];
  const sums = Array.from({ length: R * C }, (_, t) => [t, Math.floor(t / C), t % C] as const);
  const at = (r: number, c: number): string => `acc + ${r * 16 * nr + c * 16}`;
  const lines = [
    `  if (np % 16 == 0 && fmc_amx()) {`,
    `    fmc_amx_config();`,
    ...sums.map(([t, r, c]) => `    _tile_loadd(${t}, ${at(r, c)}, ${nr * 4});`),
    `    for (int64_t p = 0; p < np; p += 16) {`,
    ...Array.from({ length: R }, (_, r) => `      _tile_loadd(${R * C + r}, ap + ${r * 16} * lda + p, lda * 4);`),
    ...Array.from(
      { length: C },
      (_, c) => `      _tile_loadd(${R * C + R + c}, bp + p * ${nr} + ${c * 16}, ${nr * 4});`,
    ),
    ...sums.map(([t, r, c]) => `      _tile_dpbf16ps(${t}, ${R * C + r}, ${R * C + R + c});`),
    `    }`,
    ...sums.map(([t, r, c]) => `    _tile_stored(${t}, ${at(r, c)}, ${nr * 4});`),
    `    return;`,
    `  }`,
  ];
  return `#ifdef FMC_DOTBF16_AMX\n${lines.join('\n')}\n#endif`;
};

export function dotbf16Function(mr: number, nr: number): string {
  const head = `__attribute__((noinline)) FMC_WIDE static void ${dotbf16Name(mr, nr)}(int64_t np, const int32_t *restrict ap,
    int64_t lda, const int32_t *restrict bp, float *restrict acc) {`;
  if (nr % 16 !== 0) return `${head}\n${portable(mr, nr)}\n}`;
  const fast = amxFits(mr, nr) ? `${amx(mr, nr)}\n` : '';
  return `${head}\n#ifdef FMC_DOTBF16_NATIVE\n${fast}${native(mr, nr)}\n#else\n${portable(mr, nr)}\n#endif\n}`;
}
