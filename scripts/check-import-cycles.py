#!/usr/bin/env python3
"""Finds import circles between the source files of each crate in `src/`
(the library rooted at `src/lib.rs`, each binary under `src/bin/`).

A file depends on another when it names an item of it: `use crate::a::b::X`,
`use super::X`, `use self::c::X`, `use child::X` for a `mod child;` it
declares, or the same paths written inline (`crate::a::f()`,
`super::super::x::Y`, `child::f()`). A path is followed through the `use`
declarations of the module it lands in, so `crate::Error` counts as a use of
`src/error.rs` (where `lib.rs` re-exports it from), not of `src/lib.rs`.
Declaring a module (`mod x;`) is not a dependency, nor is a module's
`pub use` of an item of its own submodules (a facade: whoever names the
item through it depends on the submodule's file). Code under `#[cfg(test)]`
is left out: a test may reach anywhere.

Every strongly connected group of files is reported with each simple cycle
in it (up to --max-cycles per group) and, for each edge, the line that makes
it. Exits 1 if any cycle remains once the edges of the allow-list are
removed (default `scripts/import-cycles.allow`; one `from -> to` edge per
line, `#` comments; an entry that no longer exists is reported so the list
only shrinks). Run from anywhere: `python3 scripts/check-import-cycles.py`.
"""
import argparse
import fnmatch
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_code(text):
    """Blanks comments, string and char literals (keeps newlines, so line
    numbers stay true)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif re.match(r'b?r#*"', text[i:i + 40]) and (i == 0 or not re.match(r"\w", text[i - 1])):
            m = re.match(r'b?r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append(" " * m.end())
                i += m.end()
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def item_end(code, i):
    """The end of the item starting at `i`: its `;` or its matching `}`."""
    depth = 0
    n = len(code)
    while i < n:
        c = code[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        elif c == ";" and depth == 0:
            return i + 1
        i += 1
    return n


def strip_cfg_test(code):
    out = code
    for m in reversed(list(re.finditer(r"#\[cfg\((test|all\(test[^\]]*)\)\]", code))):
        j = m.end()
        # further attributes on the same item
        while True:
            k = re.match(r"\s*#\[[^\]]*\]", out[j:])
            if not k:
                break
            j += k.end()
        end = item_end(out, j)
        out = out[: m.start()] + re.sub(r"[^\n]", " ", out[m.start():end]) + out[end:]
    return out


def expand_use_tree(tree):
    """`a::{b, c::{d as e, self}}` -> [(['a','b'], 'b'), (['a','c','d'], 'e'), (['a','c'], 'c')]."""
    tree = re.sub(r"\s+", "", tree)
    results = []

    def walk(prefix, s):
        # split s at top-level commas
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        if cur:
            parts.append(cur)
        for p in parts:
            if not p:
                continue
            if "{" in p:
                head, rest = p.split("{", 1)
                rest = rest[: rest.rfind("}")]
                head_segs = [x for x in head.split("::") if x]
                walk(prefix + head_segs, rest)
            else:
                alias = None
                if "as" in p and re.search(r"[A-Za-z0-9_]as[A-Za-z_]", p) and "::" not in p.split("as")[-1]:
                    m = re.match(r"(.*[A-Za-z0-9_*])as(" + IDENT + r")$", p)
                    if m and m.group(1).split("::")[-1] != "":
                        p, alias = m.group(1), m.group(2)
                segs = [x for x in p.split("::") if x]
                if segs and segs[-1] == "self":
                    segs = segs[:-1]
                    full = prefix + segs
                    name = alias or (full[-1] if full else None)
                else:
                    full = prefix + segs
                    name = alias or (full[-1] if full else None)
                results.append((full, name))

    walk([], tree)
    return results


class Module:
    def __init__(self, crate, path, file):
        self.crate = crate
        self.path = path  # tuple of segments below the crate root
        self.file = file
        self.children = set()
        self.code = ""
        self.uses = []  # (segments, alias, line, is_pub)
        self.bindings = {}  # alias -> segments (absolute-or-relative, resolved later)
        self.globs = []
        self.defined = set()


def load_crate(name, root_file, root_dir):
    modules = {}

    def load(path, file, dirpath):
        m = Module(name, path, file)
        modules[path] = m
        with open(file, encoding="utf-8") as fh:
            code = strip_cfg_test(strip_code(fh.read()))
        m.code = code
        for mm in re.finditer(r"(?m)^[ \t]*(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;", code):
            child = mm.group(1)
            m.children.add(child)
            for cand in (os.path.join(dirpath, child + ".rs"), os.path.join(dirpath, child, "mod.rs")):
                if os.path.exists(cand):
                    sub_dir = os.path.join(dirpath, child)
                    load(path + (child,), cand, sub_dir)
                    break
        for mm in re.finditer(
            r"\b(?:fn|struct|enum|trait|type|const|static|union|macro_rules!)\s+(" + IDENT + r")", code
        ):
            m.defined.add(mm.group(1))
        for mm in re.finditer(r"(?m)^[ \t]*(pub(?:\([^)]*\))?\s+)?use\s+", code):
            end = code.find(";", mm.end())
            tree = code[mm.end():end]
            line = code.count("\n", 0, mm.start()) + 1
            is_pub = mm.group(1) is not None
            for segs, alias in expand_use_tree(tree):
                if segs and segs[-1] == "*":
                    m.globs.append(segs[:-1])
                    m.uses.append((segs[:-1], None, line, is_pub))
                    continue
                m.uses.append((segs, alias, line, is_pub))
                if alias:
                    m.bindings[alias] = segs
        return m

    load((), root_file, root_dir)
    return modules


def absolute(mod, segs, modules):
    """Makes a path absolute (segments below the crate root), or None when it
    leaves the crate (std, other crates)."""
    if not segs:
        return None
    base = list(mod.path)
    first = segs[0]
    if first == "crate":
        return segs[1:]
    if first in ("super", "self"):
        i = 0
        while i < len(segs) and segs[i] in ("super", "self"):
            if segs[i] == "super":
                base = base[:-1]
            i += 1
        return base + segs[i:]
    if first in mod.children:
        return base + segs
    if first in mod.bindings and mod.bindings[first] != segs:
        target = absolute(mod, mod.bindings[first], modules)
        if target is None:
            return None
        return target + segs[1:]
    return None


def resolve(segs, modules, seen=None):
    """The file that defines what an absolute path names."""
    seen = seen or set()
    key = tuple(segs)
    if key in seen:
        return None
    seen.add(key)
    i = 0
    while i < len(segs) and tuple(segs[: i + 1]) in modules:
        i += 1
    mod = modules[tuple(segs[:i])]
    rest = segs[i:]
    if not rest:
        return mod.file
    name = rest[0]
    if name in mod.bindings:
        target = absolute(mod, mod.bindings[name], modules)
        if target is not None:
            found = resolve(target + rest[1:], modules, seen)
            if found:
                return found
        return mod.file if name in mod.defined else None
    if name in mod.defined:
        return mod.file
    for g in mod.globs:
        target = absolute(mod, g, modules)
        if target is not None:
            found = resolve(target + rest, modules, seen)
            if found:
                return found
    return mod.file


INLINE = re.compile(r"(?<![A-Za-z0-9_:])((?:" + IDENT + r")(?:::" + IDENT + r")+)")


def edges_of(modules):
    edges = {}  # (from, to) -> first line

    def add(mod, segs, line, facade=False):
        target = absolute(mod, segs, modules)
        if target is None:
            return
        to = resolve(target, modules)
        if not to or to == mod.file:
            return
        if facade and to in descendants(mod):
            return  # a module re-exporting its own submodule's item: naming, not use
        edges.setdefault((mod.file, to), line)

    def descendants(mod):
        n = len(mod.path)
        return {m.file for p, m in modules.items() if len(p) > n and p[:n] == mod.path}

    for mod in modules.values():
        for segs, _alias, line, is_pub in mod.uses:
            add(mod, segs, line, facade=is_pub)
        code_wo_use = re.sub(
            r"(?ms)^[ \t]*(pub(?:\([^)]*\))?\s+)?use\s+[^;]*;", lambda m: re.sub(r"[^\n]", " ", m.group(0)), mod.code
        )
        for m in INLINE.finditer(code_wo_use):
            segs = m.group(1).split("::")
            if segs[0] in ("crate", "super", "self") or segs[0] in mod.children or segs[0] in mod.bindings:
                add(mod, segs, code_wo_use.count("\n", 0, m.start()) + 1)
    return edges


def sccs(nodes, adj):
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]


def simple_cycles(comp, adj, limit):
    """Simple cycles inside one group, each starting at its smallest file."""
    comp_set = set(comp)
    cycles = []
    for start in comp:
        allowed = {v for v in comp_set if v >= start}
        path, onpath = [start], {start}

        def dfs(v):
            for w in sorted(adj.get(v, ())):
                if len(cycles) >= limit:
                    return
                if w == start:
                    cycles.append(list(path))
                elif w in allowed and w not in onpath:
                    path.append(w)
                    onpath.add(w)
                    dfs(w)
                    path.pop()
                    onpath.discard(w)

        dfs(start)
        if len(cycles) >= limit:
            break
    return cycles


def rel(p):
    return os.path.relpath(p, ROOT)


def main():
    global ROOT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--allow", help="the allow-list (default: scripts/import-cycles.allow)")
    ap.add_argument("--max-cycles", type=int, default=20)
    ap.add_argument("--quiet", action="store_true", help="print only the summary")
    ap.add_argument("--root", help="the checkout to check (default: this script's)")
    args = ap.parse_args()
    if args.root:
        ROOT = os.path.abspath(args.root)

    args.allow = args.allow or os.path.join(ROOT, "scripts", "import-cycles.allow")
    allow = set()
    if os.path.exists(args.allow):
        with open(args.allow, encoding="utf-8") as fh:
            for raw in fh:
                line = raw.split("#", 1)[0].strip()
                if line:
                    a, b = [x.strip() for x in line.split("->")]
                    allow.add((a, b))

    crates = [("lib", os.path.join(ROOT, "src", "lib.rs"), os.path.join(ROOT, "src"))]
    bin_dir = os.path.join(ROOT, "src", "bin")
    if os.path.isdir(bin_dir):
        for entry in sorted(os.listdir(bin_dir)):
            p = os.path.join(bin_dir, entry)
            if os.path.isdir(p) and os.path.exists(os.path.join(p, "main.rs")):
                crates.append((entry, os.path.join(p, "main.rs"), p))
            elif entry.endswith(".rs"):
                crates.append((entry[:-3], p, bin_dir))

    total_cycles, total_groups, used_allow = 0, 0, set()
    for name, root_file, root_dir in crates:
        modules = load_crate(name, root_file, root_dir)
        edges = edges_of(modules)
        adj, line_of = {}, {}
        for (a, b), line in edges.items():
            key = (rel(a), rel(b))
            if key in allow:
                used_allow.add(key)
                continue
            adj.setdefault(a, set()).add(b)
            line_of[(a, b)] = line
        nodes = {m.file for m in modules.values()}
        for comp in sccs(nodes, adj):
            total_groups += 1
            cycles = simple_cycles(comp, adj, args.max_cycles)
            total_cycles += len(cycles)
            if args.quiet:
                continue
            print(f"{name}: {len(comp)} files import each other in a circle:")
            for f in comp:
                print(f"  {rel(f)}")
            for cyc in cycles:
                ring = cyc + [cyc[0]]
                steps = [f"{rel(a)}:{line_of[(a, b)]}" for a, b in zip(ring, ring[1:])]
                print("  cycle: " + " -> ".join(steps) + f" -> {rel(cyc[0])}")
            if len(cycles) >= args.max_cycles:
                print(f"  (more cycles not listed; --max-cycles {args.max_cycles})")
            print()

    stale = allow - used_allow
    for a, b in sorted(stale):
        print(f"allow-list entry no longer needed (remove it): {a} -> {b}")
    allowed_note = f", {len(used_allow)} allowed edge(s) ignored" if used_allow else ""
    if total_groups:
        print(f"{total_groups} circle group(s), {total_cycles} cycle(s) listed{allowed_note}")
        return 1
    print(f"no import circles{allowed_note}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
