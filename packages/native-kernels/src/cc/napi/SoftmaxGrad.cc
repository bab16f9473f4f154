// The N-API binding of MmftSoftmaxGrad (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../softmax.h"

namespace mmft {
namespace napi {

// MmftSoftmaxGrad(heap, dyOffset, yOffset, xOffset, maskOffset, dxOffset, batch, heads, rows, cols, maskBatch, maskHead, maskRow, hasMask,
//             minValue, threads)
napi_value MmftSoftmaxGrad(napi_env env, napi_callback_info info) {
  napi_value argv[16];
  int64_t v[13], length = 0;
  float* heap = rowKernelArgs(env, info, 16, argv, 13, v, "MmftSoftmaxGrad", &length);
  double minValue;
  int64_t threads;
  if (!heap || !numberArgs(env, argv, 14, 1, 0, "MmftSoftmaxGrad", nullptr, &minValue) ||
      !numberArgs(env, argv, 15, 1, 1, "MmftSoftmaxGrad", &threads, nullptr))
    return nullptr;
  mmft::SoftmaxShape shape;
  int64_t area;
  const bool hasMask = v[12] != 0;
  if (!softmaxShape(v + 5, v[3], length, &shape, &area) || !fits(v[0], area, length) || !fits(v[1], area, length) ||
      (hasMask && !fits(v[2], area, length)) || !fits(v[4], area, length))
    return outOfRange(env, "MmftSoftmaxGrad");
  mmft::softmaxGrad(heap + v[0], heap + v[1], hasMask ? heap + v[2] : nullptr, hasMask ? heap + v[3] : nullptr, heap + v[4], shape,
                    float(minValue), threadArg(threads));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
