#!/usr/bin/env bash
# The demo: the CS231n spiral case study, in C++ and then in Python (installed into .venv), where it
# also saves the decision boundaries of both models to spiral_boundary.png.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install_deps.sh

cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release
cmake --build build/release -j2 --target train_spiral
./build/release/train_spiral

bash scripts/python_env.sh examples
.venv/bin/python examples/train_spiral.py
