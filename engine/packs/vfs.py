"""One virtual file system over the enabled packs, in load order: every asset id (``pack:path``)
names one file, read through here with a byte budget; other packs may replace it (an override,
declared in their manifest) or change it (a structured patch of JSON data); a provenance record
says who did what, in order.

Why Storm's own file system and not Panda3D's ``VirtualFileSystem`` mounts: a Panda3D mount
follows symbolic links, lets ``..`` climb out of the mount into the real file system (the root
is mounted too), cannot read a .zip in Panda3D 1.10 (only its own Multifile format), has no
budgets, and knows nothing of namespaces, overrides, patches or provenance. The index here is a
dict built in one walk per pack (200 packs with 10,000 files mount in well under a second), and a
lookup is one dict hit. Panda3D still loads what it is good at: model data reach it as bytes
(``gltf_files``) and sounds through a private in-memory mount (``panda_files``), never a path.

Overrides: pack ``mymod`` replaces ``base:models/crate.gltf`` by shipping
``overrides/base/models/crate.gltf``; its manifest should list ``"base:models/crate.gltf"`` under
``[overrides]`` with a reason, and an undeclared override still applies but is reported as a
warning naming both packs. The last pack in load order wins. Patches (``[[patches]]`` in the
manifest) apply to the winning file's JSON, in load order; see ``patches.py``.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.asset_ids import PACK_NAME, parse_asset_id
from engine.core.errors import DataError
from engine.packs.json_text import parse_json_bytes
from engine.packs.manifest import LEGACY_MANIFEST, MANIFEST, PackManifest, PatchDecl, parse_manifest
from engine.packs.patches import PatchOp, PatchSkipped, apply_patch, parse_patch
from engine.packs.path_rules import is_code_name, is_pickle_name, looks_like_pickle, looks_like_program
from engine.packs.sources import Budgets, PackRefused, PackSource, open_source

log = logging.getLogger("storm.packs")
OVERRIDES_DIR = "overrides/"
_recording = threading.local()


@dataclass
class Pack:
    """One mounted content pack: a folder or a .zip (``source``) and its checked manifest."""

    name: str
    root: Path
    version: str
    title: str
    allows_code: bool
    manifest: PackManifest | None = None
    source: PackSource | None = None
    trusted: bool = False  # the player lets its code run in the engine's process (profiles set it)
    settings: dict[str, Any] = field(default_factory=dict)  # its declared settings, the profile's values


@dataclass(frozen=True)
class Change:
    """One pack's change to an asset: ``override`` (its file replaces the asset) or ``patch``."""

    kind: str
    pack: str
    file: str  # the override or patch file, as messages name it
    declared: bool = True
    reason: str = ""  # the manifest's reason for an override
    status: str = ""  # a patch's outcome the last time the asset was read: applied / skipped: ... / failed: ...


@dataclass(frozen=True)
class Provenance:
    """Where an asset comes from: the pack that owns the id, the file read, and the changes, in
    load order (overrides first, the last one wins; then patches, applied to the winner)."""

    asset_id: str
    owner: str  # the pack named in the id
    file: str | None  # the file read (after overrides); None when no enabled pack has it
    provider: str | None  # the pack of that file
    changes: tuple[Change, ...] = ()
    original: str | None = None  # the owner's own file, when it has one


