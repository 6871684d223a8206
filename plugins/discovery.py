"""Finding plugins among the enabled packs: those of kind ``plugin`` or ``both`` with a
``[plugin] entry``, whose ``engine`` range allows this plugin API version.

The packs come in as ``(pack root, manifest)`` pairs in load order (the resolver decides which
packs are enabled); the plugins keep that order. Nothing here runs plugin code.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from engine.packs.manifest import PackManifest
from plugins.api import PLUGIN_API_VERSION
from plugins.reports import PluginFailure

MAX_PLUGIN_FILE = 4 << 20
MAX_FINGERPRINT_FILES = 2000


@dataclass(frozen=True)
class PluginInfo:
    """A plugin found in a pack: who it is, where its code lives, whether the user trusts it."""

    id: str
    version: str
    name: str
    root: Path  # the pack folder, resolved
    entry: Path  # the plugin's Python file, resolved, inside root
    manifest: PackManifest
    trusted: bool
    chosen: tuple[tuple[str, object], ...] = ()  # the profile's values of the pack's settings

    @property
    def permissions(self) -> tuple[str, ...]:
        return tuple(sorted(self.manifest.permissions))

    @property
    def settings(self) -> dict[str, object]:
        """The pack's declared settings: their defaults, with the profile's values over them."""
        values: dict[str, object] = {name: setting.default for name, setting in self.manifest.settings.items()}
        values.update(self.chosen)
        return values

    def fingerprint(self) -> str:
        """A hash of the plugin's code (every .py below the entry's folder) and its manifest: a
        change means the plugin must restart."""
        digest = hashlib.sha256()
        files = [Path(self.manifest.source)] if self.manifest.source else []
        for folder, dirs, names in os.walk(self.entry.parent):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            files += [Path(folder) / name for name in sorted(names) if name.endswith(".py")]
            if len(files) > MAX_FINGERPRINT_FILES:
                break
        for path in files:
            digest.update(str(path).encode("utf-8", "surrogateescape"))
            try:
                digest.update(path.read_bytes()[:MAX_PLUGIN_FILE])
            except OSError:
                digest.update(b"\0missing")
        return digest.hexdigest()


def discover(packs: Iterable[tuple[Path, PackManifest]], trusted: Iterable[str] = (),
             settings: dict[str, dict[str, object]] | None = None) -> tuple[list[PluginInfo], list[PluginFailure]]:
    """The plugins of the given packs, and a failure for each plugin pack that cannot be used;
    ``settings``: per pack id, the profile's (already checked) setting values."""
    trusted_ids = set(trusted)
    found: list[PluginInfo] = []
    failures: list[PluginFailure] = []
    seen: set[str] = set()
    for root, manifest in packs:
        if manifest.kind not in ("plugin", "both"):
            continue
        source = manifest.source or str(root)
        if not manifest.plugin_entry:
            if manifest.kind == "plugin":
                failures.append(PluginFailure(manifest.id, "refused", "a pack of kind plugin needs [plugin] entry = "
                                              "\"the pack-relative path of its Python file\"", source))
            continue
        if manifest.id in seen:
            failures.append(PluginFailure(manifest.id, "refused", "another enabled pack has the same id", source))
            continue
        if not manifest.engine.allows(PLUGIN_API_VERSION):
            failures.append(PluginFailure(manifest.id, "refused", f"it needs plugin API {manifest.engine} (pack.toml "
                                          f"'engine'), this engine has {PLUGIN_API_VERSION}", source))
            continue
        problem, entry = _entry(Path(root), manifest.plugin_entry)
        if problem:
            failures.append(PluginFailure(manifest.id, "refused", problem, source))
            continue
        seen.add(manifest.id)
        chosen = tuple(sorted((settings or {}).get(manifest.id, {}).items()))
        found.append(PluginInfo(manifest.id, str(manifest.version), manifest.name or manifest.id,
                                Path(root).resolve(), entry, manifest, manifest.id in trusted_ids, chosen))
    return found, failures


def _entry(root: Path, relative: str) -> tuple[str, Path]:
    """("", the entry's resolved path), or (what is wrong with it, root)."""
    base = root.resolve()
    path = (base / relative).resolve()
    if base not in path.parents:
        return f"[plugin] entry {relative!r} leads outside the pack (a symlink?)", root
    if path.suffix != ".py":
        return f"[plugin] entry {relative!r} must be a .py file", root
    if not path.is_file():
        return f"[plugin] entry {relative!r}: no such file in the pack", root
    if path.stat().st_size > MAX_PLUGIN_FILE:
        return f"[plugin] entry {relative!r} is over {MAX_PLUGIN_FILE >> 20} MiB", root
    return "", path
