// N-API entry points of @mmft/native-kernels. Kernels read and write a Float32Array in place
// (tfjs-backend-wasm's heap, so no copies), at offsets counted in floats; every index a call will
// touch is bounds-checked here first, so a wrong offset throws instead of corrupting memory.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "fused.h"
#include "gemm.h"
#include "rows.h"
#include "attention.h"

namespace {

#define CHECK_NAPI(env, call)                                    \
  do {                                                           \
    if ((call) != napi_ok) {                                     \
      napi_throw_error((env), "E_NATIVE", "N-API call failed: " #call); \
      return nullptr;                                            \
    }                                                            \
  } while (0)

bool intArg(napi_env env, napi_value value, int64_t* out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || d != double(int64_t(d))) return false;
  *out = int64_t(d);
  return true;
}

// Largest index an operand touches: every stride is ≥ 0, so it is the far corner.
int64_t lastIndex(int64_t offset, int64_t batches, int64_t rows, int64_t cols, int64_t batchStride, int64_t rowStride, int64_t colStride) {
  return offset + (batches - 1) * batchStride + (rows - 1) * rowStride + (cols - 1) * colStride;
}

// gemm(heap, batches, m, n, k, aOffset, aBatch, aRow, aCol, bOffset, bBatch, bRow, bCol, cOffset, threads)
napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 15) {
    napi_throw_type_error(env, "E_NATIVE", "gemm takes 15 arguments");
    return nullptr;
  }
  bool isTyped = false;
  CHECK_NAPI(env, napi_is_typedarray(env, argv[0], &isTyped));
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (isTyped) CHECK_NAPI(env, napi_get_typedarray_info(env, argv[0], &type, &length, &data, nullptr, nullptr));
  if (!isTyped || type != napi_float32_array) {
    napi_throw_type_error(env, "E_NATIVE", "gemm: the first argument must be a Float32Array");
    return nullptr;
  }
  int64_t v[14];
  for (int i = 0; i < 14; i++) {
    if (!intArg(env, argv[i + 1], &v[i]) || v[i] < 0) {
      napi_throw_range_error(env, "E_NATIVE", ("gemm: argument " + std::to_string(i + 1) + " must be a non-negative integer").c_str());
      return nullptr;
    }
  }
  const int64_t batches = v[0], m = v[1], n = v[2], k = v[3];
  if (batches > INT32_MAX || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) {
    napi_throw_range_error(env, "E_NATIVE", "gemm: dimensions must fit in 32 bits");
    return nullptr;
  }
  if (batches == 0 || m == 0 || n == 0) return nullptr;
  const int64_t len = int64_t(length);
  const bool inBounds = (k == 0 || (lastIndex(v[4], batches, m, k, v[5], v[6], v[7]) < len && lastIndex(v[8], batches, k, n, v[9], v[10], v[11]) < len)) &&
                        lastIndex(v[12], batches, m, n, m * n, n, 1) < len;
  if (!inBounds) {
    napi_throw_range_error(env, "E_NATIVE", "gemm: an operand reaches past the end of the array");
    return nullptr;
  }
  float* heap = static_cast<float*>(data);
  mmft::gemm(int(batches), int(m), int(n), int(k), {heap + v[4], v[5], v[6], v[7]}, {heap + v[8], v[9], v[10], v[11]}, heap + v[12], int(v[13]));
  return nullptr;
}

// The Float32Array in argv[0], or nullptr after throwing a TypeError naming `fn`.
float* float32Arg(napi_env env, napi_value value, const char* fn, int64_t* length) {
  bool isTyped = false;
  napi_typedarray_type type;
  size_t len = 0;
  void* data = nullptr;
  if (napi_is_typedarray(env, value, &isTyped) != napi_ok || !isTyped ||
      napi_get_typedarray_info(env, value, &type, &len, &data, nullptr, nullptr) != napi_ok || type != napi_float32_array) {
    napi_throw_type_error(env, "E_NATIVE", (std::string(fn) + ": the first argument must be a Float32Array").c_str());
    return nullptr;
  }
  *length = int64_t(len);
  return static_cast<float*>(data);
}

