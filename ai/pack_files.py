"""Finding the AI feature's files in the enabled packs (personas, dialogue, quests, actions)."""
from __future__ import annotations

from engine.packs.content import ContentRegistry


def list_assets(content: ContentRegistry, folder: str, suffix: str) -> list[str]:
    """Asset ids (``pack:folder/name<suffix>``) of every file under ``folder`` of each enabled pack
    whose name ends in ``suffix``, in load order, then by name; a later pack's file of the same
    name is the same asset id (overrides are the registry's business)."""
    seen: dict[str, None] = {}
    prefix = folder.rstrip("/") + "/"
    for pack in content.packs():
        source = pack.source
        if source is None:
            continue
        for name in sorted(getattr(source, "files", ())):
            if name.startswith(prefix) and name.endswith(suffix):
                seen[f"{pack.name}:{name}"] = None
    return list(seen)
