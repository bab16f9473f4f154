// The attention core of a transformer layer as two kernels, forward and backward:
// context = softmax(max(Q·Kᵀ + mask, minValue))·V per head, reading Q [B, T, D] and K, V
// [B, S, D] where they lie (head h is columns h·hd … (h+1)·hd) and writing the context in the
// same layout, so no head split or merge transposes are needed. Q comes pre-scaled by 1/√hd (as
// HF CLIP scales it). One (batch, head) slice per task, slices split over `threads`; the products
// are gemm.h's serial slices, the softmax rows.h's.
#pragma once
#include <cstdint>

namespace mmft {

/** Sizes, and where the additive mask row of (b, h, t) starts: b·maskBatch + h·maskHead + t·maskRow. */
struct AttentionShape {
  int64_t batch, heads, queries, keys, headDim;
  int64_t maskBatch, maskHead, maskRow;
};

/** probs [B, H, T, S] = softmax(max(Q·Kᵀ + mask, minValue)); context [B, T, D] = probs·V. */
void attention(const float* q, const float* k, const float* v, const float* mask, float* probs, float* context, const AttentionShape& shape,
               float minValue, int threads);

/**
 * dq, dk, dv of attention for upstream dContext [B, T, D], given the forward's probs. Scores are
 * recomputed only for slices whose mask has a negative entry (where the clamp can act).
 */
void attentionGrad(const float* dContext, const float* q, const float* k, const float* v, const float* mask, const float* probs, float* dq,
                   float* dk, float* dv, const AttentionShape& shape, float minValue, int threads);

}  // namespace mmft
