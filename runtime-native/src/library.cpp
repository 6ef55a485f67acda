// NativeLibrary (loadLibrary): a dlopen'ed library of generated kernels, and run(): a whole
// launch list executed in one native call after every record has been validated.
//
// The generated library's C ABI:
//   typedef void (*fmc_kernel)(void *const *restrict args, const int64_t *restrict dims);
//   const int32_t fmc_abi_version = 1;
//   const int32_t fmc_kernel_count = N;
//   const fmc_kernel fmc_kernels[N];
//   void fmc_set_threads(int32_t n);
//   void fmc_set_parallel(void (*)(body, ctx, n));   optional: the runtime passes its pool
#include <dlfcn.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "addon.h"
#include "pool.h"

namespace fmc {
namespace {

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
void PinOpenMpRuntime() {
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
  void Close(const Napi::CallbackInfo&) {
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

/** The typed array in `value` if it has the given element type, else a TypeError naming `what`. */
template <typename T>
Napi::TypedArrayOf<T> TypedArg(Napi::Env env, const Napi::Value& value, napi_typedarray_type type, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(env, std::string("run: ") + what);
  }
  return value.As<Napi::TypedArrayOf<T>>();
}

std::string At(size_t i) { return "run: launch record at index " + std::to_string(i) + ": "; }

}  // namespace

Napi::Function DefineLibraryClass(Napi::Env env) { return NativeLibrary::Define(env); }

Napi::Value LoadLibrary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "loadLibrary: path must be a string");
  return env.GetInstanceData<AddonData>()->libraryCtor.New({info[0]});
}

/**
 * run(lib, launches, views, viewOffsets, dims, timings?, viewBytes?): validates everything, then
 * calls each record's kernel as fn(args, dims) with args[j] = data(views[v_j]) + viewOffsets[v_j].
 * viewBytes[v], when given, is how many bytes from viewOffsets[v] the kernels may touch: a view
 * whose buffer (as it is now, after any resize, transfer or detach) is shorter is refused.
 */
