// The N-API binding of MmftSumOfSquares (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../reductions.h"

#include <vector>

namespace mmft {
namespace napi {

// MmftSumOfSquares(heap, offsets: Float64Array, sizes: Float64Array, threads) → number
napi_value MmftSumOfSquares(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!getArgs(env, info, 4, argv, "MmftSumOfSquares")) return nullptr;
  int64_t length = 0;
  float* heap = float32Arg(env, argv[0], "MmftSumOfSquares", &length);
  if (!heap) return nullptr;
  double* lists[2];
  size_t counts[2];
  for (int i = 0; i < 2; i++) {
    bool isTyped = false;
    napi_typedarray_type type;
    void* data = nullptr;
    if (napi_is_typedarray(env, argv[1 + i], &isTyped) != napi_ok || !isTyped ||
        napi_get_typedarray_info(env, argv[1 + i], &type, &counts[i], &data, nullptr, nullptr) != napi_ok || type != napi_float64_array) {
      napi_throw_type_error(env, "E_NATIVE", "MmftSumOfSquares: offsets and sizes must be Float64Arrays");
      return nullptr;
    }
    lists[i] = static_cast<double*>(data);
  }
  int64_t threads;
  if (counts[0] != counts[1]) {
    napi_throw_range_error(env, "E_NATIVE", "MmftSumOfSquares: offsets and sizes differ in length");
    return nullptr;
  }
  if (!numberArgs(env, argv, 3, 1, 1, "MmftSumOfSquares", &threads, nullptr)) return nullptr;
  const size_t count = counts[0];
  std::vector<const float*> parts(count);
  std::vector<int64_t> sizes(count);
  for (size_t i = 0; i < count; i++) {
    const double offset = lists[0][i], size = lists[1][i];
    if (!(offset >= 0 && size >= 0 && offset == double(int64_t(offset)) && size == double(int64_t(size))) || !fits(int64_t(offset), int64_t(size), length))
      return outOfRange(env, "MmftSumOfSquares");
    parts[i] = heap + int64_t(offset);
    sizes[i] = int64_t(size);
  }
  napi_value out;
  CHECK_NAPI(env, napi_create_double(env, mmft::sumOfSquares(parts.data(), sizes.data(), int64_t(count), threadArg(threads)), &out));
  return out;
}

}  // namespace napi
}  // namespace mmft
