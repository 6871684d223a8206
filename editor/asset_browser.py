"""The asset browser: every model, prefab, sound, image and world of the enabled packs
(``asset_list``), as a folder tree (pack, then path) beside a list filtered by folder, kind and
search text. Models show thumbnails drawn offscreen and cached on disk (``thumbnails``), a few
per frame with the count still to draw shown; images show small previews.

Clicking an asset selects it; a sound plays, an image and a model's thumbnail show in the
preview (``asset_preview``). A model or prefab goes into the world three ways, each one undoable
command that lands it on the surface under the mouse (``prefab_tools``): drag its row into the
3D view and let go; or Place, then click in the view; or double-click it (it goes where the
camera looks). Dear PyGui 2.3's own drag and drop is broken, so the drag is followed by hand:
the press on a row, the release over the view's rectangle. "Make prefab" writes the selection as
a prefab into a folder pack chosen here and puts an instance in its place; "Edit prefab" opens the
chosen prefab on its own.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable

import dearpygui.dearpygui as dpg
import numpy as np

from editor.asset_list import KINDS, PLACEABLE, Asset, folders_of, list_assets, matching, visible_folders
from editor.asset_preview import PREVIEW_SIZE, SoundPreview, image_pixels
from editor.thumbnails import ThumbnailCache

if TYPE_CHECKING:
    from editor.pickers import ClickTaker
    from editor.session import Session
    from editor.view_panel import ViewPanel

log = logging.getLogger("storm.editor")
SHOWN = 300
ICON = 36
LIST_MIN_HEIGHT = 128  # the list keeps at least this height; a short panel scrolls instead
BELOW_LIST = 104       # the preview and the make-prefab header under the list
MAX_TEXTURES = 2 * SHOWN  # icons kept in memory (96x96 float RGBA: 147 kB each); the oldest go first
THUMBNAIL_BUDGET_S = 0.05  # drawing thumbnails takes at most this much of a frame (one at least)
KIND_COLOURS = {"prefab": (0.3, 0.45, 0.85), "sound": (0.3, 0.7, 0.4), "image": (0.75, 0.6, 0.25),
                "world": (0.55, 0.4, 0.7), "model": (0.4, 0.4, 0.45)}


class AssetBrowser:
    """The widgets of the asset browser."""

    def __init__(self, session: "Session", audio: str = "") -> None:
        """``audio``: the device sounds play on (``openal``, ``null``; '' for the runtime's)."""
        self.session = session
        self.assets: list[Asset] = []
        self.folders: list[str] = []
        self.open_folders: set[str] = set()
        self.folder = ""  # '' for every pack
        self.chosen = ""
        self.preview_text = ""
        self.thumbnails = ThumbnailCache(session.runtime.assets, session.renderer)
        self.sounds = SoundPreview(session.runtime.content, audio or session.runtime.audio)
        self.textures: OrderedDict[str, int] = OrderedDict()  # asset id -> its icon texture, oldest first
        self._pending: list[str] = []
        self._rows: list[tuple[int, int, int]] = []  # (group, image, selectable) pool
        self._folder_pool: list[int] = []
        self._shown: list[Asset] = []
        self._drag: str = ""
        self._list = 0
        self._tree = 0
        self.view: "ViewPanel | None" = None
        self.controller: "ClickTaker | None" = None
        self.edit_prefab_action: Callable[[str], None] | None = None  # asks about unsaved changes first
        self.back_action: Callable[[], None] | None = None
        self._editing_prefab = False

    # -- building ---------------------------------------------------------------------------------
    def build(self, window: int | str) -> None:
        dpg.add_texture_registry(tag="storm_asset_textures")
        blank = np.zeros(ICON * ICON * 4, np.float32)
        self._kind_icons = {}
        for kind, colour in KIND_COLOURS.items():
            icon = blank.reshape(ICON, ICON, 4).copy()
            icon[6:-6, 6:-6, :3] = colour
            icon[6:-6, 6:-6, 3] = 1.0
            self._kind_icons[kind] = dpg.add_static_texture(ICON, ICON, icon.ravel(), parent="storm_asset_textures")
        preview = np.zeros(PREVIEW_SIZE * PREVIEW_SIZE * 4, np.float32)
        dpg.add_dynamic_texture(PREVIEW_SIZE, PREVIEW_SIZE, preview, parent="storm_asset_textures",
                                tag="storm_asset_preview_texture")
        with dpg.group(horizontal=True, parent=window):
            dpg.add_combo(["all", *KINDS], default_value="all", width=80, tag="storm_assets_kind",
                          callback=lambda: self.refresh())
            dpg.add_button(label="Place", callback=lambda: self.start_placing(self.chosen))
            dpg.add_button(label="Edit prefab", tag="storm_assets_edit_prefab", callback=lambda: self._edit_or_back())
            dpg.add_button(label="Rescan", callback=lambda: self.rescan())
        dpg.add_input_text(parent=window, hint="search", width=-1, tag="storm_assets_filter",
                           callback=lambda: self.refresh())
        self._tree = dpg.add_child_window(parent=window, height=72, border=True, tag="storm_assets_tree")
        dpg.add_text("", parent=window, tag="storm_assets_info")
        self._window = window
        self._list = dpg.add_child_window(parent=window, height=LIST_MIN_HEIGHT, border=False, tag="storm_assets_list")
        with dpg.group(horizontal=True, parent=window):
            dpg.add_image("storm_asset_preview_texture", width=72, height=72, tag="storm_asset_preview")
            dpg.add_text("", tag="storm_asset_preview_text", wrap=0)
        with dpg.collapsing_header(label="Make prefab from the selection", parent=window, default_open=False):
            dpg.add_input_text(hint="prefab name", tag="storm_prefab_name", width=-1)
            with dpg.group(horizontal=True):
                dpg.add_combo([], tag="storm_prefab_pack", width=140, label="pack")
                dpg.add_button(label="Make prefab", callback=lambda: self.make_prefab_from_ui())
        self.rescan()

    # -- listing ------------------------------------------------------------------------------------
    def rescan(self) -> None:
        from editor.prefab_tools import folder_packs

        self.assets = list_assets(self.session.runtime.content)
        self.folders = folders_of(self.assets)
        if dpg.does_item_exist("storm_prefab_pack"):
            packs = folder_packs(self.session)
            current = dpg.get_value("storm_prefab_pack")
            dpg.configure_item("storm_prefab_pack", items=packs)
            if current not in packs and packs:
                dpg.set_value("storm_prefab_pack", packs[-1])
        self.refresh()

    def choose_folder(self, folder: str) -> None:
        """Show the assets inside ``folder`` ('' for all); a folder chosen again opens or closes."""
        if folder and folder == self.folder:
            self.open_folders ^= {folder}
        elif folder:
            self.open_folders.add(folder)
        self.folder = folder
        self.refresh()

    def refresh(self) -> None:
        if not self._list:
            return
        self._refresh_tree()
        kind = dpg.get_value("storm_assets_kind") or "all"
        needle = dpg.get_value("storm_assets_filter") or ""
        found = matching(self.assets, self.folder, kind, needle)
        self._shown = found[:SHOWN]
        while len(self._rows) < len(self._shown):
            with dpg.group(horizontal=True, parent=self._list) as group:
                image = dpg.add_image(self._kind_icons["model"], width=ICON, height=ICON)
                row = dpg.add_selectable(label="", height=ICON, callback=self._clicked)
            self._rows.append((group, image, row))
        for (group, image, row), asset in zip(self._rows, self._shown):
            dpg.configure_item(group, show=True)
            dpg.configure_item(row, label=f"{asset.name}\n{asset.pack}  [{asset.kind}]", user_data=asset.id)
            dpg.configure_item(image, texture_tag=self.textures.get(asset.id, self._kind_icons[asset.kind]))
            dpg.set_value(row, asset.id == self.chosen)
        for group, _image, _row in self._rows[len(self._shown):]:
            dpg.configure_item(group, show=False)
        self._pending = [a.id for a in self._shown if a.kind in ("model", "image") and a.id not in self.textures]
        self._forget_old_textures()
        more = f" (first {SHOWN} shown)" if len(found) > SHOWN else ""
        dpg.set_value("storm_assets_info", f"{len(found)} assets in {self.folder or 'every pack'}{more}")

    def _refresh_tree(self) -> None:
        rows = [""] + visible_folders(self.folders, self.open_folders)
        while len(self._folder_pool) < len(rows):
            self._folder_pool.append(dpg.add_selectable(label="", parent=self._tree,
                                                        callback=lambda s, a, u: self.choose_folder(u)))
        for item, folder in zip(self._folder_pool, rows):
            depth = folder.count("/")
            has_children = any(f.startswith(folder + "/") for f in self.folders) if folder else False
            mark = ("- " if folder in self.open_folders else "+ ") if has_children else "  "
            name = folder.rsplit("/", 1)[-1] if folder else "(every pack)"
            dpg.configure_item(item, label=f"{'    ' * depth}{mark}{name}", user_data=folder, show=True)
            dpg.set_value(item, folder == self.folder)
        for item in self._folder_pool[len(rows):]:
            dpg.configure_item(item, show=False)

    # -- each frame -----------------------------------------------------------------------------------
    def poll(self) -> bool:
        """Draw pending thumbnails (within the frame budget) and follow a drag into the view;
        True when something was done (the loop stays awake)."""
        busy = self._follow_drag()
        self._fit_list()
        editing = getattr(self.session.document, "came_from", None) is not None
        if editing != self._editing_prefab and dpg.does_item_exist("storm_assets_edit_prefab"):
            self._editing_prefab = editing
            dpg.configure_item("storm_assets_edit_prefab", label="Back to the world" if editing else "Edit prefab")
        if not self._pending:
            return busy
        started = time.monotonic()
        while self._pending and (time.monotonic() - started < THUMBNAIL_BUDGET_S):
            self._make_icon(self._pending.pop(0))
        left = len(self._pending)
        dpg.set_value("storm_assets_info", f"drawing thumbnails: {left} left" if left else
                      f"{len(self._shown)} assets in {self.folder or 'every pack'}")
        return True

    def _fit_list(self) -> None:
        """The list takes the panel's height left over by the rest, but never less than LIST_MIN_HEIGHT."""
        if not self._list or not dpg.is_item_shown(self._window):
            return
        _width, height = dpg.get_item_rect_size(self._window)
        top = dpg.get_item_pos(self._list)[1] - dpg.get_item_pos(self._window)[1]
        wanted = int(max(LIST_MIN_HEIGHT, height - top - BELOW_LIST))
        if wanted != dpg.get_item_height(self._list):
            dpg.configure_item(self._list, height=wanted)

    def _make_icon(self, asset_id: str) -> None:
        kind = dict((a.id, a.kind) for a in self._shown).get(asset_id, "")
        try:
            if kind == "model":
                path = self.thumbnails.path_for(asset_id)
                loaded = dpg.load_image(str(path))
                if loaded is None:
                    return
                width, height, _channels, data = loaded
                texture = dpg.add_static_texture(width, height, data, parent="storm_asset_textures")
            else:
                pixels, _text = image_pixels(self.session.runtime.content, asset_id, ICON)
                texture = dpg.add_static_texture(ICON, ICON, pixels, parent="storm_asset_textures")
        except Exception as exc:  # noqa: BLE001 - a file that cannot be shown keeps its kind's icon
            log.warning("no thumbnail for %s: %s", asset_id, exc)
            self.textures[asset_id] = self._kind_icons.get(kind, self._kind_icons["model"])
            return
        self.textures[asset_id] = texture
        self._forget_old_textures()
        for _group, image, row in self._rows:
            if dpg.get_item_user_data(row) == asset_id:
                dpg.configure_item(image, texture_tag=texture)

    def _forget_old_textures(self) -> None:
        """Keep at most MAX_TEXTURES icons: the oldest not shown now are deleted (their rows, if
        any, fall back to the kind's icon until shown again)."""
        shown = {a.id for a in self._shown}
        kind_icons = set(self._kind_icons.values())
        for asset_id in list(self.textures):
            if len(self.textures) <= MAX_TEXTURES:
                break
            if asset_id in shown:
                continue
            texture = self.textures.pop(asset_id)
            if texture in kind_icons:
                continue
            for _group, image, _row in self._rows:
                if dpg.get_item_configuration(image).get("texture_tag") == texture:
                    dpg.configure_item(image, texture_tag=self._kind_icons["model"])
            dpg.delete_item(texture)

    def _follow_drag(self) -> bool:
        """A press on a row that is let go over the 3D view places the row's asset there."""
        down = dpg.is_mouse_button_down(dpg.mvMouseButton_Left)
        if down and not self._drag:
            for _group, _image, row in self._rows:
                if dpg.is_item_shown(row) and dpg.is_item_active(row):
                    self._drag = dpg.get_item_user_data(row) or ""
                    self.session.message = f"drop {self._drag.rsplit('/', 1)[-1]} in the 3D view to place it"
                    break
            return bool(self._drag)
        if down or not self._drag:
            return bool(self._drag)
        asset, self._drag = self._drag, ""
        view = self.view
        if view is None or not view.drawlist:
            return True
        x, y = dpg.get_mouse_pos(local=False)
        (x0, y0), (x1, y1) = dpg.get_item_rect_min(view.drawlist), dpg.get_item_rect_max(view.drawlist)
        if x0 <= x < x1 and y0 <= y < y1:
            self.drop(asset, x - x0, y - y0)
        return True

    # -- what clicks do ---------------------------------------------------------------------------------
    def _clicked(self, sender: int, _value: object, asset: str) -> None:
        if asset == self.chosen and dpg.is_mouse_button_double_clicked(dpg.mvMouseButton_Left):
            self.place(asset)
        self.choose(asset)

    def choose(self, asset_id: str) -> str:
        """Select an asset: a sound plays, an image or a model's thumbnail shows in the preview;
        returns the preview's text."""
        self.chosen = asset_id
        for _group, _image, row in self._rows:
            dpg.set_value(row, dpg.get_item_user_data(row) == asset_id)
        kind = next((a.kind for a in self.assets if a.id == asset_id), "")
        text = f"{asset_id}\n{kind}"
        try:
            if kind == "sound":
                text += "\n" + self.sounds.play(asset_id)
            elif kind == "image":
                pixels, about = image_pixels(self.session.runtime.content, asset_id)
                dpg.set_value("storm_asset_preview_texture", pixels)
                text += "\n" + about
            elif kind == "model":
                path = self.thumbnails.path_for(asset_id)
                loaded = dpg.load_image(str(path))
                if loaded is not None:
                    dpg.set_value("storm_asset_preview_texture", _fit(loaded))
                reason = self.thumbnails.failed.get(asset_id)
                text += f"\ndoes not load: {reason}" if reason else "\ndrag into the view, or Place"
            elif kind == "prefab":
                text += "\ndrag into the view, or Place; Edit prefab opens it on its own"
        except Exception as exc:  # noqa: BLE001 - a broken file says why in the preview, nothing else
            log.warning("cannot preview %s: %s", asset_id, exc)
            text += f"\ncannot preview: {exc}"
        self.preview_text = text
        if dpg.does_item_exist("storm_asset_preview_text"):
            dpg.set_value("storm_asset_preview_text", text)
        return text

    def start_placing(self, asset_id: str) -> None:
        """Place: the next click in the 3D view puts the asset on the surface under the mouse."""
        if not self._placeable(asset_id):
            return
        if self.controller is None:
            self.place(asset_id)
            return
        self.controller.take_next_click(lambda ray, _x, _y: self._place_on(asset_id, ray),
                                        f"place {asset_id.rsplit('/', 1)[-1]}")

    def drop(self, asset_id: str, x: float, y: float) -> int:
        """The asset let go at view pixel (x, y): placed on the surface under it."""
        if not self._placeable(asset_id) or self.controller is None:
            return 0
        return self._place_on(asset_id, self.controller.ray(x, y))

    def _place_on(self, asset_id: str, ray: Any) -> int:
        from editor.prefab_tools import PrefabRefused, place_at
        from editor.session import EditRefused

        try:
            return place_at(self.session, asset_id, ray)
        except (PrefabRefused, EditRefused, Exception) as exc:  # noqa: BLE001 - CommandError too: said
            self.session.say(f"could not place {asset_id}: {getattr(exc, 'reason', exc)}", logging.WARNING)
            return 0

    def _placeable(self, asset_id: str) -> bool:
        kind = next((a.kind for a in self.assets if a.id == asset_id), "")
        if kind not in PLACEABLE:
            self.session.say(f"{asset_id}: only models and prefabs can be placed" if asset_id else
                             "choose a model or prefab first")
            return False
        return True

    def place(self, asset: str) -> int:
        """Place a model or prefab where the camera looks (one command); the new entity, or 0."""
        from editor.session import EditRefused

        if not self._placeable(asset):
            return 0
        try:
            return self.session.place_asset(asset)
        except (EditRefused, Exception) as exc:  # noqa: BLE001 - CommandError or EditRefused: said
            self.session.say(f"could not place {asset}: {getattr(exc, 'reason', exc)}", logging.WARNING)
            return 0

    def _edit_or_back(self) -> None:
        if self._editing_prefab and self.back_action is not None:
            self.back_action()
        else:
            self.edit_prefab(self.chosen)

    def edit_prefab(self, asset_id: str) -> None:
        """Open the chosen prefab on its own (Save writes it back); unsaved changes are asked about."""
        if not asset_id.endswith(".prefab.json"):
            self.session.say("choose a prefab to edit first")
            return
        if self.edit_prefab_action is not None:
            self.edit_prefab_action(asset_id)
            return
        from editor.prefab_tools import open_prefab

        open_prefab(self.session, asset_id)

    def make_prefab_from_ui(self) -> None:
        from editor.prefab_tools import PrefabRefused, make_prefab
        from editor.session import EditRefused

        name = (dpg.get_value("storm_prefab_name") or "").strip()
        pack = dpg.get_value("storm_prefab_pack") or ""
        try:
            asset_id, _root = make_prefab(self.session, pack, name)
        except (PrefabRefused, EditRefused, Exception) as exc:  # noqa: BLE001 - CommandError, OSError: said
            self.session.say(f"could not make the prefab: {getattr(exc, 'reason', exc)}", logging.WARNING)
            return
        self.rescan()
        self.session.say(f"made the prefab {asset_id}; the selection is now an instance of it")

    def close(self) -> None:
        self.sounds.close()
        self.thumbnails.close()


def _fit(loaded: Any) -> Any:
    """A loaded picture (width, height, channels, floats) centred in the preview texture."""
    width, height, _channels, data = loaded
    tile = np.zeros((PREVIEW_SIZE, PREVIEW_SIZE, 4), np.float32)
    tile[..., 3] = 1.0
    picture = np.asarray(data, np.float32).reshape(height, width, 4)[:PREVIEW_SIZE, :PREVIEW_SIZE]
    top, left = (PREVIEW_SIZE - picture.shape[0]) // 2, (PREVIEW_SIZE - picture.shape[1]) // 2
    tile[top:top + picture.shape[0], left:left + picture.shape[1]] = picture
    return tile.ravel()
