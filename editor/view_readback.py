"""Bringing the 3D view's frame from the GPU into RAM, top row first: 8-bit RGBA (copy mode
``byte``, what the view panel writes into its own 8-bit texture; float32 made from it when asked
for) or the float32 RGBA a Dear PyGui raw texture reads (copy mode ``float``). Two ways, one
interface:

* ``PboReadback`` (path ``pbo``): right after Panda3D's frame, with its OpenGL context current,
  the frame's colour texture (its GL name from Panda3D's prepared ``TextureContext``) is read
  into one of two pixel buffer objects (``GL_PIXEL_PACK_BUFFER``): the GPU copies while the CPU
  goes on. The buffer read the frame before is mapped and turned into the float32 array: the
  view shows the previous frame while it keeps drawing (one frame of latency while the camera
  moves), and once nothing asks for a new frame, ``collect`` maps the last one, so a still view
  shows exactly the latest image. ``byte`` reads the 8-bit scene texture itself (a quarter of
  the bytes; the CPU copies the rows flipped); ``float`` reads the float32
  copy pass (the GPU flipped and converted; the CPU copies). Through PyOpenGL (pinned in
  requirements.txt, its EGL platform: Panda3D's context is EGL).
* ``SyncReadback`` (path ``sync``, the fallback when PyOpenGL or pixel buffers are not usable):
  Panda3D 1.10's own copy of the copy pass's buffer to RAM during the frame (the CPU waits for
  the GPU); no CPU pass at all (float32 from ``byte`` is converted on threads when asked for).
"""
from __future__ import annotations

import ctypes
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from panda3d.core import GraphicsStateGuardian, Texture

log = logging.getLogger("storm.editor")
PATHS = ("pbo", "sync")
_SCALE = np.float32(1.0 / 255.0)


