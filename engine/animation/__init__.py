"""Animation: the Animator component (skeletal clips through Panda3D's Actor, idle/walk/run/jump
picked from the motion and cross-faded; docs/animation.md), the PropAnimator component (one clip of
a model: node, skeletal and morph-target animation; docs/models.md) and the AnimationSystem that
plays both."""
from engine.animation.components import STATES, Animator, PropAnimator
from engine.animation.system import AnimationSystem

__all__ = ["STATES", "AnimationSystem", "Animator", "PropAnimator"]
