"""The AI feature depends on the engine and nothing else of Storm's (DESIGN.md: netcode, ai and
plugins depend on engine; nothing imports editor)."""
from __future__ import annotations

import ast

import pytest

from tests.conftest import REPO_ROOT

AI_FILES = sorted((REPO_ROOT / "ai").rglob("*.py"))
STORM_PACKAGES = {"engine", "ai", "editor", "netcode", "plugins", "tools", "tests", "main"}


@pytest.mark.parametrize("path", AI_FILES, ids=[str(p.relative_to(REPO_ROOT)) for p in AI_FILES])
def test_ai_imports_only_the_engine(path) -> None:  # type: ignore[no-untyped-def]
    wrong = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        for name in names:
            top = name.split(".")[0]
            if top in STORM_PACKAGES and top not in ("engine", "ai"):
                wrong.append(f"line {node.lineno}: {name}")
    assert not wrong, f"{path.relative_to(REPO_ROOT)}: {'; '.join(wrong)}"
