// The N-API binding of MmftQuickGelu (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../activations.h"

namespace mmft {
namespace napi {

// MmftQuickGelu(heap, xOffset, yOffset, n, threads)
napi_value MmftQuickGelu(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int64_t v[4], length = 0;
  float* heap = rowKernelArgs(env, info, 5, argv, 4, v, "MmftQuickGelu", &length);
  if (!heap) return nullptr;
  if (!fits(v[0], v[2], length) || !fits(v[1], v[2], length)) return outOfRange(env, "MmftQuickGelu");
  mmft::quickGelu(heap + v[0], heap + v[1], v[2], threadArg(v[3]));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
