"""The region's sky and sun in the World: a "region sky" entity (an ``Environment``) and a
"region sun" (a directional ``Light``), edited through world commands.

The sun shines from the region's SunDirection when the region sends one; OpenSimulator's
environment module sends a zero direction and the time of day in SunPhase instead, and then the
sun and the sky come from the region's day cycle at that time (``region_sky``). Until the day
cycle is read the sky is Storm's default. Colours and the sun move only when they changed
noticeably (about half a degree, or 1% of a colour), so a steady sky costs no commands.
"""
from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from engine.core.edit_commands import CreateEntity, DestroyEntity, SetFields, SetTransform
from netcode.opensim.region_sky import DayCycle, RegionSky, Vec3, day_fraction

if TYPE_CHECKING:
    from engine.core.world import World
    from netcode.opensim.messages import Message

log = logging.getLogger("storm.opensim")
DAY, NIGHT = 2.5, 0.3          # sun intensity above and below the horizon
DEFAULT_SUN = (0.5, -0.5, 0.7071)


def _hpr(direction: Vec3) -> list[float]:
    """The heading and pitch of a light shining from ``direction`` (towards the sun)."""
    x, y, z = direction
    return [round(math.degrees(math.atan2(x, -y)), 2), round(math.degrees(math.atan2(-z, math.hypot(x, y))), 2), 0.0]


class RegionSun:
    """The sky and sun of one visit (the World's thread, but for ``set_cycle``)."""

    def __init__(self, world: "World") -> None:
        self.world = world
        self.sun = 0                           # entity of the region sun (0 until the first time message)
        self.sky_entity = 0                    # entity of the region sky
        self.cycle: DayCycle | None = None
        self.sky: RegionSky | None = None      # what is drawn now of the day cycle
        self.fraction: float | None = None     # the region's time of day (0-1), when it sends one
        self.sun_direction: Vec3 = (0.0, 0.0, 1.0)
        self._from_region = False              # the region gave a SunDirection
        self._pending: DayCycle | None = None

    def set_cycle(self, cycle: DayCycle) -> None:
        """The region's day cycle was read (any thread): drawn from the next ``update``."""
        self._pending = cycle

    def make_sky(self) -> None:
        """The region sky (Storm's default colours) and a sun high in the south-east, until the region
        says otherwise."""
        if not self.sky_entity:
            inverse = self.world.apply(CreateEntity.new("region sky", 0, {"Environment": {}}))
            assert isinstance(inverse, DestroyEntity)
            self.sky_entity = inverse.entity
        if not self.sun:
            self._place_sun(DEFAULT_SUN)

    def time_message(self, message: "Message") -> None:
        """SimulatorViewerTimeMessage: a sun direction, or the time of day in SunPhase."""
        info = message.block("TimeInfo")
        x, y, z = info["SunDirection"]
        if all(math.isfinite(v) for v in (x, y, z)) and abs(x) + abs(y) + abs(z) > 1e-6:
            self._from_region = True
            self._place_sun((x, y, z))
            return
        fraction = day_fraction(float(info["SunPhase"]))
        if fraction is not None:
            self.fraction = fraction
            self._follow_cycle()

    def update(self) -> None:
        """At each tick: a day cycle that arrived is drawn."""
        if self._pending is not None:
            self.cycle, self._pending = self._pending, None
            self.make_sky()
            self._follow_cycle(force=True)
            if self.sky is not None:
                log.info("opensim: the region's day cycle (%d frames); now %r", len(self.cycle.keys), self.sky.name)

    def _follow_cycle(self, force: bool = False) -> None:
        if self.cycle is None:
            return
        sky = self.cycle.at(self.fraction if self.fraction is not None else 0.5)
        old, self.sky = self.sky, sky
        if force or old is None or _moved(old.sky_top + old.sky_horizon, sky.sky_top + sky.sky_horizon, 0.01):
            self.make_sky()
            self.world.apply(SetFields(self.sky_entity, "Environment", {
                "sky_top": [*sky.sky_top, 1.0], "sky_horizon": [*sky.sky_horizon, 1.0],
                "fog_color": [*sky.sky_horizon, 1.0]}))
        if self.sun and (force or old is None or _moved(old.sun_color, sky.sun_color, 0.01)):
            self.world.apply(SetFields(self.sun, "Light", {"color": [*sky.sun_color, 1.0]}))
        if not self._from_region and self.fraction is not None:
            self._place_sun(sky.sun_direction)

    def _place_sun(self, direction: Vec3) -> None:
        intensity = DAY if direction[2] > 0 else NIGHT
        if not self.sun:
            colour = [*self.sky.sun_color, 1.0] if self.sky is not None else [1.0, 1.0, 1.0, 1.0]
            inverse = self.world.apply(CreateEntity.new("region sun", 0, {"Light": {
                "kind": "directional", "intensity": intensity, "color": colour}}, {"hpr": _hpr(direction)}))
            assert isinstance(inverse, DestroyEntity)
            self.sun, self.sun_direction = inverse.entity, direction
            return
        if _moved(self.sun_direction, direction, 0.01):          # about half a degree
            self.sun_direction = direction
            self.world.apply(SetTransform(self.sun, None, _hpr(direction)))
            self.world.apply(SetFields(self.sun, "Light", {"intensity": intensity}))


def _moved(a: tuple[float, ...], b: tuple[float, ...], by: float) -> bool:
    return sum(abs(x - y) for x, y in zip(a, b)) > by
