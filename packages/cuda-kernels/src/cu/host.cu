// Host side of the CUDA kernels: copy-in / run / copy-out wrappers for the N-API functions, the
// device query, and the benchmark that keeps every buffer on the device and times with cudaEvents.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>
#include "common.cuh"
#include "kernels.h"

namespace mmftcuda {

namespace {

// A cudaMalloc'd buffer freed on scope exit, so every early return releases what it took.
struct DeviceBuffer {
  void* ptr = nullptr;
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  const char* alloc(size_t bytes) {
    return cudaMalloc(&ptr, bytes < 16 ? 16 : bytes) == cudaSuccess ? nullptr : lastError();
  }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr);
  }
};

#define MMFT_TRY(expr)                          \
  do {                                          \
    if (const char* failed_ = (expr)) return failed_; \
  } while (0)

inline const char* check(cudaError_t error) {
  if (error == cudaSuccess) return nullptr;
  cudaGetLastError();  // clear the sticky-free error so later calls start clean
  return cudaGetErrorString(error);
}

const char* upload(DeviceBuffer& buffer, const void* host, size_t bytes) {
  MMFT_TRY(buffer.alloc(bytes));
  return bytes ? check(cudaMemcpy(buffer.ptr, host, bytes, cudaMemcpyHostToDevice)) : nullptr;
}

__global__ void fillKernel(float* out, int64_t n, float value) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = value;
}

const char* fill(float* out, int64_t n, float value) {
  fillKernel<<<1024, 256>>>(out, n, value);
  return lastError();
}

// Median milliseconds of `iterations` timed runs after two untimed ones.
template <class Run>
const char* timeMs(int iterations, Run run, double* ms) {
  cudaEvent_t start, stop;
  MMFT_TRY(check(cudaEventCreate(&start)));
  MMFT_TRY(check(cudaEventCreate(&stop)));
  std::vector<float> times;
  const char* failed = nullptr;
  for (int i = 0; i < iterations + 2 && !failed; ++i) {
    cudaEventRecord(start);
    failed = run();
    cudaEventRecord(stop);
    if (!failed) failed = check(cudaEventSynchronize(stop));
    float elapsed = 0;
    if (!failed && i >= 2) {
      cudaEventElapsedTime(&elapsed, start, stop);
      times.push_back(elapsed);
    }
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  if (failed) return failed;
  std::sort(times.begin(), times.end());
  *ms = times[times.size() / 2];
  return nullptr;
}

}  // namespace

const char* dequantize4bitHost(const uint8_t* packed, const float* absmax, const float* code, float* out, int64_t n, int blockSize) {
  MMFT_TRY(checkBlockSize(blockSize));
  if (n <= 0) return nullptr;
  DeviceBuffer dPacked, dAbsmax, dCode, dOut;
  MMFT_TRY(upload(dPacked, packed, static_cast<size_t>((n + 1) / 2)));
  MMFT_TRY(upload(dAbsmax, absmax, static_cast<size_t>((n + blockSize - 1) / blockSize) * sizeof(float)));
  MMFT_TRY(upload(dCode, code, 16 * sizeof(float)));
  MMFT_TRY(dOut.alloc(static_cast<size_t>(n) * sizeof(float)));
  MMFT_TRY(launchDequantize4bit(dPacked.as<uint8_t>(), dAbsmax.as<float>(), dCode.as<float>(), dOut.as<float>(), n, blockSize));
  return check(cudaMemcpy(out, dOut.ptr, static_cast<size_t>(n) * sizeof(float), cudaMemcpyDeviceToHost));
}

const char* matmul4bitHost(const float* x, const uint8_t* packed, const float* absmax, const float* code, float* y, int64_t m, int64_t rows,
                           int64_t cols, int blockSize, bool transposeWeight, bool allowGemv) {
  MMFT_TRY(checkBlockSize(blockSize));
  const int64_t n = rows * cols, inner = transposeWeight ? cols : rows, outer = transposeWeight ? rows : cols;
  if (m <= 0 || n <= 0) return nullptr;
  DeviceBuffer dX, dPacked, dAbsmax, dCode, dY;
  MMFT_TRY(upload(dX, x, static_cast<size_t>(m * inner) * sizeof(float)));
  MMFT_TRY(upload(dPacked, packed, static_cast<size_t>((n + 1) / 2)));
  MMFT_TRY(upload(dAbsmax, absmax, static_cast<size_t>((n + blockSize - 1) / blockSize) * sizeof(float)));
  MMFT_TRY(upload(dCode, code, 16 * sizeof(float)));
  MMFT_TRY(dY.alloc(static_cast<size_t>(m * outer) * sizeof(float)));
  if (allowGemv && m == 1 && transposeWeight) {
    MMFT_TRY(launchMatVec4bit(dX.as<float>(), dPacked.as<uint8_t>(), dAbsmax.as<float>(), dCode.as<float>(), dY.as<float>(), rows, cols, blockSize));
  } else {
    MMFT_TRY(launchMatMul4bit(dX.as<float>(), dPacked.as<uint8_t>(), dAbsmax.as<float>(), dCode.as<float>(), dY.as<float>(), m, rows, cols,
                              blockSize, transposeWeight));
  }
  return check(cudaMemcpy(y, dY.ptr, static_cast<size_t>(m * outer) * sizeof(float), cudaMemcpyDeviceToHost));
}