// Reads `count` arguments from argv[first]: the first `ints` non-negative integers, the rest finite
// numbers. Throws (and returns false) naming `fn` and the argument otherwise.
bool numberArgs(napi_env env, const napi_value* argv, int first, int count, int ints, const char* fn, int64_t* intsOut, double* dblOut) {
  for (int i = 0; i < count; i++) {
    const std::string where = std::string(fn) + ": argument " + std::to_string(first + i);
    if (i < ints) {
      if (!intArg(env, argv[first + i], &intsOut[i]) || intsOut[i] < 0) {
        napi_throw_range_error(env, "E_NATIVE", (where + " must be a non-negative integer").c_str());
        return false;
      }
    } else {
      double d;
      if (napi_get_value_double(env, argv[first + i], &d) != napi_ok || !std::isfinite(d)) {
        napi_throw_range_error(env, "E_NATIVE", (where + " must be a finite number").c_str());
        return false;
      }
      dblOut[i - ints] = d;
    }
  }
  return true;
}

// Whether [offset, offset + count) lies inside an array of `length` floats (no overflow).
bool fits(int64_t offset, int64_t count, int64_t length) { return offset <= length && count <= length - offset; }

// rows × cols, or -1 when it exceeds `length` (so it cannot fit anywhere in the array).
int64_t areaWithin(int64_t rows, int64_t cols, int64_t length) {
  if (cols != 0 && rows > length / cols) return -1;
  return rows * cols;
}

bool getArgs(napi_env env, napi_callback_info info, size_t expected, napi_value* argv, const char* fn) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) {
    napi_throw_error(env, "E_NATIVE", "N-API call failed: napi_get_cb_info");
    return false;
  }
  if (argc != expected) {
    napi_throw_type_error(env, "E_NATIVE", (std::string(fn) + " takes " + std::to_string(expected) + " arguments").c_str());
    return false;
  }
  return true;
}

napi_value outOfRange(napi_env env, const char* fn) {
  napi_throw_range_error(env, "E_NATIVE", (std::string(fn) + ": an operand reaches past the end of the array").c_str());
  return nullptr;
}

// Reads a kernel's Float32Array (argv[0]) and its first `ints` non-negative integers (argv[1..ints]).
float* rowKernelArgs(napi_env env, napi_callback_info info, size_t argc, napi_value* argv, int ints, int64_t* v, const char* fn, int64_t* length) {
  if (!getArgs(env, info, argc, argv, fn)) return nullptr;
  float* heap = float32Arg(env, argv[0], fn, length);
  if (!heap || !numberArgs(env, argv, 1, ints, ints, fn, v, nullptr)) return nullptr;
  return heap;
}

int threadArg(int64_t threads) { return int(std::min<int64_t>(threads, 1024)); }

// layerNorm(heap, xOffset, gammaOffset, betaOffset, yOffset, rows, cols, eps, threads)
napi_value LayerNormFn(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int64_t v[6], length = 0, threads;
  double eps;
  float* heap = rowKernelArgs(env, info, 9, argv, 6, v, "layerNorm", &length);
  if (!heap || !numberArgs(env, argv, 7, 1, 0, "layerNorm", nullptr, &eps) || !numberArgs(env, argv, 8, 1, 1, "layerNorm", &threads, nullptr))
    return nullptr;
  const int64_t rows = v[4], cols = v[5], area = areaWithin(rows, cols, length);
  if (area < 0 || !fits(v[0], area, length) || !fits(v[1], cols, length) || !fits(v[2], cols, length) || !fits(v[3], area, length))
    return outOfRange(env, "layerNorm");
  if (area == 0) return nullptr;
  mmft::layerNorm(heap + v[0], heap + v[1], heap + v[2], heap + v[3], rows, cols, eps, threadArg(threads));
  return nullptr;
}

