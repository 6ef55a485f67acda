// run() and runAsync(): a whole launch list of a NativeLibrary executed in one native call,
// after every record has been validated. run() executes on the calling thread; runAsync() on
// a libuv worker thread (the event loop keeps turning) and returns a Promise. One launch list
// executes at a time in the process (they share the kernels' thread pool and the buffers of
// an executable), so a run() waits for a runAsync() in flight.
#include <chrono>
#include <mutex>
#include <vector>

#include "addon.h"
#include "library.h"

namespace fmc {
namespace {

/** The typed array in `value` if it has the given element type, else a TypeError naming `what`. */
template <typename T>
Napi::TypedArrayOf<T> TypedArg(Napi::Env env, const Napi::Value& value, napi_typedarray_type type, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(env, std::string("run: ") + what);
  }
  return value.As<Napi::TypedArrayOf<T>>();
}

std::string At(size_t i) { return "run: launch record at index " + std::to_string(i) + ": "; }

/** Serializes the execution of launch lists (run and runAsync). */
std::mutex g_execute;

/** A validated launch list: what execution needs, copied out of the JS values. */
struct Prepared {
  NativeLibrary* lib = nullptr;
  const Kernel* kernels = nullptr;
  std::vector<int32_t> records;
  std::vector<void*> pointers;
  std::vector<int64_t> dims;
  double* timings = nullptr;
};

/**
 * Validates run(lib, launches, views, viewOffsets, dims, timings?, viewBytes?): each record's
 * kernel is called as fn(args, dims) with args[j] = data(views[v_j]) + viewOffsets[v_j].
 * viewBytes[v], when given, is how many bytes from viewOffsets[v] the kernels may touch: a view
 * whose buffer (as it is now, after any resize, transfer or detach) is shorter is refused.
 */
Prepared Prepare(const Napi::CallbackInfo& info) {
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

  Prepared p;
  if (timed) {
    auto t = TypedArg<double>(env, info[5], napi_float64_array, "timings must be a Float64Array or undefined");
    if (t.ElementLength() != recordCount) {
      throw Napi::RangeError::New(env, "run: timings.length (" + std::to_string(t.ElementLength()) +
                                           ") !== number of launch records (" + std::to_string(recordCount) + ")");
    }
    p.timings = t.Data();
  }
  p.lib = lib;
  p.kernels = kernels;
  p.records.assign(records, records + length);
  p.pointers = std::move(pointers);
  p.dims.assign(dims.Data(), dims.Data() + dims.ElementLength());
  return p;
}


/** Calls each record's kernel in order (one launch list at a time in the process). */
void Execute(const Prepared& p) {
  std::lock_guard<std::mutex> lock(g_execute);
  std::vector<void*> args(kMaxArgs);
  const size_t length = p.records.size();
  size_t record = 0;
  for (size_t i = 0; i < length; record++) {
    Kernel fn = p.kernels[p.records[i]];
    int32_t argCount = p.records[i + 1];
    for (int32_t j = 0; j < argCount; j++) args[j] = p.pointers[p.records[i + 2 + j]];
    if (p.timings != nullptr) {
      auto start = std::chrono::steady_clock::now();
      fn(args.data(), p.dims.data());
      auto end = std::chrono::steady_clock::now();
      p.timings[record] = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
    } else {
      fn(args.data(), p.dims.data());
    }
    i += 2 + static_cast<size_t>(argCount);
  }
}

/**
 * A launch list executed on a libuv worker thread. It holds references to the library object
 * and every view's ArrayBuffer, so none is collected while it runs; the caller must not let
 * anything else touch those buffers meanwhile (the executable hands it only its own).
 */
class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, Prepared p, const Napi::CallbackInfo& info)
      : Napi::AsyncWorker(env, "fmc.runAsync"), p_(std::move(p)), deferred_(Napi::Promise::Deferred::New(env)) {
    refs_.push_back(Napi::Persistent(info[0].As<Napi::Object>()));
    auto views = info[2].As<Napi::Array>();
    for (uint32_t v = 0; v < views.Length(); v++) refs_.push_back(Napi::Persistent(views.Get(v).As<Napi::Object>()));
    p_.lib->busy_++;
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { fmc::Execute(p_); }
  void OnOK() override {
    p_.lib->busy_--;
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    p_.lib->busy_--;
    deferred_.Reject(e.Value());
  }

 private:
  Prepared p_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> refs_;
};

}  // namespace

/** run(lib, launches, views, viewOffsets, dims, timings?, viewBytes?): see Prepare. */
Napi::Value Run(const Napi::CallbackInfo& info) {
  Execute(Prepare(info));
  return info.Env().Undefined();
}

/** runAsync(lib, launches, views, viewOffsets, dims, undefined, viewBytes?): a Promise of the run. */
Napi::Value RunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() > 5 && !info[5].IsUndefined()) throw Napi::TypeError::New(env, "runAsync: timings are not taken");
  auto* worker = new RunWorker(env, Prepare(info), info);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace fmc
