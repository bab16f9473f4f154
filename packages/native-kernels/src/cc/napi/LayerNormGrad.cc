// The N-API binding of MmftLayerNormGrad (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../fused.h"

namespace mmft {
namespace napi {

// MmftLayerNormGrad(heap, dyOffset, xOffset, gammaOffset, dxOffset, dgammaOffset, dbetaOffset, rows, cols, eps, threads)
napi_value MmftLayerNormGrad(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  int64_t v[8], length = 0, threads;
  double eps;
  float* heap = rowKernelArgs(env, info, 11, argv, 8, v, "MmftLayerNormGrad", &length);
  if (!heap || !numberArgs(env, argv, 9, 1, 0, "MmftLayerNormGrad", nullptr, &eps) || !numberArgs(env, argv, 10, 1, 1, "MmftLayerNormGrad", &threads, nullptr))
    return nullptr;
  const int64_t rows = v[6], cols = v[7], area = areaWithin(rows, cols, length);
  if (area < 0 || !fits(v[0], area, length) || !fits(v[1], area, length) || !fits(v[2], cols, length) || !fits(v[3], area, length) ||
      !fits(v[4], cols, length) || !fits(v[5], cols, length))
    return outOfRange(env, "MmftLayerNormGrad");
  if (cols == 0) return nullptr;
  mmft::layerNormGrad(heap + v[0], heap + v[1], heap + v[2], heap + v[3], heap + v[4], heap + v[5], rows, cols, eps, threadArg(threads));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
