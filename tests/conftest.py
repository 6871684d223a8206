"""Shared fixtures: a runtime over the base pack, throwaway content packs, and file helpers."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from engine.host.runtime import Runtime, create_runtime
from engine.packs.content import default_content
from tests.plugin_helpers import make_host, plugin_pack  # noqa: F401 - the plugin tests' fixtures

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_WORLD = REPO_ROOT / "worlds" / "demo.world.json"


@dataclass
class TmpPack:
    """A content pack in a temporary folder that a test fills with files."""

    name: str
    root: Path

    def write(self, rel_path: str, content: Any) -> Path:
        """Write text as is, or anything else as JSON; returns the file's path."""
        path = self.root / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else json.dumps(content, indent=2) + "\n"
        path.write_text(text, encoding="utf-8")
        return path

    def asset_id(self, rel_path: str) -> str:
        return f"{self.name}:{rel_path}"


def write_json(path: Path, data: Any) -> Path:
    """Write data as JSON text (any layout; the loader must not care)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def own_storm_folders(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and every process it starts) gets its own Storm folder and user config, so the
    packs, profile and key bindings of whoever runs the suite never change what it sees."""
    home = tmp_path_factory.mktemp("storm-home")
    monkeypatch.setenv("STORM_HOME", str(home / "storm"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("STORM_PACKS_DIR", raising=False)


@pytest.fixture
def runtime() -> Runtime:
    """A runtime over the engine's base pack alone."""
    return create_runtime()


@pytest.fixture
def make_pack(tmp_path: Path) -> Callable[..., TmpPack]:
    """Factory: ``make_pack("mymod", code=False)`` makes an empty pack folder with its manifest."""

    def make(name: str = "testpack", code: bool = False) -> TmpPack:
        root = tmp_path / "packs" / name
        root.mkdir(parents=True)
        (root / "pack.json").write_text(json.dumps({"name": name, "version": "1.0.0", "code": code}),
                                        encoding="utf-8")
        return TmpPack(name, root)

    return make


@pytest.fixture
def tmp_pack(make_pack: Callable[..., TmpPack]) -> TmpPack:
    """An empty pack named ``testpack`` that may not carry code."""
    return make_pack("testpack")


@pytest.fixture
def pack_runtime(tmp_pack: TmpPack) -> Runtime:
    """A runtime over the base pack and ``tmp_pack`` (files may be added to the pack afterwards)."""
    content = default_content()
    content.add_pack(tmp_pack.root)
    return create_runtime(content)
