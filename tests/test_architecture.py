"""The package's import graph (no cycles, no import from a layer above, imports at module top)
and the one pass signature of the pipeline.

The graph is read from the source with `ast`: every `import` and `from ... import` at any
nesting level, relative ones resolved; `from pkg import name` where `pkg.name` is a module
counts as importing that module, otherwise as importing `pkg` (its `__init__`).
"""
from __future__ import annotations

import ast
import collections
import inspect
import pathlib

from tilelang.backend.cuda.pipeline import PASSES

ROOT = pathlib.Path(__file__).resolve().parents[1] / "tilelang"

# Bottom to top (docs/design-notes.md, "Layers"). A module may import from its own layer
# group's package and from any lower layer; packages sharing a layer do not import each other.
LAYERS = (
    ("errors", "version", "utils"),
    ("ir",),
    ("arith",),
    ("layout",),
    ("target",),
    ("frontend",),
    ("language",),
    ("transform",),
    ("backend.cpu", "backend.cuda"),
    ("backend",),  # the dispatcher: tilelang/backend/__init__.py
    ("profiler",),
    ("jit",),
    ("autotuner", "testing", "tools"),
    ("tilelang",),  # the package __init__
)
LEVEL = {name: i for i, names in enumerate(LAYERS) for name in names}


def _modules() -> dict:
    """module name -> (path, is_package)."""
    mods = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts.pop()
        mods[".".join(parts)] = (path, is_pkg)
    return mods


MODULES = _modules()


def _owner(name: str) -> str:
    """The nearest module of ours that `name` (a dotted import target) lies in."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _targets(module: str, is_pkg: bool, node) -> list:
    if isinstance(node, ast.Import):
        return [_owner(a.name) for a in node.names if a.name == "tilelang" or a.name.startswith("tilelang.")]
    if node.level:
        base = module.split(".")[: len(module.split(".")) - (0 if is_pkg else 1) - (node.level - 1)]
        name = ".".join(base + ([node.module] if node.module else []))
    else:
        name = node.module or ""
    if not (name == "tilelang" or name.startswith("tilelang.")):
        return []
    return [_owner(f"{name}.{a.name}" if f"{name}.{a.name}" in MODULES else name) for a in node.names]


def _imports():
    """(graph {module: {imported modules}}, [(module, line, target) of imports inside functions])."""
    graph, nested = collections.defaultdict(set), set()
    for module, (path, is_pkg) in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        in_function = set()
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                in_function.update(id(n) for n in ast.walk(fn))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(module, is_pkg, node):
                    if target != module:
                        graph[module].add(target)
                        if id(node) in in_function:
                            nested.add((module, node.lineno, target))
    return graph, sorted(nested)


GRAPH, NESTED = _imports()


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "tilelang"
    if parts[1] == "backend" and len(parts) > 2:
        return "backend." + parts[2]
    return parts[1]


def _cycles(graph) -> list:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(MODULES):
        if v not in index:
            visit(v)
    return found


def _path(graph, component) -> list:
    """One concrete cycle through the component's first module, for the message."""
    members, start = set(component), component[0]
    parent, queue = {start: None}, [start]
    for v in queue:  # breadth first, so the cycle shown is a shortest one
        for w in sorted(graph.get(v, ())):
            if w in members and w not in parent:
                parent[w] = v
                queue.append(w)
    last = next(v for v in queue if start in graph.get(v, ()))
    path = [start]
    while last is not None:
        path.insert(1, last)
        last = parent[last]
    return path[1:] + [start] if path[1] == start else path


def test_the_graph_is_read():
    # guards the test itself: a resolver that lost edges would pass everything below
    assert "tilelang.ir.expr" in GRAPH["tilelang.ir.stmt"]
    assert "tilelang.ir.expr" in GRAPH["tilelang.arith.simplify"]
    assert "tilelang.backend.cuda.pipeline" in GRAPH["tilelang.backend.cuda"]


def test_every_module_has_a_layer():
    assert sorted({layer(m) for m in MODULES} - set(LEVEL)) == []


def test_no_import_cycles():
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(_path(GRAPH, c)) for c in cycles)


def test_no_import_from_a_layer_above():
    bad = []
    for module, targets in sorted(GRAPH.items()):
        for target in sorted(targets):
            a, b = layer(module), layer(target)
            if a != b and LEVEL[b] >= LEVEL[a]:
                bad.append(f"{module} ({a}) imports {target} ({b})")
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_our_modules_are_imported_at_module_top():
    # third-party imports (torch, matplotlib, cuda bindings) may stay lazy; ours may not
    assert not NESTED, "\n".join(f"{m}:{line} imports {t} inside a function" for m, line, t in NESTED)


def test_every_pass_has_the_one_signature():
    for p in PASSES:
        assert list(inspect.signature(p).parameters)[:2] == ["func", "ctx"], p.__name__
        assert len(inspect.signature(p).parameters) == 2, p.__name__
