#!/usr/bin/env python3
"""The longest functions in core/ops_*.cpp: an op is forward + backward in one short function.

    python scripts/op_lengths.py               # the 20 longest functions, longest first
    python scripts/op_lengths.py --top 0       # every function
    python scripts/op_lengths.py --limit 25    # also exit 1 if any function is longer than 25 lines

A function runs from its signature line (the first line of a definition that starts at column 0;
a `template <...>` line above it is not counted) to the brace that closes its body, so lambdas
(the backward rules) count toward the op that holds them. Braces in comments, strings and
character literals are ignored.
"""
from __future__ import annotations

import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Lines at column 0 that open something other than a function.
NOT_A_FUNCTION = re.compile(r"^(namespace|struct|class|enum|union|using|typedef|template|extern|static_assert"
                            r"|#|//|/\*|\}|\{|\)|public|private|protected)\b|^[#/}{)]")
NAME = re.compile(r"((?:[\w:]*operator\s*[^\s\w(]+|[A-Za-z_~][\w:~]*))\s*\($")


def code_only(line: str, in_block: bool) -> tuple[str, bool]:
    """The line with comments, strings and char literals blanked out; and whether a /* */ is open."""
    out, i, n = [], 0, len(line)
    while i < n:
        if in_block:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out), True
            i, in_block = end + 2, False
        elif line.startswith("//", i):
            break
        elif line.startswith("/*", i):
            in_block, i = True, i + 2
        elif line[i] in "\"'":
            quote, i = line[i], i + 1
            while i < n and line[i] != quote:
                i += 2 if line[i] == "\\" else 1
            i += 1
            out.append(" ")
        else:
            out.append(line[i])
            i += 1
    return "".join(out), in_block


def function_name(signature: str) -> str:
    head = signature.split("{", 1)[0]
    depth, cut = 0, len(head)
    for j, ch in enumerate(head):  # the name precedes the first top-level "("
        if ch == "(" and depth == 0 and not head[:j].rstrip().endswith("operator"):
            cut = j
            break
        depth += ch in "<[" and 1 or (ch in ">]" and -1 or 0)
    m = NAME.search(head[:cut + 1].rstrip())
    return m.group(1) if m else head.strip()[:40]


def functions(path: pathlib.Path):
    """Yields (name, first line, number of lines) for every function defined at column 0."""
    lines = path.read_text().splitlines()
    codes, in_block = [], False
    for line in lines:
        code, in_block = code_only(line, in_block)
        codes.append(code)
    i = 0
    while i < len(lines):
        line, code = lines[i], codes[i]
        if not line or line[0].isspace() or NOT_A_FUNCTION.match(line) or "(" not in code:
            i += 1
            continue
        # The signature may span lines: it ends at the body's "{" (a ";" first means a declaration).
        # Continuation lines are indented: a macro call at column 0 is not a signature.
        j, sig = i, codes[i]
        while "{" not in sig and ";" not in sig and j + 1 < len(lines) and lines[j + 1][:1].isspace():
            j += 1
            sig += codes[j]
        if "{" not in sig or ";" in sig.split("{", 1)[0] or "=" in sig.split("(", 1)[0]:
            i = j + 1
            continue
        depth, k = 0, i
        while k < len(lines):
            depth += codes[k].count("{") - codes[k].count("}")
            if depth <= 0 and "{" in "".join(codes[i:k + 1]):
                break
            k += 1
        yield function_name(sig), i + 1, k - i + 1
        i = k + 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--top", type=int, default=20, help="how many to list (0: all)")
    p.add_argument("--limit", type=int, default=None, help="exit 1 if a function is longer than this")
    p.add_argument("files", nargs="*", help="default: core/ops_*.cpp")
    args = p.parse_args(argv)
    files = [pathlib.Path(f) for f in args.files] or sorted((ROOT / "core").glob("ops_*.cpp"))
    found = []
    for f in files:
        rel = f.resolve().relative_to(ROOT) if f.resolve().is_relative_to(ROOT) else f
        found += [(n, name, f"{rel}:{line}") for name, line, n in functions(f)]
    found.sort(key=lambda r: (-r[0], r[2]))
    for n, name, where in found[:args.top or None]:
        print(f"{n:4d}  {name:32s}  {where}")
    if args.limit is not None:
        over = [r for r in found if r[0] > args.limit]
        print(f"{len(over)} of {len(found)} functions longer than {args.limit} lines", file=sys.stderr)
        return 1 if over else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
