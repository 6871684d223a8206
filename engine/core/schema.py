"""JSON schemas from field declarations: what a component (or a command's argument list)
accepts, for language-model grammars, network peers, tools and documentation."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from engine.core.component import Component
from engine.core.fields import Field


def fields_schema(fields: Mapping[str, Field], *, title: str = "", description: str = "",
                  required: Iterable[str] = ()) -> dict[str, Any]:
    """An object schema with one property per field (no other keys allowed)."""
    schema: dict[str, Any] = {"type": "object", "properties": {name: f.json_schema() for name, f in fields.items()},
                              "additionalProperties": False}
    needed = [name for name in required if name in fields]
    if needed:
        schema["required"] = needed
    if title:
        schema["title"] = title
    if description:
        schema["description"] = description
    return schema


def component_schema(cls: type[Component], *, editable_only: bool = True) -> dict[str, Any]:
    """The schema of a component's field data as world files and SetFields commands carry it;
    ``editable_only`` leaves out fields a system writes (what a language model may not set)."""
    fields = {name: f for name, f in cls.fields.items() if f.editable or not editable_only}
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    return fields_schema(fields, title=cls.type_name, description=" ".join(doc.split()))


def arguments_schema(arguments: Mapping[str, Field], *, title: str = "", required: Iterable[str] | None = None) -> dict[str, Any]:
    """The schema of an argument list declared as fields (NPC actions, RPCs, plugin calls); every
    argument is required unless ``required`` says otherwise."""
    return fields_schema(arguments, title=title, required=arguments.keys() if required is None else required)
