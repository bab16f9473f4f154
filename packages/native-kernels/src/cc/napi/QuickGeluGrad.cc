// The N-API binding of MmftQuickGeluGrad (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../activations.h"

namespace mmft {
namespace napi {

// MmftQuickGeluGrad(heap, dyOffset, xOffset, dxOffset, n, threads)
napi_value MmftQuickGeluGrad(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int64_t v[5], length = 0;
  float* heap = rowKernelArgs(env, info, 6, argv, 5, v, "MmftQuickGeluGrad", &length);
  if (!heap) return nullptr;
  if (!fits(v[0], v[3], length) || !fits(v[1], v[3], length) || !fits(v[2], v[3], length)) return outOfRange(env, "MmftQuickGeluGrad");
  mmft::quickGeluGrad(heap + v[0], heap + v[1], heap + v[2], v[3], threadArg(v[4]));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
