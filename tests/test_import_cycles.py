"""No import cycles between intentkg's packages, nor between the modules of one package (issue 11,
item 10). Every import counts, at module level or inside a function: a cycle hidden in a function
is still two packages that each need the other. On the old code eval, annotate, experiment, report
(and through them filter, critic, knowledge, serve) formed one cycle, and embed/base.py and
embed/sentence_transformers.py imported each other; workspace/stage_run.py and workspace/workspace.py
imported each other (the module test fails there)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
# known module cycles: none (workspace.stage_run <-> workspace.workspace was the last; stage_run now
# declares the StageHost protocol it needs instead of importing Workspace back)
KNOWN_MODULE_CYCLES: list[set[str]] = []


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "intentkg").rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the intentkg modules it imports (``from a.b import c`` counts a.b.c when c is a module)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("intentkg"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    found.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("intentkg")}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_cycle_between_packages():
    modules = _imports(_modules())
    packages: dict[str, set[str]] = {}
    for name, targets in modules.items():
        packages.setdefault(_package(name), set()).update(_package(t) for t in targets if _package(t) != _package(name))
    assert _cycles(packages) == []


def test_no_cycle_between_the_modules_of_a_package():
    assert sorted(map(sorted, _cycles(_imports(_modules())))) == sorted(map(sorted, KNOWN_MODULE_CYCLES))


def test_the_detector_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
