{
  "targets": [
    {
      "target_name": "mmft_native",
      "sources": [
        "src/cc/addon.cc", "src/cc/pool.cc", "src/cc/gemm.cc", "src/cc/fused.cc", "src/cc/softmax.cc", "src/cc/activations.cc", "src/cc/reductions.cc",
        "src/cc/attention.cc", "src/cc/cross_entropy.cc", "src/cc/packed16.cc", "src/cc/matmul4bit.cc",
        "src/cc/napi/Gemm.cc", "src/cc/napi/LayerNorm.cc", "src/cc/napi/LayerNormGrad.cc", "src/cc/napi/AdamWUpdate.cc", "src/cc/napi/SumRows.cc", "src/cc/napi/AddRepeated.cc", "src/cc/napi/SumOfSquares.cc",
        "src/cc/napi/QuickGelu.cc", "src/cc/napi/QuickGeluGrad.cc", "src/cc/napi/Softmax.cc", "src/cc/napi/SoftmaxGrad.cc", "src/cc/napi/Attention.cc", "src/cc/napi/AttentionGrad.cc",
        "src/cc/napi/CrossEntropy.cc", "src/cc/napi/CrossEntropyGrad.cc", "src/cc/napi/MatMulPacked16.cc", "src/cc/napi/MatMul4bit.cc"
      ],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions", "-ffp-contract=fast", "-fno-math-errno"],
      "cflags_cc!": ["-fno-rtti"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