// layerNormGrad(heap, dyOffset, xOffset, gammaOffset, dxOffset, dgammaOffset, dbetaOffset, rows, cols, eps, threads)
napi_value LayerNormGradFn(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  int64_t v[8], length = 0, threads;
  double eps;
  float* heap = rowKernelArgs(env, info, 11, argv, 8, v, "layerNormGrad", &length);
  if (!heap || !numberArgs(env, argv, 9, 1, 0, "layerNormGrad", nullptr, &eps) || !numberArgs(env, argv, 10, 1, 1, "layerNormGrad", &threads, nullptr))
    return nullptr;
  const int64_t rows = v[6], cols = v[7], area = areaWithin(rows, cols, length);
  if (area < 0 || !fits(v[0], area, length) || !fits(v[1], area, length) || !fits(v[2], cols, length) || !fits(v[3], area, length) ||
      !fits(v[4], cols, length) || !fits(v[5], cols, length))
    return outOfRange(env, "layerNormGrad");
  if (cols == 0) return nullptr;
  mmft::layerNormGrad(heap + v[0], heap + v[1], heap + v[2], heap + v[3], heap + v[4], heap + v[5], rows, cols, eps, threadArg(threads));
  return nullptr;
}

// adamwUpdate(heap, pOffset, gOffset, mOffset, vOffset, pOutOffset, mOutOffset, vOutOffset, n,
//             beta1, beta2, c1, c2, eps, decay, stepSize, bias2Sqrt, threads)
napi_value AdamWFn(napi_env env, napi_callback_info info) {
  napi_value argv[18];
  int64_t v[8], length = 0, threads;
  double c[8];
  float* heap = rowKernelArgs(env, info, 18, argv, 8, v, "adamwUpdate", &length);
  if (!heap || !numberArgs(env, argv, 9, 8, 0, "adamwUpdate", nullptr, c) || !numberArgs(env, argv, 17, 1, 1, "adamwUpdate", &threads, nullptr))
    return nullptr;
  const int64_t n = v[7];
  for (int i = 0; i < 7; i++)
    if (!fits(v[i], n, length)) return outOfRange(env, "adamwUpdate");
  if (n == 0) return nullptr;
  const mmft::AdamWCoefficients k{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]};
  mmft::adamwUpdate(heap + v[0], heap + v[1], heap + v[2], heap + v[3], heap + v[4], heap + v[5], heap + v[6], n, k, threadArg(threads));
  return nullptr;
}

// sumRows(heap, xOffset, outOffset, rows, cols, threads)
napi_value SumRowsFn(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int64_t v[5], length = 0;
  float* heap = rowKernelArgs(env, info, 6, argv, 5, v, "sumRows", &length);
  if (!heap) return nullptr;
  const int64_t rows = v[2], cols = v[3], area = areaWithin(rows, cols, length);
  if (area < 0 || !fits(v[0], area, length) || !fits(v[1], cols, length)) return outOfRange(env, "sumRows");
  mmft::sumRows(heap + v[0], heap + v[1], rows, cols, threadArg(v[4]));
  return nullptr;
}

// sumOfSquares(heap, offsets: Float64Array, sizes: Float64Array, threads) → number
napi_value SumOfSquaresFn(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!getArgs(env, info, 4, argv, "sumOfSquares")) return nullptr;
  int64_t length = 0;
  float* heap = float32Arg(env, argv[0], "sumOfSquares", &length);
  if (!heap) return nullptr;
  double* lists[2];
  size_t counts[2];
  for (int i = 0; i < 2; i++) {
    bool isTyped = false;
    napi_typedarray_type type;
    void* data = nullptr;
    if (napi_is_typedarray(env, argv[1 + i], &isTyped) != napi_ok || !isTyped ||
        napi_get_typedarray_info(env, argv[1 + i], &type, &counts[i], &data, nullptr, nullptr) != napi_ok || type != napi_float64_array) {
      napi_throw_type_error(env, "E_NATIVE", "sumOfSquares: offsets and sizes must be Float64Arrays");
      return nullptr;
    }
    lists[i] = static_cast<double*>(data);
  }
  int64_t threads;
  if (counts[0] != counts[1]) {
    napi_throw_range_error(env, "E_NATIVE", "sumOfSquares: offsets and sizes differ in length");
    return nullptr;
  }
  if (!numberArgs(env, argv, 3, 1, 1, "sumOfSquares", &threads, nullptr)) return nullptr;
  const size_t count = counts[0];
  std::vector<const float*> parts(count);
  std::vector<int64_t> sizes(count);
  for (size_t i = 0; i < count; i++) {
    const double offset = lists[0][i], size = lists[1][i];
    if (!(offset >= 0 && size >= 0 && offset == double(int64_t(offset)) && size == double(int64_t(size))) || !fits(int64_t(offset), int64_t(size), length))
      return outOfRange(env, "sumOfSquares");
    parts[i] = heap + int64_t(offset);
    sizes[i] = int64_t(size);
  }
  napi_value out;
  CHECK_NAPI(env, napi_create_double(env, mmft::sumOfSquares(parts.data(), sizes.data(), int64_t(count), threadArg(threads)), &out));
  return out;
}

