// The N-API binding of MmftAddRepeated (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../reductions.h"

namespace mmft {
namespace napi {

// MmftAddRepeated(heap, aOffset, bOffset, outOffset, n, m, threads)
napi_value MmftAddRepeated(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  int64_t v[6], length = 0;
  float* heap = rowKernelArgs(env, info, 7, argv, 6, v, "MmftAddRepeated", &length);
  if (!heap) return nullptr;
  const int64_t n = v[3], m = v[4];
  if (m == 0 ? n != 0 : n % m != 0) {
    napi_throw_range_error(env, "E_NATIVE", "MmftAddRepeated: n must be a multiple of m");
    return nullptr;
  }
  if (!fits(v[0], n, length) || !fits(v[1], m, length) || !fits(v[2], n, length)) return outOfRange(env, "MmftAddRepeated");
  mmft::addRepeated(heap + v[0], heap + v[1], heap + v[2], n, m, threadArg(v[5]));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
