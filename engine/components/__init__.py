"""Built-in component types and the registry that knows them."""
from __future__ import annotations

from engine.component import ComponentRegistry
from engine.components.rendering import Camera, Light, MeshRenderer

BUILTIN_COMPONENTS = (MeshRenderer, Light, Camera)


def builtin_registry() -> ComponentRegistry:
    """A registry holding every built-in component type."""
    registry = ComponentRegistry()
    for cls in BUILTIN_COMPONENTS:
        registry.register(cls)
    return registry


__all__ = ["Camera", "Light", "MeshRenderer", "BUILTIN_COMPONENTS", "builtin_registry"]
