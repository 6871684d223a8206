"""The 3D view's picture in Dear PyGui as an 8-bit texture that Storm writes into itself.

A Dear PyGui raw texture takes float32 only and is uploaded again every UI frame (glTexImage2D
of 16 bytes a pixel: on a software renderer about 12 ms at 1280x720, and sampling the float
texture costs more than an 8-bit one). A *static* texture is 8-bit RGBA inside and uploaded
once; Dear PyGui names no OpenGL texture to Python, so ``ViewTextures`` finds its name: the
texture is made with a random mark in its first row, and once Dear PyGui has drawn a frame (it
creates the GL texture then), the names just below the next free one (``glGenTextures``) are
looked at, newest first, for a texture of that size holding the mark. Each new frame is then
written into it with ``glTexSubImage2D`` (Dear PyGui's GLX context current: 4 bytes a pixel,
nothing converted). Textures are kept per size (the low-resolution view while the camera moves
and the full one take turns); where PyOpenGL is not usable or the name is not found, the view
panel shows the float32 raw texture instead.
"""
from __future__ import annotations

import ctypes
import logging
from typing import Any

import dearpygui.dearpygui as dpg
import numpy as np

from editor.view_readback import pyopengl

log = logging.getLogger("storm.editor")
MARK_PIXELS = 8          # random pixels in row 0 that tell our texture from any other
SEARCH_NAMES = 4096      # how far below the next free texture name to look
SEARCHES = 3             # UI frames of looking for a new texture before giving up (the raw one instead)
KEEP = 3                 # textures kept (sizes); the oldest beyond are deleted


class ViewTextures:
    """8-bit Dear PyGui textures, one per view size, that frames are uploaded into directly."""

    def __init__(self, parent: int | str) -> None:
        self.parent = parent
        self.gl, self.note = pyopengl()
        self._textures: dict[tuple[int, int], list[Any]] = {}   # size -> [item, GL name or 0, mark, searches]
        self._old: list[int] = []
        self._rng = np.random.default_rng()

    @property
    def usable(self) -> bool:
        return self.gl is not None

    def item(self, size: tuple[int, int]) -> tuple[int, int]:
        """The texture item for ``size`` (made now if need be) and its GL name (0: not known yet:
        Dear PyGui makes the GL texture in its next frame; ask again after it). After ``SEARCHES``
        vain looks the textures are given up (``usable`` turns false, ``note`` says why)."""
        entry = self._textures.pop(size, None)
        fresh = entry is None
        if entry is None:
            mark = self._rng.integers(0, 256, (MARK_PIXELS, 4), dtype=np.uint8)
            picture = np.zeros((size[1], size[0], 4), np.float32)
            picture[..., 3] = 1.0
            picture[0, :MARK_PIXELS] = mark / 255.0
            entry = [dpg.add_static_texture(size[0], size[1], picture.ravel(), parent=self.parent), 0, mark, 0]
        self._textures[size] = entry   # the newest last
        while len(self._textures) > KEEP:
            oldest = next(iter(self._textures))
            self._old.append(self._textures.pop(oldest)[0])
        if not entry[1] and not fresh and self.gl is not None:
            entry[1] = self._find(size, entry[2])
            entry[3] += 1
            if not entry[1] and entry[3] >= SEARCHES and self.gl is not None:
                self.gl, self.note = None, f"no GL texture of {size[0]}x{size[1]} with its mark was found"
        return entry[0], entry[1]

    def _find(self, size: tuple[int, int], mark: np.ndarray) -> int:
        gl = self.gl
        try:
            free = int(gl.glGenTextures(1))
            gl.glDeleteTextures(1, [free])
            known = {entry[1] for entry in self._textures.values()}
            bound = int(gl.glGetIntegerv(gl.GL_TEXTURE_BINDING_2D))
            picture = np.empty((size[1], size[0], 4), np.uint8)
            try:
                for name in range(free - 1, max(0, free - 1 - SEARCH_NAMES), -1):
                    if name in known or not gl.glIsTexture(name):
                        continue
                    gl.glBindTexture(gl.GL_TEXTURE_2D, name)
                    if (gl.glGetTexLevelParameteriv(gl.GL_TEXTURE_2D, 0, gl.GL_TEXTURE_WIDTH) != size[0]
                            or gl.glGetTexLevelParameteriv(gl.GL_TEXTURE_2D, 0, gl.GL_TEXTURE_HEIGHT) != size[1]):
                        continue
                    gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 4)
                    gl.glGetTexImage(gl.GL_TEXTURE_2D, 0, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE,
                                     picture.ctypes.data_as(ctypes.c_void_p))
                    if np.array_equal(picture[0, :MARK_PIXELS], mark):
                        return name
            finally:
                gl.glBindTexture(gl.GL_TEXTURE_2D, bound)
        except Exception as exc:  # noqa: BLE001 - a driver that refuses: the float raw texture instead
            self.gl, self.note = None, f"the view's 8-bit texture is not usable ({exc})"
            log.info("the 3D view shows a float32 raw texture: %s", self.note)
        return 0

    def upload(self, name: int, data: Any, size: tuple[int, int]) -> bool:
        """Write an 8-bit RGBA frame (top row first) into texture ``name`` (Dear PyGui's context
        current); False when that failed (the caller shows the raw texture from then on)."""
        gl = self.gl
        if gl is None:
            return False
        try:
            pixels = np.frombuffer(data, np.uint8, count=size[0] * size[1] * 4)
            bound = int(gl.glGetIntegerv(gl.GL_TEXTURE_BINDING_2D))
            gl.glBindTexture(gl.GL_TEXTURE_2D, name)
            try:
                gl.glPixelStorei(gl.GL_UNPACK_ALIGNMENT, 4)
                gl.glPixelStorei(gl.GL_UNPACK_ROW_LENGTH, 0)
                gl.glTexSubImage2D(gl.GL_TEXTURE_2D, 0, 0, 0, size[0], size[1], gl.GL_RGBA, gl.GL_UNSIGNED_BYTE,
                                   pixels.ctypes.data_as(ctypes.c_void_p))
            finally:
                gl.glBindTexture(gl.GL_TEXTURE_2D, bound)
        except Exception as exc:  # noqa: BLE001 - as in _find
            self.gl, self.note = None, f"uploading the view's 8-bit texture failed ({exc})"
            log.warning("the 3D view shows a float32 raw texture from now on: %s", self.note)
            return False
        return True

    def drop_old(self) -> None:
        """Delete textures no longer kept (they were not drawn in the last frame)."""
        for item in self._old:
            if dpg.does_item_exist(item):
                dpg.delete_item(item)
        self._old.clear()

    def clear(self) -> list[int]:
        """Forget every texture; returns their items (to delete once no longer drawn)."""
        items = [entry[0] for entry in self._textures.values()]
        self._textures.clear()
        return items
