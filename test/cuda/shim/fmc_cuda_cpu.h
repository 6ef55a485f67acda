// fmc's CPU execution shim for generated CUDA (functional tests without a GPU): CUDA source
// written per the CUDA dialect's contract compiles as C++17 with g++ after this header and runs
// on the CPU. It defines FMC_CUDA_CPU (the prelude then takes the emulation of its special
// instructions instead of inline PTX), the qualifiers, threadIdx / blockIdx / blockDim /
// gridDim, __syncthreads, warp shuffles and votes, the tensor-core macros (fmc_cpu_warp.h; the
// sparse mma.sp ones in fmc_cpu_mma_sp.h),
// 32- and 64-bit atomics, the bit casts and the math builtins of the prelude's list, and the
// launcher fmc_launch(kernel, gridX, gridY, block, args...) (fmc_cpu_sched.h: each block's
// threads run as fibers in a chosen order; divergent barriers are reported, never hung).
// __shared__ variables are static storage in one section, shared by the threads of the block
// that runs, and filled with 0xff bytes (f32 NaN, integer -1) before each block starts; the
// harness declares __shared__ arrays as race-checked ones (fmc_cpu_race.h).
// Atomics are plain read-modify-writes: fibers switch only at barriers and collectives.
#pragma once
#define FMC_CUDA_CPU 1
#include <math.h>
#include "fmc_cpu_race.h"
#include "fmc_cpu_warp.h"
#include "fmc_cpu_mma_sp.h"

namespace fmc_cpu {

template <class F>
void callBody(void* f) {
  (*static_cast<F*>(f))();
}

/** Launches `kernel` on a gridX x gridY grid of 1-D blocks of `block` threads. */
template <class... P, class... A>
void launch(const char* name, void (*kernel)(P...), unsigned gridX, unsigned gridY, unsigned block, A&&... args) {
  if (block == 0 || block > 1024) fail("block size out of range (1..1024)");
  auto body = [&]() { kernel(args...); };
  sched.kernel = name;
  sched.body = &callBody<decltype(body)>;
  sched.bodyArg = &body;
  gridDim = {gridX, gridY, 1};
  blockDim = {block, 1, 1};
  // Blocks run one after another in the order's sequence too (forward, reverse, or k -> a k + c
  // mod n with a coprime to n), so a block that reads what another block of the launch writes shows.
  uint64_t n = uint64_t(gridX) * gridY, a = 1, c = 0;
  if (sched.order == Order::Shuffle && n > 1) {
    auto gcd = [](uint64_t p, uint64_t q) {
      while (q) {
        uint64_t r = p % q;
        p = q;
        q = r;
      }
      return p;
    };
    for (a = splitmix(sched.seed) % n | 1; gcd(a, n) != 1; a += 2) {
    }
    c = splitmix(sched.seed + 1) % n;
  }
  for (uint64_t k = 0; k < n; ++k) {
    uint64_t b = sched.order == Order::Reverse ? n - 1 - k : (a * k + c) % n;
    blockIdx = {unsigned(b % gridX), unsigned(b / gridX), 0};
    runBlock(block);
  }
  sched.kernel = "(none)";
}

}  // namespace fmc_cpu

#define fmc_launch(kernel, ...) ::fmc_cpu::launch(#kernel, kernel, __VA_ARGS__)

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ static __attribute__((section("fmc_shared"), aligned(16)))
#define __constant__ static
#define __align__(n) alignas(n)
#define __syncthreads() ::fmc_cpu::suspend(::fmc_cpu::State::Barrier, FMC_SITE_)
#define __threadfence() ((void)0)
#define __threadfence_block() ((void)0)
#define __trap() ::fmc_cpu::fail("__trap()")

using fmc_cpu::uint3;
struct alignas(8) float2 {
  float x, y;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(8) int2 {
  int x, y;
};
struct alignas(16) int4 {
  int x, y, z, w;
};
struct alignas(8) uint2 {
  unsigned int x, y;
};
struct alignas(16) uint4 {
  unsigned int x, y, z, w;
};
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }
template <class T>
inline T __ldg(const T* p) {
  return *p;
}

// ---------- bit casts ----------
namespace fmc_cpu {
template <class To, class From>
inline To bitcast(From v) {
  static_assert(sizeof(To) == sizeof(From), "bit cast between types of different sizes");
  To r;
  memcpy(&r, &v, sizeof r);
  return r;
}
}  // namespace fmc_cpu
inline float __int_as_float(int v) { return fmc_cpu::bitcast<float>(v); }
inline int __float_as_int(float v) { return fmc_cpu::bitcast<int>(v); }
inline float __uint_as_float(unsigned v) { return fmc_cpu::bitcast<float>(v); }
inline unsigned __float_as_uint(float v) { return fmc_cpu::bitcast<unsigned>(v); }
inline double __longlong_as_double(long long v) { return fmc_cpu::bitcast<double>(v); }
inline long long __double_as_longlong(double v) { return fmc_cpu::bitcast<long long>(v); }

