// The attention core of a transformer layer as two kernels, forward and backward:
// context = softmax(max(Q·Kᵀ + mask, minValue))·V per head, reading Q [B, T, D] and K, V
// [B, S, D] where they lie (head h is columns h·hd … (h+1)·hd) and writing the context in the
// same layout, so no head split or merge transposes are needed. The scores are Q·Kᵀ·scale
// (1/√hd in every model here), scaled after the product, as HF's eager_attention_forward does. One (batch, head) slice per task, slices split over `threads`; the products
// are gemm.h's serial slices, the softmax rows.h's. The probabilities are not kept: the backward
// recomputes them (as FlashAttention does), which costs one more Q·Kᵀ per slice and saves a
// [B, H, T, S] tensor per layer between forward and backward.
#pragma once
#include <cstdint>

namespace mmft {

/** Sizes, and where the additive mask row of (b, h, t) starts: b·maskBatch + h·maskHead + t·maskRow. */
struct AttentionShape {
  int64_t batch, heads, queries, keys, headDim;
  int64_t maskBatch, maskHead, maskRow;
  float scale;
};

/** context [B, T, D] = P·V per head, P = softmax(max(Q·Kᵀ·scale + mask, minValue)) [T, S]. */
void attention(const float* q, const float* k, const float* v, const float* mask, float* context, const AttentionShape& shape, float minValue,
               int threads);

/** dq, dk, dv of attention for upstream dContext [B, T, D] (P recomputed per slice). */
void attentionGrad(const float* dContext, const float* q, const float* k, const float* v, const float* mask, float* dq, float* dk, float* dv,
                   const AttentionShape& shape, float minValue, int threads);

}  // namespace mmft
