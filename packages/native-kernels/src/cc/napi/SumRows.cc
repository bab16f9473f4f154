// The N-API binding of MmftSumRows (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../reductions.h"

namespace mmft {
namespace napi {

// MmftSumRows(heap, xOffset, outOffset, rows, cols, threads)
napi_value MmftSumRows(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int64_t v[5], length = 0;
  float* heap = rowKernelArgs(env, info, 6, argv, 5, v, "MmftSumRows", &length);
  if (!heap) return nullptr;
  const int64_t rows = v[2], cols = v[3], area = areaWithin(rows, cols, length);
  if (area < 0 || !fits(v[0], area, length) || !fits(v[1], cols, length)) return outOfRange(env, "MmftSumRows");
  mmft::sumRows(heap + v[0], heap + v[1], rows, cols, threadArg(v[4]));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
