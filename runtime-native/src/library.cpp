// loadLibrary: opens a library of generated kernels as a NativeLibrary (library.h).
#include "library.h"

#include "addon.h"

namespace fmc {

Napi::Function DefineLibraryClass(Napi::Env env) { return NativeLibrary::Define(env); }

Napi::Value LoadLibrary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "loadLibrary: path must be a string");
  return env.GetInstanceData<AddonData>()->libraryCtor.New({info[0]});
}

}  // namespace fmc
