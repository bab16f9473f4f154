// The host-side surface of the CUDA kernels, free of CUDA types so that the N-API glue and the
// standalone self-test include it alike. Every function returns nullptr on success or a message
// (the CUDA error string, or which argument was wrong); none throws.
//
// Layout of a 4-bit weight (bitsandbytes' Params4bit, bitsandbytes/functional.py quantize_4bit):
// the [rows, cols] matrix flattened row-major, element i in byte i/2 (high nibble for even i),
// scaled by absmax[i / blockSize] (float32, already de-nested when double-quantised) times
// code[nibble] (the 16-entry quant_map).
#pragma once
#include <cstdint>

namespace mmftcuda {

// ---- on device pointers (cudaMalloc'd, so 256-byte aligned), stream 0, asynchronous ----

/** out[i] = code[nibble(i)] · absmax[i / blockSize] for i < n. */
const char* launchDequantize4bit(const uint8_t* packed, const float* absmax, const float* code, float* out, int64_t n, int blockSize);

/** y[r] = Σ_c W[r, c] · x[c]: one token through a [rows, cols] Linear (x·Wᵀ with m = 1). */
const char* launchMatVec4bit(const float* x, const uint8_t* packed, const float* absmax, const float* code, float* y, int64_t rows,
                             int64_t cols, int blockSize);

/** Rows the vectorised GEMV covers in one wave of resident blocks on the current device. */
int64_t matvecRowsPerWave();

/**
 * y = x·Wᵀ (transposeWeight: x [m, cols], y [m, rows]) or x·W (x [m, rows], y [m, cols]) with W the
 * [rows, cols] 4-bit weight, decoded tile by tile into shared memory.
 */
const char* launchMatMul4bit(const float* x, const uint8_t* packed, const float* absmax, const float* code, float* y, int64_t m,
                             int64_t rows, int64_t cols, int blockSize, bool transposeWeight);

/** The same tiled GEMM on a float32 W: the baseline the 4-bit GEMM is compared with. */
const char* launchMatMulF32(const float* x, const float* w, float* y, int64_t m, int64_t rows, int64_t cols, bool transposeWeight);

// ---- on host arrays: copy in, run, copy out (synchronous) ----

/** packed holds ⌈n/2⌉ bytes, absmax ⌈n/blockSize⌉ floats, code 16; out n floats. */
const char* dequantize4bitHost(const uint8_t* packed, const float* absmax, const float* code, float* out, int64_t n, int blockSize);

/** As launchMatMul4bit; m = 1 with transposeWeight runs the GEMV kernel. */
const char* matmul4bitHost(const float* x, const uint8_t* packed, const float* absmax, const float* code, float* y, int64_t m, int64_t rows,
                           int64_t cols, int blockSize, bool transposeWeight, bool allowGemv);

struct DeviceInfo {
  int deviceCount;
  char name[256];
  int major, minor;
  int smCount;
  int64_t memoryBytes;
  int64_t l2Bytes;
  int runtimeVersion, driverVersion;
};

/** Fills info for device 0; returns why not when there is no usable device. */
const char* deviceInfo(DeviceInfo* info);

struct BenchOptions {
  int64_t rows, cols;  // the weight for GEMV and dequantise (0: chosen from L2 so data is ≥ 8× the cache)
  int64_t m;           // GEMM rows of x (training shape)
  int64_t gemmRows, gemmCols;
  int blockSize;
  int iterations;
};

struct BenchResult {
  double copyGBs;            // cudaMemcpy device-to-device, bytes read + written per second (bandwidthTest's convention)
  double dequantizeGBs;      // packed + absmax read, float32 written
  double gemvGBs;            // packed + absmax + x read, y written
  double gemmGflops;         // 2·m·rows·cols per second, 4-bit weight
  double gemmF32Gflops;      // the same tiling on a float32 weight
  double dequantizeMs, gemvMs, gemmMs, gemmF32Ms, copyMs;
  int64_t rows, cols, copyBytes;
};

/** Times the kernels with cudaEvents on device-resident buffers (median of `iterations`). */
const char* benchmark(const BenchOptions& options, BenchResult* result);

}  // namespace mmftcuda
