// NativeLibrary (loadLibrary): a dlopen'ed library of generated kernels (library.cpp defines
// its class and loadLibrary; run.cpp runs launch lists on it).
//
// The generated library's C ABI:
//   typedef void (*fmc_kernel)(void *const *restrict args, const int64_t *restrict dims);
//   const int32_t fmc_abi_version = 1;
//   const int32_t fmc_kernel_count = N;
//   const fmc_kernel fmc_kernels[N];
//   void fmc_set_threads(int32_t n);
//   void fmc_set_parallel(void (*)(body, ctx, n));   optional: the runtime passes its pool
#pragma once

#include <dlfcn.h>
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>

#include "pool.h"

namespace fmc {

using Kernel = void (*)(void* const* args, const int64_t* dims);
using SetThreads = void (*)(int32_t n);
using SetParallel = void (*)(void (*)(ParallelBody, const void*, int64_t));

constexpr int32_t kAbiVersion = 1;
constexpr int32_t kMaxArgs = 4096;  // a kernel of a 64-expert MoE can take more than 64 buffers

/**
 * Marks the OpenMP runtime the library pulled in (if any) RTLD_NODELETE: dlclose of the last
 * kernel library must not unmap libgomp under its parked worker threads, and reloading a
 * library then reuses the same thread pool instead of starting another.
 */
inline void PinOpenMpRuntime() {
  for (const char* name : {"libgomp.so.1", "libomp.so", "libomp.so.5", "libiomp5.so"}) {
    if (void* rt = dlopen(name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE)) dlclose(rt);
  }
  dlerror();
}

class NativeLibrary : public Napi::ObjectWrap<NativeLibrary> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeLibrary",
                       {
                           InstanceAccessor<&NativeLibrary::KernelCount>("kernelCount"),
                           InstanceAccessor<&NativeLibrary::Path>("path"),
                           InstanceMethod<&NativeLibrary::SetThreadsMethod>("setThreads"),
                           InstanceMethod<&NativeLibrary::Close>("close"),
                       });
  }

  /** new NativeLibrary(path): dlopen and resolve the ABI symbols, or throw naming what failed. */
  explicit NativeLibrary(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeLibrary>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
      throw Napi::TypeError::New(env, "loadLibrary: path must be a string");
    }
    path_ = info[0].As<Napi::String>().Utf8Value();
    dlerror();
    handle_ = dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* err = dlerror();
      throw Napi::Error::New(env, "loadLibrary: dlopen failed: " + std::string(err ? err : path_));
    }
    PinOpenMpRuntime();
    try {
      auto* abi = static_cast<const int32_t*>(Symbol(env, "fmc_abi_version"));
      if (*abi != kAbiVersion) {
        throw Napi::Error::New(env, "loadLibrary: fmc_abi_version is " + std::to_string(*abi) + " in " + path_ +
                                        ", expected " + std::to_string(kAbiVersion));
      }
      auto* count = static_cast<const int32_t*>(Symbol(env, "fmc_kernel_count"));
      if (*count < 0) {
        throw Napi::Error::New(env, "loadLibrary: fmc_kernel_count is " + std::to_string(*count) + " in " + path_);
      }
      kernels_ = static_cast<const Kernel*>(Symbol(env, "fmc_kernels"));
      setThreads_ = reinterpret_cast<SetThreads>(Symbol(env, "fmc_set_threads"));
      kernelCount_ = *count;
      // Libraries that outline their parallel loops run them on the runtime's pool (pool.cpp).
      if (void* set = dlsym(handle_, "fmc_set_parallel")) reinterpret_cast<SetParallel>(set)(fmc_pool_parallel);
      dlerror();
    } catch (...) {
      dlclose(handle_);
      handle_ = nullptr;
      throw;
    }
  }

  ~NativeLibrary() override {
    if (handle_ != nullptr) dlclose(handle_);
  }

  /** The library's kernels, or throw "library closed". */
  const Kernel* Kernels(Napi::Env env) const {
    if (handle_ == nullptr) throw Napi::Error::New(env, "library closed: " + path_);
    return kernels_;
  }
  int32_t Count() const { return kernelCount_; }

  /** Asynchronous runs in flight (close() is refused while there are any). */
  std::atomic<int32_t> busy_{0};

 private:
  void* Symbol(Napi::Env env, const char* name) {
    dlerror();
    void* sym = dlsym(handle_, name);
    const char* err = dlerror();
    if (sym == nullptr || err != nullptr) {
      throw Napi::Error::New(env, std::string("loadLibrary: symbol ") + name + " missing in " + path_ +
                                      (err ? std::string(" (") + err + ")" : std::string()));
    }
    return sym;
  }

  Napi::Value KernelCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), kernelCount_); }
  Napi::Value Path(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), path_); }

  /**
   * setThreads(n): the thread count of the library's kernels: of the pool (shared by every
   * library of the process) and of OpenMP, for loops the library still runs with it.
   */
  void SetThreadsMethod(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Kernels(env);
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "setThreads: n must be a number");
    double n = info[0].As<Napi::Number>().DoubleValue();
    if (!(n >= 1 && n <= 65536 && n == std::floor(n))) {
      throw Napi::RangeError::New(env, "setThreads: n must be an integer in [1, 65536], got " + std::to_string(n));
    }
    setThreads_(static_cast<int32_t>(n));
    SetPoolThreads(static_cast<int32_t>(n));
  }

  /** close(): dlclose; further use of the library throws "library closed". */
  void Close(const Napi::CallbackInfo& info) {
    if (busy_.load() > 0) throw Napi::Error::New(info.Env(), "library is running (a runAsync is in flight): " + path_);
    if (handle_ != nullptr) dlclose(handle_);
    handle_ = nullptr;
    kernels_ = nullptr;
    setThreads_ = nullptr;
  }

  std::string path_;
  void* handle_ = nullptr;
  const Kernel* kernels_ = nullptr;
  SetThreads setThreads_ = nullptr;
  int32_t kernelCount_ = 0;
};

}  // namespace fmc
