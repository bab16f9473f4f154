#!/usr/bin/env bash
# Prepares what scripts/gpu-check.sh needs on a GPU machine that has nvcc but perhaps no Node:
# the addon and self-test built here (build/Release), dist/ (tsc), and this machine's Node binary
# compressed to build/carry/node.xz (about 30 MB; the GPU side unpacks it with python3's lzma).
# Then carry packages/cuda-kernels/build and packages/cuda-kernels/dist.
set -eu -o pipefail
PKG="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$PKG"
npx tsc -b
MMFT_CUDA_FORCE=1 node scripts/build-cuda.js  # the default targets (sm_80, sm_90 + PTX), whatever was built here last
mkdir -p build/carry
if [ ! -f build/carry/node.xz ] || [ "$(command -v node)" -nt build/carry/node.xz ]; then
  xz -6 -T2 -c "$(command -v node)" > build/carry/node.xz
fi
du -sh build dist
