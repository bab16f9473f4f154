// Products with a weight held in 4 bits, blockwise as bitsandbytes stores it (NF4 or FP4 codes, two
// per byte, one float absmax per block), decoded to float inside the kernel. See matmul4bit.cc.
#pragma once
#include <cstdint>

namespace mmft {

/** A 4-bit weight [rows, cols]: ⌈rows·cols/2⌉ bytes (element 2j in the high nibble), absmax per block, the 16-entry code. */
struct Weight4bit {
  const uint8_t* packed;
  const float* absmax;
  const float* code;
  int64_t blockSize;  // a power of two
};

/**
 * y [m, n] = x [m, k] · Wᵀ when `transposeW` (W is [rows, cols] = [n, k]), else x · W (W is
 * [rows, cols] = [k, n]), W[i] = code[nibble(i)] · absmax[i / blockSize] in float. Column blocks of y
 * are split over up to `threads` threads; each decodes its block of W into a buffer of its own and
 * runs the float GEMM on it, so no float copy of the whole W exists. Up to 4 rows of x with a
 * transposed W (one token's forward) decode W a row at a time and dot it with x instead.
 */
void matMul4bit(int m, int rows, int cols, const float* x, const Weight4bit& w, bool transposeW, float* y, int threads);

}  // namespace mmft
