// The CPU shim's sparse tensor-core macros (included by fmc_cuda_cpu.h after fmc_cpu_warp.h):
// FMC_MMA_SP_M16N8K32_F16F32 / _BF16F32, PTX's mma.sp.sync.aligned.m16n8k32.row.col with a
// 2:4-sparse A. Layouts as the PTX ISA gives them ("Matrix fragments for multiply-accumulate
// operation with sparse matrix A", .m16n8k32 with .f16/.bf16), groupID g = lane >> 2 and
// tig t = lane % 4:
//   A (16x32, row, 2:4 along K): the 16x16 kept values, laid out as an m16n8k16 A fragment
//     (fmc_cpu_warp.h): a[r] holds kept values 2r, 2r+1 at row g (+8 for r = 1, 3), kept
//     columns 2t + {0,1} (+8 for r = 2, 3); kept column j belongs to the group of 4 columns j / 2;
//   B (32x8, col): b[r] holds rows 2t + {0,1} + 8r, column g;
//   C/D: as m16n8k16;
//   metadata: with selector s (0 or 1), lanes 4g + 2s + h (h = 0, 1) give group g's: columns
//     16h..16h+15 of row g in bits 0..15 and of row g + 8 in bits 16..31, 4 bits a group of 4
//     columns (its first kept value's position in bits 0-1, its second's in bits 2-3).
// Two equal positions in one group are invalid in PTX (undefined behaviour), and the
// ::ordered_metadata form (the prelude's where the toolkit has it) needs them increasing: the
// emulation fails on either.
// Only the kept values are multiplied (a zero position of A never meets B's value there).
#pragma once
#include "fmc_cpu_warp.h"

namespace fmc_cpu {

/** D = A * B + C for one sparse m16n8k32 tile, gathered from and scattered to the lanes. */
template <bool Bf16>
void mmaSpOp(Fiber* lanes, unsigned count) {
  if (count != 32) fail("mma.sp.m16n8k32 in a partial warp");
  float A[16][16], B[32][8], C[16][8];
  int col[16][16];  // the dense column of each kept value
  int sel = lanes[0].lane.arg;
  if (sel != 0 && sel != 1) fail("mma.sp.m16n8k32: sparsity selector not 0 or 1");
  for (unsigned l = 0; l < 32; ++l) {
    const uint32_t* a = static_cast<const uint32_t*>(lanes[l].lane.in[0]);
    const uint32_t* b = static_cast<const uint32_t*>(lanes[l].lane.in[1]);
    const float* c = static_cast<const float*>(lanes[l].lane.in[2]);
    if (lanes[l].lane.arg != sel) fail("mma.sp.m16n8k32: the lanes give different sparsity selectors");
    unsigned g = l >> 2, t = l & 3;
    for (int i = 0; i < 8; ++i) A[g + ((i & 2) ? 8 : 0)][2 * t + (i & 1) + ((i & 4) ? 8 : 0)] = half16(a[i >> 1], i & 1, Bf16);
    for (int i = 0; i < 8; ++i) B[2 * t + (i & 1) + 8 * (i >> 1)][g] = half16(b[i >> 1], i & 1, Bf16);
    for (int i = 0; i < 4; ++i) C[g + ((i & 2) ? 8 : 0)][2 * t + (i & 1)] = c[i];
    if ((t >> 1) != unsigned(sel)) continue;
    uint32_t e = uint32_t(lanes[l].lane.value);
    unsigned h = t & 1;
    for (unsigned half = 0; half < 2; ++half)
      for (unsigned q = 0; q < 4; ++q) {
        unsigned bits = (e >> (16 * half + 4 * q)) & 15u, p0 = bits & 3u, p1 = bits >> 2;
        if (p0 >= p1) fail("mma.sp.m16n8k32: a group's metadata positions are not increasing");
        unsigned row = g + 8 * half, group = 4 * h + q;  // group of 4 columns: 0..7
        col[row][2 * group] = int(4 * group + p0);
        col[row][2 * group + 1] = int(4 * group + p1);
      }
  }
  for (unsigned l = 0; l < 32; ++l) {
    float* d = static_cast<float*>(lanes[l].lane.out);
    unsigned g = l >> 2, t = l & 3;
    for (int i = 0; i < 4; ++i) {
      unsigned row = g + ((i & 2) ? 8 : 0), n = 2 * t + (i & 1);
      float acc = C[row][n];
      for (int j = 0; j < 16; ++j) acc = fmaf(A[row][j], B[col[row][j]][n], acc);
      d[i] = acc;
    }
  }
}

inline void mmaSp(Site site, bool bf16, float* d, const uint32_t* a, const uint32_t* b, uint32_t e, int sel,
                  const float* c) {
  Fiber* f = sched.cur;
  if (!f) fail("mma.sp outside a kernel launch");
  f->lane = Lane{bf16 ? &mmaSpOp<true> : &mmaSpOp<false>, "mma.sp.m16n8k32", ~0u, sel, 32, e, 0, {a, b, c}, d};
  suspend(State::Warp, site);
}

}  // namespace fmc_cpu

#define FMC_MMA_SP_M16N8K32_F16F32(d, a, b, e, s, c) \
  ::fmc_cpu::mmaSp(FMC_SITE_, false, (d), (const uint32_t*)(a), (const uint32_t*)(b), (uint32_t)(e), (s), (c))
#define FMC_MMA_SP_M16N8K32_BF16F32(d, a, b, e, s, c) \
  ::fmc_cpu::mmaSp(FMC_SITE_, true, (d), (const uint32_t*)(a), (const uint32_t*)(b), (uint32_t)(e), (s), (c))
