"""What the editor draws into the 3D scene besides the world: the ground grid and the selection
tint. Both hang under the view's overlay node (outside the world's root: never saved, never
picked, never in a snapshot).

The selection tint instances each selected entity's own geometry (its GeomNodes, not those of
child entities) under holders that follow the entity, drawn a second time as an orange wireframe
over a translucent orange fill, lights, shaders and textures off, always on top of the model.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from panda3d.core import ColorBlendAttrib, LineSegs, NodePath, TransparencyAttrib

from editor.visibility import EDITOR_HIDDEN
from engine.core.world import ENTITY_TAG

if TYPE_CHECKING:
    from engine.core.world import World

TINT = (1.0, 0.55, 0.05, 1.0)
FILL = (1.0, 0.55, 0.05, 0.28)
PRIORITY = 2000


def make_grid(parent: NodePath, half: int = 20, step: float = 1.0) -> NodePath:
    """Lines every ``step`` metres on the ground plane (z = 0), every tenth brighter, the X axis red
    and the Y axis green."""
    lines = LineSegs("editor-grid")
    lines.setThickness(1.0)
    extent = half * step
    for i in range(-half, half + 1):
        v = i * step
        if i == 0:
            continue
        shade = 0.2 if i % 10 else 0.32
        lines.setColor(shade, shade, shade, 1.0)
        lines.moveTo(v, -extent, 0)
        lines.drawTo(v, extent, 0)
        lines.moveTo(-extent, v, 0)
        lines.drawTo(extent, v, 0)
    lines.setColor(0.85, 0.2, 0.2, 1.0)
    lines.moveTo(-extent, 0, 0)
    lines.drawTo(extent, 0, 0)
    lines.setColor(0.25, 0.75, 0.25, 1.0)
    lines.moveTo(0, -extent, 0)
    lines.drawTo(0, extent, 0)
    grid = parent.attachNewNode(lines.create())
    _unlit(grid)
    grid.setDepthOffset(1)
    return grid


def _unlit(node: NodePath) -> None:
    node.setLightOff(PRIORITY)
    node.setShaderOff(PRIORITY)
    node.setTextureOff(PRIORITY)
    node.setMaterialOff(PRIORITY)
    node.setColorScaleOff(PRIORITY)


def own_geometry(world: "World", eid: int) -> list[NodePath]:
    """The GeomNodes that belong to ``eid`` itself (the nearest entity above them is ``eid``)."""
    node = world.node(eid)
    out = []
    for geom in node.findAllMatches("**/+GeomNode"):
        owner = geom.findNetTag(ENTITY_TAG)
        if not owner.isEmpty() and owner.getTag(ENTITY_TAG) == str(eid):
            out.append(geom)
    return out


class SelectionTint:
    """The orange tint over selected entities."""

    def __init__(self, parent: NodePath) -> None:
        self.root = parent.attachNewNode("editor-selection")
        _unlit(self.root)
        self.root.setBin("fixed", 40)
        self.root.setDepthTest(False)
        self.root.setDepthWrite(False)
        self._fill = self.root.attachNewNode("fill")
        self._fill.setColor(FILL, PRIORITY)
        self._fill.setTransparency(TransparencyAttrib.M_alpha, PRIORITY)
        self._fill.setAttrib(ColorBlendAttrib.make(ColorBlendAttrib.M_add, ColorBlendAttrib.O_incoming_alpha,
                                                   ColorBlendAttrib.O_one_minus_incoming_alpha), PRIORITY)
        self._wire = self.root.attachNewNode("wire")
        self._wire.setColor(TINT, PRIORITY)
        self._wire.setRenderModeWireframe(PRIORITY)
        self._holders: list[tuple[NodePath, NodePath, NodePath]] = []  # (geom, fill holder, wire holder)
        self._key: tuple = ()

    def invalidate(self) -> None:
        """The world changed (a mesh may have come or gone): find the geometry again at the next sync."""
        self._key = None  # type: ignore[assignment]

    def sync(self, world: "World | None", ids: list[int]) -> None:
        """Tint these entities; call before each draw (holders follow entities that move)."""
        key = tuple(ids)
        if world is None:
            ids, key = [], ()
        if key != self._key or any(geom.isEmpty() or geom.getTop() != world.root.getTop()  # type: ignore[union-attr]
                                   for geom, _f, _w in self._holders):
            self._rebuild(world, [eid for eid in ids if world is not None and world.exists(eid)])
            self._key = key
        for geom, fill, wire in self._holders:
            transform = geom.getNetTransform()
            fill.setTransform(transform)
            wire.setTransform(transform)
            hidden = geom.isHidden() or geom.isHidden(EDITOR_HIDDEN)  # hidden in the editor (visibility.py)
            for holder in (fill, wire):
                if hidden:
                    holder.hide()
                else:
                    holder.show()

    def _rebuild(self, world: "World | None", ids: list[int]) -> None:
        for _geom, fill, wire in self._holders:
            fill.removeNode()
            wire.removeNode()
        self._holders = []
        if world is None:
            return
        for eid in ids:
            for geom in own_geometry(world, eid):
                fill = self._fill.attachNewNode("tint")
                wire = self._wire.attachNewNode("tint")
                fill.attachNewNode(geom.node())  # an instance: the same GeomNode under a second parent
                wire.attachNewNode(geom.node())
                self._holders.append((geom, fill, wire))
