"""Storm's OpenXR session, written directly on pyopenxr (not through panda3d-openxr: see docs/vr.md).

``OpenXRBackend`` makes an instance and a session for the OpenGL context Panda3D draws with (GLX
when the App has a window, EGL through ``XR_MNDX_egl_enable`` offscreen), one swapchain per eye
in a format the runtime offers (sRGB8-alpha8 first: the eyes are tone-mapped sRGB-encoded
colour), and runs the frame loop: wait for the frame, locate both eyes at the predicted display
time, let Panda3D draw them (``engine.xr.stereo``), copy each eye into its swapchain image from
a draw callback (where Panda3D's context is current) and end the frame with a projection layer.

The session state machine is followed as the runtime drives it: READY begins the session,
STOPPING ends it, EXITING and LOSS_PENDING finish the run; SYNCHRONIZED and VISIBLE (no input)
and ``XR_SESSION_NOT_FOCUSED`` from ``xrSyncActions`` are normal states, not errors. Every
state seen is kept in ``history``. ``close`` destroys everything in order, so the process exits 0.
"""
from __future__ import annotations

import ctypes
import logging
import os
import tempfile
from contextlib import contextmanager
from typing import Any, Iterator

from engine.core.errors import StormError
from engine.xr.poses import EyeView, Fov, Pose, TrackingFrame, from_openxr_orientation, from_openxr_position

log = logging.getLogger("storm.xr")
NO_RUNTIME = ("no OpenXR runtime: the OpenXR loader found none to open{detail}. Install and start your headset's "
              "OpenXR runtime (SteamVR, Monado, ...) or point XR_RUNTIME_JSON at a runtime's manifest "
              "(openxr_*.json); to try VR without a headset, run with --xr simulated")
GL_SRGB8_ALPHA8, GL_RGBA8 = 0x8C43, 0x8058
FORMAT_PREFERENCE = (GL_SRGB8_ALPHA8, GL_RGBA8)
RUNNING_STATES = ("ready", "synchronized", "visible", "focused")


class XRError(StormError):
    """OpenXR could not start or went away; the message says what is missing and what to do."""


@contextmanager
def _loader_output_to_log() -> Iterator[None]:
    """The OpenXR loader prints its errors on stderr; keep them for the debug log instead, so a
    missing runtime gives one clear message."""
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read(8192).decode("utf-8", "replace").strip()
            if text:
                log.debug("OpenXR loader: %s", text)


def _state_name(state: Any) -> str:
    return str(getattr(state, "name", state)).lower()


