#!/usr/bin/env bash
# Fuzzes the checkpoint loader (fuzz/load_fuzzer.cpp) with libFuzzer under ASan + UBSan: installs
# clang if it is missing, builds build/fuzz, and runs FUZZ_RUNS inputs (default 200000) grown from
# the seed corpus fuzz/corpus/. Any crash, leak, sanitizer report or slow input fails the run.
# Locally, FUZZ_SECONDS=3600 bash scripts/fuzz_loader.sh fuzzes for an hour instead; a failing input
# is saved as build/fuzz/crash-* (add it to fuzz/corpus/ with a regression test once fixed).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pkg in clang-14 libclang-rt-14-dev; do  # libFuzzer and the sanitizer runtimes come with clang
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  echo "fuzz_loader: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 -DCHAINRULE_FUZZ=ON \
  -DCHAINRULE_BUILD_TESTS=OFF -DCHAINRULE_BUILD_EXAMPLES=OFF -DCHAINRULE_BUILD_PYTHON=OFF >/dev/null
cmake --build build/fuzz -j2 --target load_fuzzer

# New inputs go to a scratch directory: the checked-in corpus only changes by hand.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [ -n "${FUZZ_SECONDS:-}" ]; then
  limit=(-max_total_time="$FUZZ_SECONDS")
else
  limit=(-runs="${FUZZ_RUNS:-200000}")
fi
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  build/fuzz/load_fuzzer "${limit[@]}" -dict=fuzz/load_fuzzer.dict -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix=build/fuzz/ "$scratch" fuzz/corpus
