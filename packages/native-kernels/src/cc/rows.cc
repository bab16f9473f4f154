// Row kernels; see rows.h. Loops are compiled for AVX-512, AVX2+FMA and baseline x86-64
// (target_clones, as fused.cc), eight floats at a time through GCC vector types.
#include "rows.h"
#include "clones.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "gemm.h"

#pragma GCC diagnostic ignored "-Wpsabi"

namespace mmft {
namespace {


typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));

#define MMFT_INLINE __attribute__((always_inline)) inline

MMFT_INLINE v8f load(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
MMFT_INLINE void store(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }
MMFT_INLINE v8f splat(float f) { return v8f{f, f, f, f, f, f, f, f}; }

// e^x, Cephes expf: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for e^r, then 2^n put
// into the exponent bits. Below −87.3 the result is 0 (float32's e^x underflows there too);
// above 88 it saturates at e^88 (no caller exponentiates anything positive that large).
MMFT_INLINE v8f vexp(v8f x) {
  const v8f lo = splat(-87.3f);
  const v8i keep = x >= lo;
  x = x < lo ? lo : x;
  x = x > splat(88.0f) ? splat(88.0f) : x;
  v8f fx = x * splat(1.44269504088896341f) + splat(0.5f);
  v8f fl = __builtin_convertvector(__builtin_convertvector(fx, v8i), v8f);
  fl = fl > fx ? fl - splat(1.0f) : fl;  // floor
  x = x - fl * splat(0.693359375f) + fl * splat(2.12194440e-4f);
  const v8f z = x * x;
  v8f y = splat(1.9875691500E-4f);
  y = y * x + splat(1.3981999507E-3f);
  y = y * x + splat(8.3334519073E-3f);
  y = y * x + splat(4.1665795894E-2f);
  y = y * x + splat(1.6666665459E-1f);
  y = y * x + splat(5.0000001201E-1f);
  y = y * z + x + splat(1.0f);
  const v8i n = __builtin_convertvector(fl, v8i);
  const v8i bits = (n + 127) << 23;
  v8f scale;
  std::memcpy(&scale, &bits, sizeof scale);
  y = y * scale;
  return keep ? y : splat(0.0f);
}

MMFT_INLINE float hmax(v8f v) {
  float m = v[0];
  for (int i = 1; i < 8; i++) m = std::max(m, v[i]);
  return m;
}
MMFT_INLINE double hsumd(v8f v) {
  double s = 0;
  for (int i = 0; i < 8; i++) s += double(v[i]);
  return s;
}

// Scalar twin of vexp for the tails: the same polynomial on one lane.
MMFT_INLINE float sexp(float x) {
  float lanes[8] = {x, x, x, x, x, x, x, x};
  return vexp(load(lanes))[0];
}

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

MMFT_INLINE v8f vsigmoid(v8f ax) { return splat(1.0f) / (splat(1.0f) + vexp(-ax)); }

constexpr float QUICK_GELU_ALPHA = 1.702f;

MMFT_TARGET_CLONES void quickGeluRange(const float* x, float* y, int64_t begin, int64_t end) {
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const v8f v = load(x + i);
    store(y + i, v * vsigmoid(v * splat(QUICK_GELU_ALPHA)));
  }
  for (; i < end; i++) y[i] = x[i] / (1.0f + sexp(-QUICK_GELU_ALPHA * x[i]));
}

MMFT_TARGET_CLONES void quickGeluGradRange(const float* dy, const float* x, float* dx, int64_t begin, int64_t end) {
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const v8f v = load(x + i);
    const v8f s = vsigmoid(v * splat(QUICK_GELU_ALPHA));
    store(dx + i, load(dy + i) * (s + splat(QUICK_GELU_ALPHA) * v * s * (splat(1.0f) - s)));
  }
  for (; i < end; i++) {
    const float s = 1.0f / (1.0f + sexp(-QUICK_GELU_ALPHA * x[i]));
    dx[i] = dy[i] * (s + QUICK_GELU_ALPHA * x[i] * s * (1.0f - s));
  }
}

const float* maskRow(const float* mask, const SoftmaxShape& s, int64_t row) {
  if (!mask) return nullptr;
  const int64_t r = row % s.rows, h = (row / s.rows) % s.heads, b = row / (s.rows * s.heads);
  return mask + b * s.maskBatch + h * s.maskHead + r * s.maskRow;
}

// z = x, or max(x + mask, minValue), into `out` (one row of n floats).
MMFT_INLINE void logits(const float* x, const float* m, float* out, int64_t n, float minValue) {
  if (!m) {
    if (out != x) std::memcpy(out, x, size_t(n) * sizeof(float));
    return;
  }
  for (int64_t i = 0; i < n; i++) out[i] = std::max(x[i] + m[i], minValue);
}

