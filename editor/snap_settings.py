"""The snap steps, as a popup under the toolbar's Steps... button: the grid step (metres) of the
translate gizmo, the angle step (degrees) of the rotate gizmo, the factor step of the scale
gizmo, and whether snapping is on without Ctrl. They are preferences (``prefs.json``), saved when
changed; a value out of range is refused with the reason and the step stays."""
from __future__ import annotations

from typing import TYPE_CHECKING

import dearpygui.dearpygui as dpg

if TYPE_CHECKING:
    from editor.session import Session

STEPS = (  # preference, label, lowest, highest
    ("snap_step", "grid step (m)", 0.001, 1000.0),
    ("snap_angle", "angle step (deg)", 0.01, 180.0),
    ("snap_scale", "scale step (factor)", 0.001, 100.0),
)


def set_step(session: "Session", name: str, value: object) -> str:
    """Set one snap step; '' when taken, else the reason (the step stays)."""
    spec = next((s for s in STEPS if s[0] == name), None)
    if spec is None:
        return f"no snap step {name!r}"
    _name, label, low, high = spec
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        return f"{label}: expected a number in [{low}, {high}], got {value!r}"[:200]
    setattr(session.prefs, name, float(value))
    session._save_prefs()
    return ""


def build_snap_settings(button: int | str, session: "Session") -> None:
    """The popup under ``button``."""
    with dpg.popup(button, mousebutton=dpg.mvMouseButton_Left, tag="storm_snap_popup"):
        dpg.add_checkbox(label="snap without Ctrl", tag="storm_snap_on", default_value=session.prefs.snap_on,
                         callback=lambda s, a: _set_on(session, bool(a)))
        for name, label, low, high in STEPS:
            dpg.add_input_float(label=label, tag=f"storm_{name}", default_value=getattr(session.prefs, name),
                                width=110, format="%.3f", on_enter=True, user_data=name,
                                callback=lambda s, a, u: _entered(session, u, a))
        dpg.add_text("", tag="storm_snap_reason", color=(255, 90, 90, 255))


def show_snap_on(on: bool) -> None:
    """Keep the popup's checkbox in step when snapping is switched elsewhere (X, the toolbar)."""
    if dpg.does_item_exist("storm_snap_on"):
        dpg.set_value("storm_snap_on", on)


def _set_on(session: "Session", on: bool) -> None:
    session.prefs.snap_on = on
    session._save_prefs()


def _entered(session: "Session", name: str, value: float) -> None:
    reason = set_step(session, name, value)
    dpg.set_value("storm_snap_reason", reason)
    if reason:
        dpg.set_value(f"storm_{name}", getattr(session.prefs, name))
