"""The sound synthesis tool and the sounds it shipped in the base pack."""
from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from engine.audio import probe_sound
from engine.packs.content import default_content
from tools.assets import synth_sounds

SHIPPED = synth_sounds.DEFAULT_OUT


def read_wav(path: Path) -> tuple[np.ndarray, int, int, int]:
    with wave.open(str(path), "rb") as reader:
        frames = reader.readframes(reader.getnframes())
        return (np.frombuffer(frames, "<i2").astype(np.float64) / 32768.0, reader.getframerate(),
                reader.getnchannels(), reader.getsampwidth())


def test_the_same_seed_writes_the_same_bytes_and_reports_progress(tmp_path: Path) -> None:
    progress = io.StringIO()
    first = synth_sounds.write_all(tmp_path / "a", progress=progress)
    second = synth_sounds.write_all(tmp_path / "b", progress=None)
    assert [p.name for p in first] == [f"{name}.wav" for name in synth_sounds.SOUNDS]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second))
    other = synth_sounds.write_all(tmp_path / "c", seed=8, names=["impact"], progress=None)
    assert other[0].read_bytes() != first[0].read_bytes()
    lines = progress.getvalue().splitlines()
    assert len(lines) == len(first) and lines[0].startswith("[1/5] impact.wav")


@pytest.mark.parametrize("name", list(synth_sounds.SOUNDS))
def test_each_shipped_sound_decodes_and_is_a_usable_mono_clip(name: str) -> None:
    info = probe_sound(default_content(), f"base:sounds/{name}.wav")
    samples, rate, channels, width = read_wav(info.path)
    fresh, fresh_rate = synth_sounds.synthesize(name)
    assert (channels, width, rate) == (1, 2, fresh_rate)  # mono 16-bit: positionable in 3D
    assert len(samples) == len(fresh)
    assert info.duration == pytest.approx(len(samples) / rate, abs=1e-3)
    peak = np.max(np.abs(samples))
    assert 0.5 < peak < 0.95  # loud enough, never clipped
    assert np.sqrt(np.mean(samples ** 2)) > 0.02


def test_the_music_bed_loops_without_a_click_and_one_shots_end_in_silence() -> None:
    loop, _, _, _ = read_wav(SHIPPED / "ambient_loop.wav")
    steps = np.abs(np.diff(loop))
    assert abs(loop[0] - loop[-1]) <= np.percentile(steps, 99.9)
    for name in ("impact", "footstep", "door_open", "click"):
        clip, _, _, _ = read_wav(SHIPPED / f"{name}.wav")
        assert abs(clip[-1]) < 1e-3


def test_the_shipped_sounds_stay_small() -> None:
    total = sum(path.stat().st_size for path in SHIPPED.glob("*.wav"))
    assert total < 1.5 * 1024 * 1024
