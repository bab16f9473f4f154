// Cross-entropy of logits rows against integer labels, and its gradient (cross_entropy.cc): the
// loss of transformers' ForCausalLMLoss (src/transformers/loss/loss_utils.py, which calls
// torch.nn.functional.cross_entropy with ignore_index) without an [N, V] softmax in memory.
#pragma once
#include <cstdint>

namespace mmft {

/**
 * For each of `rows` rows of `cols` logits: lse = log Σ exp(x) (max subtracted first) and
 * loss = lse − x[label]; loss is 0 where the label is `ignoreIndex` (lse is written for every
 * row) and NaN where a label lies outside [0, cols), which is never read.
 */
void crossEntropy(const float* logits, const int32_t* labels, float* loss, float* lse, int64_t rows, int64_t cols, int32_t ignoreIndex,
                  int threads);

/**
 * Gradient of Σ loss·dy + lse·dlse with respect to the logits, from the logits and the forward
 * pass's lse (no softmax kept): exp(x − lse)·(dy + dlse) − onehot(label)·dy per row. On rows whose
 * label is `ignoreIndex` the loss is constant and only lse's part remains (0 when dlse is);
 * NaN on rows with an invalid label.
 */
void crossEntropyGrad(const float* dy, const float* dlse, const float* logits, const int32_t* labels, const float* lse, float* dx,
                      int64_t rows, int64_t cols, int32_t ignoreIndex, int threads);

}  // namespace mmft
