#!/usr/bin/env python3
"""Checks that every link and every repository path the Markdown documents
name resolves: `[text](path)` and `[text](path#anchor)` links (anchors as
GitHub makes them from headings), and `code` spans that name a file of the
repository (`src/...`, `tests/...`, `docs/...`, `scripts/...`, `benches/...`,
`examples/...`, `fuzz/...`, `.ci/...`; a `::item` suffix is ignored; globs
and placeholders such as `<n>` are skipped). Prints each broken one and
exits 1 if there is any. Run from anywhere: `python3 scripts/check-links.py`.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = [
    os.path.join(dp, f)
    for dp, dn, fn in os.walk(ROOT)
    if not any(p in dp for p in ("/target", "/.git", "/fuzz/target"))
    for f in fn
    if f.endswith(".md")
]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\s]+)`")
PREFIXES = (
    "src/", "tests/", "docs/", "scripts/", "benches/", "examples/", "fuzz/", ".ci/", "shared/", ".specs/",
)


def anchors(path):
    out = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"#+\s+(.*)", line)
            if m:
                a = m.group(1).strip().lower()
                a = re.sub(r"[^\w\- ]", "", a).replace(" ", "-")
                out.add(a)
    return out


def main():
    broken = []
    for doc in sorted(DOCS):
        here = os.path.dirname(doc)
        text = open(doc, encoding="utf-8").read()
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(here, path)) if path else doc
            if not os.path.exists(full):
                broken.append((doc, target, "no such file"))
            elif anchor and full.endswith(".md") and anchor not in anchors(full):
                broken.append((doc, target, "no such heading"))
        for span in CODE.findall(text):
            if not span.startswith(PREFIXES) or any(c in span for c in "*<>{}|$"):
                continue
            path = span.split("::")[0].rstrip(".,;:")
            if not os.path.exists(os.path.join(ROOT, path)):
                broken.append((doc, span, "names a file the repository does not have"))
    for doc, target, why in broken:
        print(f"{os.path.relpath(doc, ROOT)}: {target}: {why}")
    print(f"{len(broken)} broken of the links and paths in {len(DOCS)} documents")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
