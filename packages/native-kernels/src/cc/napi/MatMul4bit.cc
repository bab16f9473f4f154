// The N-API binding of MmftMatMul4bit (packages/native-kernels/src/kernels.ts lists it).
#include "napi_args.h"
#include "symbols.h"
#include "../matmul4bit.h"

namespace mmft {
namespace napi {

// MmftMatMul4bit(heap, m, rows, cols, blockSize, xOffset, packedOffset, absmaxOffset, codeOffset,
// transposeW, yOffset, threads). Offsets count 4-byte elements of the heap like every other; the
// packed weight's int32 tensor holds four bytes (eight codes) per element.
napi_value MmftMatMul4bit(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  int64_t v[11], length = 0;
  float* heap = rowKernelArgs(env, info, 12, argv, 11, v, "MmftMatMul4bit", &length);
  if (!heap) return nullptr;
  const int64_t m = v[0], rows = v[1], cols = v[2], blockSize = v[3], transposeW = v[8];
  if (m > INT32_MAX || rows > INT32_MAX || cols > INT32_MAX) {
    napi_throw_range_error(env, "E_NATIVE", "MmftMatMul4bit: dimensions must fit in 32 bits");
    return nullptr;
  }
  if (blockSize < 1 || blockSize > (int64_t(1) << 30) || (blockSize & (blockSize - 1)) != 0 || transposeW > 1) {
    napi_throw_range_error(env, "E_NATIVE", "MmftMatMul4bit: blockSize must be a power of two and transposeW 0 or 1");
    return nullptr;
  }
  const int64_t k = transposeW ? cols : rows, n = transposeW ? rows : cols;
  const int64_t size = areaWithin(rows, cols, 8 * length);
  const int64_t xSize = areaWithin(m, k, length), ySize = areaWithin(m, n, length);
  if (size < 0 || xSize < 0 || ySize < 0) return outOfRange(env, "MmftMatMul4bit");
  const int64_t words = ((size + 1) / 2 + 3) / 4, blocks = (size + blockSize - 1) / blockSize;
  if (!fits(v[4], xSize, length) || !fits(v[5], words, length) || !fits(v[6], blocks, length) || !fits(v[7], 16, length) ||
      !fits(v[9], ySize, length))
    return outOfRange(env, "MmftMatMul4bit");
  const Weight4bit w{reinterpret_cast<const uint8_t*>(heap + v[5]), heap + v[6], heap + v[7], blockSize};
  mmft::matMul4bit(int(m), int(rows), int(cols), heap + v[4], w, transposeW != 0, heap + v[9], threadArg(v[10]));
  return nullptr;
}

}  // namespace napi
}  // namespace mmft
