// The N-API binding of MmftLayerNorm (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../fused.h"

namespace mmft {
namespace napi {

// MmftLayerNorm(heap, xOffset, gammaOffset, betaOffset, yOffset, rows, cols, eps, threads)
napi_value MmftLayerNorm(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int64_t v[6], length = 0, threads;
  double eps;
  float* heap = rowKernelArgs(env, info, 9, argv, 6, v, "MmftLayerNorm", &length);
  if (!heap || !numberArgs(env, argv, 7, 1, 0, "MmftLayerNorm", nullptr, &eps) || !numberArgs(env, argv, 8, 1, 1, "MmftLayerNorm", &threads, nullptr))
    return nullptr;
  const int64_t rows = v[4], cols = v[5], area = areaWithin(rows, cols, length);
  if (area < 0 || !fits(v[0], area, length) || !fits(v[1], cols, length) || !fits(v[2], cols, length) || !fits(v[3], area, length))
    return outOfRange(env, "MmftLayerNorm");
  if (area == 0) return nullptr;
  mmft::layerNorm(heap + v[0], heap + v[1], heap + v[2], heap + v[3], rows, cols, eps, threadArg(threads));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
