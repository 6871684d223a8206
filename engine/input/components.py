"""The InputOwner component: which player's input drives an entity.

Several players (network peers, split screen, VR hands) drive their own entities through the
same action map. Each player is an input owner named by a string; the InputSystem keeps one
``Actions`` and one source per owner, and a behaviour reads its own entity's owner with
``self.actions``. An entity without an InputOwner belongs to the local player.
"""
from __future__ import annotations

from engine.core.component import Component
from engine.core.fields import Field, Str

LOCAL_PLAYER = "local"


class InputOwner(Component):
    """Names the player whose actions drive this entity (``local`` when the component is absent)."""

    player = Field(Str(64), LOCAL_PLAYER,
                   doc="the input owner's id: 'local' for this machine's player, or any id a session gives a "
                       "player (a network peer, a split-screen seat)")