class OpenXRBackend:
    """A real OpenXR session (see the module doc). ``start(base)`` after the App made its window."""

    name = "openxr"

    def __init__(self, reference: str = "standing", read_back: bool = False) -> None:
        self.reference = reference
        self.read_back = read_back
        self.state = "idle"
        self.history: list[str] = []        # the states the runtime announced, in order
        self.exited = False
        self.lost = False
        self.runtime_name = ""
        self.system_name = ""
        self.eye_size = (0, 0)
        self.swapchain_format = 0
        self.frames_submitted = 0
        self.readback: list[Any] = [None, None]
        self.instance = self.session = self.space = self.view_space = None
        self.swapchains: list[Any] = []
        self.images: list[Any] = []
        self.actions: Any = None
        self._frame_state: Any = None
        self._views: Any = None
        self._in_frame = False
        self._rendered = False
        self._egl = False
        self._gl: "_GL | None" = None

    # -- starting -------------------------------------------------------------------------------
    def start(self, base: Any) -> None:
        import xr

        from engine.xr.openxr_input import XRActions

        self._egl = "egl" in base.pipe.getType().getName().lower()
        self.instance = self._create_instance(xr)
        props = xr.get_instance_properties(self.instance)
        self.runtime_name = props.runtime_name.decode("utf-8", "replace")
        self.system = xr.get_system(self.instance, xr.SystemGetInfo(xr.FormFactor.HEAD_MOUNTED_DISPLAY))
        self.system_name = xr.get_system_properties(self.instance, self.system).system_name.decode("utf-8", "replace")
        views = xr.enumerate_view_configuration_views(self.instance, self.system, xr.ViewConfigurationType.PRIMARY_STEREO)
        self.eye_size = (views[0].recommended_image_rect_width, views[0].recommended_image_rect_height)
        self._graphics_requirements(xr)
        self.actions = XRActions(self.instance)
        self._binding = self._graphics_binding(xr)
        self.session = xr.create_session(self.instance, xr.SessionCreateInfo(
            system_id=self.system, next=ctypes.cast(ctypes.pointer(self._binding), ctypes.c_void_p)))
        offered = [int(v) for v in xr.enumerate_reference_spaces(self.session)]
        kind = xr.ReferenceSpaceType.STAGE if (self.reference == "standing" and
                                              int(xr.ReferenceSpaceType.STAGE) in offered) else xr.ReferenceSpaceType.LOCAL
        if kind == xr.ReferenceSpaceType.LOCAL and self.reference == "standing":
            self.reference = "seated"          # no stage: the local space is a seated one
        self.space = xr.create_reference_space(self.session, xr.ReferenceSpaceCreateInfo(kind))
        self.view_space = xr.create_reference_space(self.session, xr.ReferenceSpaceCreateInfo(xr.ReferenceSpaceType.VIEW))
        self.actions.attach(self.session)
        self._make_swapchains(xr)
        log.info("xr: %s, %s, eyes %dx%d", self.runtime_name, self.system_name, *self.eye_size)

    def _create_instance(self, xr: Any) -> Any:
        wanted = "XR_MNDX_egl_enable" if self._egl else xr.KHR_OPENGL_ENABLE_EXTENSION_NAME
        try:
            with _loader_output_to_log():
                offered = [e.extension_name.decode() if isinstance(e.extension_name, bytes) else e.extension_name
                           for e in xr.enumerate_instance_extension_properties()]
                if wanted not in offered:
                    if self._egl:
                        raise XRError("the OpenXR runtime cannot draw offscreen (it lacks XR_MNDX_egl_enable): "
                                      "run `vr` with a window (drop --offscreen), or use --xr simulated")
                    raise XRError("the OpenXR runtime offers no OpenGL binding (XR_KHR_opengl_enable), which "
                                  "Storm draws with; use --xr simulated")
                extensions = [wanted, xr.KHR_OPENGL_ENABLE_EXTENSION_NAME] if self._egl else [wanted]
                extensions = [e for e in dict.fromkeys(extensions) if e in offered]
                return xr.create_instance(xr.InstanceCreateInfo(
                    enabled_extension_names=extensions,
                    application_info=xr.ApplicationInfo("Storm", 1, "Storm", 1, xr.XR_CURRENT_API_VERSION)))
        except (xr.RuntimeUnavailableError, xr.RuntimeFailureError) as exc:
            where = os.environ.get("XR_RUNTIME_JSON")
            detail = f" (XR_RUNTIME_JSON is {where!r})" if where else " (XR_RUNTIME_JSON is not set)"
            raise XRError(NO_RUNTIME.format(detail=detail)) from exc
        except xr.FormFactorUnavailableError as exc:
            raise XRError("no headset: the OpenXR runtime has none connected; connect and switch it on, "
                          "or use --xr simulated") from exc

    def _graphics_requirements(self, xr: Any) -> None:
        name = "xrGetOpenGLGraphicsRequirementsKHR"
        pfn = ctypes.cast(xr.get_instance_proc_addr(self.instance, name), xr.PFN_xrGetOpenGLGraphicsRequirementsKHR)
        requirements = xr.GraphicsRequirementsOpenGLKHR()
        pfn(self.instance, self.system, ctypes.byref(requirements))   # required before xrCreateSession

    def _graphics_binding(self, xr: Any) -> Any:
        if self._egl:
            return _egl_binding(xr)
        from OpenGL import GLX

        return xr.GraphicsBindingOpenGLXlibKHR(x_display=GLX.glXGetCurrentDisplay(),
                                               glx_drawable=GLX.glXGetCurrentDrawable(),
                                               glx_context=GLX.glXGetCurrentContext())

    def _make_swapchains(self, xr: Any) -> None:
        offered = [int(f) for f in xr.enumerate_swapchain_formats(self.session)]
        chosen = next((f for f in FORMAT_PREFERENCE if f in offered), None)
        if chosen is None:
            raise XRError(f"the OpenXR runtime offers no 8-bit colour swapchain format (offered: "
                          f"{', '.join(hex(f) for f in offered)})")
        self.swapchain_format = chosen
        for _ in range(2):
            swapchain = xr.create_swapchain(self.session, xr.SwapchainCreateInfo(
                usage_flags=xr.SwapchainUsageFlags.COLOR_ATTACHMENT_BIT | xr.SwapchainUsageFlags.TRANSFER_DST_BIT,
                format=chosen, sample_count=1, width=self.eye_size[0], height=self.eye_size[1],
                face_count=1, array_size=1, mip_count=1))
            self.swapchains.append(swapchain)
            self.images.append(xr.enumerate_swapchain_images(swapchain, xr.SwapchainImageOpenGLKHR))

    # -- the state machine ----------------------------------------------------------------------
    def _enter(self, state: str) -> None:
        self.state = state
        self.history.append(state)
        log.info("xr: session %s", state)

    def poll(self) -> None:
        """Handle the runtime's events: state changes, instance loss."""
        import xr

        while self.instance is not None:
            try:
                event = xr.poll_event(self.instance)
            except xr.EventUnavailable:
                return
            kind = xr.StructureType(event.type)
            if kind == xr.StructureType.EVENT_DATA_SESSION_STATE_CHANGED:
                changed = ctypes.cast(ctypes.byref(event), ctypes.POINTER(xr.EventDataSessionStateChanged)).contents
                self._on_state(xr, _state_name(xr.SessionState(changed.state)))
            elif kind == xr.StructureType.EVENT_DATA_INSTANCE_LOSS_PENDING:
                log.warning("xr: the runtime is going away; leaving VR")
                self.lost = self.exited = True
            elif kind == xr.StructureType.EVENT_DATA_EVENTS_LOST:
                log.warning("xr: the runtime dropped events")

    def _on_state(self, xr: Any, state: str) -> None:
        self._enter(state)
        if state == "ready":
            xr.begin_session(self.session, xr.SessionBeginInfo(xr.ViewConfigurationType.PRIMARY_STEREO))
        elif state == "stopping":
            xr.end_session(self.session)
        elif state == "loss_pending":
            log.warning("xr: session lost (headset removed or runtime gone); leaving VR")
            self.lost = self.exited = True
        elif state == "exiting":
            self.exited = True

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    def request_exit(self) -> None:
        """Ask the runtime to stop the session (it then goes stopping, idle, exiting)."""
        import xr

        if self.running and self.session is not None:
            xr.request_exit_session(self.session)
        elif not self.running:
            self.exited = True

    # -- the frame loop -------------------------------------------------------------------------
    def begin_frame(self) -> TrackingFrame | None:
        """Wait for and begin the runtime's next frame; the poses to draw it with, or None when this
        frame is not to be drawn (not running yet, or the runtime says it will not be shown)."""
        import xr

        if not self.running:
            return None
        self._frame_state = xr.wait_frame(self.session, xr.FrameWaitInfo())
        xr.begin_frame(self.session, xr.FrameBeginInfo())
        self._in_frame, self._rendered = True, False
        if not self._frame_state.should_render:
            return None
        time = self._frame_state.predicted_display_time
        _, self._views = xr.locate_views(self.session, xr.ViewLocateInfo(
            xr.ViewConfigurationType.PRIMARY_STEREO, time, self.space))
        eyes = tuple(EyeView(_pose(v.pose), Fov(v.fov.angle_left, v.fov.angle_right, v.fov.angle_up, v.fov.angle_down))
                     for v in self._views)
        from engine.xr.openxr_input import pose_from

        head = pose_from(xr.locate_space(self.view_space, self.space, time)) or eyes[0].pose
        focused = self.actions.sync()
        controls = self.actions.controls() if focused else {}
        grips, aims = self.actions.poses(self.space, time)
        self._rendered = True
        return TrackingFrame(head, (eyes[0], eyes[1]), grips, aims, controls, time / 1e9)

    def submit_eyes(self, textures: list[Any], gsg: Any) -> None:
        """Copy both eye textures into the swapchain images; call with Panda3D's GL context
        current (from a draw callback), after the eyes were drawn."""
        import xr

        if not (self._in_frame and self._rendered):
            return
        gl = self._gl = self._gl or _GL(self._egl)
        width, height = self.eye_size
        for index, (swapchain, texture) in enumerate(zip(self.swapchains, textures)):
            source = texture.prepareNow(0, gsg.getPreparedObjects(), gsg).getNativeId()
            slot = xr.acquire_swapchain_image(swapchain, xr.SwapchainImageAcquireInfo())
            xr.wait_swapchain_image(swapchain, xr.SwapchainImageWaitInfo(xr.INFINITE_DURATION))
            target = self.images[index][slot].image
            gl.copy(source, target, width, height)
            if self.read_back:
                self.readback[index] = gl.read(target, width, height)
            xr.release_swapchain_image(swapchain, xr.SwapchainImageReleaseInfo())

    def end_frame(self) -> None:
        """End the frame begun by ``begin_frame``: with both eyes as a projection layer when drawn."""
        import xr

        if not self._in_frame:
            return
        self._in_frame = False
        layers = []
        if self._rendered and self._views is not None:
            width, height = self.eye_size
            views = [xr.CompositionLayerProjectionView(
                pose=view.pose, fov=view.fov,
                sub_image=xr.SwapchainSubImage(swapchain, xr.Rect2Di(extent=xr.Extent2Di(width, height))))
                for view, swapchain in zip(self._views, self.swapchains)]
            self._layer = xr.CompositionLayerProjection(space=self.space, views=views)
            layers = [ctypes.byref(self._layer)]
            self.frames_submitted += 1
        xr.end_frame(self.session, xr.FrameEndInfo(self._frame_state.predicted_display_time,
                                                   xr.EnvironmentBlendMode.OPAQUE, layers=layers))

    def haptic(self, hand: str, amplitude: float = 0.5, seconds: float = 0.05) -> None:
        if self.actions is not None:
            self.actions.haptic(hand, amplitude, seconds)

    # -- closing --------------------------------------------------------------------------------
    def close(self) -> None:
        """Destroy swapchains, spaces, actions, session and instance, in that order (idempotent;
        after a failure each step is tried and what fails is logged)."""
        import xr

        try:
            self._destroy(xr)
        except xr.XrException as exc:
            log.warning("xr: while closing: %s", exc)
            self.swapchains, self.actions, self.space, self.view_space = [], None, None, None
            self.session, self.instance = None, None

    def _destroy(self, xr: Any) -> None:
        for swapchain in self.swapchains:
            xr.destroy_swapchain(swapchain)
        self.swapchains.clear()
        if self.actions is not None:
            self.actions.destroy()
            self.actions = None
        for name in ("view_space", "space"):
            space = getattr(self, name)
            if space is not None:
                xr.destroy_space(space)
                setattr(self, name, None)
        if self.session is not None:
            xr.destroy_session(self.session)
            self.session = None
        if self.instance is not None:
            xr.destroy_instance(self.instance)
            self.instance = None


