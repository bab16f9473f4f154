// Fused elementwise/row kernels of mmft (LayerNorm forward and backward, AdamW) on float32
// arrays, the C++ twins of backend-tfjs's src/kernels/fused/{layer_norm,adamw}_impl.ts: the same
// float64 arithmetic, stored as float32. Rows (or element ranges) are split over `threads`.
#pragma once
#include <cstdint>

namespace mmft {

/** y = (x − mean) / √(var + eps) · gamma + beta for each of `rows` rows of `cols` floats. */
void layerNorm(const float* x, const float* gamma, const float* beta, float* y, int64_t rows, int64_t cols, double eps, int threads);

/** dx (rows × cols), dgamma and dbeta (cols) of layerNorm for upstream dy. */
void layerNormGrad(const float* dy, const float* x, const float* gamma, float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols,
                   double eps, int threads);

/** The AdamW coefficients, precomputed by the caller exactly as the JavaScript kernel does. */
struct AdamWCoefficients {
  double beta1, beta2, c1, c2, eps, decay, stepSize, bias2Sqrt;
};

/** One torch.optim.AdamW step of `n` elements into pOut, mOut, vOut (which may alias the inputs). */
void adamwUpdate(const float* p, const float* g, const float* m, const float* v, float* pOut, float* mOut, float* vOut, int64_t n,
                 const AdamWCoefficients& k, int threads);

}  // namespace mmft
