// Blockwise 4-bit dequantise (MmftDequantize4bit): out[i] = code[nibble(i)] · absmax[i / blockSize],
// the float32 result of bitsandbytes' kDequantizeBlockwise (csrc/kernels.cu) for NF4/FP4, with the
// code table passed in (quant_map) rather than compiled in, so NF4 and FP4 share one kernel.
// Memory bound: each thread turns 8 packed bytes (one 8-byte load) into 16 floats (four 16-byte
// stores), so a warp moves 256 B in and 2 KiB out per step, and one absmax covers the 16 (blockSize ≥ 32).
#include "common.cuh"
#include "kernels.h"

namespace mmftcuda {

namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ void decodeWord(const float* table, unsigned word, float scale, float4* out) {
  // Little-endian: byte b of the word is bits 8b…8b+7; its high nibble is the earlier element.
  out[0] = make_float4(table[(word >> 4) & 15u] * scale, table[word & 15u] * scale, table[(word >> 12) & 15u] * scale,
                       table[(word >> 8) & 15u] * scale);
  out[1] = make_float4(table[(word >> 20) & 15u] * scale, table[(word >> 16) & 15u] * scale, table[(word >> 28) & 15u] * scale,
                       table[(word >> 24) & 15u] * scale);
}

__global__ void __launch_bounds__(kThreads) dequantize4bitKernel(const uint8_t* __restrict__ packed, const float* __restrict__ absmax,
                                                                 const float* __restrict__ code, float* __restrict__ out, int64_t n,
                                                                 int blockShift) {
  __shared__ float table[16];
  if (threadIdx.x < 16) table[threadIdx.x] = code[threadIdx.x];
  __syncthreads();

  const int64_t chunks = n >> 4;  // whole 16-element chunks
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t chunk = first; chunk < chunks; chunk += stride) {
    const uint2 bytes = __ldcs(reinterpret_cast<const uint2*>(packed) + chunk);  // read once: stream past the cache
    const float scale = __ldg(absmax + ((chunk << 4) >> blockShift));
    float4 values[4];
    decodeWord(table, bytes.x, scale, values);
    decodeWord(table, bytes.y, scale, values + 2);
    float4* target = reinterpret_cast<float4*>(out) + (chunk << 2);
#pragma unroll
    for (int q = 0; q < 4; ++q) __stcs(target + q, values[q]);
  }
  // The last n mod 16 elements, one per thread (an odd n ends in a padding nibble that is never read).
  const int64_t tail = (chunks << 4) + first;
  if (first < 16 && tail < n) out[tail] = table[nibbleAt(packed, tail)] * absmax[tail >> blockShift];
}

}  // namespace

const char* launchDequantize4bit(const uint8_t* packed, const float* absmax, const float* code, float* out, int64_t n, int blockSize) {
  if (const char* bad = checkBlockSize(blockSize)) return bad;
  if (n <= 0) return nullptr;
  if ((reinterpret_cast<uintptr_t>(packed) & 7) || (reinterpret_cast<uintptr_t>(out) & 15))
    return "dequantize4bit: packed must be 8-byte and out 16-byte aligned (cudaMalloc'd buffers are)";
  int device = 0, sms = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  const int64_t chunks = n >> 4;
  // Enough resident blocks to cover every SM several times; the grid-stride loop does the rest.
  int64_t blocks = (chunks + kThreads - 1) / kThreads;
  const int64_t cap = static_cast<int64_t>(sms > 0 ? sms : 1) * 16;
  if (blocks > cap) blocks = cap;
  if (blocks < 1) blocks = 1;
  dequantize4bitKernel<<<static_cast<unsigned>(blocks), kThreads>>>(packed, absmax, code, out, n, log2Exact(blockSize));
  return lastError();
}

}  // namespace mmftcuda
