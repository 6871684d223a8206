"""Two OpenGL APIs on one thread: Dear PyGui draws through GLX (GLFW's window), Panda3D offscreen
through EGL. With libglvnd a thread may have only one of them current: making an EGL context
current while a GLX one is (or the other way round) fails with EGL_BAD_ACCESS / a fatal X
``BadAccess``. ``GLContexts`` hands the thread over before each side draws: ``to_panda`` releases
GLX (Panda3D makes its own EGL context current when it begins a frame), ``to_ui`` releases EGL
and makes Dear PyGui's GLX context current again (Dear PyGui never does so itself after start-up).

Reading back a frame that Panda3D drew earlier (``editor/view_readback.py`` maps a pixel buffer
a frame late, or once the view is still) needs Panda3D's context current without a frame:
``remember_panda`` notes its EGL binding after a frame and ``to_panda(current=True)`` makes it
current again.

Each switch costs about 10 microseconds (measured); only ``ctypes`` and the system's GL loader
libraries are used.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass


def _load(*names: str) -> ctypes.CDLL:
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    raise OSError(f"none of {', '.join(names)} could be loaded: the editor needs the system's OpenGL "
                  "loader (Debian: apt-get install libgl1 libegl1)")


EGL_DRAW, EGL_READ = 0x3059, 0x305A


@dataclass
class _EGLState:
    display: int
    draw: int
    read: int
    context: int


@dataclass
class _GLXState:
    display: int
    drawable: int
    context: int


class GLContexts:
    """Hands the main thread's OpenGL binding between Dear PyGui (GLX) and Panda3D (EGL)."""

    def __init__(self) -> None:
        self._glx = _load("libGL.so.1", "libGLX.so.0")
        self._egl = _load("libEGL.so.1")
        for name in ("glXGetCurrentContext", "glXGetCurrentDisplay", "glXGetCurrentDrawable"):
            getattr(self._glx, name).restype = ctypes.c_void_p
        self._glx.glXMakeCurrent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p]
        self._glx.glXMakeCurrent.restype = ctypes.c_int
        for name in ("eglGetCurrentDisplay", "eglGetCurrentContext", "eglGetCurrentSurface"):
            getattr(self._egl, name).restype = ctypes.c_void_p
        self._egl.eglGetCurrentSurface.argtypes = [ctypes.c_int]
        self._egl.eglMakeCurrent.argtypes = [ctypes.c_void_p] * 4
        self._egl.eglMakeCurrent.restype = ctypes.c_uint
        self._ui: _GLXState | None = None
        self._panda: _EGLState | None = None

    def capture_ui(self) -> None:
        """Remember the GLX context that is current now (Dear PyGui's, right after its viewport is shown)."""
        context = self._glx.glXGetCurrentContext()
        if not context:
            raise RuntimeError("no GLX context is current: show the Dear PyGui viewport first")
        self._ui = _GLXState(self._glx.glXGetCurrentDisplay(), self._glx.glXGetCurrentDrawable() or 0, context)

    def release_egl(self) -> None:
        display = self._egl.eglGetCurrentDisplay()
        if display and self._egl.eglGetCurrentContext():
            self._egl.eglMakeCurrent(display, None, None, None)

    def release_glx(self) -> None:
        if self._ui is not None and self._glx.glXGetCurrentContext():
            self._glx.glXMakeCurrent(self._ui.display, 0, None)

    def remember_panda(self) -> None:
        """Right after Panda3D drew: note its EGL binding (for ``to_panda(current=True)``)."""
        egl = self._egl
        display, context = egl.eglGetCurrentDisplay(), egl.eglGetCurrentContext()
        if display and context:
            self._panda = _EGLState(display, egl.eglGetCurrentSurface(EGL_DRAW) or 0,
                                    egl.eglGetCurrentSurface(EGL_READ) or 0, context)

    def to_panda(self, current: bool = False) -> None:
        """Before Panda3D draws (it makes its own context current); ``current``: make the context
        Panda3D drew with last current now (to read back without drawing)."""
        self.release_glx()
        panda = self._panda
        if current and panda is not None and self._egl.eglGetCurrentContext() != panda.context:
            if not self._egl.eglMakeCurrent(panda.display, panda.draw or None, panda.read or None, panda.context):
                raise RuntimeError("could not make Panda3D's OpenGL context current again")

    def to_ui(self) -> None:
        """Before Dear PyGui draws (or creates and uploads textures)."""
        self.release_egl()
        ui = self._ui
        if ui is not None and self._glx.glXGetCurrentContext() != ui.context:
            if not self._glx.glXMakeCurrent(ui.display, ui.drawable, ui.context):
                raise RuntimeError("could not make Dear PyGui's OpenGL context current again")


class NoUI:
    """Stands in for GLContexts where Panda3D draws alone (a benchmark on a machine without X):
    Panda3D's context stays current."""

    def remember_panda(self) -> None:
        pass

    def to_panda(self, current: bool = False) -> None:
        pass

    def to_ui(self) -> None:
        pass

    def release_egl(self) -> None:
        pass
