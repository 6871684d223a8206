"""The history panel: the steps that can be undone (oldest first), then those that can be redone
(greyed). Clicking a step undoes or redoes up to it."""
from __future__ import annotations

from typing import TYPE_CHECKING

import dearpygui.dearpygui as dpg

if TYPE_CHECKING:
    from editor.session import Session

SHOWN = 200


class HistoryPanel:
    """The widgets of the history panel."""

    def __init__(self, session: "Session") -> None:
        self.session = session
        self._pool: list[int] = []
        self._rows = 0
        self._key: tuple = ()
        self._grey = 0

    def build(self, window: int | str) -> None:
        with dpg.group(horizontal=True, parent=window):
            dpg.add_button(label="Undo", callback=lambda: self._guard(self.session.undo))
            dpg.add_button(label="Redo", callback=lambda: self._guard(self.session.redo))
        self._rows = dpg.add_child_window(parent=window, border=False)
        with dpg.theme() as self._grey:
            with dpg.theme_component(dpg.mvAll):
                dpg.add_theme_color(dpg.mvThemeCol_Text, (130, 130, 130, 255))

    def _guard(self, action) -> None:  # type: ignore[no-untyped-def]
        from editor.session import EditRefused

        try:
            action()
        except EditRefused as exc:
            self.session.say(str(exc))

    def refresh(self) -> None:
        document = self.session.document
        if document is None or not self._rows:
            return
        done = document.history.undo_names()
        undone = document.history.redo_names()
        key = (tuple(done), tuple(undone))
        if key == self._key:
            return
        self._key = key
        rows = [("(opened)", 0, False)] + [(name, i + 1, False) for i, name in enumerate(done)]
        rows += [(name, len(done) + i + 1, True) for i, name in enumerate(undone)]
        rows = rows[-SHOWN:]
        while len(self._pool) < len(rows):
            self._pool.append(dpg.add_selectable(label="", parent=self._rows, callback=self._clicked))
        for item, (name, steps, redo) in zip(self._pool, rows):
            marker = ">" if steps == len(done) else " "
            dpg.configure_item(item, label=f"{marker} {steps:3d}  {name}", user_data=steps, show=True)
            dpg.bind_item_theme(item, self._grey if redo else 0)
            dpg.set_value(item, False)
        for item in self._pool[len(rows):]:
            dpg.configure_item(item, show=False)

    def _clicked(self, sender: int, _value: object, steps: int) -> None:
        dpg.set_value(sender, False)
        self._guard(lambda: self.session.undo_to(steps))
