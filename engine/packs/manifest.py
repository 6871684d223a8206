"""Pack manifests: ``pack.toml`` (TOML, so people can comment), read with tomllib and checked
key by key; the old four-key ``pack.json`` is still read, with a note to migrate.

```toml
schema = 1
id = "forest"                      # the asset namespace: forest:models/tree.glb
version = "1.2.0"                  # SemVer
kind = "content"                   # content (data only) | plugin (code) | both
name = "Forest props"
authors = ["Ada Lovelace <ada@example.com>"]
license = "MIT"                    # an SPDX expression
engine = ">=1.0, <2"               # the engine.api versions this pack works with
description = "Trees, rocks and a mossy crate."
load_after = ["weather"]           # ordering only

[dependencies]                     # id = version range
base = ">=0.1"

[optional]                         # used when present, never required
weather = "^0.3"

[incompatible]                     # id = the reason shown to the player
old_forest = "forest replaces it; disable old_forest"

[settings.density]                 # a setting players can change
type = "float"
default = 0.5
min = 0.0
max = 1.0
doc = "how many trees per square metre"

[permissions]                      # what the pack's plugin may do, each with a reason
world_write = "plants trees through world commands"
files = { folder = "saves", reason = "keeps its own save files" }

[overrides]                        # other packs' assets this pack replaces, with a reason
"base:models/crate.gltf" = "a mossy crate"

[[patches]]                        # structured changes to other packs' JSON files
target = "base:prefabs/pillar_lamp.prefab.json"
file = "patches/lamp.patch.json"

[plugin]                           # for kind plugin or both
entry = "plugin/main.py"
```
"""
from __future__ import annotations

import json
import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import semver

from engine.core.asset_ids import PACK_NAME, parse_asset_id
from engine.core.errors import DataError
from engine.packs.versions import VersionError, VersionRange, parse_range, parse_version

log = logging.getLogger("storm.packs")

MANIFEST = "pack.toml"
LEGACY_MANIFEST = "pack.json"
MANIFEST_SCHEMA = 1
MAX_MANIFEST_BYTES = 64 * 1024
KINDS = ("content", "plugin", "both")
PERMISSIONS = ("world_read", "world_write", "files", "network")
SETTING_TYPES = ("bool", "int", "float", "str", "enum")
KEYS = ("schema", "id", "version", "kind", "name", "authors", "license", "engine", "description", "load_after",
        "dependencies", "optional", "incompatible", "settings", "permissions", "overrides", "patches", "plugin")
SPDX = re.compile(r"^[A-Za-z0-9.+\-() ]{1,100}$")


@dataclass(frozen=True)
class Dependency:
    """A pack this one needs (or, ``optional``, uses when it is there), in a version range."""

    id: str
    range: VersionRange
    optional: bool = False


@dataclass(frozen=True)
class Setting:
    """A setting the pack declares: its type, default and bounds (``choices`` for enum)."""

    name: str
    type: str
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class Permission:
    """What a pack's plugin may do, and why (``folder``: the folder a ``files`` permission covers)."""

    name: str
    reason: str
    folder: str = ""


@dataclass(frozen=True)
class PatchDecl:
    """A structured patch of another pack's JSON file: the target asset and the patch file."""

    target: str
    file: str


@dataclass(frozen=True)
class PackManifest:
    """A checked manifest. ``source`` is the manifest file, for messages."""

    source: str
    id: str
    version: semver.Version
    kind: str = "content"
    name: str = ""
    authors: tuple[str, ...] = ()
    license: str = ""
    engine: VersionRange = field(default_factory=lambda: parse_range("*"))
    description: str = ""
    dependencies: tuple[Dependency, ...] = ()
    load_after: tuple[str, ...] = ()
    incompatible: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Setting] = field(default_factory=dict)
    permissions: dict[str, Permission] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)
    patches: tuple[PatchDecl, ...] = ()
    plugin_entry: str = ""
    legacy: bool = False  # read from the old pack.json

    @property
    def allows_code(self) -> bool:
        """Whether the pack may carry Python (behaviour scripts, a plugin)."""
        return self.kind in ("plugin", "both")


def find_manifest(root: Path) -> Path:
    """The manifest file of a pack folder: pack.toml, else the old pack.json."""
    toml_path = root / MANIFEST
    if toml_path.is_file():
        return toml_path
    legacy = root / LEGACY_MANIFEST
    if legacy.is_file():
        return legacy
    raise DataError(str(root), MANIFEST, "a pack manifest file (pack.toml)")


def read_manifest(root: Path) -> PackManifest:
    """Read and check the manifest of a pack folder."""
    path = find_manifest(root)
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise DataError(str(path), "", f"a manifest under {MAX_MANIFEST_BYTES} bytes", f"{size} bytes")
        raw = path.read_bytes()[: MAX_MANIFEST_BYTES + 1]
    except OSError as exc:
        raise DataError(str(path), "", f"a readable manifest ({exc.strerror})") from None
    return parse_manifest(raw, str(path), legacy=path.name == LEGACY_MANIFEST)