class _GL:
    """The few GL calls the swapchain copy needs, looked up through the context's own loader
    (glXGetProcAddress or eglGetProcAddress), so they work for GLX and EGL contexts alike."""

    TEXTURE_2D, RGBA, UNSIGNED_BYTE = 0x0DE1, 0x1908, 0x1401

    def __init__(self, egl: bool) -> None:
        if egl:
            lookup = ctypes.CDLL("libEGL.so.1").eglGetProcAddress
        else:
            lookup = ctypes.CDLL("libGL.so.1").glXGetProcAddressARB
        lookup.restype, lookup.argtypes = ctypes.c_void_p, [ctypes.c_char_p]

        def find(name: str, *args: Any) -> Any:
            address = lookup(name.encode())
            if not address:
                raise XRError(f"the OpenGL driver has no {name} (OpenGL 4.3 is needed to hand eyes to the runtime)")
            return ctypes.CFUNCTYPE(None, *args)(address)

        u, i = ctypes.c_uint, ctypes.c_int
        self._copy = find("glCopyImageSubData", u, u, i, i, i, i, u, u, i, i, i, i, i, i, i)
        self._bind = find("glBindTexture", u, u)
        self._get = find("glGetTexImage", u, i, u, u, ctypes.c_void_p)

    def copy(self, source: int, target: int, width: int, height: int) -> None:
        self._copy(source, self.TEXTURE_2D, 0, 0, 0, 0, target, self.TEXTURE_2D, 0, 0, 0, 0, width, height, 1)

    def read(self, texture: int, width: int, height: int) -> Any:
        """A texture's pixels, top row first (tests read swapchain images back with it)."""
        import numpy

        pixels = numpy.empty((height, width, 4), numpy.uint8)
        self._bind(self.TEXTURE_2D, texture)
        self._get(self.TEXTURE_2D, 0, self.RGBA, self.UNSIGNED_BYTE, pixels.ctypes.data)
        self._bind(self.TEXTURE_2D, 0)
        return pixels[::-1].copy()


