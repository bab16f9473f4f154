// Products with a weight held in 16 bits (bf16 or IEEE fp16 patterns), decoded to float inside
// the kernel. See packed16.cc.
#pragma once
#include <cstdint>

namespace mmft {

/** The 16-bit formats: 0 = bf16, 1 = fp16 (the order of @mmft/native-kernels' HALF16_FORMATS). */
enum Half16Format : int { kBf16 = 0, kFp16 = 1 };

/**
 * y [m, n] = x [m, k] · Wᵀ when `transposeW` (W is [rows, cols] = [n, k]), else x · W (W is
 * [rows, cols] = [k, n]). W is row-major 16-bit patterns at `w`; x and y are row-major floats.
 * Column blocks of y are split over up to `threads` threads; each decodes its block of W into a
 * buffer of its own and runs the float GEMM on it, so no float copy of the whole W exists.
 */
void matMulPacked16(int m, int rows, int cols, const float* x, const uint16_t* w, int format, bool transposeW, float* y, int threads);

}  // namespace mmft
