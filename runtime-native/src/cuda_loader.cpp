// dlopen of libcuda.so.1 and of NVRTC (libnvrtc.so.13, .so.12, .so.11.2), and dlsym of every entry
// point in cuda_loader.h, done once at first use. Never throws: failures become messages.
#include "cuda_loader.h"

#include <dlfcn.h>

#include <mutex>

namespace fmc {
namespace {

std::string DlError(const char* fallback) {
  const char* err = dlerror();
  return err ? err : fallback;
}

/** Resolves each symbol into its slot; the first missing one is reported in `error`. */
class Resolver {
 public:
  Resolver(void* handle, std::string library) : handle_(handle), library_(std::move(library)) {}

  template <typename Fn>
  void operator()(Fn& slot, const char* name) {
    if (!error.empty()) return;
    dlerror();
    void* sym = dlsym(handle_, name);
    if (sym == nullptr) {
      error = std::string("symbol ") + name + " missing in " + library_;
      return;
    }
    slot = reinterpret_cast<Fn>(sym);
  }

  /** Resolves a symbol the library may lack: the slot stays null then. */
  template <typename Fn>
  void Optional(Fn& slot, const char* name) {
    dlerror();
    slot = reinterpret_cast<Fn>(dlsym(handle_, name));
  }

  std::string error;

 private:
  void* handle_;
  std::string library_;
};

#define FMC_RESOLVE(api, name) resolve(api.name, #name)

void LoadDriver(CudaLoad& out) {
  const char* name = "libcuda.so.1";
  dlerror();
  void* handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    out.driverError = std::string(name) + " not found (dlopen: " + DlError("unknown error") + ")";
    return;
  }
  Resolver resolve(handle, name);
  CudaDriverApi& d = out.driver;
  FMC_RESOLVE(d, cuInit);
  FMC_RESOLVE(d, cuDriverGetVersion);
  FMC_RESOLVE(d, cuDeviceGetCount);
  FMC_RESOLVE(d, cuDeviceGet);
  FMC_RESOLVE(d, cuDeviceGetName);
  FMC_RESOLVE(d, cuDeviceGetAttribute);
  FMC_RESOLVE(d, cuCtxCreate_v2);
  FMC_RESOLVE(d, cuCtxDestroy_v2);
  FMC_RESOLVE(d, cuCtxSetCurrent);
  FMC_RESOLVE(d, cuModuleLoadData);
  FMC_RESOLVE(d, cuModuleLoadDataEx);
  FMC_RESOLVE(d, cuModuleUnload);
  FMC_RESOLVE(d, cuModuleGetFunction);
  FMC_RESOLVE(d, cuLaunchKernel);
  FMC_RESOLVE(d, cuMemAlloc_v2);
  FMC_RESOLVE(d, cuMemFree_v2);
  FMC_RESOLVE(d, cuMemsetD8_v2);
  FMC_RESOLVE(d, cuMemcpyHtoD_v2);
  FMC_RESOLVE(d, cuMemcpyDtoH_v2);
  FMC_RESOLVE(d, cuStreamCreate);
  FMC_RESOLVE(d, cuStreamDestroy_v2);
  FMC_RESOLVE(d, cuStreamSynchronize);
  FMC_RESOLVE(d, cuCtxSynchronize);
  FMC_RESOLVE(d, cuGetErrorString);
  resolve.Optional(d.cuStreamBeginCapture_v2, "cuStreamBeginCapture_v2");
  resolve.Optional(d.cuStreamEndCapture, "cuStreamEndCapture");
  resolve.Optional(d.cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags");
  resolve.Optional(d.cuGraphLaunch, "cuGraphLaunch");
  resolve.Optional(d.cuGraphExecDestroy, "cuGraphExecDestroy");
  resolve.Optional(d.cuGraphDestroy, "cuGraphDestroy");
  if (!resolve.error.empty()) {
    out.driverError = resolve.error;
    out.driver = CudaDriverApi{};
    dlclose(handle);
    return;
  }
  out.driverLibrary = name;  // kept open for the life of the process
}

void LoadNvrtc(CudaLoad& out) {
  std::string tried;
  std::string lastError;
  for (const char* name : kNvrtcNames) {
    dlerror();
    void* handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    tried += (tried.empty() ? "" : ", ") + std::string(name);
    if (handle == nullptr) {
      lastError = DlError("unknown error");
      continue;
    }
    Resolver resolve(handle, name);
    NvrtcApi& n = out.nvrtc;
    FMC_RESOLVE(n, nvrtcVersion);
    FMC_RESOLVE(n, nvrtcGetErrorString);
    FMC_RESOLVE(n, nvrtcCreateProgram);
    FMC_RESOLVE(n, nvrtcCompileProgram);
    FMC_RESOLVE(n, nvrtcGetPTXSize);
    FMC_RESOLVE(n, nvrtcGetPTX);
    FMC_RESOLVE(n, nvrtcGetProgramLogSize);
    FMC_RESOLVE(n, nvrtcGetProgramLog);
    FMC_RESOLVE(n, nvrtcDestroyProgram);
    resolve.Optional(n.nvrtcGetCUBINSize, "nvrtcGetCUBINSize");
    resolve.Optional(n.nvrtcGetCUBIN, "nvrtcGetCUBIN");
    resolve.Optional(n.nvrtcGetNumSupportedArchs, "nvrtcGetNumSupportedArchs");
    resolve.Optional(n.nvrtcGetSupportedArchs, "nvrtcGetSupportedArchs");
    if (!resolve.error.empty()) {
      // A library that loads but lacks a symbol is reported as is rather than skipped.
      out.nvrtcError = resolve.error;
      out.nvrtc = NvrtcApi{};
      dlclose(handle);
      return;
    }
    out.nvrtcLibrary = name;
    return;
  }
  out.nvrtcError = "NVRTC not found (tried " + tried + "; dlopen: " + lastError + ")";
}

#undef FMC_RESOLVE

}  // namespace

const CudaLoad& LoadCuda() {
  static CudaLoad load;
  static std::once_flag once;
  std::call_once(once, [] {
    LoadDriver(load);
    LoadNvrtc(load);
  });
  return load;
}

std::string CudaErrorText(const CudaLoad& cuda, CUresult result) {
  std::string text = "error " + std::to_string(result);
  const char* description = nullptr;
  if (cuda.driver.cuGetErrorString != nullptr && cuda.driver.cuGetErrorString(result, &description) == CUDA_SUCCESS &&
      description != nullptr) {
    text += std::string(" (") + description + ")";
  }
  return text;
}

}  // namespace fmc