class PackFileSystem:
    """The mounted packs and the index from asset id to the file that answers it."""

    def __init__(self, budgets: Budgets | None = None) -> None:
        self.budgets = budgets or Budgets()
        self.warnings: list[str] = []
        self._packs: dict[str, Pack] = {}
        self._own: dict[str, tuple[Pack, str]] = {}
        self._effective: dict[str, tuple[Pack, str]] = {}
        self._overrides: dict[str, list[tuple[Pack, str]]] = {}
        self._patches: dict[str, list[tuple[Pack, PatchDecl]]] = {}
        self._patch_ops: dict[tuple[str, str, tuple[int, int]], list[PatchOp]] = {}
        self._patch_status: dict[tuple[str, str, str], str] = {}

    # -- mounting -------------------------------------------------------------------------------

    def open_pack(self, root: Path | str) -> Pack:
        """Open and check a pack (folder or .zip) without mounting it; raises PackRefused."""
        source = open_source(root, self.budgets)
        try:
            manifest = self._manifest(source)
            for name in source.files:
                if is_pickle_name(name):
                    raise source.refuse(name, "no pickle files in a pack (unpickling runs code; use JSON)")
                if not manifest.allows_code and is_code_name(name):
                    raise source.refuse(name, f"no code files in a content-only pack (pack {manifest.id!r} has "
                                              "kind = \"content\"; code belongs in a pack of kind plugin or both)")
            for index, decl in enumerate(manifest.patches):
                if decl.file not in source.files:
                    raise PackRefused(manifest.source, f"patches[{index}].file", "a patch file in this pack", decl.file)
                if not decl.target.endswith(".json"):
                    raise PackRefused(manifest.source, f"patches[{index}].target", "a JSON asset (.json) to patch",
                                      decl.target)
        except BaseException:
            source.close()
            raise
        return Pack(manifest.id, Path(root), str(manifest.version), manifest.name, manifest.allows_code, manifest,
                    source)

    def _manifest(self, source: PackSource) -> PackManifest:
        name = MANIFEST if MANIFEST in source.files else LEGACY_MANIFEST if LEGACY_MANIFEST in source.files else None
        if name is None:
            raise source.refuse(MANIFEST, "a pack manifest file (pack.toml) at the top of the pack")
        limit = self.budgets.manifest_bytes
        if source.files[name] > limit:
            raise source.refuse(name, f"a manifest of at most {limit} bytes", f"{source.files[name]} bytes")
        return parse_manifest(source.read(name, limit), source.display(name), legacy=name == LEGACY_MANIFEST)

    def mount(self, pack: Pack) -> None:
        """Add an opened pack after the ones already mounted (later packs win overrides)."""
        assert pack.source is not None and pack.manifest is not None
        self._packs[pack.name] = pack
        prefix = pack.name + ":"
        own, effective, overrides = self._own, self._effective, self._overrides
        shipped: list[tuple[str, str]] = []
        for name in pack.source.files:
            if name.startswith(OVERRIDES_DIR):
                shipped.append((name, name[len(OVERRIDES_DIR):].replace("/", ":", 1)))
                continue
            asset_id = prefix + name
            own[asset_id] = (pack, name)
            replaced = overrides.get(asset_id)
            effective[asset_id] = replaced[-1] if replaced else (pack, name)
        declared = pack.manifest.overrides
        for name, target in shipped:
            owner = target.split(":", 1)[0]
            if ":" not in target or not PACK_NAME.match(owner) or owner == pack.name:
                self._warn(f"pack {pack.name!r}: {name} is not under overrides/<another pack>/<path>; it is ignored")
                continue
            if is_code_name(target):
                self._warn(f"pack {pack.name!r}: {name} would replace code of pack {owner!r}; scripts are never "
                           "overridden (ship your own behaviour instead); it is ignored")
                continue
            overrides.setdefault(target, []).append((pack, name))
            if target in own:
                effective[target] = (pack, name)
            if target not in declared:
                self._warn(f"pack {pack.name!r} overrides {target}, a file of pack {owner!r}, without declaring it: add "
                           f"\"{target}\" = \"<why>\" under [overrides] in {pack.manifest.source}")
        for target in declared:
            if OVERRIDES_DIR + target.replace(":", "/", 1) not in pack.source.files:
                self._warn(f"pack {pack.name!r} declares an override of {target} but ships no file "
                           f"{OVERRIDES_DIR}{target.replace(':', '/', 1)}")
        for decl in pack.manifest.patches:
            self._patches.setdefault(decl.target, []).append((pack, decl))
        self._check_targets(pack)

    def _check_targets(self, pack: Pack) -> None:
        """Overrides and patches aimed at files their target pack (now mounted) does not have."""
        for target, changers in [*self._overrides.items(), *self._patches.items()]:
            owner = target.split(":", 1)[0]
            if owner not in self._packs or target in self._own:
                continue
            for changer, _ in changers:
                if changer is pack or owner == pack.name:  # news now: the change, or the target pack
                    self._warn(f"pack {changer.name!r} changes {target}, but pack {owner!r} has no such file; "
                               "the change is ignored")

    def _warn(self, message: str) -> None:
        log.warning(message)
        self.warnings.append(message)

    def unmount_all(self) -> None:
        """Close every pack (zips hold an open file) and forget them."""
        for pack in self._packs.values():
            if pack.source is not None:
                pack.source.close()
        for table in (self._packs, self._own, self._effective, self._overrides, self._patches, self._patch_ops,
                      self._patch_status):
            table.clear()

    # -- looking up and reading -----------------------------------------------------------------

    def pack(self, name: str) -> Pack | None:
        return self._packs.get(name)

    def packs(self) -> list[Pack]:
        return list(self._packs.values())

    def find(self, asset_id: str) -> tuple[Pack, str] | None:
        """The (pack, file name) that answers an asset id after overrides, or None."""
        hit = self._effective.get(asset_id)
        return hit if hit is not None else self._discover(asset_id)

    def _discover(self, asset_id: str) -> tuple[Pack, str] | None:
        """A file written into a folder pack after it was mounted (overrides and patches are read
        when a pack is mounted; new plain files are picked up when they are first asked for)."""
        owner, _, name = asset_id.partition(":")
        pack = self._packs.get(owner)
        if pack is None or pack.source is None or name.startswith(OVERRIDES_DIR) or not self.has_in_pack(pack, name):
            return None
        hit = self._own[asset_id] = (pack, name)
        replaced = self._overrides.get(asset_id)
        self._effective[asset_id] = replaced[-1] if replaced else hit
        return self._effective[asset_id]

    def has_in_pack(self, pack: Pack, name: str) -> bool:
        """Whether the pack has the file (a folder pack: also one written since it was mounted)."""
        source = pack.source
        assert source is not None and pack.manifest is not None
        if name in source.files:
            return True
        if not source.discover(name):
            return False
        if is_pickle_name(name) or (not pack.allows_code and is_code_name(name)):
            del source.files[name]
            self._warn(f"pack {pack.name!r}: {source.display(name)} is left out: "
                       f"{'a pickle' if is_pickle_name(name) else 'code in a content-only pack'}")
            return False
        return True

    def read(self, asset_id: str, budget: int | None = None) -> bytes:
        """The bytes of an asset (overrides applied, patches not); raises DataError naming the file."""
        hit = self.find(asset_id)
        if hit is None:
            raise self._missing(asset_id)
        return self.read_in_pack(hit[0], hit[1], budget)

    def read_in_pack(self, pack: Pack, name: str, budget: int | None = None) -> bytes:
        """A file of one pack by its name there (no overrides): scripts, a model's companions."""
        source = pack.source
        assert source is not None
        if not self.has_in_pack(pack, name):
            raise DataError(source.display(name), "", f"a file in pack {pack.name!r}")
        data = source.read(name, self.budgets.file_bytes if budget is None else budget)
        if data[:1] == b"\x80" and looks_like_pickle(data):
            raise PackRefused(source.display(name), "", "no pickle data (unpickling runs code; use JSON)")
        if not pack.allows_code:
            program = looks_like_program(data)
            if program:
                raise PackRefused(source.display(name), "", f"data, not {program}, in a content-only pack")
        reads = getattr(_recording, "reads", None)
        if reads is not None:
            reads[f"{pack.name}:{name}"] = hashlib.sha256(data).hexdigest()
        return data

    @contextlib.contextmanager
    def recording(self) -> Iterator[dict[str, str]]:
        """Within the block, every file this thread reads from a pack is noted as
        ``{"pack:name": sha256}`` (what a converted model was made of, for the import cache)."""
        outer = getattr(_recording, "reads", None)
        reads: dict[str, str] = {}
        _recording.reads = reads
        try:
            yield reads
        finally:
            _recording.reads = outer
            if outer is not None:
                outer.update(reads)

    def _missing(self, asset_id: str) -> DataError:
        try:
            owner, path = parse_asset_id(asset_id)
        except ValueError as exc:
            return DataError(str(asset_id), "", str(exc))
        if owner not in self._packs:
            return DataError(asset_id, "", f"an enabled pack named {owner!r}")
        return DataError(asset_id, "", f"a file {path!r} in pack {owner!r}")

    def display(self, asset_id: str) -> str:
        """How messages name the file behind an asset id (the asset id itself when there is none)."""
        hit = self.find(asset_id)
        return hit[0].source.display(hit[1]) if hit is not None and hit[0].source is not None else asset_id

    def stamp(self, asset_id: str) -> tuple[Any, ...]:
        """Changes whenever the asset's file, or a patch of it, changes (for hot reload and caches)."""
        hit = self.find(asset_id)
        if hit is None:
            return ()
        parts: list[Any] = [hit[0].name, hit[1], *hit[0].source.stamp(hit[1])]  # type: ignore[union-attr]
        for pack, decl in self._patches.get(asset_id, ()):
            parts += [pack.name, decl.file, *pack.source.stamp(decl.file)]  # type: ignore[union-attr]
        return tuple(parts)

    def read_json(self, asset_id: str, budget: int | None = None, patched: bool = True) -> Any:
        """An asset's JSON data with every patch of it applied, in load order (``patched`` False:
        the file as written, for editors that save it back). Raises DataError naming the file, or
        the patch file, op index and path of a patch that cannot apply."""
        data = parse_json_bytes(self.read(asset_id, budget), self.display(asset_id))
        if not patched:
            return data
        for pack, decl in self._patches.get(asset_id, ()):
            source = pack.source
            assert source is not None
            where = source.display(decl.file)
            key = (asset_id, pack.name, decl.file)
            try:
                data = apply_patch(data, self._ops(pack, decl), where, asset_id)
            except PatchSkipped as skipped:
                self._patch_status[key] = f"skipped: {skipped}"
                log.info("%s: patch of %s skipped: %s", where, asset_id, skipped)
                continue
            except DataError as exc:
                self._patch_status[key] = f"failed: {exc}"
                raise
            self._patch_status[key] = "applied"
        return data

    def _ops(self, pack: Pack, decl: PatchDecl) -> list[PatchOp]:
        source = pack.source
        assert source is not None
        key = (pack.name, decl.file, source.stamp(decl.file))
        ops = self._patch_ops.get(key)
        if ops is None:
            where = source.display(decl.file)
            ops = parse_patch(parse_json_bytes(self.read_in_pack(pack, decl.file), where), where)
            self._patch_ops[key] = ops
        return ops

    # -- provenance -----------------------------------------------------------------------------

    def why(self, asset_id: str) -> Provenance:
        """Which pack provides an asset and which packs replaced or patched it, in load order."""
        owner = asset_id.split(":", 1)[0]
        hit = self._effective.get(asset_id)
        changes: list[Change] = []
        if asset_id in self._own:
            for pack, name in self._overrides.get(asset_id, ()):
                assert pack.manifest is not None and pack.source is not None
                reason = pack.manifest.overrides.get(asset_id)
                changes.append(Change("override", pack.name, pack.source.display(name), reason is not None,
                                      reason or ""))
        if hit is not None:
            for pack, decl in self._patches.get(asset_id, ()):
                assert pack.source is not None
                status = self._patch_status.get((asset_id, pack.name, decl.file), "")
                changes.append(Change("patch", pack.name, pack.source.display(decl.file), True, "", status))
        file = hit[0].source.display(hit[1]) if hit is not None and hit[0].source is not None else None
        mine = self._own.get(asset_id)
        original = mine[0].source.display(mine[1]) if mine is not None and mine[0].source is not None else None
        return Provenance(asset_id, owner, file, hit[0].name if hit else None, tuple(changes), original)
