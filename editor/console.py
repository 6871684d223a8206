"""The console panel: the engine's log (every ``storm.*`` logger and the rest) with a level
choice and a text filter. Records are kept in a bounded ring by a logging handler (any thread may
log); the panel shows the last ``SHOWN`` matching lines and redraws at most a few times a second.
A line that names an entity (``entity 12``) selects it when clicked.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

import dearpygui.dearpygui as dpg

KEEP = 5000
SHOWN = 300
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
COLOURS = {logging.DEBUG: (150, 150, 150, 255), logging.INFO: (220, 220, 220, 255),
           logging.WARNING: (250, 200, 80, 255), logging.ERROR: (255, 100, 90, 255)}
ENTITY = re.compile(r"\bentity (\d{1,10})\b")


@dataclass(frozen=True)
class Line:
    level: int
    text: str
    entity: int


class ConsoleLog(logging.Handler):
    """Keeps the last ``KEEP`` log records as display lines."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: deque[Line] = deque(maxlen=KEEP)
        self.version = 0
        self._lock = threading.Lock()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - a bad log call must not break logging
            text = f"{record.levelname} {record.name}: {record.msg!r}"
        text = text.replace("\x00", "?")[:2000]
        match = ENTITY.search(text)
        with self._lock:
            self.lines.append(Line(record.levelno, text, int(match.group(1)) if match else 0))
            self.version += 1

    def matching(self, level: int, needle: str) -> list[Line]:
        needle = needle.lower()
        with self._lock:
            lines = list(self.lines)
        picked = [line for line in lines if line.level >= level and (not needle or needle in line.text.lower())]
        return picked[-SHOWN:]


class ConsolePanel:
    """The widgets over a ConsoleLog."""

    def __init__(self, log: ConsoleLog, select: Callable[[int], None]) -> None:
        self.log = log
        self.select = select
        self._shown_version = -1
        self._last_draw = 0.0
        self._key: tuple = ()
        self.window = 0
        self._rows = 0
        self._pool: list[int] = []

    def build(self, window: int | str) -> None:
        self.window = window
        with dpg.group(horizontal=True, parent=window):
            dpg.add_combo(list(LEVELS), default_value="info", width=90, tag="storm_console_level",
                          callback=lambda: self.refresh(force=True))
            dpg.add_input_text(hint="filter", width=200, tag="storm_console_filter",
                               callback=lambda: self.refresh(force=True))
            dpg.add_button(label="Clear", callback=self._clear)
        self._rows = dpg.add_child_window(parent=window, tag="storm_console_rows", border=False)

    def _clear(self) -> None:
        with self.log._lock:
            self.log.lines.clear()
            self.log.version += 1
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> None:
        """Show new lines (at most 4 times a second unless forced)."""
        now = time.monotonic()
        if not self._rows or (not force and (self.log.version == self._shown_version or now - self._last_draw < 0.25)):
            return
        self._last_draw, self._shown_version = now, self.log.version
        level = LEVELS.get(dpg.get_value("storm_console_level") or "info", logging.INFO)
        lines = self.log.matching(level, dpg.get_value("storm_console_filter") or "")
        key = tuple(lines)
        if key == self._key:
            return
        self._key = key
        while len(self._pool) < len(lines):  # a fixed pool of rows, relabelled: no widget churn
            self._pool.append(dpg.add_selectable(label="", parent=self._rows, callback=self._clicked))
        for row, line in zip(self._pool, lines):
            dpg.configure_item(row, label=line.text, user_data=line.entity, show=True)
            dpg.bind_item_theme(row, _level_theme(line.level))
        for row in self._pool[len(lines):]:
            dpg.configure_item(row, show=False)
        dpg.set_y_scroll(self._rows, 1e7)  # clamped to the end by Dear ImGui

    def _clicked(self, sender: int, _value: object, entity: int) -> None:
        dpg.set_value(sender, False)
        if entity:
            self.select(entity)


_THEMES: dict[int, int] = {}


def _level_theme(level: int) -> int:
    if level == logging.INFO:
        return 0
    key = max((lv for lv in COLOURS if lv <= level), default=logging.DEBUG)
    theme = _THEMES.get(key)
    if theme is None or not dpg.does_item_exist(theme):
        with dpg.theme() as theme:
            with dpg.theme_component(dpg.mvAll):
                dpg.add_theme_color(dpg.mvThemeCol_Text, COLOURS[key])
        _THEMES[key] = theme
    return theme
