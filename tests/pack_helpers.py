"""Pack folders with a real pack.toml, written the way a modder would write them, for the resolver,
profile and pack-command tests."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT

REPO_CONTENT = REPO_ROOT / "content"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def write_pack(folder: Path, pack_id: str, version: str = "1.0.0", *, dirname: str | None = None,
               needs: dict[str, str] | None = None, optional: dict[str, str] | None = None,
               incompatible: dict[str, str] | None = None, settings: dict[str, dict[str, Any]] | None = None,
               files: dict[str, str] | None = None, **keys: Any) -> Path:
    """Write ``folder/<dirname or id>/pack.toml`` (and ``files``: path -> text); returns the pack folder."""
    root = folder / (dirname or pack_id)
    root.mkdir(parents=True, exist_ok=True)
    lines = ["schema = 1", f'id = "{pack_id}"', f'version = "{version}"']
    lines += [f"{key} = {_value(value)}" for key, value in keys.items()]
    for table, entries in (("dependencies", needs), ("optional", optional), ("incompatible", incompatible)):
        if entries:
            lines.append(f"[{table}]")
            lines += [f"{key} = {_value(value)}" for key, value in entries.items()]
    for name, declaration in (settings or {}).items():
        lines.append(f"[settings.{name}]")
        lines += [f"{key} = {_value(value)}" for key, value in declaration.items()]
    (root / "pack.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for rel, text in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def write_profile(path: Path, enabled: list[str], trusted: list[str] | None = None,
                  settings: dict[str, dict[str, Any]] | None = None) -> Path:
    """A profile.toml as a player would write it."""
    lines = ["schema = 1", f"enabled = {_value(enabled)}", f"trusted = {_value(trusted or [])}"]
    for pack_id, values in (settings or {}).items():
        lines.append(f"[settings.{pack_id}]")
        lines += [f"{key} = {_value(value)}" for key, value in values.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
