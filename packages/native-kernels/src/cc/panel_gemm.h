// y = x · W (or x · Wᵀ) for a weight held in a compressed form (16-bit patterns, 4-bit codes): W is
// decoded one column block (a panel) at a time into a per-thread buffer and handed to the GEMM
// micro-kernel, so the whole float32 W never exists. Shared by packed16.cc and matmul4bit.cc.
#pragma once

#include "gemm.h"
#include "pool.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace mmft {

// A thread's decode buffer (also the 4-bit GEMV's row buffer).
inline std::vector<float>& panelBuffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

// Floats of decoded W a panel may take: 1 MiB stays in L2 beside the GEMM's own panels.
constexpr int64_t kPanelFloats = 262144;

// y[m, n] = x[m, k] · op(W), W stored row-major with `cols` columns: op(W) = Wᵀ when transposeW
// (W [n, k]), else W ([k, n]). decode(first, count, out) writes `count` consecutive elements of W's
// storage from element `first` as floats. Columns are split into blocks of a multiple of 32 (the
// micro-kernel's width), about n / t, over at most t threads.
template <typename Decode>
void panelGemm(int m, int n, int k, int cols, bool transposeW, int t, const float* x, float* y, const Decode& decode) {
  const int cap = int(std::max<int64_t>(32, kPanelFloats / k / 32 * 32));
  const int width = std::min(cap, std::max(32, (n + t - 1) / t + 31) / 32 * 32);
  const int blocks = (n + width - 1) / width;
  t = std::min(t, blocks);
  auto work = [&](int worker) {
    std::vector<float>& buffer = panelBuffer();
    for (int block = worker; block < blocks; block += t) {
      const int j0 = block * width, nb = std::min(width, n - j0);
      if (buffer.size() < size_t(nb) * k) buffer.resize(size_t(nb) * k);
      float* b = buffer.data();
      if (transposeW) {
        // W rows j0 … j0+nb are y's columns: one contiguous run of elements, [nb, k], read transposed.
        decode(int64_t(j0) * cols, int64_t(nb) * k, b);
        gemmSerial(m, nb, k, {x, 0, k, 1}, {b, 0, 1, k}, y + j0, n);
      } else {
        // W's columns j0 … j0+nb of every row: [k, nb].
        for (int p = 0; p < k; p++) decode(int64_t(p) * cols + j0, nb, b + int64_t(p) * nb);
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
