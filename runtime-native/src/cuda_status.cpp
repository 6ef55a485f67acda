// cudaStatus(): whether the CUDA backend can run here. The first call loads the driver and
// NVRTC (cuda_loader.cpp), calls cuInit(0) and cuDeviceGetCount, and the answer is cached.
// Never throws.
#include <mutex>
#include <string>

#include "addon.h"
#include "cuda_loader.h"

namespace fmc {
namespace {

struct Status {
  bool available = false;
  std::string driver;
  std::string nvrtc;
  std::string message;
};

Status Probe() {
  const CudaLoad& cuda = LoadCuda();
  Status status;
  status.driver = cuda.driverLibrary;
  status.nvrtc = cuda.nvrtcLibrary;

  std::string driverPart = cuda.driverError;
  int devices = 0;
  int driverVersion = 0;
  if (driverPart.empty()) {
    CUresult r = cuda.driver.cuInit(0);
    if (r != CUDA_SUCCESS) {
      driverPart = "cuInit failed with " + CudaErrorText(cuda, r);
    } else if ((r = cuda.driver.cuDeviceGetCount(&devices)) != CUDA_SUCCESS) {
      driverPart = "cuDeviceGetCount failed with " + CudaErrorText(cuda, r);
    } else if (devices <= 0) {
      driverPart = "no CUDA device (cuDeviceGetCount returned " + std::to_string(devices) + ")";
    } else if (cuda.driver.cuDriverGetVersion(&driverVersion) != CUDA_SUCCESS) {
      driverVersion = 0;
    }
  }

  std::string nvrtcPart = cuda.nvrtcError;
  int major = 0;
  int minor = 0;
  if (nvrtcPart.empty()) {
    nvrtcResult r = cuda.nvrtc.nvrtcVersion(&major, &minor);
    if (r != NVRTC_SUCCESS) nvrtcPart = "nvrtcVersion failed with error " + std::to_string(r);
  }

  status.available = driverPart.empty() && nvrtcPart.empty();
  if (status.available) {
    status.message = "CUDA " + std::to_string(driverVersion) + " driver, " + std::to_string(devices) +
                     " device(s), NVRTC " + std::to_string(major) + "." + std::to_string(minor);
  } else {
    status.message = driverPart;
    if (!nvrtcPart.empty()) status.message += (status.message.empty() ? "" : "; ") + nvrtcPart;
  }
  return status;
}

}  // namespace

Napi::Value CudaStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  static Status status;
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      status = Probe();
    } catch (const std::exception& e) {
      status = Status{};
      status.message = std::string("CUDA probe failed: ") + e.what();
    }
  });
  Napi::Object result = Napi::Object::New(env);
  result.Set("available", Napi::Boolean::New(env, status.available));
  result.Set("driver", Napi::String::New(env, status.driver));
  result.Set("nvrtc", Napi::String::New(env, status.nvrtc));
  result.Set("message", Napi::String::New(env, status.message));
  return result;
}

}  // namespace fmc
