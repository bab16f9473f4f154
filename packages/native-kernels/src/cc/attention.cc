// Attention forward and backward; see attention.h. Per (b, h) slice, with D = heads·headDim:
//   forward   P = Q_bh·K_bhᵀ → masked softmax in place → C_bh = P·V_bh
//   backward  dP = dC_bh·V_bhᵀ, dV_bh = Pᵀ·dC_bh, dS = P∘(dP − rowsum(dP∘P)) (clamp applied),
//             dQ_bh = dS·K_bh, dK_bh = dSᵀ·Q_bh
// Each slice writes only its own head's columns of C, dQ, dK and dV, so slices run in parallel.
#include "attention.h"

#include <algorithm>
#include <vector>

#include "gemm.h"
#include "rows.h"

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

// Whether any mask entry of the slice is negative: only then can x + mask fall below minValue.
bool clampPossible(const float* mask, const AttentionShape& s) {
  if (!mask) return false;
  const int64_t rows = s.maskRow == 0 ? 1 : s.queries;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < s.keys; c++)
      if (mask[r * s.maskRow + c] < 0.0f) return true;
  return false;
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

thread_local std::vector<float> scratchA, scratchB;

float* scratch(std::vector<float>& buffer, int64_t n) {
  if (int64_t(buffer.size()) < n) buffer.resize(size_t(n));
  return buffer.data();
}

}  // namespace

void attention(const float* q, const float* k, const float* v, const float* mask, float* probs, float* context, const AttentionShape& s,
               float minValue, int threads) {
  const int64_t T = s.queries, S = s.keys, hd = s.headDim, D = s.heads * hd;
  if (s.batch * s.heads * T == 0 || hd == 0) return;
  forSlices(s, threads, [&](int64_t i) {
    const Slice x = sliceOf(q, k, v, mask, s, i);
    float* p = probs + i * T * S;
    gemmSerial(int(T), int(S), int(hd), rows(x.q, D), transposed(x.k, D), p, S);
    softmaxRowsSerial(p, x.mask, s.maskRow, p, T, S, minValue);
    gemmSerial(int(T), int(hd), int(S), rows(p, S), rows(x.v, D), context + x.outQ, D);
  });
}

void attentionGrad(const float* dContext, const float* q, const float* k, const float* v, const float* mask, const float* probs, float* dq,
                   float* dk, float* dv, const AttentionShape& s, float minValue, int threads) {
  const int64_t T = s.queries, S = s.keys, hd = s.headDim, D = s.heads * hd;
  if (s.batch * s.heads == 0 || hd == 0) return;
  forSlices(s, threads, [&](int64_t i) {
    const Slice x = sliceOf(q, k, v, mask, s, i);
    const float* p = probs + i * T * S;
    const float* dc = dContext + x.outQ;
    float* ds = scratch(scratchA, T * S);
    gemmSerial(int(T), int(S), int(hd), rows(dc, D), transposed(x.v, D), ds, S);  // dP
    gemmSerial(int(S), int(hd), int(T), transposed(p, S), rows(dc, D), dv + x.outKv, D);
    const float* scores = nullptr;
    if (clampPossible(x.mask, s)) {
      float* sc = scratch(scratchB, T * S);
      gemmSerial(int(T), int(S), int(hd), rows(x.q, D), transposed(x.k, D), sc, S);
      scores = sc;
    }
    softmaxGradRowsSerial(ds, p, scores, scores ? x.mask : nullptr, s.maskRow, ds, T, S, minValue);  // dS, in place
    gemmSerial(int(T), int(hd), int(S), rows(ds, S), rows(x.k, D), dq + x.outQ, D);
    gemmSerial(int(S), int(hd), int(T), transposed(ds, S), rows(x.q, D), dk + x.outKv, D);
  });
}

}  // namespace mmft