// addRepeated(heap, aOffset, bOffset, outOffset, n, m, threads)
napi_value AddRepeatedFn(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  int64_t v[6], length = 0;
  float* heap = rowKernelArgs(env, info, 7, argv, 6, v, "addRepeated", &length);
  if (!heap) return nullptr;
  const int64_t n = v[3], m = v[4];
  if (m == 0 ? n != 0 : n % m != 0) {
    napi_throw_range_error(env, "E_NATIVE", "addRepeated: n must be a multiple of m");
    return nullptr;
  }
  if (!fits(v[0], n, length) || !fits(v[1], m, length) || !fits(v[2], n, length)) return outOfRange(env, "addRepeated");
  mmft::addRepeated(heap + v[0], heap + v[1], heap + v[2], n, m, threadArg(v[5]));
  return nullptr;
}

// quickGelu(heap, xOffset, yOffset, n, threads)
napi_value QuickGeluFn(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int64_t v[4], length = 0;
  float* heap = rowKernelArgs(env, info, 5, argv, 4, v, "quickGelu", &length);
  if (!heap) return nullptr;
  if (!fits(v[0], v[2], length) || !fits(v[1], v[2], length)) return outOfRange(env, "quickGelu");
  mmft::quickGelu(heap + v[0], heap + v[1], v[2], threadArg(v[3]));
  return nullptr;
}

// quickGeluGrad(heap, dyOffset, xOffset, dxOffset, n, threads)
napi_value QuickGeluGradFn(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int64_t v[5], length = 0;
  float* heap = rowKernelArgs(env, info, 6, argv, 5, v, "quickGeluGrad", &length);
  if (!heap) return nullptr;
  if (!fits(v[0], v[3], length) || !fits(v[1], v[3], length) || !fits(v[2], v[3], length)) return outOfRange(env, "quickGeluGrad");
  mmft::quickGeluGrad(heap + v[0], heap + v[1], heap + v[2], v[3], threadArg(v[4]));
  return nullptr;
}

