#!/usr/bin/env bash
# Prepares what scripts/gpu-check.sh needs on a GPU machine that has nvcc but perhaps no Node:
# the addon and self-test built here (build/Release), dist/ (tsc), and this machine's Node binary
# stripped and compressed to build/carry/node.xz (about 22 MB; the GPU side unpacks it with python3's lzma).
# Then carry packages/cuda-kernels/build and packages/cuda-kernels/dist.
# Optional: without Node on the GPU machine gpu-check.sh still builds and runs the self-test.
set -eu -o pipefail
PKG="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$PKG"
npx tsc -b
MMFT_CUDA_FORCE=1 node scripts/build-cuda.js  # the default targets (sm_80, sm_90 + PTX), whatever was built here last
mkdir -p build/carry
if [ ! -f build/carry/node.xz ] || [ "$(command -v node)" -nt build/carry/node.xz ]; then
  # Stripped of its debug symbols first: what travels is limited (64 MiB with the working tree).
  strip -o build/carry/node "$(command -v node)" 2>/dev/null || cp "$(command -v node)" build/carry/node
  xz -6 -T2 -c build/carry/node > build/carry/node.xz
  rm build/carry/node
fi
du -sh build dist
