"""The engine's layers, read from the import statements: each package imports only the packages
its layer allows, no module-level import loop exists, and pack scripts import only engine.api."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

ENGINE = REPO_ROOT / "engine"

# What each part of engine/ may import from Storm (besides itself). The core knows nothing else;
# features know the core, the packs and the features below them; only the host knows them all.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "packs": {"core"},
    "data": {"core", "packs"},
    "scripting": {"core", "packs"},
    "render": {"core", "packs"},
    "input": {"core", "packs"},
    "physics": {"core", "packs", "scripting", "render"},
    "terrain": {"core", "packs", "render", "physics"},
    "animation": {"core", "packs", "render", "physics"},
    "audio": {"core", "packs", "physics"},
    "camera": {"core", "packs", "input", "physics"},
    "ui": {"core", "input"},
    "api": {"core", "scripting", "render", "input", "physics", "terrain", "animation", "audio", "camera"},
    "host": {"core", "packs", "data", "scripting", "render", "input", "physics", "terrain", "animation", "audio",
             "camera"},
    "xr": {"core", "packs", "data", "scripting", "render", "input", "physics", "terrain", "animation", "audio",
           "camera", "host"},
    "__init__": set(),
}


def part_of(path: Path) -> str:
    rel = path.relative_to(ENGINE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imports(path: Path, top_level_only: bool = False) -> list[tuple[int, str]]:
    """(line, module) of every ``engine...`` import in a file; ``top_level_only`` skips imports
    inside functions and ``if TYPE_CHECKING`` blocks (those cannot make an import loop)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, name) for name in names if name == "engine" or name.startswith("engine.")]
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


ENGINE_FILES = sorted(ENGINE.rglob("*.py"))


def test_every_part_of_the_engine_has_a_layer() -> None:
    assert {part_of(p) for p in ENGINE_FILES} <= set(ALLOWED)


@pytest.mark.parametrize("path", ENGINE_FILES, ids=[str(p.relative_to(REPO_ROOT)) for p in ENGINE_FILES])
def test_each_module_imports_only_what_its_layer_allows(path: Path) -> None:
    part = part_of(path)
    wrong = []
    for line, name in imports(path):
        target = name.split(".")[1] if "." in name else "engine"
        if target != part and target not in ALLOWED[part]:
            wrong.append(f"line {line}: {name} ({part} may import {', '.join(sorted(ALLOWED[part])) or 'nothing'})")
    assert not wrong, f"{path.relative_to(REPO_ROOT)}: " + "; ".join(wrong)


def test_no_module_level_import_loop() -> None:
    graph: dict[str, set[str]] = {}
    known = {module_name(p): p for p in ENGINE_FILES}
    for name, path in known.items():
        targets = set()
        for _line, imported in imports(path, top_level_only=True):
            while imported and imported not in known:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                loop = stack[stack.index(target):] + [target]
                raise AssertionError("import loop: " + " -> ".join(loop))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


PACK_SCRIPTS = sorted((REPO_ROOT / "content").rglob("*.py"))


@pytest.mark.parametrize("path", PACK_SCRIPTS, ids=[str(p.relative_to(REPO_ROOT)) for p in PACK_SCRIPTS])
def test_pack_scripts_import_only_the_api(path: Path) -> None:
    wrong = [f"line {line}: {name}" for line, name in imports(path) if name != "engine.api"]
    assert not wrong, f"{path.relative_to(REPO_ROOT)} reaches into engine internals: {'; '.join(wrong)}"
