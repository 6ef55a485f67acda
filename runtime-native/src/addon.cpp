// Module registration: alignedBuffer, alignOffset, adviseHugePages, loadLibrary, run, cudaStatus, nvrtcInfo,
// nvrtcCompile, cudaOpen and now. No graph logic lives in C++; the TypeScript runtime
// (src/runtime/native.ts) is the only caller.
#include <chrono>

#include "addon.h"

namespace fmc {
namespace {

/** now(): the steady clock in nanoseconds, as a double (exact up to 2^53 ns, about 104 days). */
Napi::Value Now(const Napi::CallbackInfo& info) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
  return Napi::Number::New(info.Env(), static_cast<double>(ns.count()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->libraryCtor = Napi::Persistent(DefineLibraryClass(env));
  data->cudaDeviceCtor = Napi::Persistent(DefineCudaDeviceClass(env));
  env.SetInstanceData<AddonData>(data);

  exports.Set("alignedBuffer", Napi::Function::New(env, AlignedBuffer, "alignedBuffer"));
  exports.Set("alignOffset", Napi::Function::New(env, AlignOffset, "alignOffset"));
  exports.Set("adviseHugePages", Napi::Function::New(env, AdviseHugePages, "adviseHugePages"));
  exports.Set("loadLibrary", Napi::Function::New(env, LoadLibrary, "loadLibrary"));
  exports.Set("run", Napi::Function::New(env, Run, "run"));
  exports.Set("runAsync", Napi::Function::New(env, RunAsync, "runAsync"));
  exports.Set("cudaStatus", Napi::Function::New(env, CudaStatus, "cudaStatus"));
  exports.Set("nvrtcInfo", Napi::Function::New(env, NvrtcInfo, "nvrtcInfo"));
  exports.Set("nvrtcCompile", Napi::Function::New(env, NvrtcCompile, "nvrtcCompile"));
  exports.Set("cudaOpen", Napi::Function::New(env, CudaOpen, "cudaOpen"));
  exports.Set("now", Napi::Function::New(env, Now, "now"));
  return exports;
}

}  // namespace
}  // namespace fmc

static Napi::Object InitFmcNative(Napi::Env env, Napi::Object exports) { return fmc::Init(env, exports); }

NODE_API_MODULE(fmc_native, InitFmcNative)
