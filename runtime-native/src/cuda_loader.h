// The CUDA driver API and NVRTC entry points a CUDA backend needs, resolved with dlopen/dlsym
// at first use (never when the addon loads) so that the addon links no CUDA library and
// needs no CUDA headers: the few CUDA types are declared here.
#pragma once

#include <cstddef>
#include <string>

namespace fmc {

// CUDA driver API types (cuda.h).
using CUresult = int;
using CUdevice = int;
using CUdevice_attribute = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUstream = struct CUstream_st*;
using CUjit_option = int;
using CUgraph = struct CUgraph_st*;
using CUgraphExec = struct CUgraphExec_st*;
using CUstreamCaptureMode = int;
constexpr CUstreamCaptureMode CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUdevice_attribute CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr CUdevice_attribute CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

// NVRTC types (nvrtc.h).
using nvrtcResult = int;
using nvrtcProgram = struct _nvrtcProgram*;
constexpr nvrtcResult NVRTC_SUCCESS = 0;

/** Driver entry points, by their versioned symbol names in libcuda.so.1. */
struct CudaDriverApi {
  CUresult (*cuInit)(unsigned int flags);
  CUresult (*cuDriverGetVersion)(int* version);
  CUresult (*cuDeviceGetCount)(int* count);
  CUresult (*cuDeviceGet)(CUdevice* device, int ordinal);
  CUresult (*cuDeviceGetName)(char* name, int len, CUdevice dev);
  CUresult (*cuDeviceGetAttribute)(int* value, CUdevice_attribute attrib, CUdevice dev);
  CUresult (*cuCtxCreate_v2)(CUcontext* ctx, unsigned int flags, CUdevice dev);
  CUresult (*cuCtxDestroy_v2)(CUcontext ctx);
  CUresult (*cuCtxSetCurrent)(CUcontext ctx);
  CUresult (*cuModuleLoadData)(CUmodule* module, const void* image);
  CUresult (*cuModuleLoadDataEx)(CUmodule* module, const void* image, unsigned int numOptions, CUjit_option* options,
                                 void** optionValues);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction* fn, CUmodule module, const char* name);
  CUresult (*cuLaunchKernel)(CUfunction f, unsigned int gridX, unsigned int gridY, unsigned int gridZ,
                             unsigned int blockX, unsigned int blockY, unsigned int blockZ, unsigned int sharedMemBytes,
                             CUstream stream, void** kernelParams, void** extra);
  CUresult (*cuMemAlloc_v2)(CUdeviceptr* ptr, size_t bytes);
  CUresult (*cuMemFree_v2)(CUdeviceptr ptr);
  CUresult (*cuMemsetD8_v2)(CUdeviceptr dst, unsigned char value, size_t count);
  CUresult (*cuMemcpyHtoD_v2)(CUdeviceptr dst, const void* src, size_t bytes);
  CUresult (*cuMemcpyDtoH_v2)(void* dst, CUdeviceptr src, size_t bytes);
  CUresult (*cuStreamCreate)(CUstream* stream, unsigned int flags);
  CUresult (*cuStreamDestroy_v2)(CUstream stream);
  CUresult (*cuStreamSynchronize)(CUstream stream);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuGetErrorString)(CUresult error, const char** text);
  // Optional (CUDA graphs; cuGraphInstantiateWithFlags is 11.4+): null where the driver lacks
  // them, and then launch lists run launch by launch.
  CUresult (*cuStreamBeginCapture_v2)(CUstream stream, CUstreamCaptureMode mode);
  CUresult (*cuStreamEndCapture)(CUstream stream, CUgraph* graph);
  CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec* exec, CUgraph graph, unsigned long long flags);
  CUresult (*cuGraphLaunch)(CUgraphExec exec, CUstream stream);
  CUresult (*cuGraphExecDestroy)(CUgraphExec exec);
  CUresult (*cuGraphDestroy)(CUgraph graph);
};

/** NVRTC entry points. */
struct NvrtcApi {
  nvrtcResult (*nvrtcVersion)(int* major, int* minor);
  const char* (*nvrtcGetErrorString)(nvrtcResult result);
  nvrtcResult (*nvrtcCreateProgram)(nvrtcProgram* prog, const char* src, const char* name, int numHeaders,
                                    const char* const* headers, const char* const* includeNames);
  nvrtcResult (*nvrtcCompileProgram)(nvrtcProgram prog, int numOptions, const char* const* options);
  nvrtcResult (*nvrtcGetPTXSize)(nvrtcProgram prog, size_t* size);
  nvrtcResult (*nvrtcGetPTX)(nvrtcProgram prog, char* ptx);
  nvrtcResult (*nvrtcGetProgramLogSize)(nvrtcProgram prog, size_t* size);
  nvrtcResult (*nvrtcGetProgramLog)(nvrtcProgram prog, char* log);
  nvrtcResult (*nvrtcDestroyProgram)(nvrtcProgram* prog);
  // Optional (NVRTC 11.1+): null where the library lacks them; CUBIN output needs both.
  nvrtcResult (*nvrtcGetCUBINSize)(nvrtcProgram prog, size_t* size);
  nvrtcResult (*nvrtcGetCUBIN)(nvrtcProgram prog, char* cubin);
  // Optional (NVRTC 11.2+): the architectures it compiles for.
  nvrtcResult (*nvrtcGetNumSupportedArchs)(int* count);
  nvrtcResult (*nvrtcGetSupportedArchs)(int* archs);
};

/** The NVRTC sonames tried, in order (the newest first). */
constexpr const char* kNvrtcNames[] = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"};

/** The outcome of loading both libraries: each part is usable only if its library name is set. */
struct CudaLoad {
  CudaDriverApi driver{};
  NvrtcApi nvrtc{};
  std::string driverLibrary;  // "libcuda.so.1" once it and every driver symbol loaded, else ""
  std::string nvrtcLibrary;   // the NVRTC soname that loaded with every symbol, else ""
  std::string driverError;    // why the driver is unusable, "" if it is usable
  std::string nvrtcError;     // why NVRTC is unusable, "" if it is usable
};

/** Loads libcuda.so.1 and NVRTC once (thread-safe); later calls return the same result. */
const CudaLoad& LoadCuda();

/** "error N (text)" for a driver result, with cuGetErrorString's text where it is known. */
std::string CudaErrorText(const CudaLoad& cuda, CUresult result);

}  // namespace fmc
