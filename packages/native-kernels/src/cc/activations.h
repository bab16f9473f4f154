// Elementwise activations and their gradients (activations.cc).
#pragma once
#include <cstdint>

namespace mmft {

/** y = x·σ(1.702·x) for `n` floats. */
void quickGelu(const float* x, float* y, int64_t n, int threads);

/** dx = dy·(s + 1.702·x·s·(1 − s)), s = σ(1.702·x). */
void quickGeluGrad(const float* dy, const float* x, float* dx, int64_t n, int threads);

}  // namespace mmft
