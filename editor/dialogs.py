"""Modal questions and messages (a broken world's error, "save changes?", the recovery offer)
and the file chooser for Open and Save As.

One modal window is reused for every question: Dear PyGui crashes when many windows are made
and deleted quickly, and one question at a time is what a person can answer anyway. Questions
asked while one is open wait their turn. Each has a title, a text and buttons; each button runs
its action. ``Dialogs.current`` and ``answer`` let the scripting driver read and answer them.
"""
from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import dearpygui.dearpygui as dpg

log = logging.getLogger("storm.editor")
MAX_BUTTONS = 4


@dataclass
class Question:
    title: str
    text: str
    buttons: Sequence[tuple[str, Callable[[], None] | None]]


class Dialogs:
    """The modal question window and the file chooser."""

    def __init__(self) -> None:
        self.current: Question | None = None
        self._waiting: deque[Question] = deque()
        self._file_action: Callable[[Path], None] | None = None
        self.answered: list[tuple[str, str]] = []  # (title, button) in order, for tests and logs

    def build(self) -> None:
        with dpg.window(label="Storm", tag="storm_dialog", modal=True, show=False, no_close=True, autosize=True,
                        no_collapse=True, no_saved_settings=True, min_size=(360, 100)):
            dpg.add_text("", tag="storm_dialog_text", wrap=560)
            dpg.add_spacer(height=6)
            with dpg.group(horizontal=True):
                for i in range(MAX_BUTTONS):
                    dpg.add_button(label="", tag=f"storm_dialog_button{i}", user_data=i, show=False,
                                   callback=lambda s, a, i: self._clicked(i))
        dpg.add_file_dialog(tag="storm_file_dialog", show=False, modal=True, width=700, height=420,
                            callback=self._file_chosen, cancel_callback=lambda: None)
        dpg.add_file_extension(".json", parent="storm_file_dialog", color=(120, 200, 255, 255))
        dpg.add_file_extension(".*", parent="storm_file_dialog")

    # -- questions ----------------------------------------------------------------------------------
    def ask(self, title: str, text: str, buttons: Sequence[tuple[str, Callable[[], None] | None]]) -> None:
        question = Question(title, text, list(buttons)[:MAX_BUTTONS])
        log.info("asking %r: %s [%s]", title, text.replace("\n", " ")[:300], " / ".join(b[0] for b in question.buttons))
        if self.current is not None:
            self._waiting.append(question)
            return
        self._show(question)

    def tell(self, title: str, text: str) -> None:
        self.ask(title, text, [("OK", None)])

    def _show(self, question: Question) -> None:
        self.current = question
        if not dpg.does_item_exist("storm_dialog"):
            return
        dpg.configure_item("storm_dialog", label=question.title, show=True)
        dpg.set_value("storm_dialog_text", question.text)
        for i in range(MAX_BUTTONS):
            if i < len(question.buttons):
                dpg.configure_item(f"storm_dialog_button{i}", label=question.buttons[i][0], show=True)
            else:
                dpg.configure_item(f"storm_dialog_button{i}", show=False)
        width, height = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
        dpg.set_item_pos("storm_dialog", (max(0, width // 2 - 240), max(0, height // 2 - 90)))

    def _clicked(self, index: int) -> None:
        question = self.current
        if question is None or index >= len(question.buttons):
            return
        label, action = question.buttons[index]
        self.answered.append((question.title, label))
        self.current = None
        if dpg.does_item_exist("storm_dialog"):
            dpg.configure_item("storm_dialog", show=False)
        if action is not None:
            try:
                action()
            except Exception:  # noqa: BLE001 - a failing answer is reported, the editor goes on
                log.exception("%s: %s failed", question.title, label)
        if self.current is None and self._waiting:
            self._show(self._waiting.popleft())

    def answer(self, label: str) -> None:
        """Press the button labelled ``label`` of the open question (the driver's way)."""
        question = self.current
        if question is None:
            raise LookupError("no question is open")
        labels = [b[0] for b in question.buttons]
        if label not in labels:
            raise LookupError(f"the question {question.title!r} has buttons {labels}, not {label!r}")
        self._clicked(labels.index(label))

    # -- files -------------------------------------------------------------------------------------
    def choose_file(self, title: str, action: Callable[[Path], None], folder: Path | None = None,
                    name: str = "") -> None:
        self._file_action = action
        dpg.configure_item("storm_file_dialog", label=title, show=True,
                           default_path=str(folder or Path.cwd()), default_filename=name or ".")

    def _file_chosen(self, _sender: int, app_data: dict) -> None:
        action, self._file_action = self._file_action, None
        path = (app_data or {}).get("file_path_name", "")
        if action is not None and path:
            action(Path(path))