Napi::Value Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Function ctor = env.GetInstanceData<AddonData>()->libraryCtor.Value();
  if (info.Length() < 5 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(ctor)) {
    throw Napi::TypeError::New(env, "run: expected (lib: NativeLibrary, launches, views, viewOffsets, dims, timings?)");
  }
  NativeLibrary* lib = NativeLibrary::Unwrap(info[0].As<Napi::Object>());
  if (!info[2].IsArray()) throw Napi::TypeError::New(env, "run: views must be an array of ArrayBuffers");

  // Reading array elements may run JS (getters, proxies) that could close the library or
  // detach a buffer, so every element is read before any pointer or check is taken.
  auto viewArray = info[2].As<Napi::Array>();
  const size_t viewCount = viewArray.Length();
  std::vector<Napi::Value> views(viewCount);
  for (size_t v = 0; v < viewCount; v++) views[v] = viewArray.Get(static_cast<uint32_t>(v));

  // From here on no JS runs until the kernels return.
  const Kernel* kernels = lib->Kernels(env);
  const int64_t kernelCount = lib->Count();
  auto launches = TypedArg<int32_t>(env, info[1], napi_int32_array, "launches must be an Int32Array");
  auto offsets = TypedArg<double>(env, info[3], napi_float64_array, "viewOffsets must be a Float64Array");
  auto dims = TypedArg<int64_t>(env, info[4], napi_bigint64_array, "dims must be a BigInt64Array");
  bool timed = info.Length() > 5 && !info[5].IsUndefined();
  bool sized = info.Length() > 6 && !info[6].IsUndefined();
  const double* needs = nullptr;
  if (sized) {
    auto bytes = TypedArg<double>(env, info[6], napi_float64_array, "viewBytes must be a Float64Array or undefined");
    if (bytes.ElementLength() != viewCount) {
      throw Napi::RangeError::New(env, "run: views.length (" + std::to_string(viewCount) +
                                           ") !== viewBytes.length (" + std::to_string(bytes.ElementLength()) + ")");
    }
    needs = bytes.Data();
  }

  // Views: pointers from (ArrayBuffer, offset) pairs.
  if (offsets.ElementLength() != viewCount) {
    throw Napi::RangeError::New(env, "run: views.length (" + std::to_string(viewCount) +
                                         ") !== viewOffsets.length (" + std::to_string(offsets.ElementLength()) + ")");
  }
  std::vector<void*> pointers(viewCount);
  for (size_t v = 0; v < viewCount; v++) {
    if (!views[v].IsArrayBuffer()) {
      throw Napi::TypeError::New(env, "run: views[" + std::to_string(v) + "] is not an ArrayBuffer");
    }
    auto buffer = views[v].As<Napi::ArrayBuffer>();
    if (buffer.IsDetached()) throw Napi::TypeError::New(env, "run: views[" + std::to_string(v) + "] is detached");
    double offset = offsets[v];
    if (!(offset >= 0 && offset == std::floor(offset) && offset <= static_cast<double>(buffer.ByteLength()))) {
      throw Napi::RangeError::New(env, "run: viewOffsets[" + std::to_string(v) + "] = " + std::to_string(offset) +
                                           " is not an integer in [0, " + std::to_string(buffer.ByteLength()) + "]");
    }
    if (needs != nullptr) {
      // Checked as doubles: offset and length are both below 2^53, so the sum is exact enough
      // to compare with a byte length (a need that is not a non-negative integer is refused).
      double need = needs[v];
      if (!(need >= 0 && need == std::floor(need) &&
            offset + need <= static_cast<double>(buffer.ByteLength()))) {
        throw Napi::RangeError::New(env, "run: views[" + std::to_string(v) + "] holds " +
                                             std::to_string(buffer.ByteLength()) + " bytes, the kernels need " +
                                             std::to_string(need) + " from offset " + std::to_string(offset));
      }
    }
    pointers[v] = static_cast<char*>(buffer.Data()) + static_cast<size_t>(offset);
  }

  // Records: [kernelIndex, argCount, viewIndex_0 ... viewIndex_{argCount-1}], all checked first.
  const int32_t* records = launches.Data();
  const size_t length = launches.ElementLength();
  size_t recordCount = 0;
  for (size_t i = 0; i < length; recordCount++) {
    if (length - i < 2) throw Napi::RangeError::New(env, At(i) + "truncated (no argCount)");
    int32_t kernel = records[i];
    int32_t argCount = records[i + 1];
    if (kernel < 0 || kernel >= kernelCount) {
      throw Napi::RangeError::New(
          env, At(i) + "kernel index " + std::to_string(kernel) + " out of range [0, " + std::to_string(kernelCount) + ")");
    }
    if (argCount < 0 || argCount > kMaxArgs) {
      throw Napi::RangeError::New(
          env, At(i) + "argCount " + std::to_string(argCount) + " out of range [0, " + std::to_string(kMaxArgs) + "]");
    }
    if (length - i - 2 < static_cast<size_t>(argCount)) {
      throw Napi::RangeError::New(env, At(i) + "truncated (" + std::to_string(argCount) + " view indices expected, " +
                                           std::to_string(length - i - 2) + " left)");
    }
    for (int32_t j = 0; j < argCount; j++) {
      int32_t view = records[i + 2 + j];
      if (view < 0 || static_cast<size_t>(view) >= viewCount) {
        throw Napi::RangeError::New(
            env, At(i) + "view index " + std::to_string(view) + " out of range [0, " + std::to_string(viewCount) + ")");
      }
    }
    i += 2 + static_cast<size_t>(argCount);
  }

  double* timings = nullptr;
  if (timed) {
    auto t = TypedArg<double>(env, info[5], napi_float64_array, "timings must be a Float64Array or undefined");
    if (t.ElementLength() != recordCount) {
      throw Napi::RangeError::New(env, "run: timings.length (" + std::to_string(t.ElementLength()) +
                                           ") !== number of launch records (" + std::to_string(recordCount) + ")");
    }
    timings = t.Data();
  }

  // Execution.
  const int64_t* dimsData = dims.Data();
  std::vector<void*> args(kMaxArgs);
  size_t record = 0;
  for (size_t i = 0; i < length; record++) {
    Kernel fn = kernels[records[i]];
    int32_t argCount = records[i + 1];
    for (int32_t j = 0; j < argCount; j++) args[j] = pointers[records[i + 2 + j]];
    if (timings != nullptr) {
      auto start = std::chrono::steady_clock::now();
      fn(args.data(), dimsData);
      auto end = std::chrono::steady_clock::now();
      timings[record] = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
    } else {
      fn(args.data(), dimsData);
    }
    i += 2 + static_cast<size_t>(argCount);
  }
  return env.Undefined();
}

}  // namespace fmc
