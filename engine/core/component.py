"""Components: typed Python objects attached to entities, their fields declared once."""
from __future__ import annotations

from typing import Any, Callable, ClassVar, Iterator

from engine.core.errors import FieldError
from engine.core.fields import EntityRef, Field


class Component:
    """Base of every component. Subclasses declare ``Field`` class attributes.

    ``type_name`` is the key used in world files; built-in components use the class name,
    script behaviours a pack-qualified name (``base:spinner.Spinner``).
    """

    fields: ClassVar[dict[str, Field]] = {}
    type_name: ClassVar[str] = "Component"
    _defaults: ClassVar[dict[str, Any]] = {}
    _mutable_defaults: ClassVar[bool] = False
    entity_ref_fields: ClassVar[tuple[str, ...]] = ()  # the fields holding entity ids
    entity: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        collected: dict[str, Field] = {}
        for base in reversed(cls.__mro__[1:]):
            collected.update(getattr(base, "fields", {}))
        for name, value in list(vars(cls).items()):
            if isinstance(value, Field):
                taken = next((base for base in cls.__mro__[1:]
                              if name in vars(base) or name in vars(base).get("__annotations__", {})), None)
                if taken is not None and taken is not object:
                    raise TypeError(f"{cls.__qualname__}: field {name!r} would hide {taken.__name__}.{name}; "
                                    "give the field another name")
                collected[name] = value
                # Values live in instance dicts; a class attribute of the same name would keep
                # CPython from specialising attribute access (measured 2x slower in query loops).
                delattr(cls, name)
        cls.fields = collected
        cls._defaults = {name: declared.default for name, declared in collected.items()}
        cls._mutable_defaults = any(isinstance(v, (list, dict, set)) for v in cls._defaults.values())
        cls.entity_ref_fields = tuple(name for name, declared in collected.items() if isinstance(declared.type, EntityRef))
        if "type_name" not in vars(cls):
            cls.type_name = cls.__name__

    def __init__(self, **values: Any) -> None:
        self.entity = 0
        for name, declared in self.fields.items():
            default = declared.default
            setattr(self, name, list(default) if isinstance(default, list) else default)
        for name, value in values.items():
            self.set_field(name, value)

    def set_field(self, name: str, value: Any) -> None:
        """Validate and set one declared field; raises FieldError or KeyError."""
        declared = self.fields.get(name)
        if declared is None:
            raise KeyError(f"{self.type_name} has no field {name!r}; fields are {', '.join(self.fields) or 'none'}")
        setattr(self, name, declared.type.validate(value))

    def to_data(self, only_changed: bool = True, saved_only: bool = True) -> dict[str, Any]:
        """Field values as JSON-ready data, in declaration order. Defaults are left out unless
        ``only_changed`` is False; runtime state (fields declared ``saved=False``) unless
        ``saved_only`` is False (undo records and snapshots keep it)."""
        out: dict[str, Any] = {}
        for name, declared in self.fields.items():
            if saved_only and not declared.saved:
                continue
            data = declared.type.to_data(getattr(self, name))
            if only_changed and data == declared.default_data:
                continue
            out[name] = data
        return out

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> "Component":
        """A component with these already validated runtime values (loaders validate once, in
        the parse step; this skips a second check)."""
        if cls.__init__ is not Component.__init__ or cls._mutable_defaults:
            component = cls()
        else:  # the common case, several times faster: no per-field setattr
            component = cls.__new__(cls)
            state = component.__dict__
            state["entity"] = 0
            state.update(cls._defaults)
        component.__dict__.update(values)
        return component

    def field_values(self) -> Iterator[tuple[Field, Any]]:
        for name, declared in self.fields.items():
            yield declared, getattr(self, name)

    def __repr__(self) -> str:
        return f"{self.type_name}(entity={self.entity}, {self.to_data()})"


class ComponentRegistry:
    """Maps world-file names to component classes; plugins and packs add theirs here."""

    def __init__(self) -> None:
        self._types: dict[str, type[Component]] = {}
        self._resolvers: list[Callable[[str], type[Component] | None]] = []

    def register(self, cls: type[Component]) -> type[Component]:
        self._types[cls.type_name] = cls
        return cls

    def add_resolver(self, resolver: Callable[[str], type[Component] | None]) -> None:
        """Add a lookup for names not registered yet (script behaviours load on first use).

        A resolver returns None when the name is not its kind, and raises LookupError with a
        reason when it is but cannot be loaded.
        """
        self._resolvers.append(resolver)

    def get(self, name: str) -> type[Component] | None:
        return self._types.get(name)

    def resolve(self, name: str) -> type[Component]:
        """The class for a world-file name; raises LookupError saying why there is none."""
        cls = self._types.get(name)
        if cls is not None:
            return cls
        for resolver in self._resolvers:
            cls = resolver(name)
            if cls is not None:
                self.register(cls)
                return cls
        raise LookupError(f"a known component type ({', '.join(self.names())} or 'pack:module.Class')")

    def names(self) -> list[str]:
        return sorted(self._types)


def apply_data(component: Component, data: Any) -> list[tuple[str, FieldError]]:
    """Set fields from a JSON object; returns (field name, error) for each bad field."""
    problems: list[tuple[str, FieldError]] = []
    if not isinstance(data, dict):
        return [("", FieldError("an object of field values", data))]
    for name, value in data.items():
        if name not in component.fields:
            known = ", ".join(component.fields) or "none"
            problems.append((name, FieldError(f"a field of {component.type_name} ({known})", name)))
            continue
        try:
            component.set_field(name, value)
        except FieldError as exc:
            problems.append((name, exc))
    return problems
