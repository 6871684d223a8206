"""What plugins declare, checked: systems, components, importers, CLI and world commands, event
types, subscriptions, editor panels, menu items, inspectors and widgets.

Declarations are plain data returned by hooks (over a pipe, for a sandboxed plugin), so each one
is hostile input: every key is checked for type, size and form, and the first problem is a
``DeclarationError`` naming the hook, the path inside its answer and what was expected. Names
are qualified with the plugin's pack id (``plant`` from pack ``forest`` is ``forest:plant``), the
same namespace as the pack's assets. Component types are built from field declarations with the
engine's own field types; nothing here runs code from the data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.core.component import Component
from engine.core.errors import FieldError
from engine.core.fields import Bool, Color, EntityRef, Enum, Field, FieldType, Float, Int, Str, Vec3
from plugins.events import EventType, JsonValue

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
EXTENSION = re.compile(r"^\.[a-z0-9]{1,12}$")
MAX_ITEMS = 64
MAX_FIELDS = 64
MAX_TEXT = 500
FIELD_KEYS = {"type", "default", "min", "max", "choices", "max_length", "doc"}
FIELD_TYPES = ("bool", "int", "float", "str", "enum", "vec3", "color", "entity", "json")
WIDGETS: dict[str, tuple[str, ...]] = {  # kind -> its keys besides "kind", in the order widgets list them
    "text": ("text",), "button": ("label", "action"), "checkbox": ("label", "action", "value"),
    "slider": ("label", "action", "value", "min", "max"), "input": ("label", "action", "value"),
    "separator": (), "group": ("label", "children"),
}
MAX_WIDGETS = 500


class DeclarationError(ValueError):
    """A declaration a plugin returned that the host cannot use."""


@dataclass(frozen=True)
class SystemDecl:
    name: str  # qualified
    local: str  # as the plugin named it (passed back to storm_system_update)
    order: int
    profiles: tuple[str, ...]


@dataclass(frozen=True)
class NamedDecl:
    """An importer, CLI command, world command, panel, menu item or inspector a plugin declared."""

    name: str  # qualified: "<pack id>:<local>"
    local: str
    plugin: str
    text: str = ""  # help, doc, title or label
    extras: tuple[tuple[str, Any], ...] = ()  # extensions, arguments, menu, component

    def extra(self, key: str, default: Any = None) -> Any:
        return dict(self.extras).get(key, default)


def _fail(where: str, expected: str, got: Any = None) -> DeclarationError:
    shown = "" if got is None else f", got {str(got)[:80]!r}"
    return DeclarationError(f"{where}: expected {expected}{shown}")


def _items(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or len(value) > MAX_ITEMS:
        raise _fail(where, f"a list of at most {MAX_ITEMS} items", type(value).__name__)
    return list(value)


def _table(item: Any, where: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _fail(where, f"an object with {', '.join(sorted(required))}", type(item).__name__)
    missing = required - set(item)
    extra = set(item) - required - optional
    if missing or extra:
        raise _fail(where, f"the keys {', '.join(sorted(required | optional))}", sorted(map(str, set(item)))[:8])
    return item


def _text(item: dict[str, Any], key: str, where: str, default: str = "") -> str:
    value = item.get(key, default)
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _fail(f"{where}.{key}", f"a string of at most {MAX_TEXT} characters", value)
    return value


def qualify(plugin: str, name: Any, where: str) -> tuple[str, str]:
    """(``plugin:name``, name); a name with a colon must start with the plugin's own pack id."""
    if isinstance(name, str) and name.startswith(plugin + ":"):
        name = name[len(plugin) + 1:]
    if not isinstance(name, str) or not NAME.match(name):
        raise _fail(where, "a name of letters, digits and _ (at most 64, in the plugin's namespace)", name)
    return f"{plugin}:{name}", name


