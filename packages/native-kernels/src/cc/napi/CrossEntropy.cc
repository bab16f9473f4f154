// The N-API binding of MmftCrossEntropy (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../cross_entropy.h"

namespace mmft {
namespace napi {

// MmftCrossEntropy(heap, logitsOffset, labelsOffset, lossOffset, lseOffset, rows, cols, ignoreIndex, threads); the int32 labels
// share the heap, so their offset counts 4-byte elements like the floats'.
napi_value MmftCrossEntropy(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int64_t v[6], length = 0;
  float* heap = rowKernelArgs(env, info, 9, argv, 6, v, "MmftCrossEntropy", &length);
  int32_t ignoreIndex;
  int64_t threads;
  if (!heap || !int32Arg(env, argv[7], "MmftCrossEntropy", 7, &ignoreIndex) ||
      !numberArgs(env, argv, 8, 1, 1, "MmftCrossEntropy", &threads, nullptr))
    return nullptr;
  const int64_t area = areaWithin(v[4], v[5], length);
  if (area < 0 || !fits(v[0], area, length) || !fits(v[1], v[4], length) || !fits(v[2], v[4], length) || !fits(v[3], v[4], length))
    return outOfRange(env, "MmftCrossEntropy");
  mmft::crossEntropy(heap + v[0], reinterpret_cast<const int32_t*>(heap + v[1]), heap + v[2], heap + v[3], v[4], v[5], ignoreIndex,
                     threadArg(threads));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
