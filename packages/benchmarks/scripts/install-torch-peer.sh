#!/bin/sh
# Installs the PyTorch peer of `mmft bench --peer torch`: Debian's python3-torch (CPU) with
# OpenBLAS (libopenblas0-pthread), as docs/facts.md §1 describes them. Run by hand on a benchmark machine;
# NEVER run by CI or tests (CI has no torch and everything must pass without it).
# Usage: sudo sh packages/benchmarks/scripts/install-torch-peer.sh   (Debian/Ubuntu, apt)
set -eu
PY=/usr/bin/python3
if [ -x "$PY" ] && "$PY" -c 'import torch' 2>/dev/null; then
  echo "torch already importable by $PY: $("$PY" -c 'import torch; print(torch.__version__)')"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: install PyTorch (CPU) for $PY another way, or pass --python to mmft bench" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-torch libopenblas0-pthread
# Debian picks the BLAS through alternatives; make sure the pthread OpenBLAS is the one in use.
"$PY" -c 'import torch; print("torch", torch.__version__); print(torch.__config__.show())'
