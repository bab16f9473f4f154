// A GEMM whose B operand is a 16-bit weight: each thread decodes a block of columns of B (a few
// hundred KiB) to float and hands it to the float GEMM's serial path (gemm.h gemmSerial), which
// packs it into its panels as usual. The decode costs one pass over W per call, the same order as
// the GEMM's own packing of B. bf16 → float is a shift; fp16 goes through a 65536-entry table
// (exact, as numpy's npy_halfbits_to_floatbits in numpy/_core/src/npymath/halffloat.cpp decodes).
#include "packed16.h"
#include "gemm.h"
#include "pool.h"

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

thread_local std::vector<float> blockBuffer;

// Floats of decoded W a block may take: 1 MiB stays in L2 beside the GEMM's own panels.
constexpr int64_t kBlockFloats = 262144;

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
  // Column blocks: a multiple of 32 (the micro-kernel's width), about n / t, at most kBlockFloats.
  const int cap = int(std::max<int64_t>(32, kBlockFloats / k / 32 * 32));
  const int width = std::min(cap, std::max(32, (n + t - 1) / t + 31) / 32 * 32);
  const int blocks = (n + width - 1) / width;
  t = std::min(t, blocks);
  auto work = [&](int worker) {
    std::vector<float>& buffer = blockBuffer;
    for (int block = worker; block < blocks; block += t) {
      const int j0 = block * width, nb = std::min(width, n - j0);
      if (buffer.size() < size_t(nb) * k) buffer.resize(size_t(nb) * k);
      float* b = buffer.data();
      if (transposeW) {
        // W rows j0 … j0+nb are y's columns: decode them as they lie, [nb, k], and read them transposed.
        decode(w + int64_t(j0) * cols, int64_t(nb) * k, format, b);
        gemmSerial(m, nb, k, {x, 0, k, 1}, {b, 0, 1, k}, y + j0, n);
      } else {
        // W's columns j0 … j0+nb of every row: [k, nb].
        for (int p = 0; p < k; p++) decode(w + int64_t(p) * cols + j0, nb, format, b + int64_t(p) * nb);
        gemmSerial(m, nb, k, {x, 0, k, 1}, {b, 0, nb, 1}, y + j0, n);
      }
    }
  };
  if (t <= 1) {
    work(0);
    return;
  }
  runParallel(t, work);
}

}  // namespace mmft
