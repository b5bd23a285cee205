"""No two source files call each other, directly or round a longer loop.

Reads the compiled objects (`make layers` points COLLABD_OBJ_DIR at them):
file A calls file B when one of A's undefined function symbols is defined in
B.  Data references do not count -- the command table in bot-commands/table.c
lists every handler, and the dispatcher reaches them only through it.  A
cycle is a strongly connected component of more than one file; each one found
is printed with the symbols that make its edges.
"""

import collections
import os
import subprocess

import pytest

OBJ_DIR = os.environ.get("COLLABD_OBJ_DIR")


def objects(root):
    for top in ("daemon", "bot-commands"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in files:
                if f.endswith(".o"):
                    yield os.path.join(dirpath, f)


def call_graph(root):
    defined, wanted = {}, {}
    for path in objects(root):
        name = os.path.relpath(path, root)[:-2]
        out = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
        defined[name] = {p[2] for p in (l.split() for l in out.splitlines()) if len(p) == 3 and p[1] == "T"}
        wanted[name] = {p[1] for p in (l.split() for l in out.splitlines()) if len(p) == 2 and p[0] == "U"}
    owner = {sym: f for f, syms in defined.items() for sym in syms}
    edges, why = collections.defaultdict(set), {}
    for f, syms in wanted.items():
        for sym in syms:
            g = owner.get(sym)
            if g and g != f:
                edges[f].add(g)
                why.setdefault((f, g), sym)
    return list(defined), edges, why


def cycles(nodes, edges):
    """Tarjan's strongly connected components, those of two or more files."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
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
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in nodes:
        if v not in index:
            visit(v)
    return found


def test_the_checker_sees_a_cycle():
    """The checker itself: a made-up loop a -> b -> c -> a is found, a chain is not."""
    edges = collections.defaultdict(set, {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert cycles(["a", "b", "c", "d"], edges) == [["a", "b", "c"]]


@pytest.mark.skipif(not OBJ_DIR, reason="run through `make layers` (needs the compiled objects)")
def test_no_two_files_call_each_other():
    nodes, edges, why = call_graph(OBJ_DIR)
    assert len(nodes) > 50, f"too few objects under {OBJ_DIR}: build first"
    found = cycles(nodes, edges)
    lines = []
    for comp in found:
        lines.append("cycle: " + " ".join(comp))
        lines += [f"    {a} -> {b} ({why[(a, b)]})" for a in comp for b in comp if b in edges[a]]
    assert not found, "\n".join(lines)
