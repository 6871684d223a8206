"""Asset ids: ``pack:path`` names for every file a world uses, checked the same way everywhere."""
from __future__ import annotations

import re
from pathlib import PurePosixPath

PACK_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def parse_asset_id(asset_id: str) -> tuple[str, str]:
    """Split ``pack:path`` and check both halves; raises ValueError saying what is wrong."""
    if not isinstance(asset_id, str) or ":" not in asset_id:
        raise ValueError(f"asset id {asset_id!r} must look like 'pack:path'")
    pack, path = asset_id.split(":", 1)
    if not PACK_NAME.match(pack):
        raise ValueError(f"asset id {asset_id!r}: pack name must be lower-case letters, digits or _")
    parts = PurePosixPath(path).parts
    if not path or path.startswith("/") or "\\" in path or ".." in parts:
        raise ValueError(f"asset id {asset_id!r}: path must be relative, with / and no '..'")
    return pack, path
