// Attention forward and backward; see attention.h. Per (b, h) slice, with D = heads·headDim:
//   forward   X = Q_bh·K_bhᵀ·scale → P = masked softmax of X → C_bh = P·V_bh
//   backward  X and P again, dP = dC_bh·V_bhᵀ, dV_bh = Pᵀ·dC_bh,
//             dS = P∘(dP − rowsum(dP∘P))·scale (zero where the clamp acted), dQ_bh = dS·K_bh, dK_bh = dSᵀ·Q_bh
// Each slice writes only its own head's columns of C, dQ, dK and dV, so slices run in parallel.
#include "attention.h"

#include <algorithm>
#include <vector>

#include "gemm.h"
#include "pool.h"
#include "softmax.h"

namespace mmft {
namespace {

// A row-major matrix at `base` with rows `ld` floats apart, or its transpose.
Operand rows(const float* base, int64_t ld) { return {base, 0, ld, 1}; }
Operand transposed(const float* base, int64_t ld) { return {base, 0, 1, ld}; }

struct Slice {
  const float *q, *k, *v, *mask;
  int64_t outQ, outKv;  // float offset of this head in [B, T, D] and [B, S, D] tensors
  int64_t index;        // b·H + h
};

Slice sliceOf(const float* q, const float* k, const float* v, const float* mask, const AttentionShape& s, int64_t index) {
  const int64_t b = index / s.heads, h = index % s.heads, d = s.heads * s.headDim;
  const int64_t outQ = b * s.queries * d + h * s.headDim, outKv = b * s.keys * d + h * s.headDim;
  return {q + outQ, k + outKv, v + outKv, mask ? mask + b * s.maskBatch + h * s.maskHead : nullptr, outQ, outKv, index};
}

template <typename F>
void forSlices(const AttentionShape& s, int threads, F&& body) {
  const int64_t slices = s.batch * s.heads;
  const double macs = double(slices) * s.queries * s.keys * s.headDim;
  // As gemm.cc: below ~64k multiply-adds a second thread costs more to wake than it saves.
  const int t = int(std::max<int64_t>(1, std::min<int64_t>(macs < 65536.0 ? 1 : threads, slices)));
  runParallel(t, [&](int w) {
    for (int64_t i = slices * w / t; i < slices * (w + 1) / t; i++) body(i);
  });
}

void scaleInPlace(float* x, int64_t n, float scale) {
  if (scale != 1.0f)
    for (int64_t i = 0; i < n; i++) x[i] *= scale;
}

thread_local std::vector<float> scratchA, scratchB, scratchC;

float* scratch(std::vector<float>& buffer, int64_t n) {
  if (int64_t(buffer.size()) < n) buffer.resize(size_t(n));
  return buffer.data();
}

}  // namespace

// X = Q_bh·K_bhᵀ·scale into `scores` and P = softmax(max(X + mask, minValue)) into `probs` (T × S each).
static void slicePattern(const Slice& x, const AttentionShape& s, float minValue, float* scores, float* probs) {
  const int64_t T = s.queries, S = s.keys, D = s.heads * s.headDim;
  gemmSerial(int(T), int(S), int(s.headDim), rows(x.q, D), transposed(x.k, D), scores, S);
  scaleInPlace(scores, T * S, s.scale);
  softmaxRowsSerial(scores, x.mask, s.maskRow, probs, T, S, minValue);
}

void attention(const float* q, const float* k, const float* v, const float* mask, float* context, const AttentionShape& s, float minValue,
               int threads) {
  const int64_t T = s.queries, S = s.keys, hd = s.headDim, D = s.heads * hd;
  if (s.batch * s.heads * T == 0 || hd == 0) return;
  forSlices(s, threads, [&](int64_t i) {
    const Slice x = sliceOf(q, k, v, mask, s, i);
    float* p = scratch(scratchA, T * S);
    slicePattern(x, s, minValue, p, p);
    gemmSerial(int(T), int(hd), int(S), rows(p, S), rows(x.v, D), context + x.outQ, D);
  });
}

void attentionGrad(const float* dContext, const float* q, const float* k, const float* v, const float* mask, float* dq, float* dk, float* dv,
                   const AttentionShape& s, float minValue, int threads) {
  const int64_t T = s.queries, S = s.keys, hd = s.headDim, D = s.heads * hd;
  if (s.batch * s.heads == 0 || hd == 0) return;
  forSlices(s, threads, [&](int64_t i) {
    const Slice x = sliceOf(q, k, v, mask, s, i);
    float* scores = scratch(scratchA, T * S);
    float* p = scratch(scratchB, T * S);
    float* ds = scratch(scratchC, T * S);
    slicePattern(x, s, minValue, scores, p);
    const float* dc = dContext + x.outQ;
    gemmSerial(int(T), int(S), int(hd), rows(dc, D), transposed(x.v, D), ds, S);  // dP
    gemmSerial(int(S), int(hd), int(T), transposed(p, S), rows(dc, D), dv + x.outKv, D);
    softmaxGradRowsSerial(ds, p, scores, x.mask, s.maskRow, ds, T, S, minValue);  // dS, in place
    scaleInPlace(ds, T * S, s.scale);
    gemmSerial(int(T), int(hd), int(S), rows(ds, S), rows(x.k, D), dq + x.outQ, D);
    gemmSerial(int(S), int(hd), int(T), transposed(ds, S), rows(x.q, D), dk + x.outKv, D);
  });
}

}  // namespace mmft
