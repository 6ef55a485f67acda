// CudaDevice (cudaOpen): one GPU through the driver API loaded by cuda_loader.cpp: a context,
// a stream, device memory, modules (CUBIN, or PTX through the driver's JIT) and the launch of
// a launch list on the stream. Copies are synchronous and go through the legacy default
// stream, which waits for the launches queued on the (blocking) stream before it: the order
// of the calls is the order of the work. src/runtime/cuda-device.ts is the only caller.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "addon.h"
#include "cuda_graph.h"
#include "cuda_loader.h"

namespace fmc {
namespace {

/** The kernel parameters of the CUDA target (docs/runtime.md): buffer pointers, then `fmc_dims` by value. */
constexpr size_t kMaxCudaArgs = 4096;

uint64_t BigIntArg(const Napi::Value& v, const char* what) {
  if (!v.IsBigInt()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a bigint");
  bool lossless = true;
  uint64_t out = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw Napi::RangeError::New(v.Env(), std::string(what) + " is not a 64-bit device address");
  return out;
}

size_t SizeArg(const Napi::Value& v, const char* what) {
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0 && d <= 9007199254740992.0 && d == static_cast<double>(static_cast<size_t>(d)))) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a non-negative integer");
  }
  return static_cast<size_t>(d);
}

class CudaDevice : public Napi::ObjectWrap<CudaDevice> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "CudaDevice",
                       {
                           InstanceAccessor<&CudaDevice::Name>("name"),
                           InstanceAccessor<&CudaDevice::Capability>("computeCapability"),
                           InstanceMethod<&CudaDevice::Alloc>("alloc"),
                           InstanceMethod<&CudaDevice::Free>("free"),
                           InstanceMethod<&CudaDevice::Upload>("upload"),
                           InstanceMethod<&CudaDevice::Download>("download"),
                           InstanceMethod<&CudaDevice::Load>("load"),
                           InstanceMethod<&CudaDevice::Launch>("launch"),
                           InstanceMethod<&CudaDevice::Synchronize>("synchronize"),
                           InstanceMethod<&CudaDevice::GraphStats>("graphStats"),
                           InstanceMethod<&CudaDevice::Close>("close"),
                       });
  }

  /** new CudaDevice(ordinal): a context and a stream on that GPU, or an Error saying what is missing. */
  explicit CudaDevice(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CudaDevice>(info), cuda_(LoadCuda()) {
    Napi::Env env = info.Env();
    int ordinal = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
    if (!cuda_.driverError.empty()) {
      throw Napi::Error::New(env, cuda_.driverError);
    }
    const CudaDriverApi& d = cuda_.driver;
    Check(env, d.cuInit(0), "cuInit");
    int count = 0;
    Check(env, d.cuDeviceGetCount(&count), "cuDeviceGetCount");
    if (ordinal < 0 || ordinal >= count) {
      throw Napi::Error::New(env, "no CUDA device " + std::to_string(ordinal) + " (the driver in libcuda.so.1 sees " +
                                      std::to_string(count) + ")");
    }
    CUdevice dev = 0;
    Check(env, d.cuDeviceGet(&dev, ordinal), "cuDeviceGet");
    char name[256] = {0};
    Check(env, d.cuDeviceGetName(name, sizeof name - 1, dev), "cuDeviceGetName");
    name_ = name;
    int major = 0;
    int minor = 0;
    Check(env, d.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev), "cuDeviceGetAttribute");
    Check(env, d.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev), "cuDeviceGetAttribute");
    capability_ = major * 10 + minor;
    Check(env, d.cuCtxCreate_v2(&ctx_, 0, dev), "cuCtxCreate");
    Check(env, d.cuStreamCreate(&stream_, 0), "cuStreamCreate");
  }

  ~CudaDevice() override { Release(); }

 private:
  void Check(Napi::Env env, CUresult r, const char* what) const {
    if (r != CUDA_SUCCESS) throw Napi::Error::New(env, std::string("CUDA: ") + what + " failed with " + CudaErrorText(cuda_, r));
  }

  /** Makes the context current on this thread; throws once closed. */
  const CudaDriverApi& Current(Napi::Env env) const {
    if (ctx_ == nullptr) throw Napi::Error::New(env, "CUDA device closed");
    Check(env, cuda_.driver.cuCtxSetCurrent(ctx_), "cuCtxSetCurrent");
    return cuda_.driver;
  }

  Napi::Value Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
  Napi::Value Capability(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), capability_); }

  /** alloc(bytes): zeroed device memory (at least 256 bytes), its address as a bigint; freed at close. */
  Napi::Value Alloc(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const CudaDriverApi& d = Current(env);
    size_t bytes = std::max<size_t>(256, SizeArg(info[0], "alloc: bytes"));
    CUdeviceptr ptr = 0;
    CUresult r = d.cuMemAlloc_v2(&ptr, bytes);
    if (r != CUDA_SUCCESS) {
      throw Napi::Error::New(env, "CUDA: cannot allocate " + std::to_string(bytes) + " bytes of GPU memory (" +
                                      CudaErrorText(cuda_, r) + ")");
    }
    allocations_.push_back(ptr);
    Check(env, d.cuMemsetD8_v2(ptr, 0, bytes), "cuMemsetD8");
    return Napi::BigInt::New(env, static_cast<uint64_t>(ptr));
  }

  /** free(address): an allocation of alloc(), once the work queued before it has finished. */
  void Free(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const CudaDriverApi& d = Current(env);
    CUdeviceptr ptr = BigIntArg(info[0], "free: address");
    auto it = std::find(allocations_.begin(), allocations_.end(), ptr);
    if (it == allocations_.end()) throw Napi::RangeError::New(env, "free: not an allocation of this device");
    allocations_.erase(it);
    Check(env, d.cuStreamSynchronize(stream_), "cuStreamSynchronize");
    Check(env, d.cuMemFree_v2(ptr), "cuMemFree");
  }

  /** upload(address, bytes: Uint8Array): after the work queued before it. */
  void Upload(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const CudaDriverApi& d = Current(env);
    CUdeviceptr dst = BigIntArg(info[0], "upload: address");
    if (!info[1].IsTypedArray()) throw Napi::TypeError::New(env, "upload: bytes must be a Uint8Array");
    Napi::Uint8Array src = info[1].As<Napi::Uint8Array>();
    if (src.ByteLength() > 0) Check(env, d.cuMemcpyHtoD_v2(dst, src.Data(), src.ByteLength()), "cuMemcpyHtoD");
  }

  /** download(address, bytes): an ArrayBuffer of the bytes, once the work queued before has finished. */
  Napi::Value Download(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const CudaDriverApi& d = Current(env);
    CUdeviceptr src = BigIntArg(info[0], "download: address");
    size_t bytes = SizeArg(info[1], "download: bytes");
    Napi::ArrayBuffer out = Napi::ArrayBuffer::New(env, bytes);
    if (bytes > 0) Check(env, d.cuMemcpyDtoH_v2(out.Data(), src, bytes), "cuMemcpyDtoH (a kernel before it may have failed)");
    return out;
  }

  /**
   * load(image, names): a module from a CUBIN or a NUL-terminated PTX (JIT-compiled by the driver)
   * and its kernels by name; returns the module's index. A JIT failure throws with its log.
   */
  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const CudaDriverApi& d = Current(env);
    if (!info[0].IsTypedArray() || !info[1].IsArray()) throw Napi::TypeError::New(env, "load(image, names): bad arguments");
    Napi::Uint8Array image = info[0].As<Napi::Uint8Array>();
    std::string bytes(reinterpret_cast<const char*>(image.Data()), image.ByteLength());
    bytes.push_back('\0');  // PTX is text; a CUBIN ignores the extra byte
    std::string log(8192, '\0');
    CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void* values[] = {log.data(), reinterpret_cast<void*>(static_cast<uintptr_t>(log.size()))};
    CUmodule module = nullptr;
    CUresult r = d.cuModuleLoadDataEx(&module, bytes.data(), 2, options, values);
    if (r != CUDA_SUCCESS) {
      log.resize(log.find('\0'));
      throw Napi::Error::New(env, "CUDA: the kernels do not load on " + name_ + " (cuModuleLoadDataEx: " +
                                      CudaErrorText(cuda_, r) + ")" + (log.empty() ? "" : ":\n" + log));
    }
    modules_.push_back(module);
    Napi::Array names = info[1].As<Napi::Array>();
    std::vector<CUfunction> fns;
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string fn = names.Get(i).As<Napi::String>().Utf8Value();
      CUfunction f = nullptr;
      Check(env, d.cuModuleGetFunction(&f, module, fn.c_str()), ("cuModuleGetFunction(" + fn + ")").c_str());
      fns.push_back(f);
    }
    kernels_.push_back(std::move(fns));
    return Napi::Number::New(env, static_cast<double>(kernels_.size() - 1));
  }

  /**
   * launch(module, records, addresses, grids, blocks, dims, dimSlots): queues each record
   * `[kernel, argCount, id...]` on the stream with (grids[2n], grids[2n+1], 1) blocks of
   * blocks[kernel] threads; argument j is addresses[id_j], then the dims (dimSlots i64 values,
   * at least 1) by value. A record with no blocks is skipped. Everything is checked first.
   */
  void Launch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const CudaDriverApi& d = Current(env);
    size_t m = SizeArg(info[0], "launch: module");
    if (m >= kernels_.size()) throw Napi::RangeError::New(env, "launch: no such module");
    const std::vector<CUfunction>& fns = kernels_[m];
    auto records = info[1].As<Napi::Int32Array>();
    auto addresses = info[2].As<Napi::BigUint64Array>();
    auto grids = info[3].As<Napi::Uint32Array>();
    auto blocks = info[4].As<Napi::Uint32Array>();
    auto dimsIn = info[5].As<Napi::BigInt64Array>();
    size_t slots = std::max<size_t>(1, SizeArg(info[6], "launch: dimSlots"));
    if (dimsIn.ElementLength() > slots) throw Napi::RangeError::New(env, "launch: more dims than dim slots");
    std::vector<long long> dims(slots, 0);
    for (size_t i = 0; i < dimsIn.ElementLength(); i++) dims[i] = dimsIn[i];
    struct Step {
      CUfunction f;
      unsigned x, y, block;
      size_t first, argc;
    };
    std::vector<Step> steps;
    std::vector<CUdeviceptr> args;
    for (size_t at = 0, n = 0; at < records.ElementLength(); n++) {
      if (at + 2 > records.ElementLength() || 2 * n + 2 > grids.ElementLength())
        throw Napi::RangeError::New(env, "launch: a truncated record or too few grids");
      int32_t k = records[at];
      int32_t argc = records[at + 1];
      if (k < 0 || static_cast<size_t>(k) >= fns.size() || static_cast<size_t>(k) >= blocks.ElementLength())
        throw Napi::RangeError::New(env, "launch: kernel index out of range");
      if (argc < 0 || static_cast<size_t>(argc) > kMaxCudaArgs || at + 2 + argc > records.ElementLength())
        throw Napi::RangeError::New(env, "launch: bad argument count");
      Step s{fns[k], grids[2 * n], grids[2 * n + 1], blocks[k], args.size(), static_cast<size_t>(argc)};
      for (int32_t j = 0; j < argc; j++) {
        int32_t id = records[at + 2 + j];
        if (id < 0 || static_cast<size_t>(id) >= addresses.ElementLength())
          throw Napi::RangeError::New(env, "launch: buffer id out of range");
        args.push_back(addresses[id]);
      }
      if (s.x > 0 && s.y > 0) steps.push_back(s);
      at += 2 + argc;
    }
    // Everything the launches read: a list launched twice in a row becomes a CUDA graph (cuda_graph.h).
    std::vector<uint64_t> key{m, records.ElementLength(), addresses.ElementLength(), dims.size()};
    for (size_t i = 0; i < records.ElementLength(); i++) key.push_back(static_cast<uint32_t>(records[i]));
    for (size_t i = 0; i < addresses.ElementLength(); i++) key.push_back(addresses[i]);
    for (size_t i = 0; i < grids.ElementLength(); i++) key.push_back(grids[i]);
    for (size_t i = 0; i < blocks.ElementLength(); i++) key.push_back(blocks[i]);
    for (long long v : dims) key.push_back(static_cast<uint64_t>(v));
    std::vector<void*> params;
    CUresult r = graph_.Run(d, stream_, std::move(key), steps.size(), [&]() {
      for (const Step& s : steps) {
        params.clear();
        for (size_t j = 0; j < s.argc; j++) params.push_back(&args[s.first + j]);
        params.push_back(dims.data());  // fmc_dims by value: the driver copies the struct's bytes
        CUresult one = d.cuLaunchKernel(s.f, s.x, s.y, 1, s.block, 1, 1, 0, stream_, params.data(), nullptr);
        if (one != CUDA_SUCCESS) return one;
      }
      return CUDA_SUCCESS;
    });
    Check(env, r, "cuLaunchKernel");
  }

  /** graphStats(): [lists captured into CUDA graphs, graph launches] since the device opened. */
  Napi::Value GraphStats(const Napi::CallbackInfo& info) {
    Napi::Array out = Napi::Array::New(info.Env(), 2);
    out.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(graph_.captures())));
    out.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(graph_.replays())));
    return out;
  }

  /** synchronize(): waits for the stream; a kernel's fault shows here. */
  void Synchronize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Check(env, Current(env).cuStreamSynchronize(stream_), "cuStreamSynchronize (a kernel failed)");
  }

  void Close(const Napi::CallbackInfo&) { Release(); }

  void Release() {
    if (ctx_ == nullptr) return;
    const CudaDriverApi& d = cuda_.driver;
    d.cuCtxSetCurrent(ctx_);
    d.cuStreamSynchronize(stream_);
    graph_.Reset(d);
    for (CUmodule module : modules_) d.cuModuleUnload(module);
    for (CUdeviceptr ptr : allocations_) d.cuMemFree_v2(ptr);
    d.cuStreamDestroy_v2(stream_);
    d.cuCtxDestroy_v2(ctx_);
    ctx_ = nullptr;
    modules_.clear();
    kernels_.clear();
    allocations_.clear();
  }

  const CudaLoad& cuda_;
  std::string name_;
  int capability_ = 0;
  CUcontext ctx_ = nullptr;
  CUstream stream_ = nullptr;
  std::vector<CUmodule> modules_;
  std::vector<std::vector<CUfunction>> kernels_;
  std::vector<CUdeviceptr> allocations_;
  LaunchGraph graph_;
};

}  // namespace

Napi::Function DefineCudaDeviceClass(Napi::Env env) { return CudaDevice::Define(env); }

/** cudaOpen(ordinal = 0): a CudaDevice, or an Error naming what is missing. */
Napi::Value CudaOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* data = env.GetInstanceData<AddonData>();
  return data->cudaDeviceCtor.New({info.Length() > 0 ? info[0] : Napi::Number::New(env, 0)});
}

}  // namespace fmc
