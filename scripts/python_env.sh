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
# The build requirements (pyproject.toml) go in first so that the package builds without isolation,
# in build/{wheel_tag}: repeated installs then reuse it instead of recompiling the whole core.
.venv/bin/python -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" "numpy>=1.22" scipy-openblas32 \
  "cmeel-eigen>=3.4,<3.5"
target="."
[ -n "${1:-}" ] && target=".[$1]"
.venv/bin/python -m pip install -q --no-build-isolation -C "build-dir=build/{wheel_tag}" "$target"
