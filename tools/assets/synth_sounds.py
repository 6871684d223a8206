"""Synthesizes the base pack's sounds with numpy and writes them as 16-bit PCM WAV files.

Nothing is downloaded or recorded: every sound is built from sines and seeded noise, so the
same seed writes the same files.

    python -m tools.assets.synth_sounds                 # all sounds into content/base/sounds
    python -m tools.assets.synth_sounds --out /tmp/snd --only impact click
    python -m tools.assets.synth_sounds --out content/village/sounds --only chime   # the example mod's
"""
from __future__ import annotations

import argparse
import sys
import wave
from pathlib import Path
from typing import Callable, TextIO

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "content" / "base" / "sounds"
DEFAULT_SEED = 7
RATE = 44100
LOOP_RATE = 22050
PEAK = 0.89

Sound = tuple[np.ndarray, int]


def _time(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.arange(int(round(seconds * rate))) / rate


def _shaped_noise(rng: np.random.Generator, n: int, rate: int, low: float, high: float, slope: float = 0.0) -> np.ndarray:
    """White noise band-limited to [low, high] Hz with a soft edge, tilted by ``slope`` dB/octave.

    Filtering in the frequency domain is circular, so noise of a loop's length loops seamlessly.
    """
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    safe = np.maximum(freqs, 1.0)
    gain = 1.0 / (1.0 + (low / safe) ** 4) / (1.0 + (safe / high) ** 4)
    gain *= (safe / 1000.0) ** (slope / 6.02)
    out = np.fft.irfft(spectrum * gain, n)
    return out / (np.max(np.abs(out)) + 1e-12)


def _modes(t: np.ndarray, modes: list[tuple[float, float, float]], glide: float = 0.0) -> np.ndarray:
    """Damped sines (frequency Hz, decay seconds, amplitude); ``glide`` bends pitch down early on."""
    out = np.zeros_like(t)
    for freq, decay, amp in modes:
        bend = 1.0 + glide * np.exp(-t / 0.03)
        phase = 2 * np.pi * np.cumsum(freq * bend) / RATE
        out += amp * np.exp(-t / decay) * np.sin(phase)
    return out


def _fade(x: np.ndarray, rate: int, fade_in: float = 0.0005, fade_out: float = 0.01) -> np.ndarray:
    n_in, n_out = max(1, int(fade_in * rate)), max(1, int(fade_out * rate))
    x = x.copy()
    x[:n_in] *= np.linspace(0.0, 1.0, n_in)
    x[-n_out:] *= np.linspace(1.0, 0.0, n_out)
    return x


def impact(rng: np.random.Generator) -> Sound:
    """A crate hitting the floor: a hollow wooden thud with a short knock on top."""
    t = _time(0.5)
    body = _modes(t, [(92.0, 0.16, 1.0), (171.0, 0.09, 0.55), (297.0, 0.055, 0.35), (523.0, 0.03, 0.25),
                      (811.0, 0.018, 0.12)], glide=0.25)
    knock = _shaped_noise(rng, len(t), RATE, 300.0, 3500.0) * np.exp(-t / 0.008)
    return _fade(body + 0.6 * knock, RATE), RATE


def footstep(rng: np.random.Generator) -> Sound:
    """A boot on gravel: a dull heel strike, then a scuffing toe."""
    t = _time(0.28)
    heel = _shaped_noise(rng, len(t), RATE, 60.0, 900.0) * np.exp(-t / 0.025)
    heel += 0.6 * _modes(t, [(68.0, 0.04, 1.0), (140.0, 0.02, 0.4)])
    toe_t = np.maximum(t - 0.07, 0.0)
    toe = _shaped_noise(rng, len(t), RATE, 900.0, 5000.0) * np.exp(-toe_t / 0.035) * (t >= 0.07)
    toe *= np.minimum(1.0, toe_t / 0.004)
    return _fade(heel + 0.45 * toe, RATE), RATE


def door_open(rng: np.random.Generator) -> Sound:
    """A wooden door: the latch clicks, the hinge creaks (stick-slip pulses), air moves."""
    t = _time(1.4)
    n = len(t)
    # The hinge's stick-slip rate wanders slowly: a smoothed random walk around 110 Hz.
    walk = np.cumsum(rng.standard_normal(n)) / np.sqrt(RATE)
    kernel = np.hanning(int(0.08 * RATE))
    walk = np.convolve(walk, kernel / kernel.sum(), mode="same")
    rate_hz = 120.0 + 35.0 * np.sin(2 * np.pi * 0.6 * t + 0.5) + 30.0 * walk
    rate_hz = np.clip(rate_hz, 60.0, 220.0)
    phase = np.cumsum(rate_hz) / RATE
    pulses = np.diff(np.floor(phase), prepend=0.0) * (0.7 + 0.3 * rng.random(n))
    ir_t = _time(0.03)
    wood = _modes(ir_t, [(640.0, 0.006, 1.0), (1430.0, 0.004, 0.6), (2270.0, 0.003, 0.35)])
    creak = np.convolve(pulses, wood)[:n]
    swell = np.clip((t - 0.12) / 0.2, 0.0, 1.0) * np.clip((1.25 - t) / 0.35, 0.0, 1.0)
    latch_t = t - 0.02
    latch = _modes(np.maximum(latch_t, 0.0), [(2900.0, 0.006, 1.0), (4100.0, 0.004, 0.5)]) * (latch_t >= 0)
    air = _shaped_noise(rng, n, RATE, 80.0, 700.0) * np.sin(np.pi * np.clip(t / 1.4, 0.0, 1.0)) ** 2
    creak = creak / (np.max(np.abs(creak)) + 1e-12)
    return _fade(0.8 * creak * swell + 0.5 * latch + 0.25 * air, RATE, fade_out=0.05), RATE


def ambient_loop(rng: np.random.Generator) -> Sound:
    """An 8-second music bed that loops without a seam: A minor and F major pads over soft wind.

    Every partial completes a whole number of cycles in the loop and the noise is filtered
    circularly, so the last sample runs straight into the first.
    """
    length = 8.0
    n = int(length * LOOP_RATE)
    t = np.arange(n) / LOOP_RATE

    def partial(freq: float) -> np.ndarray:
        snapped = round(freq * length) / length
        return np.sin(2 * np.pi * snapped * t + rng.uniform(0, 2 * np.pi))

    def pad(notes: list[float]) -> np.ndarray:
        out = np.zeros(n)
        for note in notes:
            for harmonic, amp in ((1, 1.0), (2, 0.35), (3, 0.15)):
                out += amp * (partial(note * harmonic) + partial(note * harmonic + 0.25)) / (1 + harmonic)
        return out

    a_minor = pad([110.0, 130.81, 164.81, 220.0])
    f_major = pad([87.31, 110.0, 130.81, 174.61])
    blend = 0.5 + 0.5 * np.cos(2 * np.pi * t / length)
    breath = 0.8 + 0.2 * np.cos(2 * np.pi * 4 * t / length)
    wind = _shaped_noise(rng, n, LOOP_RATE, 150.0, 1800.0, slope=-3.0)
    bed = breath * (blend * a_minor + (1 - blend) * f_major)
    bed = bed / np.max(np.abs(bed))
    return 0.85 * bed + 0.12 * wind, LOOP_RATE


def click(rng: np.random.Generator) -> Sound:
    """A UI button click: a tick of noise and a short bright ping."""
    t = _time(0.045)
    tick = _shaped_noise(rng, len(t), RATE, 2000.0, 9000.0) * np.exp(-t / 0.0015)
    ping = _modes(t, [(2600.0, 0.009, 1.0), (5200.0, 0.004, 0.3)])
    return _fade(0.7 * tick + ping, RATE, fade_out=0.005), RATE


def chime(rng: np.random.Generator) -> Sound:
    """A small bell, for the example mod (content/village): inharmonic partials ringing out."""
    t = _time(1.6)
    strike = _shaped_noise(rng, len(t), RATE, 3000.0, 8000.0) * np.exp(-t / 0.002)
    ring = _modes(t, [(880.0, 0.9, 1.0), (2390.0, 0.5, 0.45), (4680.0, 0.25, 0.2), (1320.0, 0.6, 0.3)])
    return _fade(0.2 * strike + ring, RATE, fade_out=0.05), RATE


SOUNDS: dict[str, Callable[[np.random.Generator], Sound]] = {
    "impact": impact,
    "footstep": footstep,
    "door_open": door_open,
    "ambient_loop": ambient_loop,
    "click": click,
}
EXAMPLE_MOD_SOUNDS: dict[str, Callable[[np.random.Generator], Sound]] = {"chime": chime}  # content/village/sounds
ALL_SOUNDS = {**SOUNDS, **EXAMPLE_MOD_SOUNDS}


def synthesize(name: str, seed: int = DEFAULT_SEED) -> Sound:
    """The samples (floats in [-PEAK, PEAK]) and sample rate of one named sound."""
    index = list(ALL_SOUNDS).index(name)
    samples, rate = ALL_SOUNDS[name](np.random.default_rng([seed, index]))
    samples = samples * (PEAK / (np.max(np.abs(samples)) + 1e-12))
    return samples, rate


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """Write mono 16-bit PCM."""
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm.tobytes())


def write_all(out_dir: Path, seed: int = DEFAULT_SEED, names: list[str] | None = None,
              progress: TextIO | None = sys.stderr) -> list[Path]:
    """Synthesize and write the named sounds (all by default); returns the files written."""
    chosen = names or list(SOUNDS)
    written: list[Path] = []
    for number, name in enumerate(chosen, 1):
        samples, rate = synthesize(name, seed)
        path = out_dir / f"{name}.wav"
        write_wav(path, samples, rate)
        written.append(path)
        if progress is not None:
            print(f"[{number}/{len(chosen)}] {path.name}: {len(samples) / rate:.2f} s at {rate} Hz, "
                  f"{path.stat().st_size / 1024:.1f} KiB", file=progress, flush=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write into")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="noise seed")
    parser.add_argument("--only", nargs="+", choices=list(ALL_SOUNDS),
                        help="write only these sounds (chime: the example mod's, --out content/village/sounds)")
    args = parser.parse_args(argv)
    written = write_all(args.out, args.seed, args.only)
    total = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} sounds, {total / 1024:.1f} KiB, into {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
