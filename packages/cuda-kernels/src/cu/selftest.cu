// Standalone check of the CUDA kernels on a GPU machine, with no Node needed there: every kernel
// against a host reference (dequantise bit-exact; GEMV and GEMM within the float32 summation bound
// γ_k·Σ|w·x|, γ_k = k·u/(1 − k·u), u = 2⁻²⁴, which holds for any summation order), then the
// benchmark. Writes JSON to argv[1] and a text table to argv[2] (stdout when absent).
//   mmft_cuda_selftest out.json out.txt [iterations]
// Exit status: 0 all checks passed, 1 a check failed or a CUDA call failed, 2 no usable device.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include "kernels.h"

using namespace mmftcuda;

namespace {

// bitsandbytes/functional.py get_4bit_type: NF4 levels, and FP4 (e2m1 without inf/nan) / 12 (its
// `-0` is a Python int: +0.0).
const float kNf4[16] = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
                        -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
                        0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f,
                        1.0f};
const float kFp4Raw[16] = {0.f, 0.0625f, 8.f, 12.f, 4.f, 6.f, 2.f, 3.f, 0.f, -0.0625f, -8.f, -12.f, -4.f, -6.f, -2.f, -3.f};

struct Rng {
  uint64_t state;
  uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  }
  float uniform() { return (next() & 0xffffff) / float(1 << 24); }  // [0, 1)
};

struct Weight {
  std::vector<uint8_t> packed;
  std::vector<float> absmax, code;
  int64_t n;
  int blockSize;
  float at(int64_t i) const {
    const unsigned byte = packed[static_cast<size_t>(i >> 1)];
    return code[(i & 1) ? (byte & 15u) : (byte >> 4)] * absmax[static_cast<size_t>(i / blockSize)];
  }
};

Weight randomWeight(int64_t n, int blockSize, bool fp4, uint64_t seed) {
  Rng rng{seed};
  Weight w;
  w.n = n;
  w.blockSize = blockSize;
  w.packed.resize(static_cast<size_t>((n + 1) / 2));
  for (auto& b : w.packed) b = static_cast<uint8_t>(rng.next());
  w.absmax.resize(static_cast<size_t>((n + blockSize - 1) / blockSize));
  for (auto& a : w.absmax) a = 0.01f + 3.f * rng.uniform();
  for (int i = 0; i < 16; ++i) w.code.push_back(fp4 ? kFp4Raw[i] / 12.f : kNf4[i]);
  return w;
}

std::vector<float> randomX(int64_t count, uint64_t seed) {
  Rng rng{seed};
  std::vector<float> x(static_cast<size_t>(count));
  for (auto& v : x) v = 2.f * rng.uniform() - 1.f;
  return x;
}

std::string json;   // the checks array, filled as they run
std::string table;  // the text report
int failures = 0;

void record(const char* kernel, const std::string& shape, double maxError, double bound, const char* error) {
  const bool pass = !error && maxError <= bound;
  if (!pass) ++failures;
  char line[512];
  std::snprintf(line, sizeof(line), "%s{\"kernel\":\"%s\",\"shape\":\"%s\",\"maxError\":%.3g,\"bound\":%.3g,\"pass\":%s%s%s%s}",
                json.empty() ? "" : ",", kernel, shape.c_str(), maxError, bound, pass ? "true" : "false", error ? ",\"error\":\"" : "",
                error ? error : "", error ? "\"" : "");
  json += line;
  std::snprintf(line, sizeof(line), "%-12s %-36s max |err| %-10.3g bound %-10.3g %s%s\n", kernel, shape.c_str(), maxError, bound,
                pass ? "ok" : "FAIL", error ? (std::string(" ") + error).c_str() : "");
  table += line;
}

void checkDequantize(int64_t n, int blockSize, bool fp4) {
  const Weight w = randomWeight(n, blockSize, fp4, 11 + n);
  std::vector<float> out(static_cast<size_t>(n));
  const char* error = dequantize4bitHost(w.packed.data(), w.absmax.data(), w.code.data(), out.data(), n, blockSize);
  double worst = 0;
  for (int64_t i = 0; !error && i < n; ++i) {
    const float want = w.at(i);
    if (std::memcmp(&want, &out[static_cast<size_t>(i)], sizeof(float)) != 0) worst = std::max(worst, std::fabs(double(want) - out[i]) + 1e-30);
  }
  record("dequantize", std::string(fp4 ? "fp4" : "nf4") + " n=" + std::to_string(n) + " bs=" + std::to_string(blockSize), worst, 0, error);
}

