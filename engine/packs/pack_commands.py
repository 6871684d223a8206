"""What ``storm pack new|validate|list|lock`` do; main.py parses the arguments and prints the text
these return. Each returns (exit status, text): 0 when all is well, 1 when it found problems;
errors that stop a command are raised as StormError."""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Callable

from engine.core.api_version import API_VERSION
from engine.core.asset_ids import PACK_NAME
from engine.core.errors import DataError, StormError
from engine.packs.content import BASE_PACK_DIR
from engine.packs.discovery import FolderReader
from engine.packs.json_text import MAX_FILE_BYTES, parse_json
from engine.packs.loading import load_profile, plan_content
from engine.packs.locations import default_profile_path, lock_path_for, user_pack_folders
from engine.packs.manifest import MANIFEST, PackManifest, read_manifest
from engine.packs.profile import Profile, make_lock, save_profile, write_lock
from engine.packs.resolver import ResolveError

CONTENT_FOLDERS = ("models", "textures", "sounds", "prefabs")
PLUGIN_ENTRY = "plugin/main.py"

# (line, comment) pairs of the pack.toml that ``pack new`` writes; the comments line up.
TEMPLATE: tuple[tuple[str, str], ...] = (
    ("# {id}: what this pack is, what it needs and what it may do (docs/modding.md, \"Manifest\").", ""),
    ("schema = 1", ""),
    ('id = "{id}"', "the asset namespace: {id}:models/tree.glb (lower-case, unique)"),
    ('version = "0.1.0"', "SemVer; raise it with every release"),
    ('kind = "{kind}"', "content (data only) | plugin (Python) | both"),
    ('name = "{id}"', "shown to players"),
    ("authors = []", 'e.g. ["Ada Lovelace <ada@example.com>"]'),
    ('license = "MIT"', 'an SPDX expression, e.g. "CC-BY-4.0"'),
    ('engine = "^{api}"', "the engine API versions this pack works with"),
    ('description = ""', ""),
    ("load_after = []", "packs to load after when they are enabled (ordering only)"),
    ("", ""),
    ("[dependencies]", "id = version range; each must be installed and enabled"),
    ('base = ">={base}"', ""),
    ("", ""),
    ("[optional]", "id = version range; loaded first when enabled, never required"),
    ('# weather = "^0.3"', ""),
    ("", ""),
    ("[incompatible]", "id = the reason shown to players when both are enabled"),
    ('# old_{id} = "{id} replaces it; disable old_{id}"', ""),
    ("", ""),
    ("# [settings.density]", "a setting players change in their profile"),
    ('# type = "float"', "bool | int | float | str | enum (with choices = [...])"),
    ("# default = 0.5", ""),
    ("# min = 0.0", ""),
    ("# max = 1.0", ""),
    ('# doc = "trees per square metre"', ""),
)
PLUGIN_TEMPLATE: tuple[tuple[str, str], ...] = (
    ("", ""),
    ("[plugin]", ""),
    ('entry = "{entry}"', "the plugin's Python file, in this pack"),
    ("", ""),
    ("[permissions]", "what the plugin may do, each with the reason players see"),
    ('# world_read = "finds the trees near the player"', ""),
    ('# world_write = "plants trees through world commands"', ""),
)
COMMENT_COLUMN = 30


def _template_text(lines: tuple[tuple[str, str], ...], **values: str) -> str:
    out = []
    for code, comment in lines:
        code = code.format(**values)
        out.append(f"{code:<{COMMENT_COLUMN - 1}} # {comment.format(**values)}" if comment else code)
    return "\n".join(out) + "\n"


class PackCommandError(StormError):
    """A pack command that cannot do what was asked (the message says why)."""


