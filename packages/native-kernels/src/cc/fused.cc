// Fused LayerNorm (forward, backward) and AdamW; see fused.h. Loops are compiled for AVX-512,
// AVX2+FMA and baseline x86-64 (target_clones, as the GEMM micro-kernel). Row sums use a vector of
// eight float64 partial sums, so they are summed in another order than the JavaScript kernels'
// one running sum (differences ~1e-16 relative before the float32 store).
#include "fused.h"
#include "clones.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "pool.h"

// The 64-byte vector helpers are always inlined into their callers, so no vector crosses a call
// boundary and the ABI note GCC gives for them in the baseline clone does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace mmft {
namespace {


typedef double v8d __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));

__attribute__((always_inline)) inline v8d load8(const float* p) {
  v8f f;
  std::memcpy(&f, p, sizeof f);
  return __builtin_convertvector(f, v8d);
}

__attribute__((always_inline)) inline double hsum(v8d v) { return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])); }

// Mean and 1/√(var + eps) of one row (two passes, float64, as rowStats in layer_norm_impl.ts).
__attribute__((always_inline)) inline void rowStats(const float* x, int64_t d, double eps, double* mean, double* rstd) {
  v8d acc = {};
  int64_t i = 0;
  for (; i + 8 <= d; i += 8) acc += load8(x + i);
  double sum = hsum(acc);
  for (; i < d; i++) sum += x[i];
  const double mu = sum / double(d);
  v8d sq = {};
  i = 0;
  for (; i + 8 <= d; i += 8) {
    const v8d c = load8(x + i) - mu;
    sq += c * c;
  }
  double s = hsum(sq);
  for (; i < d; i++) {
    const double c = x[i] - mu;
    s += c * c;
  }
  *mean = mu;
  *rstd = 1.0 / std::sqrt(s / double(d) + eps);
}

MMFT_TARGET_CLONES void layerNormRows(const float* x, const float* gamma, const float* beta, float* y, int64_t begin, int64_t end, int64_t d,
                                     double eps) {
  for (int64_t r = begin; r < end; r++) {
    const float* xr = x + r * d;
    float* yr = y + r * d;
    double mean, rstd;
    rowStats(xr, d, eps, &mean, &rstd);
    for (int64_t i = 0; i < d; i++) yr[i] = float((double(xr[i]) - mean) * rstd * double(gamma[i]) + double(beta[i]));
  }
}

// Rows [begin, end): writes dx, adds this range's dgamma / dbeta terms to accGamma / accBeta.
MMFT_TARGET_CLONES void layerNormGradRows(const float* dy, const float* x, const float* gamma, float* dx, double* __restrict accGamma,
                                         double* __restrict accBeta, int64_t begin, int64_t end, int64_t d, double eps) {
  for (int64_t r = begin; r < end; r++) {
    const float* xr = x + r * d;
    const float* gr = dy + r * d;
    float* dxr = dx + r * d;
    double mean, rstd;
    rowStats(xr, d, eps, &mean, &rstd);
    v8d vG = {}, vGX = {};
    int64_t i = 0;
    for (; i + 8 <= d; i += 8) {
      const v8d g = load8(gr + i);
      const v8d xhat = (load8(xr + i) - mean) * rstd;
      const v8d ghat = g * load8(gamma + i);
      vG += ghat;
      vGX += ghat * xhat;
      v8d ag, ab;
      std::memcpy(&ag, accGamma + i, sizeof ag);
      std::memcpy(&ab, accBeta + i, sizeof ab);
      ag += g * xhat;
      ab += g;
      std::memcpy(accGamma + i, &ag, sizeof ag);
      std::memcpy(accBeta + i, &ab, sizeof ab);
    }
    double sumG = hsum(vG), sumGX = hsum(vGX);
    for (; i < d; i++) {
      const double g = gr[i];
      const double xhat = (double(xr[i]) - mean) * rstd;
      const double ghat = g * double(gamma[i]);
      sumG += ghat;
      sumGX += ghat * xhat;
      accGamma[i] += g * xhat;
      accBeta[i] += g;
    }
    const double meanG = sumG / double(d), meanGX = sumGX / double(d);
    for (int64_t j = 0; j < d; j++) {
      const double xhat = (double(xr[j]) - mean) * rstd;
      dxr[j] = float(rstd * (double(gr[j]) * double(gamma[j]) - meanG - xhat * meanGX));
    }
  }
}

