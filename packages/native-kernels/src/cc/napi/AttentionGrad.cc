// The N-API binding of MmftAttentionGrad (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../attention.h"

namespace mmft {
namespace napi {

// MmftAttentionGrad(heap, dContextOffset, qOffset, kOffset, vOffset, maskOffset, dqOffset, dkOffset, dvOffset, batch, heads,
//               queries, keys, headDim, maskBatch, maskHead, maskRow, scale, minValue, threads)
napi_value MmftAttentionGrad(napi_env env, napi_callback_info info) {
  napi_value argv[20];
  int64_t v[16], length = 0;
  float* heap = rowKernelArgs(env, info, 20, argv, 16, v, "MmftAttentionGrad", &length);
  double real[2];
  int64_t threads;
  if (!heap || !numberArgs(env, argv, 17, 2, 0, "MmftAttentionGrad", nullptr, real) ||
      !numberArgs(env, argv, 19, 1, 1, "MmftAttentionGrad", &threads, nullptr))
    return nullptr;
  const double minValue = real[1];
  mmft::AttentionShape shape;
  int64_t qSize, kvSize;
  if (!attentionShape(v + 8, v[4], length, &shape, &qSize, &kvSize) || !fits(v[0], qSize, length) || !fits(v[1], qSize, length) ||
      !fits(v[2], kvSize, length) || !fits(v[3], kvSize, length) || !fits(v[5], qSize, length) || !fits(v[6], kvSize, length) ||
      !fits(v[7], kvSize, length))
    return outOfRange(env, "MmftAttentionGrad");
  shape.scale = float(real[0]);
  mmft::attentionGrad(heap + v[0], heap + v[1], heap + v[2], heap + v[3], heap + v[4], heap + v[5], heap + v[6], heap + v[7], shape,
                      float(minValue), threadArg(threads));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