def new_pack(pack_id: str, kind: str = "content", folder: Path | str | None = None) -> tuple[int, str]:
    """Write ``<folder>/<id>/`` with a commented pack.toml and the usual folders (the player's pack
    folder by default); refuses a bad id or an existing folder."""
    if not PACK_NAME.match(pack_id):
        raise PackCommandError(f"pack id {pack_id!r}: expected lower-case letters, digits or _, starting with a "
                               "letter, at most 64")
    if kind not in ("content", "plugin", "both"):
        raise PackCommandError(f"pack kind {kind!r}: expected content, plugin or both")
    root = Path(folder if folder is not None else user_pack_folders()[0]) / pack_id
    if root.exists():
        raise PackCommandError(f"{root}: already exists; choose another id or folder")
    base = read_manifest(BASE_PACK_DIR).version
    text = _template_text(TEMPLATE, id=pack_id, kind=kind, api=API_VERSION, base=f"{base.major}.{base.minor}")
    folders = list(CONTENT_FOLDERS) if kind in ("content", "both") else []
    if kind in ("plugin", "both"):
        text += _template_text(PLUGIN_TEMPLATE, entry=PLUGIN_ENTRY)
        folders.append(PLUGIN_ENTRY.rsplit("/", 1)[0])
    root.mkdir(parents=True)
    for name in folders:
        (root / name).mkdir()
    (root / MANIFEST).write_text(text, encoding="utf-8")
    if kind in ("plugin", "both"):
        (root / PLUGIN_ENTRY).write_text(f'"""The plugin of the {pack_id} pack (pack.toml, [plugin] entry); see '
                                         'docs/modding.md."""\n', encoding="utf-8")
    manifest = read_manifest(root)
    return 0, f"wrote {root} ({manifest.id} {manifest.version}, kind {kind}); check it with: storm pack validate {root}"


def validate_pack(folder: Path | str) -> tuple[int, str]:
    """Check a pack folder: its manifest, every JSON file in it, and the files the manifest names."""
    root = Path(folder)
    if not root.is_dir():
        raise PackCommandError(f"{root}: expected a pack folder")
    problems: list[str] = []
    manifest: PackManifest | None = None
    try:
        manifest = read_manifest(root)
    except DataError as exc:
        problems.append(str(exc))
    json_files = 0
    present = set()
    try:
        for entry in sorted(FolderReader().files(root), key=lambda f: f.path):
            present.add(entry.path)
            if entry.open is None or not entry.path.lower().endswith(".json"):
                continue
            json_files += 1
            problem = _json_problem(root / entry.path, entry.open)
            if problem:
                problems.append(problem)
    except DataError as exc:
        problems.append(str(exc))
    if manifest is not None:
        named = [("plugin.entry", manifest.plugin_entry)] if manifest.plugin_entry else []
        named += [(f"patches[{i}].file", patch.file) for i, patch in enumerate(manifest.patches)]
        problems += [str(DataError(manifest.source, key, "a file in the pack", path))
                     for key, path in named if path not in present]
    name = f"{manifest.id} {manifest.version}" if manifest else str(root)
    if problems:
        count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        return 1, "\n".join([f"{name}: {count}", *(f"  - {p}" for p in problems)])
    return 0, f"{name}: ok ({MANIFEST} and {json_files} JSON file{'' if json_files == 1 else 's'} checked)"


def _json_problem(path: Path, opener: Callable[[], BinaryIO]) -> str:
    try:
        with opener() as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return str(DataError(str(path), "", f"a readable file ({exc.strerror})"))
    if len(raw) > MAX_FILE_BYTES:
        return str(DataError(str(path), "", f"a file under {MAX_FILE_BYTES} bytes"))
    try:
        parse_json(raw.decode("utf-8"), str(path))
    except UnicodeDecodeError as exc:
        return str(DataError(str(path), f"byte {exc.start}", "UTF-8 text"))
    except DataError as exc:
        return str(exc)
    return ""


