"""The 3D view panel: a drawlist the size of the panel showing the renderer's image, the gizmo
and the box of a box select (``gizmo_overlay``) and a small axis cross over it, and the mouse and
keys of the panel turned into ``ViewController`` calls.

The image is an 8-bit texture that each new frame is written into directly (``view_texture``:
the frame's bytes as they came back from the GPU, nothing converted); where that is not usable
(no PyOpenGL, its texture not found, copy mode ``float``), a float32 RGBA raw texture that
points at the renderer's float array (Dear PyGui uploads it again every UI frame).

The renderer follows the panel's size a quarter of a second after it stops changing (textures
are remade on a resize, not every frame of a drag: Dear PyGui dislikes widget churn); until then
the last image is stretched to fit. With the ``low_res_moving`` preference, the view draws at half
resolution (a quarter of the pixels, stretched to the panel) while the camera orbits, pans or
flies, and at full resolution again the frame it stops.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import dearpygui.dearpygui as dpg
import numpy as np
from panda3d.core import Vec3

from editor.gizmo import AXES, AXIS_COLOURS
from editor.gizmo_overlay import GizmoOverlay
from editor.view_input import LEFT, MIDDLE, RIGHT, ViewController
from editor.view_texture import ViewTextures

if TYPE_CHECKING:
    from editor.session import Session

log = logging.getLogger("storm.editor")
RESIZE_SETTLE_S = 0.25
FLY_KEYS = {"w": (1, 0, 0), "s": (-1, 0, 0), "d": (0, 1, 0), "a": (0, -1, 0), "e": (0, 0, 1), "q": (0, 0, -1)}


def _key(name: str) -> int:
    return getattr(dpg, f"mvKey_{name.upper()}")


class ViewPanel:
    """The widgets of the 3D view and the input they receive."""

    def __init__(self, session: "Session", controller: ViewController) -> None:
        self.session = session
        self.controller = controller
        self.drawlist = 0
        self.texture = 0
        self._texture_size = (0, 0)
        self._old_textures: list[int] = []
        self._placeholder: Any = None
        self._image = 0
        self._gizmo: GizmoOverlay | None = None
        self._overlay_version = 0
        self._corner: dict[str, tuple[int, int]] = {}
        self._status = 0
        self._size = (0, 0)
        self._size_changed_at = 0.0
        self._buttons = {LEFT: False, RIGHT: False, MIDDLE: False}
        self._mouse = (-1.0, -1.0)
        self.last_input = time.monotonic()
        self._image_buffer: Any = None
        self._direct: ViewTextures | None = None
        self._waiting: tuple[Any, tuple[int, int]] | None = None   # a frame for a texture not found yet
        self._shown = 0   # the texture item the image shows

    def build(self, window: int | str) -> None:
        self.window = window
        dpg.add_texture_registry(tag="storm_textures")
        width, height = self.session.renderer.size
        direct = ViewTextures("storm_textures")
        self._direct = direct if direct.usable else None
        # a raw texture is uploaded every UI frame, drawn or not: a small one while the 8-bit one is used
        self._make_texture((16, 16) if self._direct is not None else (width, height))
        with dpg.theme() as clear:   # the picture covers the panel: no background drawn under it (on a
            with dpg.theme_component(dpg.mvAll):   # software renderer each covered pixel costs)
                dpg.add_theme_color(dpg.mvThemeCol_WindowBg, (0, 0, 0, 0), category=dpg.mvThemeCat_Core)
        dpg.bind_item_theme(window, clear)
        self.drawlist = dpg.add_drawlist(width, height, parent=window, tag="storm_view")
        self._image = dpg.draw_image(self.texture, (0, 0), (width, height), parent=self.drawlist)
        self._shown = self.texture
        self._gizmo = GizmoOverlay(self.drawlist)
        for axis in AXES:
            line = dpg.draw_line((0, 0), (0, 0), color=AXIS_COLOURS[axis], thickness=2, parent=self.drawlist)
            text = dpg.draw_text((0, 0), axis.upper(), color=AXIS_COLOURS[axis], size=13, parent=self.drawlist)
            self._corner[axis] = (line, text)
        self._status = dpg.draw_text((8, 6), "", color=(255, 255, 255, 220), size=14, parent=self.drawlist)
        with dpg.handler_registry(tag="storm_view_wheel"):
            dpg.add_mouse_wheel_handler(callback=self._wheel)

    # -- the texture -------------------------------------------------------------------------------
    def _make_texture(self, size: tuple[int, int]) -> None:
        self._placeholder = np.zeros((size[1], size[0], 4), np.float32)
        self._placeholder[..., 3] = 1.0
        old = self.texture
        self.texture = dpg.add_raw_texture(size[0], size[1], self._placeholder, format=dpg.mvFormat_Float_rgba,
                                           parent="storm_textures")
        self._texture_size = size
        if old:
            self._old_textures.append(old)

    @property
    def direct(self) -> bool:
        """Whether 8-bit textures of the panel's own are usable (copy mode ``byte`` shows them)."""
        return self._direct is not None

    @property
    def showing(self) -> str:
        """What the picture shows: ``8-bit`` (a texture written directly) or ``raw float``."""
        return "raw float" if self._shown == self.texture else "8-bit"

    def show_frame(self) -> None:
        """Show the renderer's newest image (after it drew)."""
        renderer = self.session.renderer
        data = renderer.image_bytes() if self._direct is not None else None
        if data is not None:
            self._waiting = (data, renderer.size)
            self._upload()
            return
        self._show_floats()

    def _upload(self) -> None:
        direct, waiting = self._direct, self._waiting
        if direct is None or waiting is None:
            return
        data, size = waiting
        item, name = direct.item(size)
        if not direct.usable:
            self._give_up(direct.note)
            return
        if not name:
            return   # Dear PyGui makes the texture in its next frame: after_ui_frame tries again
        self._waiting = None
        if not direct.upload(name, data, size):
            self._give_up(direct.note)
            return
        self._image_buffer = data
        if self._texture_size != (16, 16):   # back from the raw texture: it need not be uploaded any more
            self._make_texture((16, 16))
        self._show(item)

    def _give_up(self, why: str) -> None:
        log.info("the 3D view shows a float32 raw texture: %s", why)
        direct, self._direct, self._waiting = self._direct, None, None
        if direct is not None:
            self._old_textures.extend(direct.clear())
        self._show_floats()

    def _show(self, texture: int) -> None:
        if self._shown != texture and self._image:
            dpg.configure_item(self._image, texture_tag=texture)
        self._shown = texture

    def after_ui_frame(self) -> None:
        """Right after Dear PyGui's frame: textures it made in it can be found and written now."""
        if self._direct is not None:
            self._direct.drop_old()
            if self._waiting is not None:
                self._upload()

    def _show_floats(self) -> None:
        renderer = self.session.renderer
        if renderer.size != self._texture_size:
            self._make_texture(renderer.size)
        self._show(self.texture)
        image = renderer.image()
        if image is not None:
            self._image_buffer = image  # keep Panda3D's array alive while the texture points at it
            dpg.set_value(self.texture, image)

    def drop_old_textures(self) -> None:
        """Textures replaced a frame ago are no longer drawn: delete them."""
        for texture in self._old_textures:
            if dpg.does_item_exist(texture):
                dpg.delete_item(texture)
        self._old_textures.clear()

    # -- size ---------------------------------------------------------------------------------------
    def sync_size(self) -> None:
        """Follow the panel's size: the drawlist at once, the renderer once the size settles."""
        if not self.drawlist or not dpg.is_item_shown(self.window):
            return
        region = dpg.get_item_rect_size(self.window)
        width, height = max(16, int(region[0]) - 16), max(16, int(region[1]) - 16)
        if (width, height) != self._size:
            self._size = (width, height)
            self._size_changed_at = time.monotonic()
            dpg.configure_item(self.drawlist, width=width, height=height)
            dpg.configure_item(self._image, pmax=(width, height))
            self.controller.size = (float(width), float(height))
            self.session.camera.aspect = width / height
            self.session.renderer.request()
        renderer = self.session.renderer
        if self.session.prefs.low_res_moving and self.controller.moving_camera:
            half = (max(16, self._size[0] // 2), max(16, self._size[1] // 2))
            if renderer.size != half:   # at once: drawing while the camera moves is what is slow
                renderer.resize(half)
            return
        if self._size != renderer.size and time.monotonic() - self._size_changed_at > RESIZE_SETTLE_S:
            renderer.resize(self._size)   # the panel's size settled, or the camera stopped: full resolution

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    # -- input --------------------------------------------------------------------------------------
    def local_mouse(self) -> tuple[float, float]:
        mouse = dpg.get_mouse_pos(local=False)
        origin = dpg.get_item_rect_min(self.drawlist)
        return mouse[0] - origin[0], mouse[1] - origin[1]

    def poll(self, seconds: float, typing: bool) -> None:
        """Feed this frame's mouse and keys to the controller."""
        if not self.drawlist:
            return
        x, y = self.local_mouse()
        hovered = dpg.is_item_hovered(self.drawlist)
        shift = dpg.is_key_down(dpg.mvKey_LShift) or dpg.is_key_down(dpg.mvKey_RShift)
        ctrl = dpg.is_key_down(dpg.mvKey_LControl) or dpg.is_key_down(dpg.mvKey_RControl)
        alt = dpg.is_key_down(dpg.mvKey_LAlt) or dpg.is_key_down(dpg.mvKey_RAlt)
        if (x, y) != self._mouse:
            self._mouse = (x, y)
            self.last_input = time.monotonic()
            before = self.controller.hover_axis
            self.controller.move(x, y, shift=shift, ctrl=ctrl)
            if self.controller.hover_axis != before or self.controller.overlay_version != self._overlay_version:
                self.draw_overlay()
        for button in (LEFT, RIGHT, MIDDLE):
            down = dpg.is_mouse_button_down(button)
            if down == self._buttons[button]:
                continue
            self._buttons[button] = down
            self.last_input = time.monotonic()
            if down and hovered:
                self.controller.press(button, x, y, shift=shift, ctrl=ctrl, alt=alt)
            elif not down:
                self.controller.release(button, x, y, shift=shift, ctrl=ctrl)
        if self.controller.looking and not typing:
            move = [0.0, 0.0, 0.0]
            for name, (f, r, u) in FLY_KEYS.items():
                if dpg.is_key_down(_key(name)):
                    move[0] += f
                    move[1] += r
                    move[2] += u
            speed = 4.0 if shift else 1.0
            self.controller.fly(move[0] * speed, move[1] * speed, move[2] * speed, seconds)

    def _wheel(self, _sender: int, delta: Any) -> None:
        if self.drawlist and dpg.is_item_hovered(self.drawlist):
            self.last_input = time.monotonic()
            self.controller.wheel(float(delta))

    # -- overlay --------------------------------------------------------------------------------------
    def draw_overlay(self) -> None:
        """Gizmo handles, the axis cross and the status line, for the current camera and selection."""
        if not self.drawlist:
            return
        self._overlay_version = self.controller.overlay_version
        if self._gizmo is not None:
            self._gizmo.draw(self.controller.handles(), self.session.gizmo.drag_axis or self.controller.hover_axis,
                             self.session.gizmo, self.controller.box)
        quat = self.session.camera.transform().getQuat()
        inverse = quat.conjugate()
        origin = (38.0, float(self._size[1] - 38))
        for axis, (line, text) in self._corner.items():
            v = inverse.xform(Vec3(AXES[axis]))  # the axis seen from the camera: x right, z up (camera space)
            end = (origin[0] + v.x * 26.0, origin[1] - v.z * 26.0)
            dpg.configure_item(line, p1=origin, p2=end)
            dpg.configure_item(text, pos=(end[0] + 2, end[1] - 7))
        session = self.session
        mode = "PLAYING" + (" (paused)" if session.play.paused else "") if session.play.playing else \
            "READ-ONLY" if session.read_only else "editing"
        gizmo = session.gizmo
        snap = "  |  snap on" if gizmo.snapping(False) else ""
        dpg.configure_item(self._status, text=f"{mode}  |  {session.renderer.shading} shading  |  "
                                              f"{len(session.selection)} selected  |  {gizmo.tool} ({gizmo.space}){snap}")
