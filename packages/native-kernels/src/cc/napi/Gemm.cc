// The N-API binding of MmftGemm (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../gemm.h"

namespace mmft {
namespace napi {

// MmftGemm(heap, batches, m, n, k, aOffset, aBatch, aRow, aCol, bOffset, bBatch, bRow, bCol, cOffset, threads)
napi_value MmftGemm(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 15) {
    napi_throw_type_error(env, "E_NATIVE", "MmftGemm takes 15 arguments");
    return nullptr;
  }
  bool isTyped = false;
  CHECK_NAPI(env, napi_is_typedarray(env, argv[0], &isTyped));
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (isTyped) CHECK_NAPI(env, napi_get_typedarray_info(env, argv[0], &type, &length, &data, nullptr, nullptr));
  if (!isTyped || type != napi_float32_array) {
    napi_throw_type_error(env, "E_NATIVE", "MmftGemm: the first argument must be a Float32Array");
    return nullptr;
  }
  int64_t v[14];
  for (int i = 0; i < 14; i++) {
    if (!intArg(env, argv[i + 1], &v[i]) || v[i] < 0) {
      napi_throw_range_error(env, "E_NATIVE", ("MmftGemm: argument " + std::to_string(i + 1) + " must be a non-negative integer").c_str());
      return nullptr;
    }
  }
  const int64_t batches = v[0], m = v[1], n = v[2], k = v[3];
  if (batches > INT32_MAX || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) {
    napi_throw_range_error(env, "E_NATIVE", "MmftGemm: dimensions must fit in 32 bits");
    return nullptr;
  }
  if (batches == 0 || m == 0 || n == 0) return nullptr;
  const int64_t len = int64_t(length);
  const bool inBounds = (k == 0 || (lastIndex(v[4], batches, m, k, v[5], v[6], v[7]) < len && lastIndex(v[8], batches, k, n, v[9], v[10], v[11]) < len)) &&
                        lastIndex(v[12], batches, m, n, m * n, n, 1) < len;
  if (!inBounds) {
    napi_throw_range_error(env, "E_NATIVE", "MmftGemm: an operand reaches past the end of the array");
    return nullptr;
  }
  float* heap = static_cast<float*>(data);
  mmft::gemm(int(batches), int(m), int(n), int(k), {heap + v[4], v[5], v[6], v[7]}, {heap + v[8], v[9], v[10], v[11]}, heap + v[12], int(v[13]));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
