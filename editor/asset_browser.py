"""The asset browser: every model, prefab, sound, image and world of the enabled packs, as asset
ids (``base:models/crate.gltf``), with a kind choice and a text filter. Place puts a model (an
entity drawing it) or a prefab (an instance) at the point the camera looks at, through one command.

The listing only names files (a folder pack's tree, a zip pack's entry names); anything placed
is read later through the content registry, with its checks and budgets.
"""
from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import dearpygui.dearpygui as dpg

if TYPE_CHECKING:
    from editor.session import Session
    from engine.packs.content import ContentRegistry

log = logging.getLogger("storm.editor")
KINDS = {"model": (".gltf", ".glb", ".bam", ".egg", ".obj"), "prefab": (".prefab.json",),
         "sound": (".wav", ".ogg", ".mp3", ".flac"), "image": (".png", ".jpg", ".jpeg"), "world": (".world.json",)}
PLACEABLE = ("model", "prefab")
MAX_FILES_PER_PACK = 5000
SHOWN = 400


def kind_of(name: str) -> str:
    lower = name.lower()
    for kind in ("prefab", "world", "model", "sound", "image"):
        if lower.endswith(KINDS[kind]):
            return kind
    return ""


def list_assets(content: "ContentRegistry") -> list[tuple[str, str]]:
    """(asset id, kind) of every file of a known kind in the enabled packs, sorted by id."""
    found: dict[str, str] = {}
    for pack in content.packs():
        names: list[str] = []
        root = Path(pack.root)
        try:
            if root.is_dir():
                for folder, dirs, files in os.walk(root, followlinks=False):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    rel = Path(folder).relative_to(root)
                    names += [(rel / f).as_posix() for f in files]
                    if len(names) > MAX_FILES_PER_PACK:
                        break
            elif zipfile.is_zipfile(root):
                with zipfile.ZipFile(root) as archive:
                    names = archive.namelist()[:MAX_FILES_PER_PACK]
        except (OSError, zipfile.BadZipFile) as exc:
            log.warning("pack %s: could not list its files (%s)", pack.name, exc)
            continue
        for name in names:
            kind = kind_of(name)
            if kind:
                found[f"{pack.name}:{name.removeprefix('./')}"] = kind
    return sorted(found.items())


class AssetBrowser:
    """The widgets of the asset browser."""

    def __init__(self, session: "Session") -> None:
        self.session = session
        self.assets: list[tuple[str, str]] = []
        self.chosen = ""
        self._pool: list[int] = []
        self._rows = 0

    def build(self, window: int | str) -> None:
        with dpg.group(horizontal=True, parent=window):
            dpg.add_combo(["all", *KINDS], default_value="all", width=80, tag="storm_assets_kind",
                          callback=lambda: self.refresh())
            dpg.add_button(label="Place", callback=lambda: self.place(self.chosen))
            dpg.add_button(label="Rescan", callback=lambda: self.rescan())
        dpg.add_input_text(parent=window, hint="search", width=-1, tag="storm_assets_filter",
                           callback=lambda: self.refresh())
        self._rows = dpg.add_child_window(parent=window, border=False)
        self.rescan()

    def rescan(self) -> None:
        self.assets = list_assets(self.session.runtime.content)
        self.refresh()

    def refresh(self) -> None:
        if not self._rows:
            return
        kind = dpg.get_value("storm_assets_kind") or "all"
        needle = (dpg.get_value("storm_assets_filter") or "").lower()
        rows = [(a, k) for a, k in self.assets if (kind == "all" or k == kind) and needle in a.lower()][:SHOWN]
        while len(self._pool) < len(rows):
            self._pool.append(dpg.add_selectable(label="", parent=self._rows, callback=self._clicked))
        for item, (asset, k) in zip(self._pool, rows):
            dpg.configure_item(item, label=f"{asset}   [{k}]", user_data=asset, show=True)
            dpg.set_value(item, asset == self.chosen)
        for item in self._pool[len(rows):]:
            dpg.configure_item(item, show=False)

    def _clicked(self, sender: int, _value: object, asset: str) -> None:
        if asset == self.chosen and dpg.is_mouse_button_double_clicked(dpg.mvMouseButton_Left):
            self.place(asset)
        self.chosen = asset
        for item in self._pool:
            dpg.set_value(item, dpg.get_item_user_data(item) == asset)

    def place(self, asset: str) -> int:
        """Place a model or prefab (one command); returns the new entity, 0 when it cannot be placed."""
        from editor.session import EditRefused

        kind = dict(self.assets).get(asset, kind_of(asset))
        if kind not in PLACEABLE:
            self.session.say(f"{asset or 'nothing'}: only models and prefabs can be placed" if asset else
                             "choose a model or prefab first")
            return 0
        try:
            return self.session.place_asset(asset)
        except (EditRefused, Exception) as exc:  # noqa: BLE001 - CommandError or EditRefused: said
            self.session.say(f"could not place {asset}: {getattr(exc, 'reason', exc)}", logging.WARNING)
            return 0