def list_packs(profile: Path | str | None = None) -> tuple[int, str]:
    """The installed packs: the enabled ones in load order, the disabled ones, every problem, and
    how the packs differ from the lock file."""
    plan = plan_content(profile)
    lines = [f"profile: {plan.profile.source}", "pack folders: " + ", ".join(str(f) for f in plan.scan.folders)]
    order = plan.resolution.order
    width = max((len(p.label) for p in plan.scan.packs), default=0)
    lines.append("load order:" if order else "load order: (nothing enabled can load)")
    for number, pack in enumerate(order, 1):
        trust = "trusted" if pack.manifest.allows_code and plan.profile.is_trusted(pack.id) else ""
        lines.append(f"  {number:>3}. {pack.label:<{width}}  {trust:<7}  {pack.location}")
    if plan.resolution.unordered:
        lines.append("not ordered (a cycle): " + ", ".join(plan.resolution.unordered))
    enabled = plan.resolution.enabled
    disabled = sorted((p for p in plan.scan.packs if p.id not in enabled), key=lambda p: (p.id, str(p.location)))
    if disabled:
        lines.append("disabled:")
        lines += [f"       {p.label:<{width}}           {p.location}" for p in disabled]
    if plan.problems:
        lines.append("problems:")
        lines += [f"  - {problem}" for problem in plan.problems]
    if plan.lock_changes:
        lines.append(f"changed since locked ({plan.lock_path}):")
        lines += [f"  - {change}" for change in plan.lock_changes]
    elif plan.lock_path is not None and plan.lock_path.exists() and plan.resolution.ok:
        lines.append(f"lock: every pack as locked in {plan.lock_path}")
    return (1 if plan.problems else 0), "\n".join(lines)


def lock_packs(profile: Path | str | None = None) -> tuple[int, str]:
    """Write the lock file of a profile: each enabled pack's version and content hash."""
    loaded = load_profile(profile)
    plan = plan_content(loaded)
    if plan.problems:
        raise ResolveError(plan.problems)
    path = plan.lock_path or lock_path_for(default_profile_path())
    write_lock(make_lock(plan.order), path)
    return 0, f"wrote {path}: " + ", ".join(pack.label for pack in plan.order)


def enable_pack(pack_id: str, profile: Path | str | None = None, trust: bool = False) -> tuple[int, str]:
    """Enable an installed pack in a profile (and the installed packs it needs); ``trust`` also
    lets its code run in the engine's process. Nothing is saved when the result would not load."""
    loaded = load_profile(profile)
    available = {pack.id: pack for pack in plan_content(loaded).scan.packs}
    if pack_id not in available:
        raise PackCommandError(f"no installed pack has the id {pack_id!r} (see: storm pack list)")
    added, queue = [], [pack_id]
    while queue:
        wanted = queue.pop()
        if wanted not in loaded.enabled and wanted in available:
            loaded.enabled.append(wanted)
            added.append(wanted)
            queue += [dep.id for dep in available[wanted].manifest.dependencies if not dep.optional]
    if trust and pack_id not in loaded.trusted:
        loaded.trusted.append(pack_id)
    return _save_if_it_loads(loaded, f"enabled {', '.join(added) or pack_id + ' (already)'}"
                             + (f"; {pack_id} is trusted: its code runs in the engine's process, unsandboxed"
                                if trust else ""))


def disable_pack(pack_id: str, profile: Path | str | None = None) -> tuple[int, str]:
    """Disable a pack in a profile (base cannot be); a pack that needs it must go first."""
    loaded = load_profile(profile)
    if pack_id == "base":
        raise PackCommandError("the base pack cannot be disabled: the engine's own assets are in it")
    if pack_id not in loaded.enabled:
        return 0, f"{pack_id} is not enabled"
    loaded.enabled.remove(pack_id)
    if pack_id in loaded.trusted:
        loaded.trusted.remove(pack_id)
    return _save_if_it_loads(loaded, f"disabled {pack_id}")


def _save_if_it_loads(profile: Profile, done: str) -> tuple[int, str]:
    plan = plan_content(profile)
    if plan.problems:
        return 1, "not saved: with that change the packs would not load:\n" + "\n".join(
            f"  {problem}" for problem in plan.problems)
    path = profile.path or default_profile_path()
    save_profile(profile, path)
    return 0, f"{done}; load order: {', '.join(pack.label for pack in plan.order)} ({path})"
