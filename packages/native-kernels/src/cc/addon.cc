// N-API entry points of @mmft/native-kernels. Kernels read and write a Float32Array in place
// (tfjs-backend-wasm's heap, so no copies), at offsets counted in floats; every index a call will
// touch is bounds-checked here first, so a wrong offset throws instead of corrupting memory.
#include <node_api.h>

#include <cstdint>
#include <string>
#include <thread>

#include "gemm.h"

namespace {

#define CHECK_NAPI(env, call)                                    \
  do {                                                           \
    if ((call) != napi_ok) {                                     \
      napi_throw_error((env), "E_NATIVE", "N-API call failed: " #call); \
      return nullptr;                                            \
    }                                                            \
  } while (0)

bool intArg(napi_env env, napi_value value, int64_t* out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || d != double(int64_t(d))) return false;
  *out = int64_t(d);
  return true;
}

// Largest index an operand touches: every stride is ≥ 0, so it is the far corner.
int64_t lastIndex(int64_t offset, int64_t batches, int64_t rows, int64_t cols, int64_t batchStride, int64_t rowStride, int64_t colStride) {
  return offset + (batches - 1) * batchStride + (rows - 1) * rowStride + (cols - 1) * colStride;
}

// gemm(heap, batches, m, n, k, aOffset, aBatch, aRow, aCol, bOffset, bBatch, bRow, bCol, cOffset, threads)
napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 15) {
    napi_throw_type_error(env, "E_NATIVE", "gemm takes 15 arguments");
    return nullptr;
  }
  bool isTyped = false;
  CHECK_NAPI(env, napi_is_typedarray(env, argv[0], &isTyped));
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (isTyped) CHECK_NAPI(env, napi_get_typedarray_info(env, argv[0], &type, &length, &data, nullptr, nullptr));
  if (!isTyped || type != napi_float32_array) {
    napi_throw_type_error(env, "E_NATIVE", "gemm: the first argument must be a Float32Array");
    return nullptr;
  }
  int64_t v[14];
  for (int i = 0; i < 14; i++) {
    if (!intArg(env, argv[i + 1], &v[i]) || v[i] < 0) {
      napi_throw_range_error(env, "E_NATIVE", ("gemm: argument " + std::to_string(i + 1) + " must be a non-negative integer").c_str());
      return nullptr;
    }
  }
  const int64_t batches = v[0], m = v[1], n = v[2], k = v[3];
  if (batches > INT32_MAX || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) {
    napi_throw_range_error(env, "E_NATIVE", "gemm: dimensions must fit in 32 bits");
    return nullptr;
  }
  if (batches == 0 || m == 0 || n == 0) return nullptr;
  const int64_t len = int64_t(length);
  const bool inBounds = (k == 0 || (lastIndex(v[4], batches, m, k, v[5], v[6], v[7]) < len && lastIndex(v[8], batches, k, n, v[9], v[10], v[11]) < len)) &&
                        lastIndex(v[12], batches, m, n, m * n, n, 1) < len;
  if (!inBounds) {
    napi_throw_range_error(env, "E_NATIVE", "gemm: an operand reaches past the end of the array");
    return nullptr;
  }
  float* heap = static_cast<float*>(data);
  mmft::gemm(int(batches), int(m), int(n), int(k), {heap + v[4], v[5], v[6], v[7]}, {heap + v[8], v[9], v[10], v[11]}, heap + v[12], int(v[13]));
  return nullptr;
}

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
  napi_value fn;
  if (napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, Gemm, nullptr, &fn) != napi_ok) return nullptr;
  if (napi_set_named_property(env, exports, "gemm", fn) != napi_ok) return nullptr;
  if (napi_create_function(env, "info", NAPI_AUTO_LENGTH, Info, nullptr, &fn) != napi_ok) return nullptr;
  if (napi_set_named_property(env, exports, "info", fn) != napi_ok) return nullptr;
  return exports;
}
