"""From a profile to a ContentRegistry: scan the pack folders, resolve the enabled packs' load
order, check their settings and the lock file, and add the packs to a registry in that order.

    from engine.packs.loading import open_content
    content = open_content()               # the player's profile, or base alone when there is none

Problems stop the load with one ResolveError listing them all: unreadable packs, what the
resolver finds, settings that do not fit their declaration and, in strict mode, packs changed
since they were locked. Outside strict mode a changed pack is a warning (logged, and kept in
``LoadPlan.warnings``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from engine.core.api_version import API_VERSION
from engine.packs.content import ContentRegistry
from engine.packs.discovery import DEFAULT_READERS, AvailablePack, PackReader, ScanResult, scan_packs
from engine.packs.locations import default_profile_path, lock_path_for, pack_folders
from engine.packs.profile import LockMismatch, Profile, lock_changes, pack_settings, read_lock, read_profile
from engine.packs.resolver import Resolution, ResolveError, plan_load_order
from engine.packs.sources import Budgets

log = logging.getLogger("storm.packs")


@dataclass
class LoadPlan:
    """What loading decided: the enabled packs in load order, each one's settings, the problems
    that stop the load, and how the packs differ from the lock file (``lock_changes``: problems
    too when ``strict``, else warnings)."""

    profile: Profile
    scan: ScanResult
    resolution: Resolution
    settings: dict[str, dict[str, Any]]
    problems: list[str]
    lock_changes: list[str] = field(default_factory=list)
    lock_path: Path | None = None
    strict: bool = False

    @property
    def order(self) -> list[AvailablePack]:
        return self.resolution.order

    @property
    def warnings(self) -> list[str]:
        return [] if self.strict else list(self.lock_changes)

    def check(self) -> None:
        """Raise ResolveError for the problems, or (strict) LockMismatch for the lock changes."""
        if self.problems:
            raise ResolveError(self.problems)
        if self.strict and self.lock_changes:
            raise LockMismatch(self.lock_changes)


def load_profile(profile: Profile | Path | str | None) -> Profile:
    """A profile as given, read from a file, or (None) the player's own."""
    if isinstance(profile, Profile):
        return profile
    return read_profile(default_profile_path() if profile is None else Path(profile))


def plan_content(profile: Profile | Path | str | None = None, *, folders: Iterable[Path] | None = None,
                 readers: Sequence[PackReader] = DEFAULT_READERS, engine_version: str = API_VERSION,
                 lock_path: Path | str | None = None, strict: bool = False) -> LoadPlan:
    """Everything ``open_content`` decides, without raising for the problems it finds.
    ``folders``: where to look (default: Storm's content/ and the player's packs); ``lock_path``:
    default beside the profile file (none for a profile without a file)."""
    profile = load_profile(profile)
    scan = scan_packs(pack_folders() if folders is None else folders, readers)
    resolution = plan_load_order(scan.packs, profile.enabled, engine_version)
    problems = [*scan.unreadable, *resolution.problems]
    settings = {}
    for pack in resolution.order:
        settings[pack.id], wrong = pack_settings(profile, pack.manifest)
        problems += wrong
    if lock_path is None and profile.path is not None:
        lock_path = lock_path_for(profile.path)
    plan = LoadPlan(profile, scan, resolution, settings, problems, [], Path(lock_path) if lock_path else None, strict)
    lock = read_lock(plan.lock_path) if plan.lock_path is not None else None
    if lock is not None and resolution.ok:
        plan.lock_changes = lock_changes(lock, resolution.order)
    return plan


def open_content(profile: Profile | Path | str | None = None, *, folders: Iterable[Path] | None = None,
                 readers: Sequence[PackReader] = DEFAULT_READERS, engine_version: str = API_VERSION,
                 lock_path: Path | str | None = None, strict: bool = False,
                 budgets: Budgets | None = None) -> ContentRegistry:
    """A ContentRegistry of the profile's enabled packs in load order (reading within ``budgets``).
    Raises ResolveError listing every problem; in strict mode LockMismatch when packs changed since
    they were locked (else each change is logged as a warning)."""
    plan = plan_content(profile, folders=folders, readers=readers, engine_version=engine_version,
                        lock_path=lock_path, strict=strict)
    plan.check()
    for warning in plan.warnings:
        log.warning("%s", warning)
    return registry_from_plan(plan, budgets)


def registry_from_plan(plan: LoadPlan, budgets: Budgets | None = None) -> ContentRegistry:
    """The registry of a plan without problems: its packs in load order, trust and settings set."""
    if plan.problems:
        raise ResolveError(plan.problems)
    registry = ContentRegistry(budgets)
    for available in plan.order:
        pack = registry.add_pack(available.location)
        pack.trusted = plan.profile.is_trusted(pack.name)
        pack.settings = dict(plan.settings[available.id])
    return registry
