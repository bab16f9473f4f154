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
 * dlogits = (exp(x − lse) − onehot(label))·dy[row], from the logits and the forward pass's lse
 * (no softmax kept): 0 on rows whose label is `ignoreIndex`, NaN on rows with an invalid label.
 */
void crossEntropyGrad(const float* dy, const float* logits, const int32_t* labels, const float* lse, float* dx, int64_t rows, int64_t cols,
                      int32_t ignoreIndex, int threads);

}  // namespace mmft
