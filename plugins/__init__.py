"""The plugin host (not built yet): manifests, hooks, event bus, permissions, process sandbox."""
