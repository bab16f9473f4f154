// Batched single-precision GEMM on strided operands, split over a few threads. See gemm.cc.
#pragma once
#include <cstdint>

namespace mmft {

/** One strided operand: element (r, c) of slice b is at base[b·batch + r·row + c·col]. */
struct Operand {
  const float* base;
  int64_t batch;
  int64_t row;
  int64_t col;
};

/**
 * C[b] = A[b] · B[b] for `batches` slices; A is M×K, B is K×N, C is M×N row-major with slice
 * stride M·N. A batch stride of 0 broadcasts that operand. Uses up to `threads` threads.
 */
void gemm(int batches, int m, int n, int k, Operand a, Operand b, float* c, int threads);

/**
 * C = A · B for one slice on the calling thread (inside a runParallel job, say): A is M×K, B is
 * K×N (strided; `batch` is ignored), C is M×N with rows `ldc` floats apart.
 */
void gemmSerial(int m, int n, int k, Operand a, Operand b, float* c, int64_t ldc);

/** Which micro-kernel the CPU got ("avx512", "avx2" or "generic"). */
const char* kernelIsa();

}  // namespace mmft
