// Shared device helpers of the 4-bit kernels: the nibble order and the error plumbing.
#pragma once
#include <cuda_runtime.h>
#include <cstdint>

namespace mmftcuda {

// Element i sits in byte i/2, the even element in the high nibble (bitsandbytes csrc/kernels.cu
// kQuantizeBlockwise packs `qvals[j] << 4 | qvals[j + 1]`).
__device__ __forceinline__ unsigned nibbleAt(const uint8_t* __restrict__ packed, int64_t i) {
  const unsigned byte = packed[i >> 1];
  return (i & 1) ? (byte & 15u) : (byte >> 4);
}

__host__ __device__ inline int log2Exact(int value) {
  int shift = 0;
  while ((1 << shift) < value) ++shift;
  return (1 << shift) == value ? shift : -1;
}

inline const char* lastError() {
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

// Block sizes bitsandbytes accepts for 4-bit (functional.py quantize_4bit: 32 … 4096, powers of two);
// every kernel relies on a 32-element group never straddling two blocks.
inline const char* checkBlockSize(int blockSize) {
  return blockSize >= 32 && blockSize <= 4096 && log2Exact(blockSize) >= 0 ? nullptr
                                                                            : "blockSize must be a power of two in 32…4096 (as bitsandbytes)";
}

}  // namespace mmftcuda
