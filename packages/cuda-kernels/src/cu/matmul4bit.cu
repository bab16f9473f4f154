// 4-bit GEMM for training shapes (MmftMatMul4bit): y = x·Wᵀ (transposeWeight, Linear's forward)
// or x·W (its input gradient dY·W) with W the [rows, cols] 4-bit weight. Each 64×64 output tile
// walks k in steps of 16: a 64×16 tile of x and a 16×64 tile of W, the latter decoded
// (code[nibble]·absmax) straight into shared memory, so W is never materialised in device memory
// (the fused dequantise + GEMM bitsandbytes gets by dequantising to a temporary and calling cuBLAS,
// bitsandbytes/autograd/_functions.py MatMul4Bit). Each thread accumulates a 4×4 block in fp32.
// The same kernel reading a float32 W is the baseline the benchmark compares with.
#include "common.cuh"
#include "kernels.h"

namespace mmftcuda {

namespace {

constexpr int kTileM = 64, kTileN = 64, kTileK = 16, kThreads = 256;

struct Weight4 {
  const uint8_t* packed;
  const float* absmax;
  const float* code;
  int blockShift;
};

template <bool kFourBit>
__global__ void __launch_bounds__(kThreads) gemmKernel(const float* __restrict__ x, const float* __restrict__ wf, Weight4 w4,
                                                      float* __restrict__ y, int64_t m, int64_t rows, int64_t cols, bool transposeWeight) {
  __shared__ float table[16];
  __shared__ float xs[kTileK][kTileM + 4];
  __shared__ float ws[kTileK][kTileN + 4];
  if (kFourBit && threadIdx.x < 16) table[threadIdx.x] = w4.code[threadIdx.x];
  __syncthreads();

  // y [m, n] = x [m, k] · B [k, n], B(kk, j) = W[j, kk] when transposed, else W[kk, j].
  const int64_t n = transposeWeight ? rows : cols;
  const int64_t k = transposeWeight ? cols : rows;
  const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kTileM, n0 = static_cast<int64_t>(blockIdx.x) * kTileN;
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < k; k0 += kTileK) {
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int idx = tid + q * kThreads;
      const int i = idx >> 4, j = idx & 15;  // 16 consecutive k of one row of x per half-warp
      const int64_t gm = m0 + i, gk = k0 + j;
      xs[j][i] = gm < m && gk < k ? x[gm * k + gk] : 0.f;
    }
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int idx = tid + q * kThreads;
      // Read along W's stored rows: consecutive threads take consecutive elements (bytes).
      const int j = transposeWeight ? (idx & 15) : (idx >> 6);  // k within the tile
      const int i = transposeWeight ? (idx >> 4) : (idx & 63);  // n within the tile
      const int64_t gn = n0 + i, gk = k0 + j;
      float value = 0.f;
      if (gn < n && gk < k) {
        const int64_t element = transposeWeight ? gn * cols + gk : gk * cols + gn;
        if constexpr (kFourBit) {
          value = table[nibbleAt(w4.packed, element)] * w4.absmax[element >> w4.blockShift];
        } else {
          value = wf[element];
        }
      }
      ws[j][i] = value;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kTileK; ++kk) {
      float a[4], b[4];
#pragma unroll
      for (int r = 0; r < 4; ++r) a[r] = xs[kk][ty + 16 * r];
#pragma unroll
      for (int c = 0; c < 4; ++c) b[c] = ws[kk][tx + 16 * c];
#pragma unroll
      for (int r = 0; r < 4; ++r)
#pragma unroll
        for (int c = 0; c < 4; ++c) acc[r][c] = fmaf(a[r], b[c], acc[r][c]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const int64_t gm = m0 + ty + 16 * r;
    if (gm >= m) continue;
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const int64_t gn = n0 + tx + 16 * c;
      if (gn < n) y[gm * n + gn] = acc[r][c];
    }
  }
}

template <bool kFourBit>
const char* launchGemm(const float* x, const float* wf, Weight4 w4, float* y, int64_t m, int64_t rows, int64_t cols, bool transposeWeight) {
  if (m <= 0 || rows <= 0 || cols <= 0) return nullptr;
  const int64_t n = transposeWeight ? rows : cols;
  const int64_t tilesM = (m + kTileM - 1) / kTileM;
  if (tilesM > 65535) return "matmul4bit: more than 65535·64 rows of x; split the batch";
  const dim3 grid(static_cast<unsigned>((n + kTileN - 1) / kTileN), static_cast<unsigned>(tilesM));
  gemmKernel<kFourBit><<<grid, kThreads>>>(x, wf, w4, y, m, rows, cols, transposeWeight);
  return lastError();
}

}  // namespace

const char* launchMatMul4bit(const float* x, const uint8_t* packed, const float* absmax, const float* code, float* y, int64_t m,
                             int64_t rows, int64_t cols, int blockSize, bool transposeWeight) {
  if (const char* bad = checkBlockSize(blockSize)) return bad;
  return launchGemm<true>(x, nullptr, Weight4{packed, absmax, code, log2Exact(blockSize)}, y, m, rows, cols, transposeWeight);
}

const char* launchMatMulF32(const float* x, const float* w, float* y, int64_t m, int64_t rows, int64_t cols, bool transposeWeight) {
  return launchGemm<false>(x, w, Weight4{nullptr, nullptr, nullptr, 0}, y, m, rows, cols, transposeWeight);
}

}  // namespace mmftcuda
