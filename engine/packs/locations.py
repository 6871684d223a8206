"""Where Storm keeps a player's packs, profile and lock file.

The Storm folder is ``$STORM_HOME`` when set, else ``$XDG_DATA_HOME/storm``, else
``~/.local/share/storm`` (``%APPDATA%\\storm`` on Windows). Inside it::

    packs/          packs the player installed (``$STORM_PACKS_DIR`` replaces it: one folder, or
                    several joined by the path separator, ``:`` on Linux)
    profile.toml    which packs are enabled and trusted, and their settings
    profile.lock    each enabled pack's version and content hash, written by ``storm pack lock``
                    (a profile's lock file sits beside it: ``other.toml`` has ``other.lock``)

The packs that ship with Storm (``content/`` in the repository) are always scanned first.
"""
from __future__ import annotations

import os
from pathlib import Path

from engine.packs.content import BASE_PACK_DIR

REPO_CONTENT_DIR = BASE_PACK_DIR.parent
PROFILE_FILE = "profile.toml"


def storm_home() -> Path:
    """The player's Storm folder (see the module docstring for how it is chosen)."""
    explicit = os.environ.get("STORM_HOME")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME")
    if not base and os.name == "nt":
        base = os.environ.get("APPDATA")
    return Path(base or Path.home() / ".local" / "share") / "storm"


def user_pack_folders() -> list[Path]:
    """The folders the player installs packs into: ``$STORM_PACKS_DIR`` or ``<storm home>/packs``."""
    explicit = os.environ.get("STORM_PACKS_DIR")
    if explicit:
        return [Path(part) for part in explicit.split(os.pathsep) if part]
    return [storm_home() / "packs"]


def pack_folders() -> list[Path]:
    """Every folder scanned for packs, in scan order: Storm's own ``content/``, then the player's."""
    return [REPO_CONTENT_DIR, *user_pack_folders()]


def default_profile_path() -> Path:
    return storm_home() / PROFILE_FILE


def lock_path_for(profile_path: Path | str) -> Path:
    """The lock file of a profile: beside it, with the suffix ``.lock``."""
    return Path(profile_path).with_suffix(".lock")