// Blocks of 64 elements through local float64 arrays: the compute loop then has no aliasing for
// the vectoriser to check (outputs may alias inputs); std::sqrt vectorises because binding.gyp
// builds with -fno-math-errno (nothing reads errno; √ of a negative cannot occur: v ≥ 0).
constexpr int64_t ADAM_BLOCK = 64;

MMFT_TARGET_CLONES void adamwRange(const float* p, const float* g, const float* m, const float* v,
                                                                             float* pOut, float* mOut, float* vOut, int64_t begin, int64_t end,
                                                                             AdamWCoefficients k) {
  alignas(64) double gb[ADAM_BLOCK] = {}, mb[ADAM_BLOCK] = {}, vb[ADAM_BLOCK] = {}, pb[ADAM_BLOCK] = {};
  alignas(64) float mo[ADAM_BLOCK], vo[ADAM_BLOCK], po[ADAM_BLOCK];
  for (int64_t start = begin; start < end; start += ADAM_BLOCK) {
    const int64_t len = std::min(ADAM_BLOCK, end - start);
    for (int64_t i = 0; i < len; i++) {
      gb[i] = g[start + i];
      mb[i] = m[start + i];
      vb[i] = v[start + i];
      pb[i] = p[start + i];
    }
    for (int64_t i = 0; i < ADAM_BLOCK; i++) {
      const double grad = gb[i];
      const float mi = float(k.beta1 * mb[i] + k.c1 * grad);
      const float vi = float(k.beta2 * vb[i] + k.c2 * grad * grad);
      mo[i] = mi;
      vo[i] = vi;
      po[i] = float(pb[i] * k.decay - k.stepSize * (double(mi) / (std::sqrt(double(vi)) / k.bias2Sqrt + k.eps)));
    }
    for (int64_t i = 0; i < len; i++) {
      mOut[start + i] = mo[i];
      vOut[start + i] = vo[i];
      pOut[start + i] = po[i];
    }
  }
}

// Threads actually used for `items` independent pieces of work.
inline int useThreads(int threads, int64_t items) { return int(std::max<int64_t>(1, std::min<int64_t>(threads, items))); }

}  // namespace

void layerNorm(const float* x, const float* gamma, const float* beta, float* y, int64_t rows, int64_t cols, double eps, int threads) {
  if (rows <= 0 || cols <= 0) return;
  const int t = useThreads(threads, rows);
  runParallel(t, [&](int w) { layerNormRows(x, gamma, beta, y, rows * w / t, rows * (w + 1) / t, cols, eps); });
}

void layerNormGrad(const float* dy, const float* x, const float* gamma, float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols,
                   double eps, int threads) {
  if (cols <= 0) return;
  const int t = useThreads(threads, rows);
  // One pair of float64 accumulators per thread, summed in thread order (deterministic for a given t).
  std::vector<double> acc(size_t(2 * t * cols), 0.0);
  if (rows > 0)
    runParallel(t, [&](int w) {
      double* a = acc.data() + size_t(2 * w * cols);
      layerNormGradRows(dy, x, gamma, dx, a, a + cols, rows * w / t, rows * (w + 1) / t, cols, eps);
    });
  for (int64_t i = 0; i < cols; i++) {
    double sg = 0, sb = 0;
    for (int w = 0; w < t; w++) {
      sg += acc[size_t(2 * w * cols + i)];
      sb += acc[size_t((2 * w + 1) * cols + i)];
    }
    dgamma[i] = float(sg);
    dbeta[i] = float(sb);
  }
}

void adamwUpdate(const float* p, const float* g, const float* m, const float* v, float* pOut, float* mOut, float* vOut, int64_t n,
                 const AdamWCoefficients& k, int threads) {
  if (n <= 0) return;
  // Split in blocks of 64 elements so no two threads write one cache line.
  const int64_t blocks = (n + 63) / 64;
  const int t = useThreads(threads, blocks);
  runParallel(t, [&](int w) {
    const int64_t begin = std::min(n, blocks * w / t * 64), end = std::min(n, blocks * (w + 1) / t * 64);
    adamwRange(p, g, m, v, pOut, mOut, vOut, begin, end, k);
  });
}

}  // namespace mmft
