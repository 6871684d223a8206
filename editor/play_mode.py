"""Play in the editor: Play takes a snapshot of the World (``World.snapshot``, exact: every field,
transform, id, the random source and each system's state), runs it in the view from the game's
own camera; Stop puts the snapshot back (``World.restore``), so the edited world is exactly what
it was and a save afterwards writes the same bytes as before Play.

A behaviour that raises during Play (the script system logs it and stops that behaviour) stops
Play too: the error stays in the console, the world goes back to the edited state.

While Play runs, the world's input system reads ``input_source`` (``editor/play_input.py``: the
keys and mouse over the 3D view, under the game's own bindings); Stop puts back what it read before.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from engine.input import InputSystem

if TYPE_CHECKING:
    from editor.viewport import ViewRenderer
    from engine.core.snapshot import WorldSnapshot
    from engine.core.world import World

log = logging.getLogger("storm.editor")
SCRIPT_LOGGER = "storm.scripts"


class _ScriptErrors(logging.Handler):
    """Counts errors the script system reports while Play runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.last = record.getMessage()[:300]


class PlayMode:
    """Runs the edited World and brings it back."""

    def __init__(self, renderer: "ViewRenderer") -> None:
        self.renderer = renderer
        self._snapshot: "WorldSnapshot | None" = None
        self._world: "World | None" = None
        self._errors = _ScriptErrors()
        self.paused = False
        self.on_stop: list[Callable[[str], None]] = []
        self.input_source: Callable[[Any], Any] | None = None   # Actions -> the game's input source while playing
        self._input_before: Any = None

    @property
    def playing(self) -> bool:
        return self._snapshot is not None

    def start(self, world: "World") -> None:
        if self.playing:
            return
        self._snapshot = world.snapshot()
        self._world = world
        self.paused = False
        self._errors.count = 0
        logging.getLogger(SCRIPT_LOGGER).addHandler(self._errors)
        self.renderer.set_camera(None)  # the game's own camera
        self.renderer.playing = True     # the game's own terrain meshes, not the edit shading's coarse ones
        system = world.system(InputSystem)
        if system is not None and self.input_source is not None:
            self._input_before = system.source
            system.set_source(self.input_source(system.actions))
        log.info("Play: %s runs (Stop puts it back as it was)", world.name)

    def tick(self, seconds: float) -> int:
        """Run and draw ``seconds`` of the world (nothing while paused); stops Play on an error."""
        if not self.playing:
            return 0
        try:
            ticks = self.renderer.draw(0.0 if self.paused else seconds)
        except Exception:  # noqa: BLE001 - a failing system must not take the editor down
            log.exception("the world failed while playing; Play stops and the edited world comes back")
            self.stop("an error")
            return 0
        if self._errors.count:
            log.error("a behaviour raised during Play (%s); Play stops and the edited world comes back",
                      self._errors.last)
            self.stop("a behaviour error")
        return ticks

    def step_once(self, tick_seconds: float) -> int:
        """Paused: run exactly one tick."""
        return self.renderer.draw(tick_seconds) if self.playing else 0

    def stop(self, why: str = "Stop") -> None:
        if self._snapshot is None or self._world is None:
            return
        snapshot, world = self._snapshot, self._world
        self._snapshot, self._world = None, None
        logging.getLogger(SCRIPT_LOGGER).removeHandler(self._errors)
        system = world.system(InputSystem)
        if system is not None and self.input_source is not None:
            system.set_source(self._input_before)
            self._input_before = None
        world.restore(snapshot)
        self.renderer.playing = False   # the listeners' set_camera asks for the next frame
        self.renderer.app.interpolator.reset()
        log.info("stopped (%s): the edited world is back", why)
        for listener in list(self.on_stop):
            listener(why)
