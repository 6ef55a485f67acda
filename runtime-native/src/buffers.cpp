// alignedBuffer(bytes, huge?): a zero-filled, 64-byte aligned external ArrayBuffer whose memory is
// freed by a finalizer when the ArrayBuffer is collected. Node runs such finalizers only when
// the event loop turns (SetImmediate), so a synchronous loop that makes them piles memory up:
// per-call buffers are ArrayBuffers that V8 allocates and frees itself, aligned by an offset
// from alignOffset(buffer).
//
// adviseHugePages(buffer): the first store to each fresh 4 KiB page is a page fault, and under
// some hypervisors a fault costs 14-18 µs (a 2-core AMD EPYC VM under PVM: 16 MiB of fresh
// memory took 73 ms to write, 1-5 ms with huge pages). Large buffers are therefore advised
// MADV_HUGEPAGE (Linux's transparent huge pages, where enabled for madvise or always): one
// fault per 2 MiB of their aligned interior (alignedBuffer with huge = true: from 4 MiB, the
// whole buffer, 2 MiB aligned). Advice only: where huge pages are off, or on other systems,
// nothing changes.
#include <sys/mman.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "addon.h"

namespace fmc {
namespace {

constexpr size_t kAlignment = 64;
constexpr double kMaxBytes = 70368744177664.0;  // 2^46
constexpr size_t kHugePage = size_t{2} << 20;
/** alignedBuffer(bytes, true) of at least this many bytes starts on a huge page, advised. */
constexpr size_t kHugeAlignFrom = 2 * kHugePage;

/** Advises MADV_HUGEPAGE for the whole 2 MiB pages inside [p, p + n); returns the bytes advised. */
size_t AdviseHuge(void* p, size_t n) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const auto a = reinterpret_cast<uintptr_t>(p);
  const uintptr_t lo = (a + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t hi = (a + n) & ~(kHugePage - 1);
  if (hi <= lo) return 0;
  return madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE) == 0 ? hi - lo : 0;
#else
  (void)p;
  (void)n;
  return 0;
#endif
}

}  // namespace

Napi::Value AlignedBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(env, "alignedBuffer: bytes must be a number");
  }
  double bytes = info[0].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(bytes) || bytes != std::floor(bytes)) {
    throw Napi::TypeError::New(env, "alignedBuffer: bytes must be an integer, got " + std::to_string(bytes));
  }
  if (bytes < 0 || bytes > kMaxBytes) {
    throw Napi::RangeError::New(env, "alignedBuffer: bytes must be in [0, 2^46], got " + std::to_string(bytes));
  }
  size_t n = static_cast<size_t>(bytes);
  if (n == 0) return Napi::ArrayBuffer::New(env, 0);
  const bool huge = info.Length() > 1 && info[1].ToBoolean().Value() && n >= kHugeAlignFrom;

  void* p = nullptr;
  if (posix_memalign(&p, huge ? kHugePage : kAlignment, n) != 0 || p == nullptr) {
    throw Napi::RangeError::New(env, "alignedBuffer: cannot allocate " + std::to_string(n) + " bytes");
  }
  if (huge) AdviseHuge(p, n);
  std::memset(p, 0, n);
  // V8 counts an external backing store's length towards its GC heuristics by itself.
  try {
    return Napi::ArrayBuffer::New(env, p, n, [](Napi::Env, void* data) { std::free(data); });
  } catch (...) {
    std::free(p);
    throw;
  }
}

/** alignOffset(buffer): bytes from the start of an ArrayBuffer's data to its first 64-byte boundary. */
Napi::Value AlignOffset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) {
    throw Napi::TypeError::New(env, "alignOffset: expected an ArrayBuffer");
  }
  auto buffer = info[0].As<Napi::ArrayBuffer>();
  auto address = reinterpret_cast<uintptr_t>(buffer.Data());
  return Napi::Number::New(env, static_cast<double>((kAlignment - address % kAlignment) % kAlignment));
}

/** adviseHugePages(buffer): MADV_HUGEPAGE for the whole 2 MiB pages of an ArrayBuffer's data; the bytes advised. */
Napi::Value AdviseHugePages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) {
    throw Napi::TypeError::New(env, "adviseHugePages: expected an ArrayBuffer");
  }
  auto buffer = info[0].As<Napi::ArrayBuffer>();
  return Napi::Number::New(env, static_cast<double>(AdviseHuge(buffer.Data(), buffer.ByteLength())));
}

}  // namespace fmc
