// Sums over rows and arrays, and the repeated add whose gradient is a sum over rows (reductions.cc).
#pragma once
#include <cstdint>

namespace mmft {

/** out[c] = Σ_r x[r·cols + c] (float64 partial sums, rounded once). */
void sumRows(const float* x, float* out, int64_t rows, int64_t cols, int threads);

/** Σ x² over `count` arrays, array i at parts[i] with sizes[i] floats (float64 sums, arrays split over threads). */
double sumOfSquares(const float* const* parts, const int64_t* sizes, int64_t count, int threads);

/** out[i] = a[i] + b[i mod m] for `n` floats (m divides n: b is a or a row repeated, a bias). */
void addRepeated(const float* a, const float* b, float* out, int64_t n, int64_t m, int threads);

}  // namespace mmft
