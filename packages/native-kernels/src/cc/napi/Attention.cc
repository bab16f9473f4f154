// The N-API binding of MmftAttention (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../attention.h"

namespace mmft {
namespace napi {

// MmftAttention(heap, qOffset, kOffset, vOffset, maskOffset, contextOffset, batch, heads, queries, keys, headDim,
//           maskBatch, maskHead, maskRow, scale, minValue, threads)
napi_value MmftAttention(napi_env env, napi_callback_info info) {
  napi_value argv[17];
  int64_t v[13], length = 0;
  float* heap = rowKernelArgs(env, info, 17, argv, 13, v, "MmftAttention", &length);
  double real[2];
  int64_t threads;
  if (!heap || !numberArgs(env, argv, 14, 2, 0, "MmftAttention", nullptr, real) || !numberArgs(env, argv, 16, 1, 1, "MmftAttention", &threads, nullptr))
    return nullptr;
  const double minValue = real[1];
  mmft::AttentionShape shape;
  int64_t qSize, kvSize;
  if (!attentionShape(v + 5, v[3], length, &shape, &qSize, &kvSize) || !fits(v[0], qSize, length) || !fits(v[1], kvSize, length) ||
      !fits(v[2], kvSize, length) || !fits(v[4], qSize, length))
    return outOfRange(env, "MmftAttention");
  shape.scale = float(real[0]);
  mmft::attention(heap + v[0], heap + v[1], heap + v[2], heap + v[3], heap + v[4], shape, float(minValue), threadArg(threads));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
