{
  "targets": [
    {
      "target_name": "mmft_native",
      "sources": ["src/cc/addon.cc", "src/cc/gemm.cc", "src/cc/fused.cc", "src/cc/rows.cc", "src/cc/attention.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions", "-ffp-contract=fast", "-fno-math-errno"],
      "cflags_cc!": ["-fno-rtti"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