// The softmax shape and mask from 8 integers: batch, heads, rows, cols, maskBatch, maskHead,
// maskRow, hasMask; false when the tensor or the mask would reach past `length` floats.
bool softmaxShape(const int64_t* v, int64_t maskOffset, int64_t length, mmft::SoftmaxShape* s, int64_t* area) {
  *s = {v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
  const int64_t outer = areaWithin(areaWithin(v[0], v[1], length), v[2], length);
  *area = outer < 0 ? -1 : areaWithin(outer, v[3], length);
  if (*area < 0) return false;
  if (!v[7] || *area == 0) return true;
  // Largest mask index: every stride is ≥ 0, so it is the far corner (bounded to avoid overflow).
  const int64_t far[4] = {(v[0] - 1), (v[1] - 1), (v[2] - 1), v[3] - 1};
  const int64_t strides[3] = {v[4], v[5], v[6]};
  int64_t last = maskOffset + far[3];
  for (int i = 0; i < 3; i++) {
    if (strides[i] != 0 && far[i] > (length - last) / strides[i]) return false;
    last += far[i] * strides[i];
  }
  return last < length;
}

// softmax(heap, xOffset, maskOffset, yOffset, batch, heads, rows, cols, maskBatch, maskHead, maskRow, hasMask, minValue, threads)
napi_value SoftmaxFn(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  int64_t v[11], length = 0;
  float* heap = rowKernelArgs(env, info, 14, argv, 11, v, "softmax", &length);
  double minValue;
  int64_t threads;
  if (!heap || !numberArgs(env, argv, 12, 1, 0, "softmax", nullptr, &minValue) || !numberArgs(env, argv, 13, 1, 1, "softmax", &threads, nullptr))
    return nullptr;
  mmft::SoftmaxShape shape;
  int64_t area;
  if (!softmaxShape(v + 3, v[1], length, &shape, &area) || !fits(v[0], area, length) || !fits(v[2], area, length)) return outOfRange(env, "softmax");
  mmft::softmax(heap + v[0], v[10] ? heap + v[1] : nullptr, heap + v[2], shape, float(minValue), threadArg(threads));
  return nullptr;
}

// softmaxGrad(heap, dyOffset, yOffset, xOffset, maskOffset, dxOffset, batch, heads, rows, cols, maskBatch, maskHead, maskRow, hasMask,
//             minValue, threads)
napi_value SoftmaxGradFn(napi_env env, napi_callback_info info) {
  napi_value argv[16];
  int64_t v[13], length = 0;
  float* heap = rowKernelArgs(env, info, 16, argv, 13, v, "softmaxGrad", &length);
  double minValue;
  int64_t threads;
  if (!heap || !numberArgs(env, argv, 14, 1, 0, "softmaxGrad", nullptr, &minValue) ||
      !numberArgs(env, argv, 15, 1, 1, "softmaxGrad", &threads, nullptr))
    return nullptr;
  mmft::SoftmaxShape shape;
  int64_t area;
  const bool hasMask = v[12] != 0;
  if (!softmaxShape(v + 5, v[3], length, &shape, &area) || !fits(v[0], area, length) || !fits(v[1], area, length) ||
      (hasMask && !fits(v[2], area, length)) || !fits(v[4], area, length))
    return outOfRange(env, "softmaxGrad");
  mmft::softmaxGrad(heap + v[0], heap + v[1], hasMask ? heap + v[2] : nullptr, hasMask ? heap + v[3] : nullptr, heap + v[4], shape,
                    float(minValue), threadArg(threads));
  return nullptr;
}

// Attention sizes from 8 integers (batch, heads, queries, keys, headDim, maskBatch, maskHead,
// maskRow); false when Q, K/V or the mask at `maskOffset` would reach past `length`.
bool attentionShape(const int64_t* v, int64_t maskOffset, int64_t length, mmft::AttentionShape* s, int64_t* qSize, int64_t* kvSize) {
  *s = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], 1.0f};
  const int64_t d = areaWithin(v[1], v[4], length), bh = areaWithin(v[0], v[1], length);
  if (d < 0 || bh < 0) return false;
  *qSize = areaWithin(areaWithin(v[0], v[2], length), d, length);
  *kvSize = areaWithin(areaWithin(v[0], v[3], length), d, length);
  if (*qSize < 0 || *kvSize < 0) return false;
  if (bh == 0 || v[2] == 0 || v[3] == 0) return true;
  const int64_t far[3] = {v[0] - 1, v[1] - 1, v[2] - 1}, strides[3] = {v[5], v[6], v[7]};
  int64_t last = maskOffset + v[3] - 1;
  for (int i = 0; i < 3; i++) {
    if (strides[i] != 0 && far[i] > (length - last) / strides[i]) return false;
    last += far[i] * strides[i];
  }
  return last < length;
}

