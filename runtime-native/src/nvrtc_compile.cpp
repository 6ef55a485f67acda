// nvrtcInfo() and nvrtcCompile(): CUDA C++ source to PTX or CUBIN through NVRTC, loaded lazily
// by cuda_loader.cpp (no GPU is needed to compile). The caller (src/runtime/cuda-program.ts)
// chooses the options (the architecture among them) and caches the image; this file only
// runs NVRTC and returns the image, or the log on failure.
#include <atomic>
#include <string>
#include <vector>

#include "addon.h"
#include "cuda_loader.h"

namespace fmc {
namespace {

/** nvrtcCompileProgram calls made by this process (tests use it to prove a cache hit). */
std::atomic<double> nvrtcCompiles{0};

std::string NvrtcResultText(const NvrtcApi& n, nvrtcResult r) {
  const char* text = n.nvrtcGetErrorString != nullptr ? n.nvrtcGetErrorString(r) : nullptr;
  return "error " + std::to_string(r) + (text != nullptr ? std::string(" (") + text + ")" : std::string());
}

/** Owns an nvrtcProgram: destroyed on every path out. */
struct ProgramGuard {
  const NvrtcApi& api;
  nvrtcProgram prog = nullptr;
  ~ProgramGuard() {
    if (prog != nullptr) api.nvrtcDestroyProgram(&prog);
  }
};

std::string ProgramLog(const NvrtcApi& n, nvrtcProgram prog) {
  size_t size = 0;
  if (n.nvrtcGetProgramLogSize(prog, &size) != NVRTC_SUCCESS || size <= 1) return "";
  std::string log(size, '\0');
  if (n.nvrtcGetProgramLog(prog, log.data()) != NVRTC_SUCCESS) return "";
  log.resize(size - 1);  // the size counts the terminating NUL
  return log;
}

}  // namespace

/**
 * { library, version ("11.8"), cubin (whether CUBIN output exists), archs (the compute
 * capabilities it compiles for, e.g. [35, ..., 90]; [] when it cannot say), compiles, error };
 * never throws.
 */
Napi::Value NvrtcInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CudaLoad& cuda = LoadCuda();
  Napi::Object out = Napi::Object::New(env);
  std::string version;
  std::string error = cuda.nvrtcError;
  if (error.empty()) {
    int major = 0;
    int minor = 0;
    nvrtcResult r = cuda.nvrtc.nvrtcVersion(&major, &minor);
    if (r == NVRTC_SUCCESS) {
      version = std::to_string(major) + "." + std::to_string(minor);
    } else {
      error = "nvrtcVersion failed with " + NvrtcResultText(cuda.nvrtc, r);
    }
  }
  out.Set("library", Napi::String::New(env, error.empty() ? cuda.nvrtcLibrary : ""));
  out.Set("version", Napi::String::New(env, version));
  out.Set("cubin", Napi::Boolean::New(env, cuda.nvrtc.nvrtcGetCUBIN != nullptr && cuda.nvrtc.nvrtcGetCUBINSize != nullptr));
  Napi::Array archs = Napi::Array::New(env);
  int count = 0;
  if (error.empty() && cuda.nvrtc.nvrtcGetNumSupportedArchs != nullptr && cuda.nvrtc.nvrtcGetSupportedArchs != nullptr &&
      cuda.nvrtc.nvrtcGetNumSupportedArchs(&count) == NVRTC_SUCCESS && count > 0 && count < 1024) {
    std::vector<int> list(count);
    if (cuda.nvrtc.nvrtcGetSupportedArchs(list.data()) == NVRTC_SUCCESS) {
      for (int i = 0; i < count; i++) archs.Set(static_cast<uint32_t>(i), Napi::Number::New(env, list[i]));
    }
  }
  out.Set("archs", archs);
  out.Set("compiles", Napi::Number::New(env, nvrtcCompiles.load()));
  out.Set("error", Napi::String::New(env, error));
  return out;
}

/**
 * nvrtcCompile(source, name, options, cubin): { ok, log, image? }. `ok` false is a compile
 * error (the log says why); a missing NVRTC, or a CUBIN asked of one without nvrtcGetCUBIN, throws.
 */
Napi::Value NvrtcCompile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsString() || !info[2].IsArray() || !info[3].IsBoolean()) {
    throw Napi::TypeError::New(env, "nvrtcCompile(source, name, options, cubin): bad arguments");
  }
  const CudaLoad& cuda = LoadCuda();
  if (!cuda.nvrtcError.empty()) throw Napi::Error::New(env, cuda.nvrtcError);
  const NvrtcApi& n = cuda.nvrtc;
  std::string source = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  Napi::Array given = info[2].As<Napi::Array>();
  bool cubin = info[3].As<Napi::Boolean>().Value();
  if (cubin && (n.nvrtcGetCUBIN == nullptr || n.nvrtcGetCUBINSize == nullptr)) {
    throw Napi::Error::New(env, cuda.nvrtcLibrary + " has no nvrtcGetCUBIN: compile to PTX instead");
  }
  std::vector<std::string> options;
  for (uint32_t i = 0; i < given.Length(); i++) {
    Napi::Value v = given.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "nvrtcCompile: options must be strings");
    options.push_back(v.As<Napi::String>().Utf8Value());
  }
  std::vector<const char*> argv;
  for (const std::string& o : options) argv.push_back(o.c_str());

  ProgramGuard guard{n};
  nvrtcResult r = n.nvrtcCreateProgram(&guard.prog, source.c_str(), name.c_str(), 0, nullptr, nullptr);
  if (r != NVRTC_SUCCESS) throw Napi::Error::New(env, "nvrtcCreateProgram failed with " + NvrtcResultText(n, r));
  nvrtcCompiles.store(nvrtcCompiles.load() + 1);
  r = n.nvrtcCompileProgram(guard.prog, static_cast<int>(argv.size()), argv.data());
  std::string log = ProgramLog(n, guard.prog);
  Napi::Object out = Napi::Object::New(env);
  out.Set("log", Napi::String::New(env, log));
  if (r != NVRTC_SUCCESS) {
    out.Set("ok", Napi::Boolean::New(env, false));
    out.Set("error", Napi::String::New(env, NvrtcResultText(n, r)));
    return out;
  }
  size_t size = 0;
  r = cubin ? n.nvrtcGetCUBINSize(guard.prog, &size) : n.nvrtcGetPTXSize(guard.prog, &size);
  if (r != NVRTC_SUCCESS) throw Napi::Error::New(env, "NVRTC: getting the image size failed with " + NvrtcResultText(n, r));
  Napi::Buffer<char> image = Napi::Buffer<char>::New(env, size);
  r = cubin ? n.nvrtcGetCUBIN(guard.prog, image.Data()) : n.nvrtcGetPTX(guard.prog, image.Data());
  if (r != NVRTC_SUCCESS) throw Napi::Error::New(env, "NVRTC: getting the image failed with " + NvrtcResultText(n, r));
  out.Set("ok", Napi::Boolean::New(env, true));
  out.Set("image", image);
  return out;
}

}  // namespace fmc
