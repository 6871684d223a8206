"""What ``storm pack build`` and ``storm pack why`` do: a deterministic zip of a pack folder that
loading accepts, and a plain account of where an asset comes from."""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import DataError
from engine.packs.content import ContentRegistry
from engine.packs.sources import Budgets, PackRefused
from engine.packs.vfs import PackFileSystem

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: the same bytes every build
FILE_MODE = 0o100644 << 16  # a plain file, rw-r--r--, in the Unix bits of the entry


@dataclass(frozen=True)
class BuiltPack:
    """A zip ``pack build`` wrote."""

    path: Path
    pack: str
    version: str
    files: int
    bytes: int


def build_pack(folder: Path | str, out: Path | str | None = None, budgets: Budgets | None = None) -> BuiltPack:
    """Zip a pack folder: entries sorted by name, fixed timestamps and modes, deflated; refuses
    (PackRefused / DataError) what loading would refuse, and checks the result loads."""
    folder = Path(folder)
    files = PackFileSystem(budgets)
    pack = files.open_pack(folder)
    source = pack.source
    assert source is not None
    try:
        if source.kind != "folder":
            raise PackRefused(str(folder), "", "a pack folder to build (this is already a zip)")
        target = Path(out) if out is not None else folder.parent / f"{pack.name}-{pack.version}.zip"
        if target.resolve().is_relative_to(folder.resolve()):
            raise PackRefused(str(target), "", "an output file outside the pack folder")
        names = sorted(source.files)
        temporary = target.with_name(f".{target.name}.tmp")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(temporary, "wb") as handle:
                with zipfile.ZipFile(handle, "w") as archive:
                    for name in names:
                        data = files.read_in_pack(pack, name)  # the budget, and no pickle or program data
                        entry = zipfile.ZipInfo(name, FIXED_TIME)
                        entry.compress_type = zipfile.ZIP_DEFLATED
                        entry.create_system = 3
                        entry.external_attr = FILE_MODE
                        archive.writestr(entry, data, compresslevel=9)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        finally:
            if temporary.exists():
                temporary.unlink()
    finally:
        source.close()
    check = PackFileSystem(budgets)
    built = check.open_pack(target)
    assert built.source is not None
    built.source.close()
    return BuiltPack(target, pack.name, pack.version, len(names), target.stat().st_size)


def why_lines(content: ContentRegistry, asset_id: str) -> list[str]:
    """Which pack provides an asset and which packs overrode or patched it, in load order, as
    lines for a person. Reading a JSON asset first tells whether each patch applied."""
    if asset_id.endswith(".json") and content.has(asset_id):
        try:
            content.read_json(asset_id)
        except DataError:
            pass  # the failed patch says so below
    record = content.why(asset_id)
    if record.file is None:
        pack = content.pack(record.owner)
        reason = f"pack {record.owner!r} has no such file" if pack else f"no enabled pack is named {record.owner!r}"
        return [f"{asset_id}: not provided by any enabled pack ({reason})"]
    lines = [f"{asset_id}"]
    if record.original is not None:
        lines.append(f"  provided by pack {record.owner!r}: {record.original}")
    overrides = [change for change in record.changes if change.kind == "override"]
    for number, change in enumerate(record.changes, 1):
        if change.kind == "override":
            note = f'declared: "{change.reason}"' if change.declared else "NOT declared in its manifest's [overrides]"
            used = "this file is read" if change is overrides[-1] else "replaced again below"
            lines.append(f"  {number}. replaced by pack {change.pack!r}: {change.file} ({note}; {used})")
        else:
            lines.append(f"  {number}. patched by pack {change.pack!r}: {change.file} ({change.status or 'not read yet'})")
    if not record.changes:
        lines.append("  no other pack overrides or patches it")
    return lines
