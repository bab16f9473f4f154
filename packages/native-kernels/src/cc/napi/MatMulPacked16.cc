// The N-API binding of MmftMatMulPacked16 (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../packed16.h"

namespace mmft {
namespace napi {

// MmftMatMulPacked16(heap, m, rows, cols, xOffset, wOffset, format, transposeW, yOffset, threads).
// The weight's offset counts 4-byte elements of the heap like every other (its int32 tensor's),
// each holding two 16-bit values.
napi_value MmftMatMulPacked16(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  int64_t v[9], length = 0;
  float* heap = rowKernelArgs(env, info, 10, argv, 9, v, "MmftMatMulPacked16", &length);
  if (!heap) return nullptr;
  const int64_t m = v[0], rows = v[1], cols = v[2], format = v[5], transposeW = v[6];
  if (m > INT32_MAX || rows > INT32_MAX || cols > INT32_MAX) {
    napi_throw_range_error(env, "E_NATIVE", "MmftMatMulPacked16: dimensions must fit in 32 bits");
    return nullptr;
  }
  if (format > 1 || transposeW > 1) {
    napi_throw_range_error(env, "E_NATIVE", "MmftMatMulPacked16: format must be 0 (bf16) or 1 (fp16) and transposeW 0 or 1");
    return nullptr;
  }
  const int64_t k = transposeW ? cols : rows, n = transposeW ? rows : cols;
  const int64_t weight = areaWithin(rows, cols, 2 * length);
  const int64_t xSize = areaWithin(m, k, length), ySize = areaWithin(m, n, length);
  if (weight < 0 || xSize < 0 || ySize < 0 || !fits(v[3], xSize, length) || !fits(v[4], (weight + 1) / 2, length) || !fits(v[7], ySize, length))
    return outOfRange(env, "MmftMatMulPacked16");
  const uint16_t* w = reinterpret_cast<const uint16_t*>(heap + v[4]);
  mmft::matMulPacked16(int(m), int(rows), int(cols), heap + v[3], w, int(format), transposeW != 0, heap + v[7], threadArg(v[8]));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