def parse_manifest(raw: bytes, source: str, legacy: bool = False) -> PackManifest:
    """Check manifest bytes (TOML, or the old JSON form); raises DataError naming key and expectation."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise DataError(source, "", f"a manifest under {MAX_MANIFEST_BYTES} bytes", f"{len(raw)} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(source, f"byte {exc.start}", "UTF-8 text") from None
    if legacy:
        return _from_legacy(text, source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(source, "", f"valid TOML ({exc})") from None
    return _from_data(data, source)


def _from_legacy(text: str, source: str) -> PackManifest:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(source, f"line {exc.lineno} column {exc.colno}", f"valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise DataError(source, "", "a JSON object", data)
    for key in data:
        if key not in ("name", "version", "title", "code"):
            raise DataError(source, key, "one of the keys name, version, title, code (or move to pack.toml)", key)
    code = data.get("code", False)
    if not isinstance(code, bool):
        raise DataError(source, "code", "true or false", code)
    manifest = _from_data({"schema": MANIFEST_SCHEMA, "id": data.get("name"), "version": data.get("version", "0.0.0"),
                           "kind": "both" if code else "content", "name": data.get("title", data.get("name", ""))},
                          source)
    log.info("%s: pack.json is still read; move its keys to a pack.toml (see docs/modding.md)", source)
    return _replace(manifest, legacy=True)


def _replace(manifest: PackManifest, **changes: Any) -> PackManifest:
    from dataclasses import replace

    return replace(manifest, **changes)


def _from_data(data: dict[str, Any], source: str) -> PackManifest:
    def fail(key: str, expected: str, got: Any = None) -> DataError:
        return DataError(source, key, expected, got)

    for key in data:
        if key not in KEYS:
            raise fail(key, f"one of the keys {', '.join(KEYS)}", key)
    schema = data.get("schema", MANIFEST_SCHEMA)
    if schema != MANIFEST_SCHEMA or isinstance(schema, bool):
        raise fail("schema", f"manifest schema {MANIFEST_SCHEMA}", schema)
    pack_id = data.get("id")
    if not isinstance(pack_id, str) or not PACK_NAME.match(pack_id):
        raise fail("id", "a pack id of lower-case letters, digits or _ (starting with a letter, at most 64)", pack_id)
    try:
        version = parse_version(data.get("version"))
    except VersionError as exc:
        raise fail("version", exc.expected, data.get("version")) from None
    kind = data.get("kind", "content")
    if kind not in KINDS:
        raise fail("kind", "content, plugin or both", kind)
    name = _string(data, "name", fail, 200, default=pack_id)
    authors = data.get("authors", [])
    if not isinstance(authors, list) or not all(isinstance(a, str) and len(a) <= 200 for a in authors):
        raise fail("authors", "a list of names (strings)", authors)
    license_ = _string(data, "license", fail, 100)
    if license_ and not SPDX.match(license_):
        raise fail("license", "an SPDX license expression like 'MIT' or 'CC-BY-4.0'", license_)
    engine = _range(data.get("engine", "*"), "engine", fail)
    description = _string(data, "description", fail, 2000)
    dependencies = [Dependency(dep, _range(rng, f"dependencies.{dep}", fail))
                    for dep, rng in _table(data, "dependencies", fail).items()]
    dependencies += [Dependency(dep, _range(rng, f"optional.{dep}", fail), optional=True)
                     for dep, rng in _table(data, "optional", fail).items()]
    for dependency in dependencies:
        where = "optional" if dependency.optional else "dependencies"
        if not PACK_NAME.match(dependency.id) or dependency.id == pack_id:
            raise fail(f"{where}.{dependency.id}", "the id of another pack", dependency.id)
    load_after = data.get("load_after", [])
    if not isinstance(load_after, list) or not all(isinstance(p, str) and PACK_NAME.match(p) for p in load_after):
        raise fail("load_after", "a list of pack ids", load_after)
    incompatible = _table(data, "incompatible", fail)
    for other, reason in incompatible.items():
        if not PACK_NAME.match(other) or not isinstance(reason, str) or len(reason) > 500:
            raise fail(f"incompatible.{other}", "a pack id = the reason shown to players (a string)", reason)
    settings = {key: _setting(key, value, fail) for key, value in _table(data, "settings", fail).items()}
    permissions = {key: _permission(key, value, fail) for key, value in _table(data, "permissions", fail).items()}
    overrides = _table(data, "overrides", fail)
    for asset, reason in overrides.items():
        _asset_id(asset, f"overrides.{asset}", fail)
        if asset.split(":", 1)[0] == pack_id or not isinstance(reason, str):
            raise fail(f"overrides.{asset}", "another pack's asset id = the reason (a string)", reason)
    patches = tuple(_patch(index, item, fail) for index, item in enumerate(_list(data, "patches", fail)))
    plugin = _table(data, "plugin", fail)
    entry = plugin.get("entry", "")
    if set(plugin) - {"entry"} or not isinstance(entry, str) or (entry and not _relative(entry)):
        raise fail("plugin.entry", "the pack-relative path of the plugin's Python file", entry)
    if kind == "content" and (entry or permissions):
        raise fail("kind", "plugin or both for a pack with a [plugin] or [permissions] table", kind)
    return PackManifest(source, pack_id, version, kind, name, tuple(authors), license_, engine, description,
                        tuple(dependencies), tuple(load_after), dict(incompatible), settings, permissions,
                        dict(overrides), patches, entry)


def _string(data: dict[str, Any], key: str, fail: Any, limit: int, default: str = "") -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or len(value) > limit:
        raise fail(key, f"a string of at most {limit} characters", value)
    return value


def _table(data: dict[str, Any], key: str, fail: Any) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise fail(key, f"a [{key}] table", value)
    return value


def _list(data: dict[str, Any], key: str, fail: Any) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise fail(key, f"a list of [[{key}]] tables", value)
    return value


def _range(text: Any, key: str, fail: Any) -> VersionRange:
    try:
        return parse_range(text)
    except VersionError as exc:
        raise fail(key, exc.expected, text) from None


def _relative(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(path) and not path.startswith("/") and "\\" not in path and ".." not in parts and "\x00" not in path


def _asset_id(value: Any, key: str, fail: Any) -> str:
    try:
        parse_asset_id(value)
    except ValueError:
        raise fail(key, "an asset id like 'pack:path'", value) from None
    return value


def _setting(name: str, value: Any, fail: Any) -> Setting:
    where = f"settings.{name}"
    if not isinstance(value, dict):
        raise fail(where, "a table with type and default", value)
    kind = value.get("type")
    if kind not in SETTING_TYPES:
        raise fail(f"{where}.type", f"one of {', '.join(SETTING_TYPES)}", kind)
    default, low, high = value.get("default"), value.get("min"), value.get("max")
    choices = value.get("choices", [])
    checks = {"bool": lambda v: isinstance(v, bool), "str": lambda v: isinstance(v, str) and len(v) <= 1000,
              "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
              "enum": lambda v: isinstance(v, str) and v in choices}
    if kind == "enum" and (not isinstance(choices, list) or not choices or not all(isinstance(c, str) for c in choices)):
        raise fail(f"{where}.choices", "a non-empty list of strings", choices)
    if not checks[kind](default):
        raise fail(f"{where}.default", f"a default of type {kind}", default)
    for bound_name, bound in (("min", low), ("max", high)):
        if bound is not None and (kind not in ("int", "float") or not checks["float"](bound)):
            raise fail(f"{where}.{bound_name}", "a number (int and float settings only)", bound)
    if (low is not None and default < low) or (high is not None and default > high):
        raise fail(f"{where}.default", f"a default within [{low}, {high}]", default)
    doc = value.get("doc", "")
    if not isinstance(doc, str) or set(value) - {"type", "default", "min", "max", "choices", "doc"}:
        raise fail(where, "the keys type, default, min, max, choices, doc", sorted(value))
    return Setting(name, kind, default, low, high, tuple(choices), doc)


def _permission(name: str, value: Any, fail: Any) -> Permission:
    where = f"permissions.{name}"
    if name not in PERMISSIONS:
        raise fail(where, f"one of the permissions {', '.join(PERMISSIONS)}", name)
    if isinstance(value, str):
        reason, folder = value, ""
    elif isinstance(value, dict) and set(value) <= {"reason", "folder"}:
        reason, folder = value.get("reason"), value.get("folder", "")
    else:
        raise fail(where, "a reason (a string), or a table with reason (and folder for files)", value)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise fail(where, "a reason saying why the pack needs it", reason)
    if name == "files" and (not isinstance(folder, str) or not _relative(folder)):
        raise fail(f"{where}.folder", "the folder (relative, inside the user's pack data) it may use", folder)
    return Permission(name, reason, folder)


def _patch(index: int, item: Any, fail: Any) -> PatchDecl:
    where = f"patches[{index}]"
    if not isinstance(item, dict) or set(item) != {"target", "file"}:
        raise fail(where, "a table with target (an asset id) and file (a path in this pack)", item)
    target = _asset_id(item["target"], f"{where}.target", fail)
    if not isinstance(item["file"], str) or not _relative(item["file"]):
        raise fail(f"{where}.file", "a relative path in this pack", item["file"])
    return PatchDecl(target, item["file"])
