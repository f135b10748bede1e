#!/usr/bin/env bash
# Makes .venv (once) and installs chainrule into it with the extras named by $1: `examples`
# (tqdm, matplotlib, scikit-learn) or `test` (those plus pytest, hypothesis, safetensors and
# torch==2.13.0 — pinned: an unpinned torch would pull a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# The build backend, pybind11 and the OpenBLAS wheel (the GEMM backend) go in first so that the package builds without isolation:
# repeated installs then reuse build/ instead of recompiling the whole core.
.venv/bin/python -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" "numpy>=1.22" scipy-openblas32
target="."
[ -n "${1:-}" ] && target=".[$1]"
.venv/bin/python -m pip install -q --no-build-isolation "$target"
