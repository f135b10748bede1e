#!/usr/bin/env bash
# The demo: the C++ Rosenbrock example (gradient descent driven by autograd), then the Python
# package installed into .venv and its quick tour (derivatives, a Hessian, gradient descent).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install_deps.sh

cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release
cmake --build build/release -j2 --target rosenbrock
./build/release/rosenbrock

bash scripts/python_env.sh
.venv/bin/python examples/quickstart.py