class FrameImage:
    """The last frame in RAM, top row first, as 8-bit RGBA (copy mode ``byte``: what the view
    panel uploads into its own 8-bit texture) and as the float32 RGBA that a Dear PyGui raw
    texture reads (made from the bytes when asked for). The arrays are kept between frames (a
    pointer handed to Dear PyGui stays valid); threads fill them (numpy lets go of the GIL)."""

    def __init__(self) -> None:
        self.size = (0, 0)
        self._bytes: Any = None        # 8-bit RGBA: an array of ours, or Panda3D's RAM image
        self._floats: Any = None       # float32 RGBA: an array of ours, or Panda3D's RAM image
        self._own_bytes: np.ndarray | None = None
        self._own_floats: np.ndarray | None = None
        self._stale = False            # the floats are older than the bytes
        self._pool: ThreadPoolExecutor | None = None
        self._workers = min(8, os.cpu_count() or 1)

    def _rows(self, work: Any, rows: int) -> None:
        if self._workers == 1 or rows < 64:
            work(0, rows)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="storm-view-copy")
        step = -(-rows // self._workers)
        for future in [self._pool.submit(work, a, min(rows, a + step)) for a in range(0, rows, step)]:
            future.result()

    @staticmethod
    def _own(array: np.ndarray | None, size: tuple[int, int], dtype: Any) -> np.ndarray:
        if array is None or array.size != size[0] * size[1] * 4:
            array = np.empty(size[0] * size[1] * 4, dtype)
        return array

    def set_bytes(self, data: Any, size: tuple[int, int], flip: bool) -> None:
        """8-bit RGBA; ``flip``: bottom row first (as OpenGL reads), copied flipped into an array
        of ours; else kept as it is (Panda3D's RAM image, already top row first)."""
        self.size = size
        if flip:   # one memcpy a row (0.3 ms at 1280x720): threads only get in the way
            target = self._own_bytes = self._own(self._own_bytes, size, np.uint8)
            rows = target.reshape(size[1], size[0] * 4)
            np.copyto(rows, np.frombuffer(data, np.uint8, count=target.size).reshape(rows.shape)[::-1])
            self._bytes = target
        else:
            self._bytes = data
        self._floats, self._stale = None, True

    def set_floats(self, data: Any, size: tuple[int, int], copy: bool) -> None:
        """float32 RGBA, top row first; ``copy``: into an array of ours (the source goes away)."""
        self.size = size
        if copy:
            target = self._own_floats = self._own(self._own_floats, size, np.float32)
            rows = target.reshape(size[1], size[0] * 4)
            source = np.frombuffer(data, np.float32, count=target.size).reshape(rows.shape)
            self._rows(lambda a, b: np.copyto(rows[a:b], source[a:b]), size[1])
            data = target
        self._bytes, self._floats, self._stale = None, data, False

    def clear(self) -> None:
        self._bytes = self._floats = None
        self._stale = False
        self.size = (0, 0)

    def bytes(self, size: tuple[int, int]) -> Any:
        """The 8-bit frame, or None (another size, or copy mode ``float``)."""
        return self._bytes if size == self.size else None

    def floats(self, size: tuple[int, int]) -> Any:
        """The float32 frame (converted from the bytes now if need be), or None."""
        if size != self.size:
            return None
        if self._stale and self._bytes is not None:
            target = self._own_floats = self._own(self._own_floats, size, np.float32)
            rows = target.reshape(size[1], size[0] * 4)
            source = np.frombuffer(self._bytes, np.uint8, count=target.size).reshape(rows.shape)
            self._rows(lambda a, b: np.multiply(source[a:b], _SCALE, out=rows[a:b]), size[1])
            self._floats, self._stale = target, False
        return self._floats

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


class SyncReadback:
    """Panda3D's own RAM copy of the copy pass (see the module docstring)."""

    path = "sync"
    needs_copy_pass = True
    swap = True       # Panda3D's RAM images are BGRA: the copy pass swaps red and blue
    ram = True
    pending = False

    def __init__(self, copy: str) -> None:
        self.copy = copy
        self.frame = FrameImage()

    def read(self, texture: Texture, size: tuple[int, int]) -> None:
        """After the frame: the RAM image Panda3D wrote during it."""
        self.frame.clear()
        if not texture.hasRamImage():
            return
        data = texture.getRamImage()
        pixels = size[0] * size[1] * 4
        if self.copy == "float" and len(data) == pixels * 4:
            self.frame.set_floats(data, size, copy=False)
        elif self.copy == "byte" and len(data) == pixels:
            self.frame.set_bytes(data, size, flip=False)

    def collect(self) -> None:
        pass

    def discard(self) -> None:
        self.frame.clear()

    def close(self) -> None:
        self.frame.close()


class PboReadback:
    """Two pixel buffer objects read a frame late (see the module docstring)."""

    path = "pbo"
    swap = False      # read as GL_RGBA: already in Dear PyGui's order
    ram = False

    def __init__(self, gl: Any, gsg: GraphicsStateGuardian, copy: str) -> None:
        self.gl = gl
        self.gsg = gsg
        self.copy = copy
        self.needs_copy_pass = copy == "float"
        self._buffers = [int(name) for name in gl.glGenBuffers(2)]
        self._bytes = [0, 0]
        self._slot = 0
        self._pending: tuple[int, tuple[int, int]] | None = None
        self.frame = FrameImage()
        self.reads = 0

    @property
    def pending(self) -> bool:
        """A frame was read that is not shown yet (``collect`` shows it)."""
        return self._pending is not None

    def read(self, texture: Texture, size: tuple[int, int]) -> None:
        """Right after the frame, Panda3D's context current: start reading ``texture`` (the 8-bit
        scene, bottom row first, or the float32 copy, top row first), show the frame before."""
        gl = self.gl
        context = texture.prepareNow(0, self.gsg.getPreparedObjects(), self.gsg)
        name = context.getNativeId() if context is not None else 0
        if not name or (texture.getXSize(), texture.getYSize()) != size:
            return
        floats = self.copy == "float"
        nbytes = size[0] * size[1] * (16 if floats else 4)
        slot = self._slot
        self._slot ^= 1
        pack = int(gl.glGetIntegerv(gl.GL_PIXEL_PACK_BUFFER_BINDING))
        bound = int(gl.glGetIntegerv(gl.GL_TEXTURE_BINDING_2D))
        gl.glBindBuffer(gl.GL_PIXEL_PACK_BUFFER, self._buffers[slot])
        try:
            if self._bytes[slot] != nbytes:
                gl.glBufferData(gl.GL_PIXEL_PACK_BUFFER, nbytes, None, gl.GL_STREAM_READ)
                self._bytes[slot] = nbytes
            gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 4)
            gl.glBindTexture(gl.GL_TEXTURE_2D, name)
            gl.glGetTexImage(gl.GL_TEXTURE_2D, 0, gl.GL_RGBA, gl.GL_FLOAT if floats else gl.GL_UNSIGNED_BYTE,
                             ctypes.c_void_p(0))
        finally:
            gl.glBindTexture(gl.GL_TEXTURE_2D, bound)
            gl.glBindBuffer(gl.GL_PIXEL_PACK_BUFFER, pack)
        self.reads += 1
        previous, self._pending = self._pending, (slot, size)
        if previous is not None and previous[1] == size:
            self._map(*previous)            # the frame before: the GPU has had a whole frame for it
        if self.frame.size != size:
            self.collect()                  # nothing of this size to show yet: this frame, now

    def collect(self) -> None:
        """Show the last frame read (Panda3D's context current)."""
        if self._pending is not None:
            slot, size = self._pending
            self._pending = None
            self._map(slot, size)

    def _map(self, slot: int, size: tuple[int, int]) -> None:
        gl = self.gl
        nbytes = self._bytes[slot]
        pack = int(gl.glGetIntegerv(gl.GL_PIXEL_PACK_BUFFER_BINDING))
        gl.glBindBuffer(gl.GL_PIXEL_PACK_BUFFER, self._buffers[slot])
        try:
            address = gl.glMapBufferRange(gl.GL_PIXEL_PACK_BUFFER, 0, nbytes, gl.GL_MAP_READ_BIT)
            if not address:
                raise RuntimeError("glMapBufferRange gave no pointer for the view's pixel buffer")
            try:
                data = (ctypes.c_uint8 * nbytes).from_address(int(address))
                if self.copy == "float":
                    self.frame.set_floats(data, size, copy=True)
                else:
                    self.frame.set_bytes(data, size, flip=True)
            finally:
                gl.glUnmapBuffer(gl.GL_PIXEL_PACK_BUFFER)
        finally:
            gl.glBindBuffer(gl.GL_PIXEL_PACK_BUFFER, pack)

    def discard(self) -> None:
        """A resize: the frame in flight is of the old size."""
        self._pending = None

    def close(self) -> None:
        """Panda3D's context current."""
        try:
            self.gl.glDeleteBuffers(2, self._buffers)
        except Exception:  # noqa: BLE001 - the context may be gone already at shutdown
            pass
        self.frame.close()