// ---------- atomics (32- and 64-bit words; see the header) ----------
#define FMC_ATOMIC_(name, T, expr)    \
  inline T name(T* p, T v) {          \
    T old = *p;                       \
    *p = (expr);                      \
    return old;                       \
  }
#define FMC_ATOMIC_INTS_(name, expr)                   \
  FMC_ATOMIC_(name, int, int(expr))                    \
  FMC_ATOMIC_(name, unsigned int, (unsigned int)(expr)) \
  FMC_ATOMIC_(name, unsigned long long, (unsigned long long)(expr))
FMC_ATOMIC_INTS_(atomicAdd, (unsigned long long)old + (unsigned long long)v)
FMC_ATOMIC_INTS_(atomicSub, (unsigned long long)old - (unsigned long long)v)
FMC_ATOMIC_INTS_(atomicAnd, old & v)
FMC_ATOMIC_INTS_(atomicOr, old | v)
FMC_ATOMIC_INTS_(atomicXor, old ^ v)
FMC_ATOMIC_INTS_(atomicExch, v)
FMC_ATOMIC_INTS_(atomicMax, old > v ? old : v)
FMC_ATOMIC_INTS_(atomicMin, old < v ? old : v)
FMC_ATOMIC_(atomicMax, long long, old > v ? old : v)
FMC_ATOMIC_(atomicMin, long long, old < v ? old : v)
FMC_ATOMIC_(atomicAdd, float, old + v)
FMC_ATOMIC_(atomicAdd, double, old + v)
FMC_ATOMIC_(atomicExch, float, v)
#undef FMC_ATOMIC_INTS_
#undef FMC_ATOMIC_
template <class T>
inline T atomicCAS(T* p, T compare, T v) {
  static_assert(sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8, "atomicCAS on 16-, 32- or 64-bit words");
  T old = *p;
  if (old == compare) *p = v;
  return old;
}
inline unsigned atomicInc(unsigned* p, unsigned limit) {
  unsigned old = *p;
  *p = old >= limit ? 0 : old + 1;
  return old;
}
inline unsigned atomicDec(unsigned* p, unsigned limit) {
  unsigned old = *p;
  *p = old == 0 || old > limit ? limit : old - 1;
  return old;
}

// ---------- integer intrinsics ----------
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz(unsigned(v)); }
inline int __clzll(long long v) { return v == 0 ? 64 : __builtin_clzll((unsigned long long)v); }
inline int __ffs(int v) { return __builtin_ffs(v); }
inline int __ffsll(long long v) { return __builtin_ffsll(v); }
inline unsigned __brev(unsigned v) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((v >> i) & 1u) << (31 - i);
  return r;
}
inline int __mulhi(int a, int b) { return int(((long long)a * b) >> 32); }
inline unsigned __umulhi(unsigned a, unsigned b) { return unsigned(((unsigned long long)a * b) >> 32); }
inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}

// ---------- float intrinsics (the fast forms computed exactly: results may differ from a GPU's by ulps) ----------
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline void __sincosf(float x, float* s, float* c) { sincosf(x, s, c); }
inline float __fdividef(float a, float b) { return a / b; }
inline float fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __saturatef(float x) { return x >= 1.0f ? 1.0f : x > 0.0f ? x : 0.0f; }
inline float sinpif(float x) { return float(sin(M_PI * double(fmodf(x, 2.0f)))); }
inline float cospif(float x) { return float(cos(M_PI * double(fmodf(x, 2.0f)))); }
/** float to int conversions as the GPU's cvt: round as named, NaN to 0, saturating. */
inline int fmc_cvt_i32(double v) { return v != v ? 0 : v >= 2147483647.0 ? 2147483647 : v <= -2147483648.0 ? (-2147483647 - 1) : int(v); }
inline int __float2int_rn(float x) { return fmc_cvt_i32(nearbyint(double(x))); }
inline int __float2int_rz(float x) { return fmc_cvt_i32(trunc(double(x))); }
inline int __float2int_rd(float x) { return fmc_cvt_i32(floor(double(x))); }
inline int __float2int_ru(float x) { return fmc_cvt_i32(ceil(double(x))); }
inline float __int2float_rn(int v) { return float(v); }
