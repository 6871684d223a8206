"""The editor's per-user settings: preferences, recent files, the panel layout, and where recovery
files go.

Settings live in ``<user config>/editor/`` (``$XDG_CONFIG_HOME/storm/editor``, the folder Storm's
key bindings use): ``prefs.json`` and ``layout.ini`` (Dear PyGui's docking layout). Recovery files
are data, not settings: ``<Storm folder>/editor/recovery`` (``$STORM_HOME``, see
``engine/packs/locations.py``). A broken or hostile ``prefs.json`` is read as far as it is valid:
each bad value falls back to its default, with a warning naming the key.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from engine.input.user_bindings import user_config_dir
from engine.packs.json_text import atomic_write
from engine.packs.locations import storm_home

log = logging.getLogger("storm.editor")

MAX_RECENT = 10
SHADINGS = ("edit", "full")
PREFS_BYTES = 256 * 1024


def editor_config_dir() -> Path:
    return user_config_dir() / "editor"


def recovery_dir() -> Path:
    return storm_home() / "editor" / "recovery"


@dataclass
class Preferences:
    """What the editor remembers between runs."""

    recent: list[str] = field(default_factory=list)
    autosave_seconds: float = 30.0
    shading: str = "edit"
    grid: bool = True
    snap_step: float = 0.5      # metres (translate gizmo)
    snap_angle: float = 15.0    # degrees (rotate gizmo)
    snap_scale: float = 0.1     # factor step (scale gizmo)
    snap_on: bool = False       # snapping without Ctrl (Ctrl turns it the other way)
    low_res_moving: bool = False  # draw the view at half resolution while the camera moves
    layout_key: str = ""  # which panel ids the saved layout.ini was written for
    visit_uri: str = ""   # File > Visit a grid: the login URI, first and last name last used (never the password)
    visit_first: str = ""
    visit_last: str = ""

    def remember_file(self, path: Path | str) -> None:
        text = str(Path(path).resolve())
        self.recent = [text] + [p for p in self.recent if p != text][: MAX_RECENT - 1]


_CHECKS: dict[str, Any] = {
    "recent": lambda v: isinstance(v, list) and all(isinstance(p, str) and len(p) < 4096 for p in v),
    "autosave_seconds": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0.1 <= v <= 3600,
    "shading": lambda v: v in SHADINGS,
    "grid": lambda v: isinstance(v, bool),
    "snap_step": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0.001 <= v <= 1000,
    "snap_angle": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0.01 <= v <= 180,
    "snap_scale": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0.001 <= v <= 100,
    "snap_on": lambda v: isinstance(v, bool),
    "low_res_moving": lambda v: isinstance(v, bool),
    "layout_key": lambda v: isinstance(v, str) and len(v) < 1000,
    "visit_uri": lambda v: isinstance(v, str) and len(v) < 2000,
    "visit_first": lambda v: isinstance(v, str) and len(v) < 100,
    "visit_last": lambda v: isinstance(v, str) and len(v) < 100,
}


def prefs_path() -> Path:
    return editor_config_dir() / "prefs.json"


def layout_path() -> Path:
    return editor_config_dir() / "layout.ini"


def load_prefs(path: Path | None = None) -> Preferences:
    """The saved preferences (defaults for anything missing or invalid)."""
    path = path or prefs_path()
    prefs = Preferences()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return prefs
    except OSError as exc:
        log.warning("%s: could not be read (%s); using default editor preferences", path, exc)
        return prefs
    try:
        if len(raw) > PREFS_BYTES:
            raise ValueError(f"larger than {PREFS_BYTES} bytes")
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        log.warning("%s: not valid preferences (%s); using defaults", path, exc)
        return prefs
    for item in fields(Preferences):
        if item.name not in data:
            continue
        value = data[item.name]
        if _CHECKS[item.name](value):
            setattr(prefs, item.name, list(value)[:MAX_RECENT] if item.name == "recent" else value)
        else:
            log.warning("%s: %s has an invalid value %.80r; using the default", path, item.name, value)
    return prefs


def save_prefs(prefs: Preferences, path: Path | None = None) -> None:
    atomic_write(path or prefs_path(), json.dumps(asdict(prefs), indent=2) + "\n")
