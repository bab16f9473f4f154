// The N-API binding of MmftCrossEntropyGrad (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../cross_entropy.h"

namespace mmft {
namespace napi {

// MmftCrossEntropyGrad(heap, dyOffset, dlseOffset, logitsOffset, labelsOffset, lseOffset, dxOffset, rows, cols, ignoreIndex, threads)
napi_value MmftCrossEntropyGrad(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  int64_t v[8], length = 0;
  float* heap = rowKernelArgs(env, info, 11, argv, 8, v, "MmftCrossEntropyGrad", &length);
  int32_t ignoreIndex;
  int64_t threads;
  if (!heap || !int32Arg(env, argv[9], "MmftCrossEntropyGrad", 9, &ignoreIndex) ||
      !numberArgs(env, argv, 10, 1, 1, "MmftCrossEntropyGrad", &threads, nullptr))
    return nullptr;
  const int64_t rows = v[6], area = areaWithin(rows, v[7], length);
  if (area < 0 || !fits(v[0], rows, length) || !fits(v[1], rows, length) || !fits(v[2], area, length) || !fits(v[3], rows, length) ||
      !fits(v[4], rows, length) || !fits(v[5], area, length))
    return outOfRange(env, "MmftCrossEntropyGrad");
  const int32_t* labels = reinterpret_cast<const int32_t*>(heap + v[3]);
  mmft::crossEntropyGrad(heap + v[0], heap + v[1], heap + v[2], labels, heap + v[4], heap + v[5], rows, v[7], ignoreIndex,
                         threadArg(threads));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
