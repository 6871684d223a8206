"""What clicking an asset in the browser shows or plays: a sound plays through the engine's audio
device (OpenAL, or the null device that records what would have played when the editor runs
without sound), one at a time; an image is decoded through the content registry (its pixel
budget holds) and shown scaled into a fixed square preview texture. A file that does not play or
decode says why in the preview's text and in the console, never more.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
from panda3d.core import PNMImage, Texture

from engine.audio.device import AudioDevice, PlayRequest, Voice, open_device
from engine.packs.images import ImageFileError, read_image
from engine.packs.sound_files import SoundFileError, probe_sound

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry

log = logging.getLogger("storm.editor")
PREVIEW_SIZE = 160


class SoundPreview:
    """Plays one sound asset at a time on the editor's own audio device (opened on first use)."""

    def __init__(self, content: "ContentRegistry", device_kind: str = "openal") -> None:
        self.content = content
        self.device_kind = device_kind
        self.device: AudioDevice | None = None
        self._voice: Voice | None = None
        self.played: list[str] = []  # asset ids played, oldest first (the newest 64)

    def play(self, asset_id: str) -> str:
        """Start ``asset_id`` (stopping the one playing); returns what to show: its length, or why not."""
        self.stop()
        try:
            info = probe_sound(self.content, asset_id)
        except SoundFileError as exc:
            log.warning("cannot play %s: %s", asset_id, exc)
            return f"cannot play: {exc}"
        if self.device is None:
            self.device = open_device(self.device_kind)
        try:
            voice = self.device.load(info, spatial=False, stream=info.duration > 20.0)
        except RuntimeError as exc:
            log.warning("cannot play %s: %s", asset_id, exc)
            return f"cannot play: {exc}"
        voice.play(PlayRequest(tick=0, time=0.0, entity=0, sound=asset_id, volume=1.0, pitch=1.0, loop=False,
                               spatial=False, stream=False, position=(0.0, 0.0, 0.0), velocity=(0.0, 0.0, 0.0),
                               min_distance=1.0, max_distance=100.0, cause="script"))
        self._voice = voice
        self.played = (self.played + [asset_id])[-64:]
        return f"playing: {info.duration:.2f} s, {info.rate} Hz, {info.channels} channel(s)"

    def stop(self) -> None:
        if self._voice is not None:
            self._voice.release()
            self._voice = None

    def close(self) -> None:
        self.stop()
        if self.device is not None:
            self.device.close()
            self.device = None


def image_pixels(content: "ContentRegistry", asset_id: str, size: int = PREVIEW_SIZE) -> tuple[Any, str]:
    """The image scaled to fit a ``size`` square, centred on a dark tile, as float32 RGBA (top
    row first, what a Dear PyGui texture reads), and a line describing it. Raises ImageFileError."""
    image = read_image(content, asset_id)
    width, height = image.getXSize(), image.getYSize()
    scale = min(size / width, size / height)
    fit_w, fit_h = max(1, int(width * scale)), max(1, int(height * scale))
    small = PNMImage(fit_w, fit_h, 4)
    small.fill(0, 0, 0)
    small.alphaFill(1)
    small.quickFilterFrom(image)
    if not image.hasAlpha():
        small.alphaFill(1)
    texture = Texture("preview")
    texture.load(small)
    raw = np.frombuffer(bytes(texture.getRamImageAs("RGBA")), np.uint8).reshape(fit_h, fit_w, 4)[::-1]
    tile = np.zeros((size, size, 4), np.float32)
    tile[..., :3] = 0.12
    tile[..., 3] = 1.0
    top, left = (size - fit_h) // 2, (size - fit_w) // 2
    tile[top:top + fit_h, left:left + fit_w] = raw.astype(np.float32) / 255.0
    return tile.ravel(), f"{width} x {height} pixels, {image.getNumChannels()} channel(s)"


__all__ = ["ImageFileError", "PREVIEW_SIZE", "SoundPreview", "image_pixels"]