def pyopengl() -> tuple[Any, str]:
    """PyOpenGL's GL module (its EGL platform unless chosen before: Panda3D's offscreen context is
    EGL; through libglvnd its calls reach Dear PyGui's GLX context as well), or None and why not.
    ``STORM_NO_PYOPENGL=1`` leaves it unused (the synchronous read back and the raw texture)."""
    if os.environ.get("STORM_NO_PYOPENGL", "") not in ("", "0"):
        return None, "PyOpenGL is switched off (STORM_NO_PYOPENGL)"
    if "OpenGL" not in sys.modules:
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    try:
        from OpenGL import GL
    except Exception as exc:  # noqa: BLE001 - ImportError, or a platform library that will not load
        return None, f"PyOpenGL is not usable ({exc})"
    return GL, ""


def open_pbo_readback(gsg: GraphicsStateGuardian, copy: str) -> tuple[PboReadback | None, str]:
    """A ``PboReadback`` on Panda3D's current context, or None and the reason it is not usable."""
    gl, why = pyopengl()
    if gl is None:
        return None, why
    try:
        if (gsg.getDriverVersionMajor(), gsg.getDriverVersionMinor()) < (3, 0):  # glMapBufferRange
            return None, f"OpenGL {gsg.getDriverVersion()} is older than 3.0"
        readback = PboReadback(gl, gsg, copy)
    except Exception as exc:  # noqa: BLE001 - no context current, no buffers: the sync path instead
        return None, f"pixel buffer objects are not usable here ({exc})"
    return readback, ""
