// N-API glue of the CUDA kernels: host typed arrays in, a new Float32Array out (kernels.h's
// copy-in / run / copy-out wrappers), named after core's kernel table (MmftDequantize4bit,
// MmftMatMul4bit). Sizes are checked here against the arrays' byte lengths so that a wrong call
// throws instead of reading past a buffer; the TypeScript wrapper (src/index.ts) checks them first
// with messages that say how to fix the call.
#include <node_api.h>
#include <cstdint>
#include <cstring>
#include <string>
#include "../kernels.h"

namespace {

napi_value fail(napi_env env, const std::string& message) {
  napi_throw_error(env, "E_CUDA", message.c_str());
  return nullptr;
}

bool typedArray(napi_env env, napi_value value, napi_typedarray_type want, void** data, size_t* length) {
  bool is = false;
  if (napi_is_typedarray(env, value, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, data, &buffer, &offset) != napi_ok) return false;
  return type == want;
}

double number(napi_env env, napi_value value) {
  double out = 0;
  napi_get_value_double(env, value, &out);
  return out;
}

bool flag(napi_env env, napi_value value) {
  bool out = false;
  napi_get_value_bool(env, value, &out);
  return out;
}

napi_value newFloat32(napi_env env, size_t length, float** data) {
  napi_value buffer, array;
  napi_create_arraybuffer(env, length * sizeof(float), reinterpret_cast<void**>(data), &buffer);
  napi_create_typedarray(env, napi_float32_array, length, buffer, 0, &array);
  return array;
}

void set(napi_env env, napi_value object, const char* key, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, object, key, v);
}

void setString(napi_env env, napi_value object, const char* key, const char* value) {
  napi_value v;
  if (value) napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  else napi_get_null(env, &v);
  napi_set_named_property(env, object, key, v);
}

// Reads the 4-bit weight operands shared by both kernels; returns false after throwing.
struct Weight {
  uint8_t* packed;
  float* absmax;
  float* code;
};

bool weight(napi_env env, napi_value* argv, int64_t n, int blockSize, Weight* w) {
  size_t packedLength, absmaxLength, codeLength;
  void *packed, *absmax, *code;
  if (!typedArray(env, argv[0], napi_uint8_array, &packed, &packedLength) ||
      !typedArray(env, argv[1], napi_float32_array, &absmax, &absmaxLength) ||
      !typedArray(env, argv[2], napi_float32_array, &code, &codeLength)) {
    fail(env, "expected packed: Uint8Array, absmax: Float32Array, code: Float32Array");
    return false;
  }
  if (blockSize <= 0 || n < 0 || packedLength < static_cast<size_t>((n + 1) / 2) ||
      absmaxLength < static_cast<size_t>((n + blockSize - 1) / blockSize) || codeLength != 16) {
    fail(env, "packed needs ceil(n/2) bytes, absmax ceil(n/blockSize) floats and code 16 floats for n = " + std::to_string(n));
    return false;
  }
  *w = Weight{static_cast<uint8_t*>(packed), static_cast<float*>(absmax), static_cast<float*>(code)};
  return true;
}

// info() → { runtimeVersion, driverVersion, deviceCount, name, major, minor, smCount, memoryBytes, l2Bytes, error }
napi_value Info(napi_env env, napi_callback_info) {
  mmftcuda::DeviceInfo info;
  const char* error = mmftcuda::deviceInfo(&info);
  napi_value out;
  napi_create_object(env, &out);
  set(env, out, "runtimeVersion", info.runtimeVersion);
  set(env, out, "driverVersion", info.driverVersion);
  set(env, out, "deviceCount", info.deviceCount);
  setString(env, out, "name", info.name);
  set(env, out, "major", info.major);
  set(env, out, "minor", info.minor);
  set(env, out, "smCount", info.smCount);
  set(env, out, "memoryBytes", static_cast<double>(info.memoryBytes));
  set(env, out, "l2Bytes", static_cast<double>(info.l2Bytes));
  setString(env, out, "error", error);
  return out;
}