def parse_field(decl: Any, where: str, allow_json: bool = False) -> Field:
    """A field declaration (``{"type": "float", "default": 1, "min": 0}``) as an engine Field."""
    item = _table(decl, where, {"type"}, FIELD_KEYS - {"type"})
    kind, low, high = item["type"], item.get("min"), item.get("max")
    if kind not in FIELD_TYPES or (kind == "json" and not allow_json):
        allowed = FIELD_TYPES if allow_json else FIELD_TYPES[:-1]
        raise _fail(f"{where}.type", f"one of {', '.join(allowed)}", kind)
    for key, bound in (("min", low), ("max", high)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
            raise _fail(f"{where}.{key}", "a number", bound)
    field_type: FieldType
    if kind == "enum":
        choices = item.get("choices")
        if not isinstance(choices, list) or not choices or not all(
                isinstance(c, str) and len(c) <= 100 for c in choices):
            raise _fail(f"{where}.choices", "a non-empty list of strings", choices)
        field_type = Enum(tuple(choices[:MAX_ITEMS]))
    else:
        max_length = item.get("max_length", 1000)
        if isinstance(max_length, bool) or not isinstance(max_length, int) or not 0 < max_length <= 100_000:
            raise _fail(f"{where}.max_length", "a whole number from 1 to 100000", max_length)
        field_type = {"bool": Bool, "str": lambda: Str(max_length), "json": JsonValue, "entity": EntityRef,
                      "color": Color, "vec3": lambda: Vec3(low, high),
                      "int": lambda: Int(None if low is None else int(low), None if high is None else int(high)),
                      "float": lambda: Float(low, high)}[kind]()
    defaults = {"bool": False, "int": 0, "float": 0.0, "str": "", "vec3": [0.0, 0.0, 0.0], "entity": 0,
                "color": [1.0, 1.0, 1.0, 1.0], "json": None}
    default = item.get("default", defaults.get(kind, field_type.choices[0] if kind == "enum" else None))
    if kind in ("int", "float") and "default" not in item and low is not None:
        default = low
    try:
        return Field(field_type, default, doc=_text(item, "doc", where))
    except (FieldError, TypeError, ValueError) as exc:
        raise _fail(f"{where}.default", f"a default that fits ({exc})", default) from None


def parse_fields(value: Any, where: str, allow_json: bool = False) -> dict[str, Field]:
    if not isinstance(value, dict) or len(value) > MAX_FIELDS:
        raise _fail(where, f"an object of at most {MAX_FIELDS} field declarations", type(value).__name__)
    fields = {}
    for name, decl in value.items():
        if not isinstance(name, str) or not NAME.match(name) or name.startswith("_"):
            raise _fail(f"{where}", "field names of letters, digits and _ (not starting with _)", name)
        fields[name] = parse_field(decl, f"{where}.{name}", allow_json)
    return fields


def parse_systems(plugin: str, value: Any, hook: str = "storm_systems()") -> list[SystemDecl]:
    out = []
    for i, item in enumerate(_items(value, hook)):
        where = f"{hook}[{i}]"
        item = _table(item, where, {"name"}, {"order", "profiles"})
        name, local = qualify(plugin, item["name"], f"{where}.name")
        order = item.get("order", 200)
        if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 10_000:
            raise _fail(f"{where}.order", "a whole number from 0 to 10000", order)
        profiles = item.get("profiles", ["game"])
        if not isinstance(profiles, list) or not profiles or not all(isinstance(p, str) and NAME.match(p)
                                                                     for p in profiles):
            raise _fail(f"{where}.profiles", "a non-empty list of profile names (game, server)", profiles)
        out.append(SystemDecl(name, local, order, tuple(profiles)))
    return out


def parse_components(plugin: str, value: Any, trusted: bool, hook: str = "storm_components()") -> list[type[Component]]:
    out: list[type[Component]] = []
    for i, item in enumerate(_items(value, hook)):
        where = f"{hook}[{i}]"
        if isinstance(item, type):
            if not trusted or not issubclass(item, Component):
                raise _fail(where, "a component declaration (a Component class only from a trusted plugin)", item)
            out.append(item)
            continue
        item = _table(item, where, {"name", "fields"}, {"doc"})
        qualified, local = qualify(plugin, item["name"], f"{where}.name")
        attributes: dict[str, Any] = dict(parse_fields(item["fields"], f"{where}.fields"))
        attributes.update(type_name=qualified, __doc__=_text(item, "doc", where) or f"{local} (from plugin {plugin})",
                          __module__=f"storm_plugin_{plugin}")
        try:
            out.append(type(local, (Component,), attributes))  # a class built from checked data, no code
        except TypeError as exc:
            raise _fail(f"{where}.fields", "field names that do not hide a component attribute", str(exc)) from None
    return out


def parse_named(plugin: str, value: Any, hook: str, required: set[str], optional: set[str],
                name_key: str = "name", text_key: str = "") -> list[NamedDecl]:
    """Importers, CLI commands, world commands, panels, menu items: a name plus a few checked keys."""
    out, seen = [], set()
    for i, item in enumerate(_items(value, hook)):
        where = f"{hook}[{i}]"
        item = _table(item, where, required, optional)
        qualified, local = qualify(plugin, item[name_key], f"{where}.{name_key}")
        if qualified in seen:
            raise _fail(f"{where}.{name_key}", "a name used once", local)
        seen.add(qualified)
        extras = []
        for key in sorted((required | optional) - {name_key, text_key}):
            if key in item:
                extras.append((key, _extra(key, item[key], f"{where}.{key}")))
        out.append(NamedDecl(qualified, local, plugin, _text(item, text_key, where) if text_key else "", tuple(extras)))
    return out


def _extra(key: str, value: Any, where: str) -> Any:
    if key == "extensions":
        if not isinstance(value, list) or not value or not all(
                isinstance(e, str) and EXTENSION.match(e) for e in value):
            raise _fail(where, "a list of file extensions like '.csv'", value)
        return tuple(value)
    if key == "arguments":
        return parse_fields(value, where)
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _fail(where, f"a string of at most {MAX_TEXT} characters", value)
    return value


def parse_inspectors(plugin: str, value: Any, hook: str = "storm_editor_inspectors()") -> list[str]:
    out = []
    for i, item in enumerate(_items(value, hook)):
        item = _table(item, f"{hook}[{i}]", {"component"}, set())
        out.append(_text(item, "component", f"{hook}[{i}]"))
    return out


def parse_event_types(plugin: str, value: Any, hook: str = "storm_event_types()") -> list[EventType]:
    out = []
    for i, item in enumerate(_items(value, hook)):
        where = f"{hook}[{i}]"
        item = _table(item, where, {"name"}, {"fields"})
        qualified, _local = qualify(plugin, item["name"], f"{where}.name")
        fields = parse_fields(item.get("fields", {}), f"{where}.fields", allow_json=True)
        out.append(EventType(qualified, {name: f.type for name, f in fields.items()}, plugin))
    return out


def parse_subscriptions(value: Any, hook: str = "storm_subscriptions()") -> list[str]:
    out = []
    for i, item in enumerate(_items(value, hook)):
        if not isinstance(item, str) or not re.match(r"^[a-z][a-z0-9_]{0,63}:[A-Za-z_][A-Za-z0-9_]{0,63}$", item):
            raise _fail(f"{hook}[{i}]", "an event type name like 'storm:entity_created'", item)
        out.append(item)
    return out


def parse_widgets(value: Any, where: str, depth: int = 0, count: list[int] | None = None) -> list[dict[str, Any]]:
    """Editor widgets as data (see ``WIDGETS``); groups nest at most 4 deep, 500 widgets in all."""
    count = count if count is not None else [0]
    out = []
    for i, item in enumerate(_items(value, where)):
        here = f"{where}[{i}]"
        kind = item.get("kind") if isinstance(item, dict) else None
        if kind not in WIDGETS:
            raise _fail(f"{here}.kind", f"one of {', '.join(WIDGETS)}", kind)
        item = _table(item, here, {"kind"}, set(WIDGETS[kind]))
        count[0] += 1
        if count[0] > MAX_WIDGETS:
            raise _fail(where, f"at most {MAX_WIDGETS} widgets")
        widget: dict[str, Any] = {"kind": kind}
        for key in WIDGETS[kind]:
            if key not in item:
                continue
            raw = item[key]
            if key == "children":
                if depth >= 3:
                    raise _fail(f"{here}.children", "groups nested at most 4 deep")
                widget[key] = parse_widgets(raw, f"{here}.children", depth + 1, count)
            elif key in ("min", "max") or (key == "value" and kind == "slider"):
                if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw != raw:
                    raise _fail(f"{here}.{key}", "a number", raw)
                widget[key] = raw
            elif key == "value" and kind == "checkbox":
                if not isinstance(raw, bool):
                    raise _fail(f"{here}.value", "true or false", raw)
                widget[key] = raw
            else:
                widget[key] = _text(item, key, here)
        out.append(widget)
    return out
