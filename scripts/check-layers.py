#!/usr/bin/env python3
"""Checks the include graph of src/ against the layers src/CMakeLists.txt declares.

Fails (exit 1, naming the file and the include) when
  - a file includes a subsystem outside its subsystem's DEPENDS closure (an include that
    points up or sideways: the build would refuse it too, this says it before compiling);
  - the include graph between files has a cycle (two headers including each other through
    any path), or between subsystems.
Public headers (include/ckpt/) are the API: they may not include anything from src/.
Usage: scripts/check-layers.py [ROOT]   (ROOT: the repository, default: this script's parent)
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
src = os.path.join(root, "src")
problems = []

# Subsystems and what each may use, as src/CMakeLists.txt declares them (bottom-up).
declared = {}
decl_re = re.compile(r"^ckpt_subsystem\((\w+)(?:\s+DEPENDS\s+([\w\s]+))?\)", re.M)
with open(os.path.join(src, "CMakeLists.txt")) as f:
    for name, deps in decl_re.findall(f.read()):
        closure = {name}
        for d in (deps or "").split():
            if d not in declared:
                problems.append(f"src/CMakeLists.txt: {name} depends on {d}, declared later or not at all")
                continue
            closure |= declared[d]
        declared[name] = closure
folders = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
for d in folders:
    if d not in declared:
        problems.append(f"src/{d}/: not declared in src/CMakeLists.txt (it would not be built)")

include_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
graph = {}  # "store/tree.h" -> set of included project files
for d in folders:
    for fn in sorted(os.listdir(os.path.join(src, d))):
        if not fn.endswith((".h", ".cc")):
            continue
        rel = f"{d}/{fn}"
        with open(os.path.join(src, rel), errors="replace") as f:
            text = f.read()
        edges = set()
        for inc in include_re.findall(text):
            sub = inc.split("/")[0]
            if not os.path.exists(os.path.join(src, inc)):
                continue  # a system or generated header
            edges.add(inc)
            if d in declared and sub not in declared[d]:
                problems.append(f"src/{rel}: includes \"{inc}\", but {d} may only use "
                                f"{', '.join(sorted(declared[d] - {d})) or 'nothing else'} "
                                f"(src/CMakeLists.txt)")
        graph[rel] = edges

inc_dir = os.path.join(root, "include", "ckpt")
for fn in sorted(os.listdir(inc_dir)):
    with open(os.path.join(inc_dir, fn), errors="replace") as f:
        for inc in include_re.findall(f.read()):
            if os.path.exists(os.path.join(src, inc)):
                problems.append(f"include/ckpt/{fn}: public header includes src/{inc}")

# Cycles between files (iterative DFS, white/grey/black).
state = {}
for start in sorted(graph):
    if state.get(start):
        continue
    stack = [(start, iter(sorted(graph[start])))]
    path = [start]
    state[start] = 1
    while stack:
        node, it = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            state[node] = 2
            stack.pop()
            path.pop()
            continue
        if nxt not in graph:
            continue
        if state.get(nxt) == 1:
            cyc = path[path.index(nxt):] + [nxt]
            problems.append("include cycle: " + " -> ".join(f"src/{p}" for p in cyc))
        elif not state.get(nxt):
            state[nxt] = 1
            path.append(nxt)
            stack.append((nxt, iter(sorted(graph[nxt]))))

# Cycles between subsystems.
sub_edges = {}
for rel, edges in graph.items():
    for inc in edges:
        a, b = rel.split("/")[0], inc.split("/")[0]
        if a != b:
            sub_edges.setdefault(a, set()).add(b)
def reaches(a, b, seen=None):
    seen = seen or set()
    for n in sub_edges.get(a, ()):
        if n == b or (n not in seen and not seen.add(n) and reaches(n, b, seen)):
            return True
    return False
for a in sorted(sub_edges):
    for b in sorted(sub_edges[a]):
        if a < b and reaches(b, a):
            problems.append(f"subsystem cycle: {a} -> {b} -> ... -> {a}")

if problems:
    for p in problems:
        print("check-layers: " + p, file=sys.stderr)
    sys.exit(1)
print(f"check-layers: {len(graph)} files in {len(folders)} subsystems, "
      f"{sum(len(e) for e in graph.values())} includes: every include points down, no cycle")
