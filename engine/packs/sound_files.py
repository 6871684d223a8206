"""Finding and checking sound files: an asset id read through the content registry, handed to
Panda3D in memory (``panda_files``: the audio decoders open files only by name), then opened
with the decoder the audio manager itself will use (Panda3D's MovieAudio), so a file that would
not play is caught here, whichever audio device is in use."""
from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

from panda3d.core import Datagram, Filename, MovieAudio

from engine.core.errors import DataError
from engine.packs.content import ContentRegistry, parse_asset_id
from engine.packs.panda_files import panda_files

SOUND_SUFFIXES = (".wav", ".ogg", ".oga", ".flac", ".opus")
_PROBE_SAMPLES = 1024


class SoundFileError(Exception):
    """A sound asset that cannot be played: the message says which file and why."""


@dataclass(frozen=True)
class SoundInfo:
    """What decoding the start of a sound file told us."""

    asset_id: str
    path: Path  # the file as messages name it (a real path only in a folder pack)
    duration: float
    rate: int
    channels: int
    filename: str = ""  # the name Panda3D opens it by (in Storm's in-memory mount)


def probe_sound(content: ContentRegistry, asset_id: str) -> SoundInfo:
    """Resolve ``asset_id`` and decode its first samples; raises SoundFileError saying why not."""
    try:
        pack, rel = parse_asset_id(asset_id)
    except ValueError as exc:
        raise SoundFileError(str(exc)) from None
    if not content.has_pack(pack):
        raise SoundFileError(f"no enabled pack named {pack!r}")
    path = content.resolve(asset_id)
    if path is None:
        raise SoundFileError(f"pack {pack!r} has no file {rel!r}")
    if not rel.lower().endswith(SOUND_SUFFIXES):
        raise SoundFileError(f"{path} is not a sound file ({', '.join(SOUND_SUFFIXES)})")
    try:
        filename = panda_files().publish(content, asset_id)
    except (DataError, OSError) as exc:
        raise SoundFileError(str(exc)) from None
    movie = MovieAudio.get(Filename(filename))  # keep: the cursor needs it alive
    cursor = movie.open()
    if cursor is None:
        raise SoundFileError(f"{path} does not decode: {_why_not(content, asset_id, path)}")
    rate, channels = cursor.audioRate(), cursor.audioChannels()
    if rate <= 0 or channels <= 0:
        raise SoundFileError(f"{path} does not decode: {rate} Hz, {channels} channels")
    samples = Datagram()
    cursor.readSamples(_PROBE_SAMPLES, samples)  # skipSamples crashes on WAV in Panda3D 1.10.16
    if cursor.aborted() or samples.getLength() == 0:
        raise SoundFileError(f"{path} does not decode: its sample data is cut short or damaged")
    return SoundInfo(asset_id, path, max(0.0, float(cursor.length())), rate, channels, filename)


def sound_problem(content: ContentRegistry, asset_id: str) -> str | None:
    """Why a sound asset cannot play, or None when it can (for validators and the editor)."""
    try:
        probe_sound(content, asset_id)
    except SoundFileError as exc:
        return str(exc)
    return None


def _why_not(content: ContentRegistry, asset_id: str, path: Path) -> str:
    """A reason a person can act on; Python's wave module words WAV problems well."""
    try:
        data = content.read(asset_id)
    except DataError as exc:
        return f"cannot be read ({exc})"
    if path.suffix.lower() == ".wav":
        try:
            with wave.open(io.BytesIO(data), "rb") as reader:
                reader.getnframes()
        except (wave.Error, EOFError) as exc:
            return f"not a PCM WAV file ({str(exc) or 'the file ends early'})"
        return "a WAV file the decoder does not support (use 8-, 16-, 24- or 32-bit PCM)"
    if path.suffix.lower() in (".ogg", ".oga", ".opus") and data[:4] != b"OggS":
        return "not an Ogg file (no 'OggS' header)"
    return f"the decoder cannot read it as {path.suffix.lower()} audio (damaged or a different format)"