void checkMatMul(const char* kernel, int64_t m, int64_t rows, int64_t cols, int blockSize, bool transposeWeight, bool gemv) {
  const Weight w = randomWeight(rows * cols, blockSize, false, 7 * rows + cols);
  const int64_t inner = transposeWeight ? cols : rows, outer = transposeWeight ? rows : cols;
  const std::vector<float> x = randomX(m * inner, 3 + m);
  std::vector<float> y(static_cast<size_t>(m * outer));
  const char* error =
      matmul4bitHost(x.data(), w.packed.data(), w.absmax.data(), w.code.data(), y.data(), m, rows, cols, blockSize, transposeWeight, gemv);
  const double u = std::ldexp(1.0, -24), k = double(inner) + 3, gamma = k * u / (1 - k * u);
  double worstRatio = 0;
  for (int64_t i = 0; !error && i < m; ++i) {
    for (int64_t j = 0; j < outer; ++j) {
      double sum = 0, magnitude = 0;
      for (int64_t c = 0; c < inner; ++c) {
        const double weight = transposeWeight ? w.at(j * cols + c) : w.at(c * cols + j);
        sum += weight * x[static_cast<size_t>(i * inner + c)];
        magnitude += std::fabs(weight * x[static_cast<size_t>(i * inner + c)]);
      }
      const double err = std::fabs(sum - y[static_cast<size_t>(i * outer + j)]);
      worstRatio = std::max(worstRatio, err / (gamma * magnitude + 1e-30));
      if (!(err == err)) worstRatio = INFINITY;
    }
  }
  char shape[128];
  std::snprintf(shape, sizeof(shape), "m=%lld %s [%lld,%lld] bs=%d", static_cast<long long>(m), transposeWeight ? "x·Wt" : "x·W",
                static_cast<long long>(rows), static_cast<long long>(cols), blockSize);
  record(kernel, shape, worstRatio, 1.0, error);  // error as a fraction of the bound
}

}  // namespace