// attention(heap, qOffset, kOffset, vOffset, maskOffset, contextOffset, batch, heads, queries, keys, headDim,
//           maskBatch, maskHead, maskRow, scale, minValue, threads)
napi_value AttentionFn(napi_env env, napi_callback_info info) {
  napi_value argv[17];
  int64_t v[13], length = 0;
  float* heap = rowKernelArgs(env, info, 17, argv, 13, v, "attention", &length);
  double real[2];
  int64_t threads;
  if (!heap || !numberArgs(env, argv, 14, 2, 0, "attention", nullptr, real) || !numberArgs(env, argv, 16, 1, 1, "attention", &threads, nullptr))
    return nullptr;
  const double minValue = real[1];
  mmft::AttentionShape shape;
  int64_t qSize, kvSize;
  if (!attentionShape(v + 5, v[3], length, &shape, &qSize, &kvSize) || !fits(v[0], qSize, length) || !fits(v[1], kvSize, length) ||
      !fits(v[2], kvSize, length) || !fits(v[4], qSize, length))
    return outOfRange(env, "attention");
  shape.scale = float(real[0]);
  mmft::attention(heap + v[0], heap + v[1], heap + v[2], heap + v[3], heap + v[4], shape, float(minValue), threadArg(threads));
  return nullptr;
}

// attentionGrad(heap, dContextOffset, qOffset, kOffset, vOffset, maskOffset, dqOffset, dkOffset, dvOffset, batch, heads,
//               queries, keys, headDim, maskBatch, maskHead, maskRow, scale, minValue, threads)
napi_value AttentionGradFn(napi_env env, napi_callback_info info) {
  napi_value argv[20];
  int64_t v[16], length = 0;
  float* heap = rowKernelArgs(env, info, 20, argv, 16, v, "attentionGrad", &length);
  double real[2];
  int64_t threads;
  if (!heap || !numberArgs(env, argv, 17, 2, 0, "attentionGrad", nullptr, real) ||
      !numberArgs(env, argv, 19, 1, 1, "attentionGrad", &threads, nullptr))
    return nullptr;
  const double minValue = real[1];
  mmft::AttentionShape shape;
  int64_t qSize, kvSize;
  if (!attentionShape(v + 8, v[4], length, &shape, &qSize, &kvSize) || !fits(v[0], qSize, length) || !fits(v[1], qSize, length) ||
      !fits(v[2], kvSize, length) || !fits(v[3], kvSize, length) || !fits(v[5], qSize, length) || !fits(v[6], kvSize, length) ||
      !fits(v[7], kvSize, length))
    return outOfRange(env, "attentionGrad");
  shape.scale = float(real[0]);
  mmft::attentionGrad(heap + v[0], heap + v[1], heap + v[2], heap + v[3], heap + v[4], heap + v[5], heap + v[6], heap + v[7], shape,
                      float(minValue), threadArg(threads));
  return nullptr;
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value out, isa, threads;
  CHECK_NAPI(env, napi_create_object(env, &out));
  CHECK_NAPI(env, napi_create_string_utf8(env, mmft::kernelIsa(), NAPI_AUTO_LENGTH, &isa));
  CHECK_NAPI(env, napi_create_uint32(env, std::thread::hardware_concurrency(), &threads));
  CHECK_NAPI(env, napi_set_named_property(env, out, "isa", isa));
  CHECK_NAPI(env, napi_set_named_property(env, out, "hardwareThreads", threads));
  return out;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, Gemm, nullptr, &fn) != napi_ok) return nullptr;
  if (napi_set_named_property(env, exports, "gemm", fn) != napi_ok) return nullptr;
  const struct {
    const char* name;
    napi_callback cb;
  } fns[] = {{"info", Info}, {"layerNorm", LayerNormFn}, {"layerNormGrad", LayerNormGradFn}, {"adamwUpdate", AdamWFn},
               {"sumRows", SumRowsFn}, {"addRepeated", AddRepeatedFn}, {"sumOfSquares", SumOfSquaresFn},   {"quickGelu", QuickGeluFn},         {"quickGeluGrad", QuickGeluGradFn},
               {"softmax", SoftmaxFn},   {"softmaxGrad", SoftmaxGradFn},     {"attention", AttentionFn},
               {"attentionGrad", AttentionGradFn}};
  for (const auto& f : fns) {
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn) != napi_ok) return nullptr;
    if (napi_set_named_property(env, exports, f.name, fn) != napi_ok) return nullptr;
  }
  return exports;
}
