// The CPU shim's warp collectives (included by fmc_cuda_cpu.h): shuffles, votes, __syncwarp,
// and the tensor-core macros of the CUDA prelude (FMC_MMA_M16N8K16_F16F32 / _BF16F32,
// FMC_LDMATRIX_X4). Each lane deposits its operands and suspends; when every lane of the warp
// has reached the same collective, the scheduler runs it once for the warp (fmc_cpu_sched.h).
// Fragment layouts are the PTX ISA's ("Matrix Fragments for mma.m16n8k16 with floating point
// type", "ldmatrix"), with groupID = lane >> 2 and tig = lane % 4:
//   A (16x16, row): a[r] holds elements 2r, 2r+1 (low half first) at row groupID (+8 for
//     r = 1, 3), columns 2*tig + {0,1} (+8 for r = 2, 3);
//   B (16x8, col): b[r] holds rows 2*tig + {0,1} (+8 for r = 1), column groupID;
//   C/D (16x8 f32): c[i] at row groupID (+8 for i >= 2), column 2*tig + (i & 1);
//   ldmatrix .x4: lanes 8m..8m+7 give the row addresses of 8x8 matrix m; r[m] of lane l holds
//     row l/4, columns 2*(l%4) + {0,1} of matrix m.
#pragma once
#include "fmc_cpu_sched.h"

