"""Bullet physics for Storm: components, the PhysicsSystem, character controllers, joints,
collision and trigger events, and raycast/sweep/overlap queries. See docs/physics.md."""
from engine.physics.components import (
                                       ALL_LAYERS,
                                       PHYSICS_COMPONENTS,
                                       CharacterController,
                                       Collider,
                                       Joint,
                                       RigidBody,
                                       Trigger,
)
from engine.physics.events import Collision, CollisionEnded, TriggerEntered, TriggerExited
from engine.physics.queries import RayHit
from engine.physics.shapes import ShapeSpec
from engine.physics.system import PhysicsSystem

__all__ = ["ALL_LAYERS", "PHYSICS_COMPONENTS", "CharacterController", "Collider", "Collision", "CollisionEnded",
           "Joint", "PhysicsSystem", "RayHit", "RigidBody", "ShapeSpec", "Trigger", "TriggerEntered",
           "TriggerExited"]
