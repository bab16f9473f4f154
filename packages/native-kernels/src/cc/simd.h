// Eight floats at a time through GCC vector types, for the row kernels (softmax.cc,
// activations.cc, reductions.cc): loads, stores, a vectorised e^x, horizontal reductions, and the
// split of n elements over the pool. Everything is inlined into the target_clones loops that use it.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "pool.h"

#pragma GCC diagnostic ignored "-Wpsabi"

namespace mmft {
namespace simd {

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

inline int useThreads(int threads, int64_t items) { return int(std::max<int64_t>(1, std::min<int64_t>(threads, items))); }

// Split [0, n) into `t` ranges whose bounds are multiples of 16 floats (no shared cache lines).
template <typename F>
void parallelElements(int64_t n, int threads, F&& body) {
  const int64_t blocks = (n + 15) / 16;
  const int t = useThreads(threads, blocks);
  runParallel(t, [&](int w) { body(std::min(n, blocks * w / t * 16), std::min(n, blocks * (w + 1) / t * 16)); });
}

}  // namespace simd
}  // namespace mmft
