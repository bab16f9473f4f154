// The N-API binding of MmftAdamWUpdate (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../fused.h"

namespace mmft {
namespace napi {

// MmftAdamWUpdate(heap, pOffset, gOffset, mOffset, vOffset, pOutOffset, mOutOffset, vOutOffset, n,
//             beta1, beta2, c1, c2, eps, decay, stepSize, bias2Sqrt, threads)
napi_value MmftAdamWUpdate(napi_env env, napi_callback_info info) {
  napi_value argv[18];
  int64_t v[8], length = 0, threads;
  double c[8];
  float* heap = rowKernelArgs(env, info, 18, argv, 8, v, "MmftAdamWUpdate", &length);
  if (!heap || !numberArgs(env, argv, 9, 8, 0, "MmftAdamWUpdate", nullptr, c) || !numberArgs(env, argv, 17, 1, 1, "MmftAdamWUpdate", &threads, nullptr))
    return nullptr;
  const int64_t n = v[7];
  for (int i = 0; i < 7; i++)
    if (!fits(v[i], n, length)) return outOfRange(env, "MmftAdamWUpdate");
  if (n == 0) return nullptr;
  const mmft::AdamWCoefficients k{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]};
  mmft::adamwUpdate(heap + v[0], heap + v[1], heap + v[2], heap + v[3], heap + v[4], heap + v[5], heap + v[6], n, k, threadArg(threads));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