MMFT_TARGET_CLONES void softmaxRange(const float* x, const float* mask, float* y, const SoftmaxShape& s, float minValue, int64_t begin, int64_t end) {
  const int64_t n = s.cols;
  for (int64_t row = begin; row < end; row++) {
    float* yr = y + row * n;
    logits(x + row * n, maskRow(mask, s, row), yr, n, minValue);
    int64_t i = 0;
    v8f vm = splat(-INFINITY);
    for (; i + 8 <= n; i += 8) {
      const v8f v = load(yr + i);
      vm = v > vm ? v : vm;
    }
    float mx = hmax(vm);
    for (; i < n; i++) mx = std::max(mx, yr[i]);
    v8f vs = splat(0.0f);
    double sum = 0;
    for (i = 0; i + 8 <= n; i += 8) {
      const v8f e = vexp(load(yr + i) - splat(mx));
      store(yr + i, e);
      vs += e;
    }
    sum = hsumd(vs);
    for (; i < n; i++) {
      yr[i] = sexp(yr[i] - mx);
      sum += yr[i];
    }
    const float inv = float(1.0 / sum);
    for (i = 0; i + 8 <= n; i += 8) store(yr + i, load(yr + i) * splat(inv));
    for (; i < n; i++) yr[i] *= inv;
  }
}

MMFT_TARGET_CLONES void softmaxGradRange(const float* dy, const float* y, const float* x, const float* mask, float* dx, const SoftmaxShape& s,
                                       float minValue, int64_t begin, int64_t end) {
  const int64_t n = s.cols;
  for (int64_t row = begin; row < end; row++) {
    const float *gr = dy + row * n, *yr = y + row * n;
    float* dxr = dx + row * n;
    int64_t i = 0;
    v8f vd = splat(0.0f);
    for (; i + 8 <= n; i += 8) vd += load(gr + i) * load(yr + i);
    double dot = hsumd(vd);
    for (; i < n; i++) dot += double(gr[i]) * double(yr[i]);
    const float d = float(dot);
    for (i = 0; i + 8 <= n; i += 8) store(dxr + i, load(yr + i) * (load(gr + i) - splat(d)));
    for (; i < n; i++) dxr[i] = yr[i] * (gr[i] - d);
    const float* m = maskRow(mask, s, row);
    if (!m) continue;
    const float* xr = x + row * n;
    for (i = 0; i < n; i++)
      if (!(xr[i] + m[i] >= minValue)) dxr[i] = 0.0f;
  }
}

inline int useThreads(int threads, int64_t items) { return int(std::max<int64_t>(1, std::min<int64_t>(threads, items))); }

// Split [0, n) into `t` ranges whose bounds are multiples of 16 floats (no shared cache lines).
template <typename F>
void parallelElements(int64_t n, int threads, F&& body) {
  const int64_t blocks = (n + 15) / 16;
  const int t = useThreads(threads, blocks);
  runParallel(t, [&](int w) { body(std::min(n, blocks * w / t * 16), std::min(n, blocks * (w + 1) / t * 16)); });
}

}  // namespace

void softmaxRowsSerial(const float* x, const float* mask, int64_t maskRow, float* y, int64_t rows, int64_t cols, float minValue) {
  const SoftmaxShape s{1, 1, rows, cols, 0, 0, maskRow};
  if (rows > 0 && cols > 0) softmaxRange(x, mask, y, s, minValue, 0, rows);
}

void softmaxGradRowsSerial(const float* dy, const float* y, const float* x, const float* mask, int64_t maskRow, float* dx, int64_t rows,
                           int64_t cols, float minValue) {
  const SoftmaxShape s{1, 1, rows, cols, 0, 0, maskRow};
  if (rows > 0 && cols > 0) softmaxGradRange(dy, y, x, mask, dx, s, minValue, 0, rows);
}

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

void quickGelu(const float* x, float* y, int64_t n, int threads) {
  if (n > 0) parallelElements(n, threads, [&](int64_t b, int64_t e) { quickGeluRange(x, y, b, e); });
}

void quickGeluGrad(const float* dy, const float* x, float* dx, int64_t n, int threads) {
  if (n > 0) parallelElements(n, threads, [&](int64_t b, int64_t e) { quickGeluGradRange(dy, x, dx, b, e); });
}

void softmax(const float* x, const float* mask, float* y, const SoftmaxShape& s, float minValue, int threads) {
  const int64_t rows = s.batch * s.heads * s.rows;
  if (rows <= 0 || s.cols <= 0) return;
  const int t = useThreads(threads, rows);
  runParallel(t, [&](int w) { softmaxRange(x, mask, y, s, minValue, rows * w / t, rows * (w + 1) / t); });
}

void softmaxGrad(const float* dy, const float* y, const float* x, const float* mask, float* dx, const SoftmaxShape& s, float minValue,
                 int threads) {
  const int64_t rows = s.batch * s.heads * s.rows;
  if (rows <= 0 || s.cols <= 0) return;
  const int t = useThreads(threads, rows);
  runParallel(t, [&](int w) { softmaxGradRange(dy, y, x, mask, dx, s, minValue, rows * w / t, rows * (w + 1) / t); });
}

}  // namespace mmft
