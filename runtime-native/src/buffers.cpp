// alignedBuffer(bytes): a zero-filled, 64-byte aligned external ArrayBuffer whose memory is
// freed by a finalizer when the ArrayBuffer is collected. Node runs such finalizers only when
// the event loop turns (SetImmediate), so a synchronous loop that makes them piles memory up:
// per-call buffers are ArrayBuffers that V8 allocates and frees itself, aligned by an offset
// from alignOffset(buffer).
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

  void* p = nullptr;
  if (posix_memalign(&p, kAlignment, n) != 0 || p == nullptr) {
    throw Napi::RangeError::New(env, "alignedBuffer: cannot allocate " + std::to_string(n) + " bytes");
  }
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

}  // namespace fmc
