#!/usr/bin/env bash
# Installs the system packages chainrule builds with, only if something is missing, so the
# README's commands work on a fresh Debian/Ubuntu machine and cost nothing on a prepared one.
set -euo pipefail

missing=()
# libopenblas-dev: the C++ build's GEMM backend (without it the build falls back to Eigen's GEMM).
# ccache: the C++ build and pip's build of the extension share their objects (CMakeLists.txt).
for pkg in g++ make ccache libeigen3-dev libgtest-dev libopenblas-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
# A cmake from pip or elsewhere on PATH is as good as Debian's (we need >= 3.20 for ctest --test-dir).
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
# The Python package needs venv (Debian splits it out) and Python's headers to build its extension.
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || missing+=(python3-venv)
python3 - <<'PY' >/dev/null 2>&1 || missing+=(python3-dev)
import os, sys, sysconfig
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)
PY

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_deps: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install_deps: missing ${missing[*]}; run as root or install sudo" >&2
    exit 1
  fi
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
