#!/usr/bin/env bash
# The Python test suite once more, against an AddressSanitizer + UndefinedBehaviorSanitizer build of
# the extension (build/asan, -DCHAINRULE_SANITIZE=ON): a memory error or undefined behaviour
# reached from Python fails the run. Extra arguments go to pytest (default: the whole suite, below).
# Needs .venv from scripts/python_env.sh test (torch, pytest, pybind11).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$PWD/.venv/bin/python"

# build/asan, the C++ suite's sanitized build (scripts/test.sh), with the extension added: its library
# objects are reused. native, as the installed package and build/release: the same arithmetic as the
# code pip builds, so the tests comparing last bits with torch hold here too.
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHAINRULE_SANITIZE=ON -DCHAINRULE_ARCH=native -DCHAINRULE_BLAS=Eigen \
  -DCHAINRULE_BUILD_PYTHON=ON -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" -DPython_EXECUTABLE="$PY"
cmake --build build/asan -j2 --target _core
# The package from the source tree with the sanitized _core, ahead of the installed one on sys.path.
pkg=build/asan/pkg
rm -rf "$pkg" && mkdir -p "$pkg" && cp -r python/chainrule "$pkg/"
rm -f "$pkg"/chainrule/_core*.so && cp build/asan/_core*.so "$pkg/chainrule/"

# python itself is not instrumented: the ASan runtime must be loaded first, before libc's malloc
# is used, so it is preloaded (_core.so then finds it, and links libubsan itself). libstdc++ is
# preloaded with it: ASan resolves the real __cxa_throw when it starts, and python (a C program)
# would load libstdc++ only later, so the first C++ exception (ours or torch's) would abort with
# "CHECK failed: ... real___cxa_throw".
cxx="${CXX:-g++}"
export LD_PRELOAD="$("$cxx" -print-file-name=libasan.so):$("$cxx" -print-file-name=libstdc++.so)"
# detect_leaks=0: CPython, NumPy and torch keep objects alive until exit by design (interned
#   strings, module state); the C++ suite checks chainrule's own leaks under ASan.
# allocator_may_return_null=1: the tests that ask for absurd sizes (cr.zeros(10**12), hostile
#   checkpoint headers) expect a MemoryError from std::bad_alloc; by default ASan aborts on an
#   allocation larger than it supports instead of failing it. max_allocation_size_mb=8192 fails any
#   single request above 8 GB, as the RLIMIT_AS the misuse tests set on their children (ASan can't
#   run under an address-space limit: its shadow memory is a multi-terabyte reservation).
# (detect_odr_violation stays on: only _core is instrumented, and torch loads beside it cleanly.)
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=8192"
# halt_on_error=1: the first undefined behaviour fails the run (with -fno-sanitize-recover).
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export PYTHONPATH="$PWD/$pkg"
if [ $# -eq 0 ]; then
  # The whole suite (about 8 minutes under the sanitizers here; not -n 2: its workers collected
  # different test ids under ASan),
  # except the RSS-based tests (leaks, a load's peak memory): ASan keeps freed memory in quarantine,
  # so RSS grows by design; leaks are checked by the C++ suite under ASan (detect_leaks=1) and by
  # these tests in the normal run.
  set -- tests/python -q -p no:cacheprovider --deselect tests/python/test_nn.py::test_many_models_do_not_leak \
    --deselect tests/python/test_checkpoint.py::test_peak_memory_of_a_load_is_about_the_file_size
fi
"$PY" -c "import chainrule, sys; assert '$pkg' in chainrule.__file__, chainrule.__file__"
exec "$PY" -m pytest "$@"
