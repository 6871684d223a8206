"""Shared pieces of the plugin tests: plugin packs written to a temporary folder, hosts that are
always stopped (their processes ended) when a test ends, and small test limits."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from engine.packs.manifest import PackManifest, read_manifest
from plugins.host import PluginHost
from plugins.sandbox import Limits

# Small enough that a runaway plugin is stopped quickly, large enough for a loaded machine.
TEST_LIMITS = Limits(cpu_seconds_per_call=1.0, memory_mb=256, call_timeout=10.0, start_timeout=30.0)


@dataclass
class PluginPack:
    """A plugin pack on disk: ``pack.toml`` and ``plugin/main.py``."""

    id: str
    root: Path
    entry: Path

    def pair(self) -> tuple[Path, PackManifest]:
        return self.root, read_manifest(self.root)

    def write_code(self, code: str) -> None:
        self.entry.write_text(textwrap.dedent(code), encoding="utf-8")

    def line_of(self, marker: str) -> int:
        """The 1-based line of the plugin file holding ``marker`` (a comment in the test's code)."""
        for number, line in enumerate(self.entry.read_text(encoding="utf-8").splitlines(), 1):
            if marker in line:
                return number
        raise AssertionError(f"{marker!r} is not in {self.entry}")


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_plugin(base: Path, plugin_id: str, code: str, permissions: dict[str, Any] | None = None,
                 engine: str = ">=1.0, <2", kind: str = "plugin", entry: str = "plugin/main.py") -> PluginPack:
    root = base / plugin_id
    (root / "plugin").mkdir(parents=True, exist_ok=True)
    lines = [f'id = "{plugin_id}"', 'version = "1.0.0"', f'kind = "{kind}"', f'engine = "{engine}"']
    if permissions:
        lines.append("[permissions]")
        lines += [f"{name} = {_toml_value(value)}" for name, value in permissions.items()]
    if entry:
        lines += ["[plugin]", f'entry = "{entry}"']
    (root / "pack.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pack = PluginPack(plugin_id, root, root / entry if entry else root)
    if entry:
        pack.write_code(code)
    return pack


@pytest.fixture
def plugin_pack(tmp_path: Path) -> Callable[..., PluginPack]:
    """Factory: ``plugin_pack("boom", code, permissions={"world_read": "why"})``."""

    def make(plugin_id: str, code: str, **kwargs: Any) -> PluginPack:
        return write_plugin(tmp_path / "packs", plugin_id, code, **kwargs)

    return make


@pytest.fixture
def make_host(tmp_path: Path) -> Iterator[Callable[..., PluginHost]]:
    """Factory of started plugin hosts over plugin packs; every host is stopped at the end."""
    hosts: list[PluginHost] = []

    def make(*packs: PluginPack, trusted: tuple[str, ...] = (), limits: Limits = TEST_LIMITS,
             runtime: Any = None, start: bool = True, **kwargs: Any) -> PluginHost:
        host = PluginHost([p.pair() for p in packs], trusted=trusted, limits=limits,
                          data_root=tmp_path / "pack-data", **kwargs)
        hosts.append(host)
        if runtime is not None:
            host.install(runtime)
        if start:
            host.start()
        return host

    yield make
    for host in hosts:
        host.stop()
