// Fused 4-bit GEMV for decoding (MmftMatMul4bit with one token): y[r] = Σ_c W[r, c]·x[c] with W
// the [rows, cols] 4-bit weight, never written out as floats. Shaped after bitsandbytes'
// kgemm_4bit_inference_naive (csrc/kernels.cu): row-major [rows, cols/2] bytes, each lane reads 16
// bytes (32 weights) at a time, float32 accumulation, a warp-shuffle reduction per row. Here a
// warp owns 4 rows so the 32 x values it loads serve four rows' bytes (x traffic from cache is
// then 2× the weight traffic from memory instead of 8×).
#include "common.cuh"
#include "kernels.h"

namespace mmftcuda {

namespace {

constexpr int kWarps = 4;
constexpr int kRowsPerWarp = 4;

// Σ of the 8 weights in one little-endian word (without their block scale) times x[0..7].
__device__ __forceinline__ float dot8(const float* table, unsigned word, const float* x) {
  float sum = table[(word >> 4) & 15u] * x[0];
  sum = fmaf(table[word & 15u], x[1], sum);
  sum = fmaf(table[(word >> 12) & 15u], x[2], sum);
  sum = fmaf(table[(word >> 8) & 15u], x[3], sum);
  sum = fmaf(table[(word >> 20) & 15u], x[4], sum);
  sum = fmaf(table[(word >> 16) & 15u], x[5], sum);
  sum = fmaf(table[(word >> 28) & 15u], x[6], sum);
  return fmaf(table[(word >> 24) & 15u], x[7], sum);
}

__device__ __forceinline__ float warpSum(float value) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

// cols % 32 == 0: every row starts on a 16-byte boundary and each 32-weight group has one scale.
__global__ void __launch_bounds__(kWarps * 32) matvec4bitKernel(const float* __restrict__ x, const uint8_t* __restrict__ packed,
                                                                 const float* __restrict__ absmax, const float* __restrict__ code,
                                                                 float* __restrict__ y, int64_t rows, int64_t cols, int blockShift) {
  __shared__ float table[16];
  if (threadIdx.x < 16) table[threadIdx.x] = code[threadIdx.x];
  __syncthreads();
  const int lane = threadIdx.x & 31;
  const int64_t row0 = (static_cast<int64_t>(blockIdx.x) * kWarps + (threadIdx.x >> 5)) * kRowsPerWarp;
  if (row0 >= rows) return;
  const int64_t groups = cols >> 5;
  float acc[kRowsPerWarp] = {0.f, 0.f, 0.f, 0.f};
  for (int64_t group = lane; group < groups; group += 32) {
    float xs[32];
    const float4* xv = reinterpret_cast<const float4*>(x) + (group << 3);
#pragma unroll
    for (int q = 0; q < 8; ++q) {
      const float4 v = __ldg(xv + q);
      xs[4 * q] = v.x, xs[4 * q + 1] = v.y, xs[4 * q + 2] = v.z, xs[4 * q + 3] = v.w;
    }
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int64_t row = row0 + r;
      if (row < rows) {
        const int64_t element = row * cols + (group << 5);
        const uint4 bytes = __ldcs(reinterpret_cast<const uint4*>(packed + (element >> 1)));
        const float scale = __ldg(absmax + (element >> blockShift));
        float part = dot8(table, bytes.x, xs);
        part += dot8(table, bytes.y, xs + 8);
        part += dot8(table, bytes.z, xs + 16);
        part += dot8(table, bytes.w, xs + 24);
        acc[r] = fmaf(part, scale, acc[r]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const float total = warpSum(acc[r]);
    if (lane == 0 && row0 + r < rows) y[row0 + r] = total;
  }
}

// Any cols (odd included: a row then starts mid-byte): element by element, one warp per row.
__global__ void __launch_bounds__(kWarps * 32) matvec4bitAnyKernel(const float* __restrict__ x, const uint8_t* __restrict__ packed,
                                                                    const float* __restrict__ absmax, const float* __restrict__ code,
                                                                    float* __restrict__ y, int64_t rows, int64_t cols, int blockShift) {
  __shared__ float table[16];
  if (threadIdx.x < 16) table[threadIdx.x] = code[threadIdx.x];
  __syncthreads();
  const int lane = threadIdx.x & 31;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + (threadIdx.x >> 5);
  if (row >= rows) return;
  float acc = 0.f;
  for (int64_t c = lane; c < cols; c += 32) {
    const int64_t element = row * cols + c;
    acc = fmaf(table[nibbleAt(packed, element)] * absmax[element >> blockShift], x[c], acc);
  }
  acc = warpSum(acc);
  if (lane == 0) y[row] = acc;
}

}  // namespace

int64_t matvecRowsPerWave() {
  int device = 0, sms = 0, blocks = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, matvec4bitKernel, kWarps * 32, 0);
  return static_cast<int64_t>(sms) * blocks * kWarps * kRowsPerWarp;
}

const char* launchMatVec4bit(const float* x, const uint8_t* packed, const float* absmax, const float* code, float* y, int64_t rows,
                             int64_t cols, int blockSize) {
  if (const char* bad = checkBlockSize(blockSize)) return bad;
  if (rows <= 0) return nullptr;
  const int shift = log2Exact(blockSize);
  const bool aligned = (reinterpret_cast<uintptr_t>(packed) & 15) == 0 && (reinterpret_cast<uintptr_t>(x) & 15) == 0;
  if (cols % 32 == 0 && aligned) {
    const int64_t perBlock = kWarps * kRowsPerWarp;
    matvec4bitKernel<<<static_cast<unsigned>((rows + perBlock - 1) / perBlock), kWarps * 32>>>(x, packed, absmax, code, y, rows, cols, shift);
  } else {
    matvec4bitAnyKernel<<<static_cast<unsigned>((rows + kWarps - 1) / kWarps), kWarps * 32>>>(x, packed, absmax, code, y, rows, cols, shift);
  }
  return lastError();
}

}  // namespace mmftcuda
