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
cd "$work"
"$work/venv/bin/python" - <<'PY'
import chainrule as cr
x = cr.tensor(2.0, requires_grad=True)
(x ** 3).backward()
assert x.grad.item() == 12.0, x.grad
cfg = cr.show_config(mode="dicts")
assert cfg["eigen"].startswith("3.4"), cfg
print("test_pip_bare: d/dx x^3 at 2 =", x.grad.item(), "| Eigen", cfg["eigen"], "| gemm", cfg["gemm"])
PY
