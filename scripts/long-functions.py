#!/usr/bin/env python3
"""Lists the functions of `src/` longer than a limit (default 80 lines,
the house style's "about 80"), longest first, with their parameter count:
`python3 scripts/long-functions.py [--limit N] [PATH_PREFIX ...]`.

A function is counted from its `fn` line to its closing brace, comments
and blank lines included; `#[cfg(test)]` code is left out. Exits 0: it is
a list to work from, not a gate.
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
cycles = __import__("check-import-cycles")

FN = re.compile(r"(?m)^[ \t]*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+([A-Za-z_][A-Za-z0-9_]*)")


def params(sig):
    inner = sig[sig.index("(") + 1:]
    depth, count, cur = 0, 0, ""
    for ch in inner:
        if ch in "(<[":
            depth += 1
        elif ch in ")>]":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            count += 1 if cur.strip() else 0
            cur = ""
        else:
            cur += ch
    return count + (1 if cur.strip() else 0)


def functions(path):
    with open(path, encoding="utf-8") as fh:
        code = cycles.strip_cfg_test(cycles.strip_code(fh.read()))
    for m in FN.finditer(code):
        brace = code.find("{", m.end())
        semi = code.find(";", m.end())
        if brace < 0 or (0 <= semi < brace):
            continue  # a declaration without a body
        end = cycles.item_end(code, m.end())
        first = code.count("\n", 0, m.start()) + 1
        last = code.count("\n", 0, end) + 1
        yield m.group(1), first, last - first + 1, params(code[m.end():brace])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=80)
    ap.add_argument("--root", default=ROOT, help="the checkout (default: this script's)")
    ap.add_argument("prefixes", nargs="*", default=["src/"])
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    found = []
    for dp, _dn, fn in os.walk(os.path.join(root, "src")):
        for f in fn:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dp, f)
            rel = os.path.relpath(path, root)
            if not any(rel.startswith(p) for p in args.prefixes):
                continue
            for name, line, length, n in functions(path):
                if length > args.limit:
                    found.append((length, rel, line, name, n))
    for length, rel, line, name, n in sorted(found, reverse=True):
        print(f"{length:4} lines {n:2} params  {rel}:{line} {name}")
    print(f"{len(found)} function(s) over {args.limit} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
