// The N-API binding of MmftSoftmax (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../softmax.h"

namespace mmft {
namespace napi {

// MmftSoftmax(heap, xOffset, maskOffset, yOffset, batch, heads, rows, cols, maskBatch, maskHead, maskRow, hasMask, minValue, threads)
napi_value MmftSoftmax(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  int64_t v[11], length = 0;
  float* heap = rowKernelArgs(env, info, 14, argv, 11, v, "MmftSoftmax", &length);
  double minValue;
  int64_t threads;
  if (!heap || !numberArgs(env, argv, 12, 1, 0, "MmftSoftmax", nullptr, &minValue) || !numberArgs(env, argv, 13, 1, 1, "MmftSoftmax", &threads, nullptr))
    return nullptr;
  mmft::SoftmaxShape shape;
  int64_t area;
  if (!softmaxShape(v + 3, v[1], length, &shape, &area) || !fits(v[0], area, length) || !fits(v[2], area, length)) return outOfRange(env, "MmftSoftmax");
  mmft::softmax(heap + v[0], v[10] ? heap + v[1] : nullptr, heap + v[2], shape, float(minValue), threadArg(threads));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
