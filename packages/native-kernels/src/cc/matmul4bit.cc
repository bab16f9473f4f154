// A GEMM whose B operand is a 4-bit blockwise weight (bitsandbytes' layout: dequantize_4bit in
// bitsandbytes/backends/default/ops.py reads element 2j from the high nibble, 2j + 1 from the low
// one, and multiplies code[nibble] by its block's absmax in float32). As packed16.cc does for
// 16-bit weights, each thread decodes a block of columns of B (a few hundred KiB) to float and
// hands it to the float GEMM's serial path (gemm.h gemmSerial), so the decode costs one pass over
// the 4-bit W per call and no float copy of W exists. The decode looks each byte up in a 256-entry
// table of code pairs, then scales a block's run of floats eight at a time (simd.h).
#include "matmul4bit.h"
#include "clones.h"
#include "panel_gemm.h"
#include "simd.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace mmft {
namespace {

// Elements [start, start + count) of W into dst. `pairs` holds {code[b >> 4], code[b & 15]} for each byte b.
MMFT_TARGET_CLONES void decode(const Weight4bit& w, const float* pairs, int64_t start, int64_t count, float* dst) {
  const int64_t end = start + count;
  int64_t i = start;
  if (i < end && (i & 1)) {
    *dst++ = w.code[w.packed[i >> 1] & 0xf] * w.absmax[i / w.blockSize];
    i++;
  }
  while (end - i >= 2) {
    const int64_t block = i / w.blockSize;
    const int64_t stop = std::min(end, (block + 1) * w.blockSize);
    const int64_t n = (stop - i) / 2 * 2;
    if (n == 0) break;  // a block of one element (blockSize 1): the scalar tail below
    const uint8_t* bytes = w.packed + (i >> 1);
    for (int64_t j = 0; j < n / 2; j++) std::memcpy(dst + 2 * j, pairs + 2 * bytes[j], 2 * sizeof(float));
    const simd::v8f s = simd::splat(w.absmax[block]);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) simd::store(dst + j, simd::load(dst + j) * s);
    for (; j < n; j++) dst[j] *= w.absmax[block];
    dst += n;
    i += n;
  }
  for (; i < end; i++) {
    const uint8_t byte = w.packed[i >> 1];
    *dst++ = w.code[i & 1 ? byte & 0xf : byte >> 4] * w.absmax[i / w.blockSize];
  }
}

// y[i, r0 … r1) for the few rows of x (decoding, one token at a time): each weight row decoded into
// a buffer that stays in cache and dotted with every x row, no GEMM packing; as bitsandbytes'
// kgemm_4bit_inference_naive (csrc/kernels.cu) reads the 4-bit W once per token.
MMFT_TARGET_CLONES void gemvRows(int m, int k, const float* x, const Weight4bit& w, const float* pairs, int r0, int r1, float* row, float* y, int64_t ldy) {
  for (int r = r0; r < r1; r++) {
    decode(w, pairs, int64_t(r) * k, k, row);
    for (int i = 0; i < m; i++) {
      const float* xi = x + int64_t(i) * k;
      simd::v8f a0 = simd::splat(0.0f), a1 = simd::splat(0.0f);
      int p = 0;
      for (; p + 16 <= k; p += 16) {
        a0 += simd::load(xi + p) * simd::load(row + p);
        a1 += simd::load(xi + p + 8) * simd::load(row + p + 8);
      }
      for (; p + 8 <= k; p += 8) a0 += simd::load(xi + p) * simd::load(row + p);
      const simd::v8f a = a0 + a1;
      float sum = 0;
      for (int lane = 0; lane < 8; lane++) sum += a[lane];
      for (; p < k; p++) sum += xi[p] * row[p];
      y[int64_t(i) * ldy + r] = sum;
    }
  }
}

// Up to this many rows of x take the GEMV path (transposed weight only: Linear's forward).
constexpr int kGemvRows = 4;


}  // namespace

void matMul4bit(int m, int rows, int cols, const float* x, const Weight4bit& w, bool transposeW, float* y, int threads) {
  const int n = transposeW ? rows : cols, k = transposeW ? cols : rows;
  if (m <= 0 || n <= 0) return;
  if (k == 0) {
    std::memset(y, 0, size_t(m) * n * sizeof(float));
    return;
  }
  float pairs[512];
  for (int b = 0; b < 256; b++) {
    pairs[2 * b] = w.code[b >> 4];
    pairs[2 * b + 1] = w.code[b & 0xf];
  }
  // Below ~64k multiply-adds a second thread costs more to wake than it saves (gemm.cc).
  int t = double(m) * n * k < 65536.0 ? 1 : std::max(1, threads);
  if (transposeW && m <= kGemvRows) {
    t = std::min(t, n);
    auto gemv = [&](int worker) {
      std::vector<float>& buffer = panelBuffer();
      if (buffer.size() < size_t(k)) buffer.resize(size_t(k));
      const int r0 = int(int64_t(n) * worker / t), r1 = int(int64_t(n) * (worker + 1) / t);
      gemvRows(m, k, x, w, pairs, r0, r1, buffer.data(), y, n);
    };
    if (t <= 1) {
      gemv(0);
    } else {
      runParallel(t, gemv);
    }
    return;
  }
  panelGemm(m, n, k, cols, transposeW, t, x, y, [&](int64_t first, int64_t count, float* out) { decode(w, pairs, first, count, out); });
}

}  // namespace mmft
