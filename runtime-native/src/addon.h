// Shared declarations of the fmc native addon: the per-environment data and the functions
// each source file contributes to the module's exports.
#pragma once

#include <napi.h>

namespace fmc {

/** Per-environment (main thread or worker) state: the NativeLibrary and CudaDevice constructors. */
struct AddonData {
  Napi::FunctionReference libraryCtor;
  Napi::FunctionReference cudaDeviceCtor;
};

// buffers.cpp
Napi::Value AlignedBuffer(const Napi::CallbackInfo& info);
Napi::Value AlignOffset(const Napi::CallbackInfo& info);
Napi::Value AdviseHugePages(const Napi::CallbackInfo& info);

// library.cpp, run.cpp
Napi::Function DefineLibraryClass(Napi::Env env);
Napi::Value LoadLibrary(const Napi::CallbackInfo& info);
Napi::Value Run(const Napi::CallbackInfo& info);
Napi::Value RunAsync(const Napi::CallbackInfo& info);

// cuda_status.cpp
Napi::Value CudaStatus(const Napi::CallbackInfo& info);

// nvrtc_compile.cpp
Napi::Value NvrtcInfo(const Napi::CallbackInfo& info);
Napi::Value NvrtcCompile(const Napi::CallbackInfo& info);

// cuda_device.cpp
Napi::Function DefineCudaDeviceClass(Napi::Env env);
Napi::Value CudaOpen(const Napi::CallbackInfo& info);

}  // namespace fmc
