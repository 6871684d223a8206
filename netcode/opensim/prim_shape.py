"""A prim's shape: the path and profile parameters an object update carries, as the protocol
quantises them, and what they mean in the units Second Life viewers build prims in.

``PrimShape`` keeps the raw integers (the order of ObjectUpdateCompressed's shape block), with
the values that change nothing for its path dropped, so prims that look alike share one key
(``key``: 46 hex digits, the asset path of their mesh). ``PrimShape.params`` decodes them
(OpenSimulator's ``Meshmerizer`` and the viewer's ``LLVolumeParams`` use the same scales) and
clamps each to the range a viewer accepts: a begin past its end, a hollow of 100%, 255
revolutions or an unknown curve are clamped or drawn as the nearest known shape, logged once.
"""
from __future__ import annotations

import logging
import math
import struct
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netcode.opensim.objects import ObjectState

log = logging.getLogger("storm.opensim")

PATH_LINE, PATH_CIRCLE, PATH_CIRCLE2, PATH_FLEXIBLE = 0x10, 0x20, 0x30, 0x80
CIRCLE, SQUARE, ISO_TRIANGLE, EQUAL_TRIANGLE, RIGHT_TRIANGLE, HALF_CIRCLE = 0, 1, 2, 3, 4, 5
HOLE_SAME, HOLE_CIRCLE, HOLE_SQUARE, HOLE_TRIANGLE = 0x00, 0x10, 0x20, 0x30
CUT_QUANTUM = 2.0e-5                   # begin, end and hollow: 50,000 steps
MAX_HOLLOW = 0.95
MIN_CUT_SPAN = 0.02
_PACKED = struct.Struct("<BBHHBBbbbbbbbBbHHH")
_KEYS = ("PathBegin", "PathEnd", "PathScaleX", "PathScaleY", "PathShearX", "PathShearY", "PathTwist",
         "PathTwistBegin", "PathRadiusOffset", "PathTaperX", "PathTaperY", "PathRevolutions", "PathSkew",
         "ProfileBegin", "ProfileEnd", "ProfileHollow")
_warned: set[str] = set()


def _warn_once(kind: str, what: str) -> None:
    """Log the first shape of each kind of out-of-range value (the others are clamped quietly)."""
    if kind not in _warned:
        _warned.add(kind)
        log.warning("opensim: prim shape: %s (drawn clamped; said once a visit for each kind)", what)


def _signed(value: int) -> int:
    value = int(value) & 0xFF
    return value - 256 if value > 127 else value


