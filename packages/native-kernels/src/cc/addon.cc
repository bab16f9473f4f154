// N-API entry point of @mmft/native-kernels: exports every binding of napi/symbols.h under its
// own name (the kernel's), and `info`. The bindings check their arguments (napi/napi_args.h).
#include <node_api.h>

#include <thread>

#include "gemm.h"
#include "napi/napi_args.h"
#include "napi/symbols.h"

namespace {

napi_value Info(napi_env env, napi_callback_info) {
  napi_value out, isa, threads;
  CHECK_NAPI(env, napi_create_object(env, &out));
  CHECK_NAPI(env, napi_create_string_utf8(env, mmft::kernelIsa(), NAPI_AUTO_LENGTH, &isa));
  CHECK_NAPI(env, napi_create_uint32(env, std::thread::hardware_concurrency(), &threads));
  CHECK_NAPI(env, napi_set_named_property(env, out, "isa", isa));
  CHECK_NAPI(env, napi_set_named_property(env, out, "hardwareThreads", threads));
  return out;
}

}  // namespace

NAPI_MODULE_INIT() {
  const struct {
    const char* name;
    napi_callback cb;
  } fns[] = {
      {"info", Info},
#define MMFT_EXPORT_SYMBOL(name) {#name, mmft::napi::name},
      MMFT_NATIVE_SYMBOLS(MMFT_EXPORT_SYMBOL)
#undef MMFT_EXPORT_SYMBOL
  };
  for (const auto& f : fns) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn) != napi_ok) return nullptr;
    if (napi_set_named_property(env, exports, f.name, fn) != napi_ok) return nullptr;
  }
  return exports;
}
