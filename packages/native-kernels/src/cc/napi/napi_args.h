// Argument reading and bounds checks shared by the N-API bindings (one file per symbol beside
// this one). Kernels read and write a Float32Array in place (tfjs-backend-wasm's heap, so no
// copies), at offsets counted in floats; every index a call will touch is checked here first, so
// a wrong offset throws instead of corrupting memory.
#pragma once
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "../attention.h"
#include "../softmax.h"

namespace mmft {
namespace napi {

#define CHECK_NAPI(env, call)                                    \
  do {                                                           \
    if ((call) != napi_ok) {                                     \
      napi_throw_error((env), "E_NATIVE", "N-API call failed: " #call); \
      return nullptr;                                            \
    }                                                            \
  } while (0)

inline bool intArg(napi_env env, napi_value value, int64_t* out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || d != double(int64_t(d))) return false;
  *out = int64_t(d);
  return true;
}

// Largest index an operand touches: every stride is ≥ 0, so it is the far corner.
inline int64_t lastIndex(int64_t offset, int64_t batches, int64_t rows, int64_t cols, int64_t batchStride, int64_t rowStride, int64_t colStride) {
  return offset + (batches - 1) * batchStride + (rows - 1) * rowStride + (cols - 1) * colStride;
}

// The Float32Array in argv[0], or nullptr after throwing a TypeError naming `fn`.
inline float* float32Arg(napi_env env, napi_value value, const char* fn, int64_t* length) {
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
inline bool numberArgs(napi_env env, const napi_value* argv, int first, int count, int ints, const char* fn, int64_t* intsOut, double* dblOut) {
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

// Reads argv's argument `index` as an int32 of either sign (a label value such as ignore_index
// -100); throws a RangeError naming `fn` and the argument otherwise.
inline bool int32Arg(napi_env env, napi_value value, const char* fn, int index, int32_t* out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || !(d >= -2147483648.0 && d <= 2147483647.0) || d != std::floor(d)) {
    napi_throw_range_error(env, "E_NATIVE", (std::string(fn) + ": argument " + std::to_string(index) + " must be an int32").c_str());
    return false;
  }
  *out = int32_t(d);
  return true;
}

// Whether [offset, offset + count) lies inside an array of `length` floats (no overflow).
inline bool fits(int64_t offset, int64_t count, int64_t length) { return offset <= length && count <= length - offset; }

// rows × cols, or -1 when it exceeds `length` (so it cannot fit anywhere in the array).
inline int64_t areaWithin(int64_t rows, int64_t cols, int64_t length) {
  if (cols != 0 && rows > length / cols) return -1;
  return rows * cols;
}

inline bool getArgs(napi_env env, napi_callback_info info, size_t expected, napi_value* argv, const char* fn) {
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

inline napi_value outOfRange(napi_env env, const char* fn) {
  napi_throw_range_error(env, "E_NATIVE", (std::string(fn) + ": an operand reaches past the end of the array").c_str());
  return nullptr;
}

// Reads a kernel's Float32Array (argv[0]) and its first `ints` non-negative integers (argv[1..ints]).
inline float* rowKernelArgs(napi_env env, napi_callback_info info, size_t argc, napi_value* argv, int ints, int64_t* v, const char* fn, int64_t* length) {
  if (!getArgs(env, info, argc, argv, fn)) return nullptr;
  float* heap = float32Arg(env, argv[0], fn, length);
  if (!heap || !numberArgs(env, argv, 1, ints, ints, fn, v, nullptr)) return nullptr;
  return heap;
}

inline int threadArg(int64_t threads) { return int(std::min<int64_t>(threads, 1024)); }

// The softmax shape and mask from 8 integers: batch, heads, rows, cols, maskBatch, maskHead,
// maskRow, hasMask; false when the tensor or the mask would reach past `length` floats.
inline bool softmaxShape(const int64_t* v, int64_t maskOffset, int64_t length, mmft::SoftmaxShape* s, int64_t* area) {
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

// Attention sizes from 8 integers (batch, heads, queries, keys, headDim, maskBatch, maskHead,
// maskRow); false when Q, K/V or the mask at `maskOffset` would reach past `length`.
inline bool attentionShape(const int64_t* v, int64_t maskOffset, int64_t length, mmft::AttentionShape* s, int64_t* qSize, int64_t* kvSize) {
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

}  // namespace napi
}  // namespace mmft