namespace fmc_cpu {

/** The lane's result after a collective (the scheduler resumed it with lane.result set). */
template <class T>
T collective(Site site, const char* what, WarpOp op, unsigned mask, T v, int arg, int width = 32) {
  static_assert(sizeof(T) <= 8, "warp collectives move at most 64 bits per lane");
  Fiber* f = sched.cur;
  if (!f) fail("a warp collective outside a kernel launch");
  if (width < 1 || width > 32 || (width & (width - 1))) fail("shuffle width is not a power of 2 up to 32");
  Lane& l = f->lane;
  l = Lane{op, what, mask, arg, width, 0, 0, {nullptr, nullptr, nullptr}, nullptr};
  memcpy(&l.value, &v, sizeof(T));
  suspend(State::Warp, site);
  T r;
  memcpy(&r, &f->lane.result, sizeof(T));
  return r;
}

/** A shuffle: each lane reads lane `src(lane)` of its warp, or keeps its own value where src < 0. */
template <int (*Src)(int lane, int arg, int width)>
void shuffleOp(Fiber* lanes, unsigned count) {
  for (unsigned i = 0; i < count; ++i) {
    const Lane& l = lanes[i].lane;
    int s = Src(int(i), l.arg, l.width);
    if (s >= int(count)) {
      char msg[160];
      snprintf(msg, sizeof msg, "%s: lane %u reads lane %d, which this block's last warp does not have", l.what,
               i, s);
      fail(msg);
    }
    lanes[i].lane.result = s < 0 ? l.value : lanes[s].lane.value;
  }
}
inline int srcIdx(int lane, int arg, int w) { return (lane & ~(w - 1)) + (arg & (w - 1)); }
inline int srcXor(int lane, int arg, int w) {
  int s = lane ^ arg;
  return s >= (lane & ~(w - 1)) + w ? -1 : s;
}
inline int srcDown(int lane, int arg, int w) { return lane + arg >= (lane & ~(w - 1)) + w ? -1 : lane + arg; }
inline int srcUp(int lane, int arg, int w) { return lane - arg < (lane & ~(w - 1)) ? -1 : lane - arg; }

inline void ballotOp(Fiber* lanes, unsigned count) {
  uint64_t bits = 0;
  for (unsigned i = 0; i < count; ++i) bits |= uint64_t(lanes[i].lane.value != 0) << i;
  for (unsigned i = 0; i < count; ++i) lanes[i].lane.result = bits;
}
inline void syncwarpOp(Fiber*, unsigned) {}

// ---------- tensor cores ----------

inline float halfToFloat(uint32_t h) {
  uint32_t sign = (h & 0x8000u) << 16, e = (h >> 10) & 31, m = h & 0x3ff, bits;
  if (e == 31) {
    bits = sign | 0x7f800000u | (m << 13);
  } else if (e != 0) {
    bits = sign | ((e + 112) << 23) | (m << 13);
  } else {
    float v = float(m) * (1.0f / 16777216.0f);  // subnormal: m * 2^-24
    return sign ? -v : v;
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}
inline float bf16ToFloat(uint32_t h) {
  uint32_t bits = h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}
inline float half16(uint32_t word, int hi, bool bf16) {
  uint32_t h = (word >> (16 * hi)) & 0xffffu;
  return bf16 ? bf16ToFloat(h) : halfToFloat(h);
}

/** D = A * B + C for one m16n8k16 tile, gathered from and scattered to the lanes' fragments. */
template <bool Bf16>
void mmaOp(Fiber* lanes, unsigned count) {
  if (count != 32) fail("mma.m16n8k16 in a partial warp");
  float A[16][16], B[16][8], C[16][8];
  for (unsigned l = 0; l < 32; ++l) {
    const uint32_t* a = static_cast<const uint32_t*>(lanes[l].lane.in[0]);
    const uint32_t* b = static_cast<const uint32_t*>(lanes[l].lane.in[1]);
    const float* c = static_cast<const float*>(lanes[l].lane.in[2]);
    unsigned g = l >> 2, t = l & 3;
    for (int i = 0; i < 8; ++i) {
      unsigned row = g + ((i & 2) ? 8 : 0), col = 2 * t + (i & 1) + ((i & 4) ? 8 : 0);
      A[row][col] = half16(a[i >> 1], i & 1, Bf16);
    }
    for (int i = 0; i < 4; ++i) B[2 * t + (i & 1) + ((i & 2) ? 8 : 0)][g] = half16(b[i >> 1], i & 1, Bf16);
    for (int i = 0; i < 4; ++i) C[g + ((i & 2) ? 8 : 0)][2 * t + (i & 1)] = c[i];
  }
  for (unsigned l = 0; l < 32; ++l) {
    float* d = static_cast<float*>(lanes[l].lane.out);
    unsigned g = l >> 2, t = l & 3;
    for (int i = 0; i < 4; ++i) {
      unsigned row = g + ((i & 2) ? 8 : 0), col = 2 * t + (i & 1);
      float acc = C[row][col];
      for (int k = 0; k < 16; ++k) acc = fmaf(A[row][k], B[k][col], acc);
      d[i] = acc;
    }
  }
}

inline void mma(Site site, bool bf16, float* d, const uint32_t* a, const uint32_t* b, const float* c) {
  Fiber* f = sched.cur;
  if (!f) fail("mma outside a kernel launch");
  f->lane = Lane{bf16 ? &mmaOp<true> : &mmaOp<false>, "mma.m16n8k16", ~0u, 0, 32, 0, 0, {a, b, c}, d};
  suspend(State::Warp, site);
}

inline void ldmatrixOp(Fiber* lanes, unsigned count) {
  if (count != 32) fail("ldmatrix in a partial warp");
  for (unsigned l = 0; l < 32; ++l) {
    uint32_t* r = static_cast<uint32_t*>(lanes[l].lane.out);
    for (unsigned m = 0; m < 4; ++m) {
      const unsigned char* row = static_cast<const unsigned char*>(lanes[8 * m + (l >> 2)].lane.in[0]);
      memcpy(&r[m], row + 4 * (l & 3), 4);
    }
  }
}

inline void ldmatrixX4(Site site, uint32_t* r, const void* rowAddress) {
  Fiber* f = sched.cur;
  if (!f) fail("ldmatrix outside a kernel launch");
  f->lane = Lane{&ldmatrixOp, "ldmatrix.x4", ~0u, 0, 32, 0, 0, {rowAddress, nullptr, nullptr}, r};
  suspend(State::Warp, site);
}

}  // namespace fmc_cpu

#define FMC_SITE_ (::fmc_cpu::Site{__FILE__, __LINE__})
#define __shfl_sync(mask, v, ...) \
  ::fmc_cpu::collective(FMC_SITE_, "__shfl_sync", &::fmc_cpu::shuffleOp<::fmc_cpu::srcIdx>, mask, v, __VA_ARGS__)
#define __shfl_xor_sync(mask, v, ...) \
  ::fmc_cpu::collective(FMC_SITE_, "__shfl_xor_sync", &::fmc_cpu::shuffleOp<::fmc_cpu::srcXor>, mask, v, __VA_ARGS__)
#define __shfl_down_sync(mask, v, ...) \
  ::fmc_cpu::collective(FMC_SITE_, "__shfl_down_sync", &::fmc_cpu::shuffleOp<::fmc_cpu::srcDown>, mask, v, __VA_ARGS__)
#define __shfl_up_sync(mask, v, ...) \
  ::fmc_cpu::collective(FMC_SITE_, "__shfl_up_sync", &::fmc_cpu::shuffleOp<::fmc_cpu::srcUp>, mask, v, __VA_ARGS__)
#define __ballot_sync(mask, p) \
  unsigned(::fmc_cpu::collective<int>(FMC_SITE_, "__ballot_sync", &::fmc_cpu::ballotOp, mask, (p) ? 1 : 0, 0, 32))
#define __any_sync(mask, p) (__ballot_sync(mask, p) != 0u)
#define __all_sync(mask, p) (__ballot_sync(mask, !(p)) == 0u)
#define __syncwarp(...) \
  ((void)::fmc_cpu::collective<int>(FMC_SITE_, "__syncwarp", &::fmc_cpu::syncwarpOp, ~0u, 0, 0))
#define FMC_MMA_M16N8K16_F16F32(d, a, b, c) ::fmc_cpu::mma(FMC_SITE_, false, (d), (a), (b), (c))
#define FMC_MMA_M16N8K16_BF16F32(d, a, b, c) ::fmc_cpu::mma(FMC_SITE_, true, (d), (a), (b), (c))
#define FMC_LDMATRIX_X4(r, smem_addr) ::fmc_cpu::ldmatrixX4(FMC_SITE_, (r), (smem_addr))
