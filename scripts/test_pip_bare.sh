#!/usr/bin/env bash
# `pip install .` from a bare Python: a fresh venv, pip's isolated build (its requirements from
# PyPI) and Eigen from the cmeel-eigen wheel, never the system's (CHAINRULE_EIGEN=pip), built from a
# copy of the tree that must come out unchanged (no build/ written into it); then a smoke test.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/src"
git -C "$repo" ls-files -z | (cd "$repo" && xargs -0 cp --parents -t "$work/src")
(cd "$work/src" && find . -type f | sort) > "$work/before"

python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --upgrade pip
CMAKE_ARGS="-DCHAINRULE_EIGEN=pip" "$work/venv/bin/python" -m pip install -q "$work/src"

(cd "$work/src" && find . -type f | sort) > "$work/after"
if ! diff -u "$work/before" "$work/after"; then
  echo "test_pip_bare: pip install wrote into the source tree (above)" >&2
  exit 1
fi
cd "$work"  # away from the source tree: the installed package is the one imported
"$work/venv/bin/python" "$repo/scripts/smoke_test.py"
