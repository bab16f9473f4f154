// The N-API binding of MmftCrossEntropyGrad (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../cross_entropy.h"

namespace mmft {
namespace napi {

// MmftCrossEntropyGrad(heap, dyOffset, logitsOffset, labelsOffset, lseOffset, dxOffset, rows, cols, ignoreIndex, threads)
napi_value MmftCrossEntropyGrad(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  int64_t v[7], length = 0;
  float* heap = rowKernelArgs(env, info, 10, argv, 7, v, "MmftCrossEntropyGrad", &length);
  int32_t ignoreIndex;
  int64_t threads;
  if (!heap || !int32Arg(env, argv[8], "MmftCrossEntropyGrad", 8, &ignoreIndex) ||
      !numberArgs(env, argv, 9, 1, 1, "MmftCrossEntropyGrad", &threads, nullptr))
    return nullptr;
  const int64_t area = areaWithin(v[5], v[6], length);
  if (area < 0 || !fits(v[0], v[5], length) || !fits(v[1], area, length) || !fits(v[2], v[5], length) || !fits(v[3], v[5], length) ||
      !fits(v[4], area, length))
    return outOfRange(env, "MmftCrossEntropyGrad");
  mmft::crossEntropyGrad(heap + v[0], heap + v[1], reinterpret_cast<const int32_t*>(heap + v[2]), heap + v[3], heap + v[4], v[5], v[6],
                         ignoreIndex, threadArg(threads));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
