// The addon's exported functions, each the name of the kernel it runs (addon.cc exports them
// under these names). The same list, in the same order, is NATIVE_SYMBOLS in
// packages/native-kernels/src/kernels.ts; symbols.test.ts checks they agree.
#pragma once
#include <node_api.h>

#define MMFT_NATIVE_SYMBOLS(X) \
  X(MmftGemm) \
  X(MmftLayerNorm) \
  X(MmftLayerNormGrad) \
  X(MmftAdamWUpdate) \
  X(MmftSumRows) \
  X(MmftAddRepeated) \
  X(MmftSumOfSquares) \
  X(MmftQuickGelu) \
  X(MmftQuickGeluGrad) \
  X(MmftSoftmax) \
  X(MmftSoftmaxGrad) \
  X(MmftAttention) \
  X(MmftAttentionGrad) \
  X(MmftCrossEntropy) \
  X(MmftCrossEntropyGrad) \
  X(MmftMatMulPacked16) \
  X(MmftMatMul4bit)

namespace mmft {
namespace napi {

#define MMFT_DECLARE_SYMBOL(name) napi_value name(napi_env env, napi_callback_info info);
MMFT_NATIVE_SYMBOLS(MMFT_DECLARE_SYMBOL)
#undef MMFT_DECLARE_SYMBOL

}  // namespace napi
}  // namespace mmft