@dataclass(frozen=True)
class PrimShape:
    """Path and profile parameters of a prim, quantised as the protocol sends them."""

    path_curve: int = PATH_LINE
    profile_curve: int = SQUARE
    path_begin: int = 0            # U16, begin = value * 2e-5
    path_end: int = 0              # U16, end = 1 - value * 2e-5
    path_scale_x: int = 100        # U8: line paths' top size (200 - v) / 100, circle paths' hole size
    path_scale_y: int = 100
    path_shear_x: int = 0          # signed, value / 100
    path_shear_y: int = 0
    path_twist: int = 0            # signed: line paths 1.8 degrees a step, circle paths 3.6
    path_twist_begin: int = 0
    path_radius_offset: int = 0    # signed, value / 100 (circle paths)
    path_taper_x: int = 0          # signed, value / 100 (circle paths)
    path_taper_y: int = 0
    path_revolutions: int = 0      # U8, revolutions = 1 + value * 0.015 (circle paths)
    path_skew: int = 0             # signed, value / 100 (circle paths)
    profile_begin: int = 0         # U16, begin = value * 2e-5
    profile_end: int = 0           # U16, end = 1 - value * 2e-5
    profile_hollow: int = 0        # U16, hollow = value * 2e-5

    @classmethod
    def of(cls, state: "ObjectState") -> "PrimShape":
        """The shape of an object update (missing values are the defaults)."""
        raw = state.shape
        values = [int(raw.get(k, d)) for k, d in zip(_KEYS, (0, 0, 100, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))]
        return cls.make(state.path_curve, state.profile_curve, *values)

    @classmethod
    def make(cls, path_curve: int, profile_curve: int, *values: int) -> "PrimShape":
        """A shape from the raw values in PrimShape's field order, each brought into its type's
        range (bytes wrap as the wire would carry them), and values the path does not use zeroed."""
        v = list(values) + [0] * (16 - len(values))
        v[0], v[1] = (int(x) & 0xFFFF for x in v[0:2])
        v[2], v[3] = (int(x) & 0xFF for x in v[2:4])
        v[4:11] = [_signed(x) for x in v[4:11]]
        v[11] = int(v[11]) & 0xFF
        v[12] = _signed(v[12])
        v[13:16] = [int(x) & 0xFFFF for x in v[13:16]]
        path, profile = int(path_curve) & 0xFF, int(profile_curve) & 0xFF
        if path not in (PATH_CIRCLE, PATH_CIRCLE2):
            v[8:13] = [0, 0, 0, 0, 0]          # radius offset, taper, revolutions, skew: circle paths only
        if v[15] == 0:
            profile &= 0x0F                    # the hole's shape matters only with a hollow
        return cls(path, profile, *v)

    @classmethod
    def from_key(cls, key: str) -> "PrimShape":
        """The shape a ``key`` names; raises ValueError for anything else."""
        if len(key) != _PACKED.size * 2:
            raise ValueError(f"a prim shape key is {_PACKED.size * 2} hex digits, got {len(key)} characters")
        try:
            raw = bytes.fromhex(key)
        except ValueError:
            raise ValueError("a prim shape key is hex digits") from None
        values = _PACKED.unpack(raw)
        shape = cls(*values)
        if shape != cls.make(*values):
            raise ValueError("not a prim shape key Storm makes (values a path does not use are zero)")
        return shape

    def key(self) -> str:
        return _PACKED.pack(*(getattr(self, f.name) for f in fields(self))).hex()

    @property
    def circular(self) -> bool:
        return self.path_curve in (PATH_CIRCLE, PATH_CIRCLE2)

    @property
    def profile(self) -> int:
        return self.profile_curve & 0x0F

    @property
    def hole(self) -> int:
        return self.profile_curve & 0xF0

    def name(self) -> str:
        """A short name as Second Life's build tool calls the shape, with "hollow" and "cut"."""
        profile = self.profile
        if self.circular:
            base = {CIRCLE: "torus", SQUARE: "tube", HALF_CIRCLE: "sphere"}.get(profile, "ring")
        else:
            base = {CIRCLE: "cylinder", SQUARE: "box", HALF_CIRCLE: "half cylinder"}.get(profile, "prism")
        if profile > HALF_CIRCLE:
            base = "tube" if self.circular else "box"
        words = [base]
        if self.profile_hollow:
            words.append("hollow")
        if self.profile_begin or self.profile_end or self.path_begin or self.path_end:
            words.append("cut")
        return " ".join(words)

    def params(self) -> "ShapeParams":
        """The parameters in a viewer's units, clamped (each clamp logged once)."""
        return ShapeParams.of(self)


