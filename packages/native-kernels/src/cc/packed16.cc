// A GEMM whose B operand is a 16-bit weight: each thread decodes a block of columns of B (a few
// hundred KiB) to float and hands it to the float GEMM's serial path (gemm.h gemmSerial), which
// packs it into its panels as usual. The decode costs one pass over W per call, the same order as
// the GEMM's own packing of B. bf16 → float is a shift; fp16 goes through a 65536-entry table
// (exact, as numpy's npy_halfbits_to_floatbits in numpy/_core/src/npymath/halffloat.cpp decodes).
#include "packed16.h"
#include "panel_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace mmft {
namespace {

float halfToFloat(uint32_t h) {
  const uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    // Subnormal (or zero): mant · 2⁻²⁴, exact in float.
    const float f = float(mant) * (1.0f / 16777216.0f);
    std::memcpy(&bits, &f, 4);
    bits |= sign;
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

const float* fp16Table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t h = 0; h < 65536; h++) t[h] = halfToFloat(h);
    return t;
  }();
  return table.data();
}

void decode(const uint16_t* src, int64_t count, int format, float* dst) {
  if (format == kBf16) {
    for (int64_t i = 0; i < count; i++) {
      const uint32_t bits = uint32_t(src[i]) << 16;
      std::memcpy(dst + i, &bits, 4);
    }
    return;
  }
  const float* table = fp16Table();
  for (int64_t i = 0; i < count; i++) dst[i] = table[src[i]];
}


}  // namespace

void matMulPacked16(int m, int rows, int cols, const float* x, const uint16_t* w, int format, bool transposeW, float* y, int threads) {
  const int n = transposeW ? rows : cols, k = transposeW ? cols : rows;
  if (m <= 0 || n <= 0) return;
  if (k == 0) {
    std::memset(y, 0, size_t(m) * n * sizeof(float));
    return;
  }
  if (format == kFp16) fp16Table();  // built once, before any worker reads it
  // Below ~64k multiply-adds a second thread costs more to wake than it saves (gemm.cc).
  int t = double(m) * n * k < 65536.0 ? 1 : std::max(1, threads);
  panelGemm(m, n, k, cols, transposeW, t, x, y, [&](int64_t first, int64_t count, float* out) { decode(w + first, count, format, out); });
}

}  // namespace mmft
