"""The scripting API: the one module a content pack's scripts import from Storm.

Everything a behaviour needs is named here, so a mod keeps working while the engine's insides
move around::

    from engine.api import Behaviour, Field, Float

    class Spinner(Behaviour):
        speed = Field(Float(-3600.0, 3600.0), 90.0, doc="degrees per second")

        def on_update(self, dt: float) -> None:
            self.node.setH(self.node.getH() + self.speed * dt)

``API_VERSION`` is ``MAJOR.MINOR``: a minor release only adds names; a name in ``__all__`` is
removed or changes meaning only with a new major version. Scripts may also import the standard
library and ``panda3d`` (``self.node`` is a Panda3D ``NodePath``). See docs/getting-started.md.
"""
from __future__ import annotations

from engine.animation.components import Animator, PropAnimator
from engine.animation.system import AnimationSystem
from engine.audio.components import AudioListener, AudioSource
from engine.audio.system import AudioSystem
from engine.camera.components import FIRST_PERSON, FIXED, ORBIT, THIRD_PERSON, Camera, active_camera
from engine.camera.system import CameraView, follow_view, forward, heading_of, planar, turn_towards, wrap_degrees
from engine.core.api_version import API_VERSION
from engine.core.commands import Command, CommandError, Transaction
from engine.core.component import Component
from engine.core.edit_commands import (
    AddComponent,
    CreateEntity,
    DestroyEntity,
    Duplicate,
    Paste,
    RemoveComponent,
    Rename,
    Reparent,
    SetFields,
    SetTransform,
)
from engine.core.errors import FieldError
from engine.core.fields import (
    AssetRef,
    Bool,
    Color,
    ComponentName,
    EntityRef,
    Enum,
    Field,
    Flags,
    Float,
    Int,
    Replication,
    Str,
    Vec3,
    Vector,
)
from engine.core.prefab_commands import InstantiatePrefab
from engine.core.world import World
from engine.input.action_state import Actions
from engine.input.components import LOCAL_PLAYER, InputOwner
from engine.physics.components import ALL_LAYERS, CharacterController, Collider, Joint, RigidBody, Trigger
from engine.physics.events import Collision, CollisionEnded, TriggerEntered, TriggerExited
from engine.physics.queries import RayHit
from engine.physics.system import PhysicsSystem
from engine.render.components import Environment, Light, MeshRenderer
from engine.scripting.behaviour import Behaviour


def trigger_occupants(world: World, trigger: int) -> set[int]:
    """The entities inside ``trigger``'s Trigger volume now (empty when it is not a trigger or the
    world has no physics)."""
    physics = world.system(PhysicsSystem)
    body = physics.body(trigger) if physics is not None and world.exists(trigger) else None
    return set(body.inside) if body is not None else set()


def play_sound(world: World, entity: int, volume: float | None = None) -> bool:
    """Play ``entity``'s AudioSource now (restarting it); False when it has none, the world has no
    audio, or the sound cannot play."""
    audio = world.system(AudioSystem)
    return audio is not None and world.has(entity, AudioSource) and audio.play(entity, volume=volume)


__all__ = [
    "ALL_LAYERS", "API_VERSION", "FIRST_PERSON", "FIXED", "LOCAL_PLAYER", "ORBIT", "THIRD_PERSON",
    # behaviours, components, fields
    "Behaviour", "Component", "World", "Field", "FieldError",
    "AssetRef", "Bool", "Color", "ComponentName", "EntityRef", "Enum", "Flags", "Float", "Int", "Replication", "Str",
    "Vec3", "Vector",
    # edits from outside the simulation (world.apply / world.post)
    "AddComponent", "Command", "CommandError", "CreateEntity", "DestroyEntity", "Duplicate", "InstantiatePrefab", "Paste",
    "RemoveComponent", "Rename", "Reparent", "SetFields", "SetTransform", "Transaction",
    # input
    "Actions", "InputOwner",
    # physics
    "CharacterController", "Collider", "Collision", "CollisionEnded", "Joint", "PhysicsSystem", "RayHit", "RigidBody",
    "Trigger", "TriggerEntered", "TriggerExited", "trigger_occupants",
    # audio
    "AudioListener", "AudioSource", "AudioSystem", "play_sound",
    # drawing and cameras
    "AnimationSystem", "Animator", "Camera", "CameraView", "Environment", "Light", "MeshRenderer", "PropAnimator", "active_camera",
    "follow_view", "forward", "heading_of", "planar", "turn_towards", "wrap_degrees",
]