def _pose(pose: Any) -> Pose:
    p, q = pose.position, pose.orientation
    return Pose(from_openxr_position(p.x, p.y, p.z), from_openxr_orientation(q.x, q.y, q.z, q.w))


def _egl_binding(xr: Any) -> Any:
    """The EGL binding (XR_MNDX_egl_enable) for the context Panda3D made current (plain ctypes:
    pyopenxr pins PyOpenGL to its GLX platform)."""
    egl = ctypes.CDLL("libEGL.so.1")
    egl.eglGetCurrentDisplay.restype = egl.eglGetCurrentContext.restype = ctypes.c_void_p
    egl.eglQueryContext.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    egl.eglChooseConfig.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_void_p),
                                    ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    display, context = egl.eglGetCurrentDisplay(), egl.eglGetCurrentContext()
    if not display or not context:
        raise XRError("no current EGL context to give the OpenXR runtime; run `vr` with a window instead")
    config_id, config, count = ctypes.c_int(0), ctypes.c_void_p(), ctypes.c_int(0)
    egl.eglQueryContext(display, context, 0x3028, ctypes.byref(config_id))          # EGL_CONFIG_ID
    wanted = (ctypes.c_int * 3)(0x3028, config_id.value, 0x3038)                    # ..., EGL_NONE
    egl.eglChooseConfig(display, wanted, ctypes.byref(config), 1, ctypes.byref(count))
    fields = dict(xr.GraphicsBindingEGLMNDX._fields_)
    get_proc = fields["get_proc_address"](ctypes.cast(egl.eglGetProcAddress, ctypes.c_void_p).value)
    binding = xr.GraphicsBindingEGLMNDX(get_proc_address=get_proc)
    binding.display = ctypes.cast(ctypes.c_void_p(display), fields["display"])
    binding.config = ctypes.cast(config, fields["config"])
    binding.context = ctypes.cast(ctypes.c_void_p(context), fields["context"])
    return binding
