"""Skeletal animation: the Animator component and the AnimationSystem that plays glTF clips through
Panda3D's Actor, picking idle/walk/run/jump from the motion and cross-fading. See docs/animation.md."""
from engine.animation.components import STATES, Animator
from engine.animation.system import AnimationSystem

__all__ = ["STATES", "AnimationSystem", "Animator"]
