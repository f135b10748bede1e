#!/usr/bin/env bash
# Formats the C++ with .clang-format (Google base, 110 columns); `--check` only reports files that
# differ and fails, as CI runs it. clang-format comes pinned from PyPI (`pip install .[test]`).
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-.venv/bin/clang-format}
files=$(git ls-files '*.h' '*.cpp')
if [ "${1:-}" = "--check" ]; then
  "$CLANG_FORMAT" --dry-run --Werror $files
else
  "$CLANG_FORMAT" -i $files
fi