// MmftDequantize4bit(packed, absmax, code, n, blockSize) → Float32Array(n)
napi_value Dequantize4bit(napi_env env, napi_callback_info cb) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, cb, &argc, argv, nullptr, nullptr);
  if (argc < 5) return fail(env, "MmftDequantize4bit(packed, absmax, code, n, blockSize)");
  const int64_t n = static_cast<int64_t>(number(env, argv[3]));
  const int blockSize = static_cast<int>(number(env, argv[4]));
  Weight w;
  if (!weight(env, argv, n, blockSize, &w)) return nullptr;
  float* out;
  napi_value result = newFloat32(env, static_cast<size_t>(n), &out);
  if (const char* error = mmftcuda::dequantize4bitHost(w.packed, w.absmax, w.code, out, n, blockSize))
    return fail(env, std::string("MmftDequantize4bit: ") + error);
  return result;
}

// MmftMatMul4bit(packed, absmax, code, x, m, rows, cols, blockSize, transposeWeight, allowGemv) → Float32Array
napi_value MatMul4bit(napi_env env, napi_callback_info cb) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, cb, &argc, argv, nullptr, nullptr);
  if (argc < 10) return fail(env, "MmftMatMul4bit(packed, absmax, code, x, m, rows, cols, blockSize, transposeWeight, allowGemv)");
  const int64_t m = static_cast<int64_t>(number(env, argv[4])), rows = static_cast<int64_t>(number(env, argv[5])),
                cols = static_cast<int64_t>(number(env, argv[6]));
  const int blockSize = static_cast<int>(number(env, argv[7]));
  const bool transposeWeight = flag(env, argv[8]), allowGemv = flag(env, argv[9]);
  Weight w;
  if (m < 0 || rows < 0 || cols < 0) return fail(env, "MmftMatMul4bit: negative size");
  if (!weight(env, argv, rows * cols, blockSize, &w)) return nullptr;
  void* x;
  size_t xLength;
  const int64_t inner = transposeWeight ? cols : rows, outer = transposeWeight ? rows : cols;
  if (!typedArray(env, argv[3], napi_float32_array, &x, &xLength) || xLength < static_cast<size_t>(m * inner))
    return fail(env, "MmftMatMul4bit: x must be a Float32Array of m·" + std::to_string(inner) + " floats");
  float* y;
  napi_value result = newFloat32(env, static_cast<size_t>(m * outer), &y);
  if (const char* error = mmftcuda::matmul4bitHost(static_cast<float*>(x), w.packed, w.absmax, w.code, y, m, rows, cols, blockSize,
                                                   transposeWeight, allowGemv))
    return fail(env, std::string("MmftMatMul4bit: ") + error);
  return result;
}

// benchmark(rows, cols, m, gemmRows, gemmCols, blockSize, iterations) → timings (0 picks a default)
napi_value Benchmark(napi_env env, napi_callback_info cb) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, cb, &argc, argv, nullptr, nullptr);
  if (argc < 7) return fail(env, "benchmark(rows, cols, m, gemmRows, gemmCols, blockSize, iterations)");
  mmftcuda::BenchOptions options{};
  options.rows = static_cast<int64_t>(number(env, argv[0]));
  options.cols = static_cast<int64_t>(number(env, argv[1]));
  options.m = static_cast<int64_t>(number(env, argv[2]));
  options.gemmRows = static_cast<int64_t>(number(env, argv[3]));
  options.gemmCols = static_cast<int64_t>(number(env, argv[4]));
  options.blockSize = static_cast<int>(number(env, argv[5]));
  options.iterations = static_cast<int>(number(env, argv[6]));
  mmftcuda::BenchResult r;
  if (const char* error = mmftcuda::benchmark(options, &r)) return fail(env, std::string("benchmark: ") + error);
  napi_value out;
  napi_create_object(env, &out);
  set(env, out, "rows", static_cast<double>(r.rows));
  set(env, out, "cols", static_cast<double>(r.cols));
  set(env, out, "copyBytes", static_cast<double>(r.copyBytes));
  set(env, out, "copyGBs", r.copyGBs);
  set(env, out, "dequantizeGBs", r.dequantizeGBs);
  set(env, out, "gemvGBs", r.gemvGBs);
  set(env, out, "gemmGflops", r.gemmGflops);
  set(env, out, "gemmF32Gflops", r.gemmF32Gflops);
  set(env, out, "copyMs", r.copyMs);
  set(env, out, "dequantizeMs", r.dequantizeMs);
  set(env, out, "gemvMs", r.gemvMs);
  set(env, out, "gemmMs", r.gemmMs);
  set(env, out, "gemmF32Ms", r.gemmF32Ms);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor properties[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"MmftDequantize4bit", nullptr, Dequantize4bit, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"MmftMatMul4bit", nullptr, MatMul4bit, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"benchmark", nullptr, Benchmark, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
