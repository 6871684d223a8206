"""Built-in component types and the registry that knows them."""
from __future__ import annotations

from engine.animation.components import Animator, PropAnimator
from engine.audio.components import AudioListener, AudioSource
from engine.camera.components import Camera
from engine.core.component import ComponentRegistry
from engine.input.components import InputOwner
from engine.physics.components import PHYSICS_COMPONENTS
from engine.render.components import Environment, Light, MeshRenderer
from engine.terrain.components import Terrain

BUILTIN_COMPONENTS = (MeshRenderer, Light, Environment, Camera, Animator, PropAnimator, Terrain, AudioSource, AudioListener,
                      InputOwner, *PHYSICS_COMPONENTS)


def builtin_registry() -> ComponentRegistry:
    """A registry holding every built-in component type."""
    registry = ComponentRegistry()
    for cls in BUILTIN_COMPONENTS:
        registry.register(cls)
    return registry


__all__ = ["Animator", "AudioListener", "AudioSource", "Camera", "Environment", "InputOwner", "Light", "MeshRenderer",
           "PropAnimator", "Terrain",
           "BUILTIN_COMPONENTS", "builtin_registry"]