@dataclass(frozen=True)
class ShapeParams:
    """A prim's shape in a viewer's units: cuts as fractions, angles in radians."""

    circular: bool
    profile: int                    # CIRCLE, SQUARE, EQUAL_TRIANGLE (every triangle) or HALF_CIRCLE
    hole: int                       # HOLE_SAME, HOLE_CIRCLE, HOLE_SQUARE or HOLE_TRIANGLE
    profile_begin: float
    profile_end: float
    hollow: float
    path_begin: float
    path_end: float
    taper: tuple[float, float]      # line paths: 1 - top size; circle paths: the taper
    hole_size: tuple[float, float]  # circle paths
    shear: tuple[float, float]
    twist_begin: float
    twist_end: float
    radius_offset: float
    revolutions: float
    skew: float

    @classmethod
    def of(cls, shape: PrimShape) -> "ShapeParams":
        profile = shape.profile
        if profile > HALF_CIRCLE:
            _warn_once("profile", f"profile curve {profile} is not one Second Life defines (a square is drawn)")
            profile = SQUARE
        elif profile in (ISO_TRIANGLE, RIGHT_TRIANGLE):
            profile = EQUAL_TRIANGLE
        if shape.path_curve not in (PATH_LINE, PATH_CIRCLE, PATH_CIRCLE2, PATH_FLEXIBLE):
            _warn_once("path", f"path curve {shape.path_curve:#x} is not one Second Life defines (a line is drawn)")
        hole = shape.hole if shape.hole in (HOLE_SAME, HOLE_CIRCLE, HOLE_SQUARE, HOLE_TRIANGLE) else HOLE_SAME
        pb, pe = _cut(shape.profile_begin, shape.profile_end, "profile")
        qb, qe = _cut(shape.path_begin, shape.path_end, "path")
        hollow = shape.profile_hollow * CUT_QUANTUM
        if hollow > MAX_HOLLOW:
            _warn_once("hollow", f"a hollow of {hollow:.0%} (at most {MAX_HOLLOW:.0%})")
            hollow = MAX_HOLLOW
        circular = shape.circular
        twist_step = math.radians(3.6 if circular else 1.8)
        twist = [max(-100, min(100, t)) for t in (shape.path_twist_begin, shape.path_twist)]
        if twist != [shape.path_twist_begin, shape.path_twist]:
            _warn_once("twist", f"a twist of {shape.path_twist_begin}..{shape.path_twist} steps (at most 100 each way)")
        if circular:
            taper = (_clamp(shape.path_taper_x / 100.0, -0.999, 0.999),
                     _clamp(shape.path_taper_y / 100.0, -0.999, 0.999))
            hole_size = (_clamp((200 - shape.path_scale_x) / 100.0, 0.05, 1.0),
                         _clamp((200 - shape.path_scale_y) / 100.0, 0.05, 1.0))
        else:
            taper = (_clamp((shape.path_scale_x - 100) / 100.0, -0.999, 0.999),
                     _clamp((shape.path_scale_y - 100) / 100.0, -0.999, 0.999))
            hole_size = (1.0, 1.0)
        revolutions = 1.0 + shape.path_revolutions * 0.015
        if revolutions > 4.0:
            _warn_once("revolutions", f"{revolutions:.2f} revolutions (at most 4)")
            revolutions = 4.0
        return cls(circular, profile, hole, pb, pe, hollow, qb, qe, taper, hole_size,
                   (_clamp(shape.path_shear_x / 100.0, -0.5, 0.5), _clamp(shape.path_shear_y / 100.0, -0.5, 0.5)),
                   twist[0] * twist_step, twist[1] * twist_step, _clamp(shape.path_radius_offset / 100.0, -1.0, 1.0),
                   revolutions, _clamp(shape.path_skew / 100.0, -0.95, 0.95))


def _clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def _cut(begin_raw: int, end_raw: int, what: str) -> tuple[float, float]:
    """(begin, end) as fractions, at least MIN_CUT_SPAN apart (as the viewer keeps them)."""
    begin, end = begin_raw * CUT_QUANTUM, 1.0 - end_raw * CUT_QUANTUM
    clamped_begin, clamped_end = _clamp(begin, 0.0, 1.0 - MIN_CUT_SPAN), _clamp(end, MIN_CUT_SPAN, 1.0)
    if clamped_end - clamped_begin < MIN_CUT_SPAN:
        clamped_begin = max(0.0, clamped_end - MIN_CUT_SPAN)
        clamped_end = clamped_begin + MIN_CUT_SPAN
    if (clamped_begin, clamped_end) != (begin, end):
        _warn_once(what, f"a {what} cut from {begin:.3f} to {end:.3f}")
    return clamped_begin, clamped_end
