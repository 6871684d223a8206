"""The plugin host: plugins found in packs, hooks called by keyword (pluggy), the plugin event
bus, permissions, and the process sandbox for plugins the user has not marked trusted.

Start at ``plugins.host.PluginHost``; a plugin file sees ``plugins.api`` and the hooks of
``plugins.hookspecs``. docs/modding-plugins.md is the modder's guide. Nothing in ``engine``
imports this package.
"""