const char* deviceInfo(DeviceInfo* info) {
  std::memset(info, 0, sizeof(*info));
  cudaRuntimeGetVersion(&info->runtimeVersion);
  cudaDriverGetVersion(&info->driverVersion);  // 0 when no driver is installed
  MMFT_TRY(check(cudaGetDeviceCount(&info->deviceCount)));
  if (info->deviceCount < 1) return "no CUDA device";
  cudaDeviceProp prop;
  MMFT_TRY(check(cudaGetDeviceProperties(&prop, 0)));
  std::snprintf(info->name, sizeof(info->name), "%s", prop.name);
  info->major = prop.major;
  info->minor = prop.minor;
  info->smCount = prop.multiProcessorCount;
  info->memoryBytes = static_cast<int64_t>(prop.totalGlobalMem);
  info->l2Bytes = prop.l2CacheSize;
  return nullptr;
}

const char* benchmark(const BenchOptions& options, BenchResult* result) {
  std::memset(result, 0, sizeof(*result));
  DeviceInfo info;
  MMFT_TRY(deviceInfo(&info));
  MMFT_TRY(checkBlockSize(options.blockSize));
  const int iterations = options.iterations > 0 ? options.iterations : 20;
  // Data at least 8× the L2 cache, so repeated runs stream from device memory, not from L2.
  const int64_t target = std::max<int64_t>(8 * info.l2Bytes, int64_t(256) << 20);
  const int64_t cols = options.cols > 0 ? options.cols : 16384;
  // Whole waves of the GEMV's resident blocks, so a half-empty last wave does not hide its bandwidth.
  const int64_t wave = std::max<int64_t>(1, matvecRowsPerWave());
  const int64_t rows = options.rows > 0 ? options.rows : std::max<int64_t>(1, (2 * target / cols + wave / 2) / wave) * wave;
  const int64_t n = rows * cols, blocks = (n + options.blockSize - 1) / options.blockSize;
  result->rows = rows;
  result->cols = cols;

  DeviceBuffer packed, absmax, code, x, y, out;
  MMFT_TRY(packed.alloc(static_cast<size_t>((n + 1) / 2)));
  MMFT_TRY(absmax.alloc(static_cast<size_t>(blocks) * sizeof(float)));
  MMFT_TRY(code.alloc(16 * sizeof(float)));
  MMFT_TRY(x.alloc(static_cast<size_t>(cols) * sizeof(float)));
  MMFT_TRY(y.alloc(static_cast<size_t>(rows) * sizeof(float)));
  MMFT_TRY(out.alloc(static_cast<size_t>(n) * sizeof(float)));
  MMFT_TRY(check(cudaMemset(packed.ptr, 0x5a, static_cast<size_t>((n + 1) / 2))));
  MMFT_TRY(fill(absmax.as<float>(), blocks, 0.5f));
  MMFT_TRY(fill(code.as<float>(), 16, 0.25f));
  MMFT_TRY(fill(x.as<float>(), cols, 1.f));
  MMFT_TRY(check(cudaDeviceSynchronize()));

  const double packedBytes = double((n + 1) / 2), absmaxBytes = double(blocks) * 4;
  MMFT_TRY(timeMs(iterations, [&] {
    return launchDequantize4bit(packed.as<uint8_t>(), absmax.as<float>(), code.as<float>(), out.as<float>(), n, options.blockSize);
  }, &result->dequantizeMs));
  result->dequantizeGBs = (packedBytes + absmaxBytes + double(n) * 4) / (result->dequantizeMs * 1e6);

  MMFT_TRY(timeMs(iterations, [&] {
    return launchMatVec4bit(x.as<float>(), packed.as<uint8_t>(), absmax.as<float>(), code.as<float>(), y.as<float>(), rows, cols, options.blockSize);
  }, &result->gemvMs));
  result->gemvGBs = (packedBytes + absmaxBytes + double(cols) * 4 + double(rows) * 4) / (result->gemvMs * 1e6);

  // Device-to-device copy of the dequantised output's size: counted as read + written bytes, as the
  // two kernels above are (and as CUDA's bandwidthTest sample counts a device-to-device copy).
  const int64_t copyBytes = (n * 4) / 2;
  result->copyBytes = copyBytes;
  char* base = out.as<char>();
  MMFT_TRY(timeMs(iterations, [&] { return check(cudaMemcpyAsync(base + copyBytes, base, static_cast<size_t>(copyBytes), cudaMemcpyDeviceToDevice)); },
                  &result->copyMs));
  result->copyGBs = 2.0 * double(copyBytes) / (result->copyMs * 1e6);

  // GEMM at a training shape (x [m, cols] · Wᵀ, W [rows, cols]), 4-bit and float32 weight.
  const int64_t gm = options.m > 0 ? options.m : 2048, gr = options.gemmRows > 0 ? options.gemmRows : 4096,
                gc = options.gemmCols > 0 ? options.gemmCols : 4096;
  if (gm * gc + gr * gc + gm * gr > n || gr * gc > n)
    return "benchmark: the GEMM shape does not fit in the buffers of the bandwidth test; lower m, gemmRows or gemmCols";
  float* gx = out.as<float>();
  float* gw = gx + gm * gc;        // float32 weight for the baseline (values irrelevant to timing)
  float* gy = gw + gr * gc;
  MMFT_TRY(fill(gx, gm * gc + gr * gc, 0.01f));
  const double flops = 2.0 * double(gm) * double(gr) * double(gc);
  MMFT_TRY(timeMs(std::max(3, iterations / 4), [&] {
    return launchMatMul4bit(gx, packed.as<uint8_t>(), absmax.as<float>(), code.as<float>(), gy, gm, gr, gc, options.blockSize, true);
  }, &result->gemmMs));
  MMFT_TRY(timeMs(std::max(3, iterations / 4), [&] { return launchMatMulF32(gx, gw, gy, gm, gr, gc, true); }, &result->gemmF32Ms));
  result->gemmGflops = flops / (result->gemmMs * 1e6);
  result->gemmF32Gflops = flops / (result->gemmF32Ms * 1e6);
  return nullptr;
}

}  // namespace mmftcuda
