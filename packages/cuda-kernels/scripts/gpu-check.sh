#!/usr/bin/env bash
# One prepared check of @mmft/cuda-kernels on a GPU machine (well under 4 minutes on an H100):
#   1. builds the standalone self-test with nvcc for the GPU it finds (or uses the carried build),
#   2. runs it: every kernel against a host reference, then the bandwidth benchmark (device-to-device
#      copy, dequantise and GEMV in GB/s, GEMM in GFLOP/s against the same tiling on a float32 W),
#   3. where Node is there (on PATH, or carried as build/carry/node.xz), the N-API addon's check
#      (scripts/napi-check.js) and, with this repository's node_modules, the jest GPU test.
# Results go to $OUT (default ./gpu-check-out): selftest.json, selftest.txt, napi.json, jest.txt,
# nvidia-smi.txt, gpu-check.log. Exit status 0 when every check that ran passed.
#   here:      bash packages/cuda-kernels/scripts/prepare-gpu-carry.sh
#   GPU side:  bash packages/cuda-kernels/scripts/gpu-check.sh
#              (carry packages/cuda-kernels/build and packages/cuda-kernels/dist)
set -u -o pipefail
PKG="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$PKG/../.." && pwd)"
OUT="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$OUT" "$PKG/build/Release"
exec > >(tee "$OUT/gpu-check.log") 2>&1
say() { echo "gpu-check: $*"; }
status=0
SECONDS=0

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || say "nvidia-smi failed (see nvidia-smi.txt)"
CAP="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')"
ARCH="${MMFT_CUDA_ARCH:-sm_${CAP:-90}}"
NVCC="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
SRC="$PKG/src/cu"
SELFTEST="$PKG/build/Release/mmft_cuda_selftest"

# 1. Build for this GPU's architecture; without nvcc the carried build (sm_80, sm_90 + PTX) runs.
if [ -x "$NVCC" ]; then
  say "building the self-test: $NVCC for $ARCH ($("$NVCC" --version | tail -1))"
  if ! "$NVCC" -O3 -std=c++17 -cudart static -gencode "arch=compute_${ARCH#sm_},code=$ARCH" \
    "$SRC/dequantize4bit.cu" "$SRC/matvec4bit.cu" "$SRC/matmul4bit.cu" "$SRC/host.cu" "$SRC/selftest.cu" -o "$SELFTEST.$ARCH"; then
    say "nvcc failed"
    exit 1
  fi
  SELFTEST="$SELFTEST.$ARCH"
elif [ -x "$SELFTEST" ]; then
  say "nvcc not found: running the carried self-test build"
else
  say "neither nvcc nor a carried build/Release/mmft_cuda_selftest: nothing to run"
  exit 2
fi

# 2. Kernels against the host reference, then the benchmark (median of 20 runs each).
say "self-test and benchmark ($SECONDS s so far)"
timeout 180 "$SELFTEST" "$OUT/selftest.json" "$OUT/selftest.txt" 20
rc=$?
cat "$OUT/selftest.txt" 2>/dev/null
[ $rc -eq 0 ] || { say "self-test exit status $rc"; status=1; }

# 3. The N-API addon, when Node can run here.
NODE="${MMFT_NODE:-$(command -v node || true)}"
if [ -z "$NODE" ] && [ -f "$PKG/build/carry/node.xz" ]; then
  if xz -dc "$PKG/build/carry/node.xz" > /tmp/mmft-node 2>/dev/null ||
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
      "$PKG/build/carry/node.xz" /tmp/mmft-node; then
    chmod +x /tmp/mmft-node && NODE=/tmp/mmft-node
  else
    say "could not unpack build/carry/node.xz (neither xz nor python3's lzma)"
  fi
fi
if [ -z "$NODE" ]; then
  say "N-API check skipped: no node on PATH and no carried build/carry/node.xz (scripts/prepare-gpu-carry.sh)"
elif [ ! -f "$PKG/dist/reference.js" ]; then
  say "N-API check skipped: dist/reference.js missing (carry packages/cuda-kernels/dist, built by tsc -b)"
else
  say "node $("$NODE" --version) ($SECONDS s so far)"
  # Rebuild the addon for this GPU where Node's headers are here; else the carried addon runs (PTX covers newer GPUs).
  if [ -x "$NVCC" ]; then MMFT_CUDA_FORCE=1 MMFT_CUDA_ARCH="$ARCH" NVCC="$NVCC" "$NODE" "$PKG/scripts/build-cuda.js"; fi
  if [ -f "$PKG/build/Release/mmft_cuda.node" ]; then
    timeout 90 "$NODE" "$PKG/scripts/napi-check.js" "$PKG/build/Release/mmft_cuda.node" > "$OUT/napi.json"
    rc=$?
    head -c 4000 "$OUT/napi.json"
    [ $rc -eq 0 ] || { say "napi-check exit status $rc"; status=1; }
  else
    say "N-API check skipped: no build/Release/mmft_cuda.node (not built here, none carried)"
  fi
  if [ -f "$REPO/node_modules/jest/bin/jest.js" ]; then
    (cd "$PKG" && timeout 120 "$NODE" "$REPO/node_modules/jest/bin/jest.js" src/gpu.test.ts --verbose) > "$OUT/jest.txt" 2>&1
    rc=$?
    tail -30 "$OUT/jest.txt"
    [ $rc -eq 0 ] || { say "jest exit status $rc"; status=1; }
  else
    say "jest GPU test skipped: the repository's node_modules are not on this machine"
  fi
fi
say "done in $SECONDS s, exit status $status; results in $OUT"
exit $status
