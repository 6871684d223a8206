"""Asset kinds: what a file named by an ``AssetRef(kind)`` field must be, and how that is checked.

Each kind declares the file endings it accepts, how messages name it ("a model", "a persona") and,
optionally, a deeper check that reads the file through the content registry (a sound is probed
by its decoder, a data file must be JSON). ``AssetCache.problem`` asks the kind, so a field of
kind ``persona`` is never checked as a model. A feature outside the engine gives a kind its
real check at run time (the AI feature registers the persona loader: ``AssetKinds.set_check``),
without the engine importing it; without that feature the kind still gets its generic check.

Every kind name of ``engine.core.fields.ASSET_KINDS`` has an entry here (a test says so).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

from engine.core.errors import StormError
from engine.core.fields import ASSET_KINDS
from engine.packs.gltf_files import MODEL_SUFFIXES
from engine.packs.sound_files import SOUND_SUFFIXES

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry

Check = Callable[["ContentRegistry", str], "str | None"]  # (content, asset id) -> why it is bad, or None
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tga", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class AssetKind:
    """One kind of asset: ``suffixes`` its file may end with (empty: any file), ``what`` names it
    in messages, ``check`` (optional) reads the file and says what is wrong with it; ``primitives``
    whether built-in ``primitive:`` ids count (models only); ``resolves``: the check looks the id
    up itself (pack, file, ending) and words those problems its own way (sounds)."""

    name: str
    suffixes: tuple[str, ...]
    what: str
    check: Check | None = None
    primitives: bool = False
    resolves: bool = False

    def suffix_problem(self, path: str) -> str | None:
        if self.suffixes and not path.lower().endswith(self.suffixes):
            return f"{path!r} is not {self.what} file ({', '.join(self.suffixes)})"
        return None


def _sound_check(content: "ContentRegistry", asset_id: str) -> str | None:
    from engine.packs.sound_files import sound_problem

    return sound_problem(content, asset_id)


def json_check(content: "ContentRegistry", asset_id: str) -> str | None:
    """A data file must parse as JSON (within the registry's byte and nesting budgets)."""
    try:
        content.read_json(asset_id)
    except StormError as exc:
        return str(exc)
    return None


def object_check(format_key: str) -> Check:
    """A JSON object file that names its format (``{"storm_persona": 1, ...}``), or an encrypted
    envelope of one: the generic check of a kind whose real loader lives in a feature."""

    def check(content: "ContentRegistry", asset_id: str) -> str | None:
        try:
            data = content.read_json(asset_id)
        except StormError as exc:
            return str(exc)
        if not isinstance(data, dict):
            return f"{content.display(asset_id)}: expected a JSON object, got {type(data).__name__}"
        if format_key not in data and f"{format_key}_encrypted" not in data:
            return f"{content.display(asset_id)}: expected a {format_key!r} key saying the format version"
        return None

    return check


DEFAULT_KINDS: tuple[AssetKind, ...] = (
    AssetKind("model", MODEL_SUFFIXES, "a model", primitives=True),
    AssetKind("image", IMAGE_SUFFIXES, "an image"),
    AssetKind("sound", SOUND_SUFFIXES, "a sound", _sound_check, resolves=True),
    AssetKind("prefab", (".prefab.json",), "a prefab", json_check),
    AssetKind("world", (".world.json",), "a world", json_check),
    AssetKind("actions", (".actions.json",), "an input action map", json_check),
    AssetKind("persona", (".persona.json", ".persona.enc.json"), "a persona", object_check("storm_persona")),
    AssetKind("data", (".json",), "a JSON data", json_check),
    AssetKind("any", (), "any"),
)


class AssetKinds:
    """The kinds one asset cache knows (a copy of the defaults, so a runtime's feature checks stay
    its own)."""

    def __init__(self, kinds: tuple[AssetKind, ...] = DEFAULT_KINDS) -> None:
        self._kinds = {kind.name: kind for kind in kinds}

    def get(self, name: str) -> AssetKind:
        kind = self._kinds.get(name)
        if kind is None:
            raise KeyError(f"asset kind {name!r} is not one of {', '.join(self._kinds)}")
        return kind

    def names(self) -> list[str]:
        return list(self._kinds)

    def set_check(self, name: str, check: Check) -> None:
        """Give a kind its real check (a feature's loader); its file endings stay as declared."""
        self._kinds[name] = replace(self.get(name), check=check)


def missing_kinds(kinds: AssetKinds) -> list[str]:
    """Kind names fields may declare (``ASSET_KINDS``) that have no entry (should be none)."""
    return [name for name in ASSET_KINDS if name not in kinds.names()]
