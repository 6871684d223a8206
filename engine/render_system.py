"""Turns rendering components into Panda3D nodes and keeps them in step with field changes.

Runs the same way with or without a screen: headless, the nodes exist but nothing draws them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import logging

from panda3d.core import AmbientLight, BitMask32, DirectionalLight, Fog, Material, NodePath, PerspectiveLens, PointLight, Spotlight

from engine.assets import AssetCache
from engine.colors import srgb_to_linear
from engine.components.rendering import Environment, Light, MeshRenderer
from engine.events import ComponentAdded, ComponentRemoved, FieldChanged
from engine.system import System

if TYPE_CHECKING:
    from engine.world import World

log = logging.getLogger("storm.render")
SHADOW_CASTER_MASK_BIT = 1
SHADOW_CAMERAS = BitMask32.bit(SHADOW_CASTER_MASK_BIT)


class RenderSystem(System):
    """Builds and updates the nodes behind MeshRenderer, Light and Environment components (the view
    comes from ``engine.components.camera.active_camera``).

    ``environment`` is the Environment in force (or None) and ``environment_version`` grows each
    time it changes, so the App knows when to hand the sky to the renderer again.
    """

    name = "render_sync"
    order = 900

    def __init__(self, assets: AssetCache) -> None:
        self.assets = assets
        self._world: "World | None" = None
        self._meshes: dict[int, NodePath] = {}
        self._lights: dict[int, NodePath] = {}
        self._environments: dict[int, Environment] = {}
        self._environment_nodes: list[NodePath] = []
        self.environment: Environment | None = None
        self.environment_version = 0

    def attach(self, world: "World") -> None:
        self._world = world
        self.listen(world, {ComponentAdded: self._added, ComponentRemoved: self._removed, FieldChanged: self._changed})

    def detach(self, world: "World") -> None:
        self.stop_listening()

    def _added(self, event: ComponentAdded) -> None:
        component = event.component
        if isinstance(component, MeshRenderer):
            self._build_mesh(event.entity, component)
        elif isinstance(component, Light):
            self._build_light(event.entity, component)
        elif isinstance(component, Environment):
            self._environments[event.entity] = component
            self._apply_environment()

    def _removed(self, event: ComponentRemoved) -> None:
        component = event.component
        if isinstance(component, MeshRenderer):
            node = self._meshes.pop(event.entity, None)
            if node is not None:
                node.removeNode()
        elif isinstance(component, Light):
            node = self._lights.pop(event.entity, None)
            if node is not None and self._world is not None:
                self._world.root.clearLight(node)
                node.removeNode()
        elif isinstance(component, Environment):
            self._environments.pop(event.entity, None)
            self._apply_environment()

    def _changed(self, event: FieldChanged) -> None:
        if isinstance(event.component, Environment):
            self._apply_environment()
        elif isinstance(event.component, (MeshRenderer, Light)):
            self._removed(ComponentRemoved(event.entity, event.component))
            self._added(ComponentAdded(event.entity, event.component))

    def _build_mesh(self, eid: int, mesh: MeshRenderer) -> None:
        assert self._world is not None
        owner = f"entity {eid} ({self._world.name_of(eid)}) MeshRenderer.model"
        node = self.assets.model(mesh.model, owner)
        node.reparentTo(self._world.node(eid))
        node.setName("mesh")
        if not self.assets.failed(mesh.model):
            if mesh.model.startswith("primitive:"):
                material = Material("primitive")
                material.setBaseColor((1.0, 1.0, 1.0, 1.0))
                material.setRoughness(mesh.roughness)
                material.setMetallic(mesh.metallic)
                node.setMaterial(material, 1)
            node.setColorScale(*srgb_to_linear(mesh.color))
            if mesh.color[3] < 1.0:
                node.setTransparency(True)
        if not mesh.visible:
            node.hide()
        if not mesh.cast_shadows:
            node.hide(SHADOW_CAMERAS)
        self._meshes[eid] = node

    def _build_light(self, eid: int, light: Light) -> None:
        assert self._world is not None
        color = tuple(c * light.intensity for c in srgb_to_linear(light.color[:3])) + (1.0,)
        if light.kind == "ambient":
            panda_light = AmbientLight("light")
        elif light.kind == "directional":
            panda_light = DirectionalLight("light")
            if light.shadows:
                panda_light.setShadowCaster(True, light.shadow_size, light.shadow_size)
                lens = panda_light.getLens()
                lens.setFilmSize(light.shadow_extent * 2, light.shadow_extent * 2)
                lens.setNearFar(-light.shadow_extent * 4, light.shadow_extent * 4)
        elif light.kind == "point":
            panda_light = PointLight("light")
            panda_light.setAttenuation((1.0, 0.0, 1.0 / max(light.range, 0.1) ** 2 * 4))
            if light.shadows:
                log.warning("entity %d (%s) Light.shadows: point lights cast no shadows in this renderer "
                            "(directional and spot lights do); lighting without them", eid, self._world.name_of(eid))
        else:
            panda_light = Spotlight("light")
            lens = PerspectiveLens()
            lens.setFov(light.spot_angle)
            lens.setNearFar(0.1, light.range)
            panda_light.setLens(lens)
            panda_light.setAttenuation((1.0, 0.0, 1.0 / max(light.range, 0.1) ** 2 * 4))
            if light.shadows:
                panda_light.setShadowCaster(True, light.shadow_size, light.shadow_size)
        panda_light.setColor(color)
        if light.kind in ("directional", "spot") and light.shadows:
            panda_light.setCameraMask(SHADOW_CAMERAS)
        node = self._world.node(eid).attachNewNode(panda_light)
        self._world.root.setLight(node)
        self._lights[eid] = node

    def _apply_environment(self) -> None:
        """Show the lowest-id Environment: its sky node and its fog."""
        assert self._world is not None
        for node in self._environment_nodes:
            node.removeNode()
        self._environment_nodes = []
        self._world.root.clearFog()
        chosen = min(self._environments) if self._environments else 0
        if len(self._environments) > 1:
            log.warning("world has %d Environment components; entity %d (%s) is used, the others are ignored",
                        len(self._environments), chosen, self._world.name_of(chosen))
        self.environment = self._environments.get(chosen)
        self.environment_version += 1
        env = self.environment
        if env is None:
            return
        if env.sky:
            from engine.sky import sky_cubemap, sky_node

            sky = sky_node(sky_cubemap(env.sky_top, env.sky_horizon, env.ground), SHADOW_CAMERAS)
            sky.reparentTo(self._world.root)
            self._environment_nodes.append(sky)
        if env.fog and env.fog_density > 0.0:
            fog = Fog("fog")
            fog.setMode(Fog.M_exponential)
            fog.setColor(*srgb_to_linear(env.fog_color[:3]))
            fog.setExpDensity(env.fog_density)
            self._world.root.setFog(fog)