int main(int argc, char** argv) {
  FILE* jsonFile = argc > 1 ? std::fopen(argv[1], "w") : nullptr;
  FILE* textFile = argc > 2 ? std::fopen(argv[2], "w") : stdout;
  const int iterations = argc > 3 ? std::atoi(argv[3]) : 20;
  DeviceInfo info;
  if (const char* why = deviceInfo(&info)) {
    std::fprintf(stderr, "no usable CUDA device: %s (runtime %d, driver %d)\n", why, info.runtimeVersion, info.driverVersion);
    if (jsonFile) std::fprintf(jsonFile, "{\"device\":null,\"reason\":\"%s\"}\n", why);
    return 2;
  }
  char head[512];
  std::snprintf(head, sizeof(head), "device %s (sm_%d%d, %d SMs, %.1f GiB, L2 %.0f MiB), runtime %d, driver %d\n", info.name, info.major,
                info.minor, info.smCount, info.memoryBytes / 1073741824.0, info.l2Bytes / 1048576.0, info.runtimeVersion, info.driverVersion);
  table += head;

  for (bool fp4 : {false, true})
    for (int64_t n : {1, 2, 15, 16, 17, 33, 1000, 4097, (1 << 20) + 3}) checkDequantize(n, 64, fp4);
  for (int bs : {32, 128, 256, 1024, 4096}) checkDequantize(100003, bs, false);
  // GEMV: the vectorised path (cols % 32 == 0) and the element path (odd cols, rows starting mid-byte).
  const int64_t gemvShapes[][2] = {{1, 32}, {5, 64}, {37, 96}, {128, 4096}, {1000, 320}, {33, 33}, {7, 1}, {3, 100}, {17, 4097}};
  for (const auto& s : gemvShapes) checkMatMul("gemv", 1, s[0], s[1], 64, true, true);
  checkMatMul("gemv", 1, 64, 256, 32, true, true);
  checkMatMul("gemv", 1, 64, 256, 4096, true, true);
  const int64_t gemmShapes[][3] = {{1, 5, 7}, {2, 64, 64}, {65, 130, 33}, {128, 256, 512}, {3, 1, 1}, {70, 17, 200}};
  for (const auto& s : gemmShapes)
    for (bool t : {true, false}) checkMatMul("gemm", s[0], s[1], s[2], 64, t, false);
  checkMatMul("gemm", 1, 96, 64, 64, true, false);  // m = 1 through the GEMM kernel too

  BenchOptions options{};
  options.blockSize = 64;
  options.iterations = iterations;
  BenchResult r;
  const char* benchError = benchmark(options, &r);
  char bench[2048] = "null";
  if (benchError) {
    ++failures;
    table += std::string("benchmark failed: ") + benchError + "\n";
  } else {
    std::snprintf(bench, sizeof(bench),
                  "{\"rows\":%lld,\"cols\":%lld,\"blockSize\":64,\"copyBytes\":%lld,\"copyGBs\":%.1f,\"dequantizeGBs\":%.1f,"
                  "\"gemvGBs\":%.1f,\"dequantizeOfCopy\":%.3f,\"gemvOfCopy\":%.3f,\"gemmGflops\":%.1f,\"gemmF32Gflops\":%.1f,"
                  "\"gemmOfF32\":%.3f,\"copyMs\":%.4f,\"dequantizeMs\":%.4f,\"gemvMs\":%.4f,\"gemmMs\":%.4f,\"gemmF32Ms\":%.4f,"
                  "\"gemmShape\":\"x[2048,4096]·Wt, W[4096,4096]\"}",
                  static_cast<long long>(r.rows), static_cast<long long>(r.cols), static_cast<long long>(r.copyBytes), r.copyGBs,
                  r.dequantizeGBs, r.gemvGBs, r.dequantizeGBs / r.copyGBs, r.gemvGBs / r.copyGBs, r.gemmGflops, r.gemmF32Gflops,
                  r.gemmGflops / r.gemmF32Gflops, r.copyMs, r.dequantizeMs, r.gemvMs, r.gemmMs, r.gemmF32Ms);
    char lines[1024];
    std::snprintf(lines, sizeof(lines),
                  "\nbenchmark (weight [%lld, %lld], blocksize 64, median of %d; bytes read + written per second)\n"
                  "  device-to-device copy  %8.1f GB/s\n"
                  "  dequantise 4-bit->f32  %8.1f GB/s  %5.1f %% of copy (goal >= 80 %%)\n"
                  "  GEMV 4-bit (1 token)   %8.1f GB/s  %5.1f %% of copy (goal >= 60 %%)\n"
                  "  GEMM 4-bit [2048x4096]x[4096x4096]^T  %8.1f GFLOP/s; same tiling on f32 W %8.1f GFLOP/s (%.2fx)\n",
                  static_cast<long long>(r.rows), static_cast<long long>(r.cols), iterations, r.copyGBs, r.dequantizeGBs,
                  100 * r.dequantizeGBs / r.copyGBs, r.gemvGBs, 100 * r.gemvGBs / r.copyGBs, r.gemmGflops, r.gemmF32Gflops,
                  r.gemmGflops / r.gemmF32Gflops);
    table += lines;
  }
  table += failures ? "\nFAILED checks: " + std::to_string(failures) + "\n" : "\nall checks passed\n";
  std::fputs(table.c_str(), textFile);
  if (jsonFile) {
    std::fprintf(jsonFile,
                 "{\"device\":{\"name\":\"%s\",\"computeCapability\":\"%d.%d\",\"smCount\":%d,\"memoryBytes\":%lld,\"l2Bytes\":%lld,"
                 "\"runtimeVersion\":%d,\"driverVersion\":%d},\"checks\":[%s],\"failures\":%d,\"benchmark\":%s}\n",
                 info.name, info.major, info.minor, info.smCount, static_cast<long long>(info.memoryBytes), static_cast<long long>(info.l2Bytes),
                 info.runtimeVersion, info.driverVersion, json.c_str(), failures, bench);
    std::fclose(jsonFile);
  }
  if (textFile != stdout) std::fclose(textFile);
  return failures ? 1 : 0;
}
