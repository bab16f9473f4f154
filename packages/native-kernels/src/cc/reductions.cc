// Sums over rows and arrays, and the repeated add; see reductions.h. Loops are compiled for AVX-512, AVX2+FMA and baseline x86-64
// (target_clones, as fused.cc), eight floats at a time (simd.h).
#include "reductions.h"
#include "clones.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "pool.h"
#include "simd.h"

namespace mmft {
namespace {

using namespace simd;

MMFT_TARGET_CLONES void sumRowsRange(const float* x, double* acc, int64_t begin, int64_t end, int64_t cols) {
  for (int64_t r = begin; r < end; r++) {
    const float* row = x + r * cols;
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) {
      v8d a;
      std::memcpy(&a, acc + c, sizeof a);
      a += __builtin_convertvector(load(row + c), v8d);
      std::memcpy(acc + c, &a, sizeof a);
    }
    for (; c < cols; c++) acc[c] += row[c];
  }
}

MMFT_TARGET_CLONES double sumOfSquaresRange(const float* x, int64_t n) {
  v8d acc = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v8d v = __builtin_convertvector(load(x + i), v8d);
    acc += v * v;
  }
  double s = 0;
  for (int j = 0; j < 8; j++) s += acc[j];
  for (; i < n; i++) s += double(x[i]) * double(x[i]);
  return s;
}

// [begin, end) of out = a + b repeated every m floats; begin is where a row of b starts or inside it.
MMFT_TARGET_CLONES void addRepeatedRange(const float* a, const float* b, float* out, int64_t begin, int64_t end, int64_t m) {
  int64_t i = begin;
  while (i < end) {
    const int64_t j0 = i % m, len = std::min(end - i, m - j0);
    const float *ar = a + i, *br = b + j0;
    float* o = out + i;
    int64_t j = 0;
    for (; j + 8 <= len; j += 8) store(o + j, load(ar + j) + load(br + j));
    for (; j < len; j++) o[j] = ar[j] + br[j];
    i += len;
  }
}

}  // namespace

void sumRows(const float* x, float* out, int64_t rows, int64_t cols, int threads) {
  if (cols <= 0) return;
  const int t = useThreads(threads, rows);
  // One float64 accumulator row per thread, summed in thread order (deterministic for a given t).
  std::vector<double> acc(size_t(t * cols), 0.0);
  if (rows > 0) runParallel(t, [&](int w) { sumRowsRange(x, acc.data() + size_t(w * cols), rows * w / t, rows * (w + 1) / t, cols); });
  for (int64_t c = 0; c < cols; c++) {
    double s = 0;
    for (int w = 0; w < t; w++) s += acc[size_t(w * cols + c)];
    out[c] = float(s);
  }
}

double sumOfSquares(const float* const* parts, const int64_t* sizes, int64_t count, int threads) {
  int64_t total = 0;
  for (int64_t i = 0; i < count; i++) total += sizes[i];
  // Whole arrays per thread, split where the running size crosses each thread's share; the
  // per-array sums are added in array order, so the result does not depend on the thread count.
  std::vector<double> sums(size_t(std::max<int64_t>(count, 1)), 0.0);
  const int t = total < 131072 ? 1 : useThreads(threads, count);
  std::vector<int64_t> bounds(size_t(t + 1), count);
  bounds[0] = 0;
  for (int64_t i = 0, seen = 0, w = 1; i < count && w < t; i++) {
    seen += sizes[i];
    while (w < t && seen >= total * w / t) bounds[size_t(w++)] = i + 1;
  }
  runParallel(t, [&](int w) {
    for (int64_t i = bounds[size_t(w)]; i < bounds[size_t(w + 1)]; i++) sums[size_t(i)] = sumOfSquaresRange(parts[i], sizes[i]);
  });
  double s = 0;
  for (int64_t i = 0; i < count; i++) s += sums[size_t(i)];
  return s;
}

void addRepeated(const float* a, const float* b, float* out, int64_t n, int64_t m, int threads) {
  if (n > 0 && m > 0) parallelElements(n, threads, [&](int64_t s, int64_t e) { addRepeatedRange(a, b, out, s, e, m); });
}

}  // namespace mmft
