"""Plugins for a runtime: the enabled packs that carry a plugin, started with the profile's trust
and settings, their systems and components in every world the runtime makes from then on."""
from __future__ import annotations

from typing import TYPE_CHECKING

from plugins.host import PluginHost

if TYPE_CHECKING:
    from engine.host.runtime import Runtime

WATCH_SECONDS = 1.0  # world seconds between looks for changed plugin files


def start_plugins(runtime: "Runtime", watch_seconds: float | None = WATCH_SECONDS) -> PluginHost | None:
    """Start the plugins of the runtime's enabled packs (None when no pack has one). Packs the
    profile trusts run in the engine's process, the others in their sandbox; edited plugin files
    restart their plugin alone. Call ``stop()`` on the host when done."""
    packs = [pack for pack in runtime.content.packs() if pack.manifest is not None and pack.manifest.plugin_entry]
    if not packs:
        return None
    host = PluginHost([(pack.root, pack.manifest) for pack in packs],
                      trusted={pack.name for pack in packs if pack.trusted},
                      settings={pack.name: dict(pack.settings) for pack in packs}, watch_seconds=watch_seconds)
    host.install(runtime)
    host.start()
    for suffix in host.engine.importers():  # file types plugins read for the engine
        runtime.content.add_importer(suffix, host.engine.import_asset)
    return host
