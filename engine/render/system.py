"""Turns rendering components into Panda3D nodes and keeps them in step with field changes.

Runs the same way with or without a screen: headless, the nodes exist but nothing draws them.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from panda3d.core import (
    AmbientLight,
    DirectionalLight,
    Fog,
    Material,
    NodePath,
    PerspectiveLens,
    PointLight,
    Spotlight,
    TransparencyAttrib,
)

from engine.core.events import ComponentAdded, ComponentRemoved, FieldChanged
from engine.core.system import System
from engine.packs.assets import AssetCache
from engine.render.colors import srgb_to_linear
from engine.render.components import UNITS, Environment, Light, MeshRenderer
from engine.render.gltf_fixes import install_gltf_fixes
from engine.render.materials import apply_material_inputs, set_default_material_input

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.render")
from engine.render.point_shadows import (  # noqa: E402
    LIGHT_SHADOW_CAMERAS,
    MAX_POINT_SHADOWS,
    POINT_SHADOW_PRIORITY,
    SHADOW_CAMERAS,
)

ORDER_RENDER_SYNC = 900  # after the whole simulation: the nodes drawn this frame follow the tick

install_gltf_fixes()  # before any world loads a model (the converter's keyframe and material fixes)


WHITE = (1.0, 1.0, 1.0, 1.0)

class RenderSystem(System):
    """Builds and updates the nodes behind MeshRenderer, Light and Environment components (the view
    comes from ``engine.camera.components.active_camera``).

    ``environment`` is the Environment in force (or None) and ``environment_version`` grows each
    time it changes, so the App knows when to hand the sky to the renderer again.
    """

    name = "render_sync"
    order = ORDER_RENDER_SYNC

    def __init__(self, assets: AssetCache) -> None:
        self.assets = assets
        self._world: "World | None" = None
        self._meshes: dict[int, NodePath] = {}
        self._materials: dict[tuple[float, float], Material] = {}
        self._plain_models: set[str] = set()  # model files whose materials need no storm_material input
        self._styles: dict[int, tuple[tuple[float, ...], bool]] = {}  # the colour and visibility each mesh shows
        self._lights: dict[int, NodePath] = {}
        self._environments: dict[int, Environment] = {}
        self._sky: NodePath | None = None
        self._sky_key: tuple | None = None
        self.environment: Environment | None = None
        self.environment_version = 0
        self._point_shadows: dict[int, Light] = {}
        self.point_shadow_version = 0

    def attach(self, world: "World") -> None:
        self._world = world
        set_default_material_input(world.root)
        self.listen(world, {ComponentAdded: self._added, ComponentRemoved: self._removed, FieldChanged: self._changed},
                    (MeshRenderer, Light, Environment))

    def detach(self, world: "World") -> None:
        self.stop_listening()
        for eid in list(self._meshes):
            self._removed(ComponentRemoved(eid, MeshRenderer()))
        for eid in list(self._lights):
            self._removed(ComponentRemoved(eid, Light()))
        self._environments.clear()
        self._choose_environment()
        self._world = None

    def _added(self, event: ComponentAdded) -> None:
        component = event.component
        if isinstance(component, MeshRenderer):
            self._build_mesh(event.entity, component)
        elif isinstance(component, Light):
            self._build_light(event.entity, component)
        elif isinstance(component, Environment):
            self._environments[event.entity] = component
            self._choose_environment()

    def _removed(self, event: ComponentRemoved) -> None:
        component = event.component
        if isinstance(component, MeshRenderer):
            node = self._meshes.pop(event.entity, None)
            self._styles.pop(event.entity, None)
            if node is not None and not (self._world is not None and self._world.being_destroyed(event.entity)):
                node.removeNode()
        elif isinstance(component, Light):
            node = self._lights.pop(event.entity, None)
            if node is not None and self._world is not None:
                self._world.root.clearLight(node)
                node.removeNode()
            if self._point_shadows.pop(event.entity, None) is not None:
                self.point_shadow_version += 1
        elif isinstance(component, Environment):
            self._environments.pop(event.entity, None)
            self._choose_environment()

    def _changed(self, event: FieldChanged) -> None:
        component = event.component
        if isinstance(component, Environment):
            if component is self.environment:
                self._apply_environment()
        elif isinstance(component, MeshRenderer) and event.field in ("color", "visible"):
            self._restyle_mesh(event.entity, component)
        elif isinstance(component, Light) and event.field in ("color", "intensity"):
            node = self._lights.get(event.entity)
            if node is not None:
                node.node().setColor(_light_color(component))
        elif isinstance(component, (MeshRenderer, Light)):
            self._removed(ComponentRemoved(event.entity, component))
            self._added(ComponentAdded(event.entity, component))

    def _build_mesh(self, eid: int, mesh: MeshRenderer) -> None:
        assert self._world is not None
        owner = f"entity {eid} ({self._world.name_of(eid)}) MeshRenderer.model"
        node = self.assets.model(mesh.model, owner, parent=self._world.node(eid))
        node.setName("mesh")
        if not self.assets.failed(mesh.model):
            if self.assets.built_in_code(mesh.model):     # primitives and models built by a source
                node.setMaterial(self._material(mesh.roughness, mesh.metallic), 1)
            elif mesh.model not in self._plain_models and not apply_material_inputs(node):
                self._plain_models.add(mesh.model)
            if mesh.unit != "m":
                node.setScale(UNITS[mesh.unit])
        if not mesh.cast_shadows:
            node.hide(SHADOW_CAMERAS)
        self._meshes[eid] = node
        self._restyle_mesh(eid, mesh, fresh=True)

    def _material(self, roughness: float, metallic: float) -> Material:
        """One shared Material per (roughness, metallic): never changed after it is made (a field
        change builds the mesh again with the material for the new values)."""
        key = (roughness, metallic)
        material = self._materials.get(key)
        if material is None:
            material = self._materials[key] = Material("primitive")
            material.setBaseColor((1.0, 1.0, 1.0, 1.0))
            material.setRoughness(roughness)
            material.setMetallic(metallic)
        return material

    def _restyle_mesh(self, eid: int, mesh: MeshRenderer, fresh: bool = False) -> None:
        """Apply tint, transparency and visibility to the mesh node in place (``fresh``: a node just
        made, which is opaque and shown already)."""
        node = self._meshes.get(eid)
        if node is None:
            return
        old_color, old_visible = (WHITE, True) if fresh else self._styles.get(eid, (None, None))
        color, visible = mesh.color, mesh.visible
        if color != old_color and not self.assets.failed(mesh.model):
            if color != WHITE:
                node.setColorScale(*srgb_to_linear(color))
            else:
                node.clearColorScale()
            if old_color is None or (color[3] < 1.0) != (old_color[3] < 1.0):
                node.setTransparency(TransparencyAttrib.M_alpha if color[3] < 1.0 else TransparencyAttrib.M_none)
        if visible != old_visible:
            if visible:
                node.show()
            else:
                node.hide()
        self._styles[eid] = (color, visible)

    def _build_light(self, eid: int, light: Light) -> None:
        assert self._world is not None
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
                if len(self._point_shadows) < MAX_POINT_SHADOWS:
                    self._point_shadows[eid] = light
                else:
                    log.warning("entity %d (%s) Light.shadows: at most %d point lights cast shadows; this one "
                                "lights without them", eid, self._world.name_of(eid), MAX_POINT_SHADOWS)
        else:
            panda_light = Spotlight("light")
            lens = PerspectiveLens()
            lens.setFov(light.spot_angle)
            lens.setNearFar(0.1, light.range)
            panda_light.setLens(lens)
            panda_light.setAttenuation((1.0, 0.0, 1.0 / max(light.range, 0.1) ** 2 * 4))
            if light.shadows:
                panda_light.setShadowCaster(True, light.shadow_size, light.shadow_size)
        panda_light.setColor(_light_color(light))
        if light.kind in ("directional", "spot") and light.shadows:
            panda_light.setCameraMask(LIGHT_SHADOW_CAMERAS)
        node = self._world.node(eid).attachNewNode(panda_light)
        self._world.root.setLight(node)
        self._lights[eid] = node
        if eid in self._point_shadows:
            self.point_shadow_version += 1

    def point_shadow_lights(self) -> list[tuple[int, NodePath, int, float]]:
        """(entity, light node, shadow map size, range) of each point light that casts shadows, by
        entity id; their light priorities are set so the PBR shader sees them first, in this order."""
        listed = [(eid, self._lights[eid], self._point_shadows[eid].shadow_size, self._point_shadows[eid].range)
                  for eid in sorted(self._point_shadows) if eid in self._lights]
        for k, (_eid, node, _size, _range) in enumerate(listed):
            node.node().setPriority(POINT_SHADOW_PRIORITY + MAX_POINT_SHADOWS - k)
        return listed

    def _choose_environment(self) -> None:
        """The lowest-id Environment is the one in force; say so when several compete."""
        assert self._world is not None
        chosen = min(self._environments) if self._environments else 0
        if len(self._environments) > 1:
            log.warning("world has %d Environment components; entity %d (%s) is used, the others are ignored",
                        len(self._environments), chosen, self._world.name_of(chosen))
        environment = self._environments.get(chosen)
        if environment is not self.environment:
            self.environment = environment
            self._apply_environment()

    def _apply_environment(self) -> None:
        """Show the Environment in force: its sky (rebuilt only when its colours change) and fog."""
        assert self._world is not None
        env = self.environment
        self.environment_version += 1
        sky_key = (env.sky_top, env.sky_horizon, env.ground) if env is not None and env.sky else None
        if sky_key != self._sky_key:
            if self._sky is not None:
                self._sky.removeNode()
                self._sky = None
            self._sky_key = sky_key
            if sky_key is not None:
                from engine.render.sky import sky_cubemap, sky_node

                self._sky = sky_node(sky_cubemap(*sky_key), SHADOW_CAMERAS)
                self._sky.reparentTo(self._world.root)
        self._world.root.clearFog()
        if env is not None and env.fog and env.fog_density > 0.0:
            fog = Fog("fog")
            fog.setMode(Fog.M_exponential)
            fog.setColor(*srgb_to_linear(env.fog_color[:3]))
            fog.setExpDensity(env.fog_density)
            self._world.root.setFog(fog)


def _light_color(light: Light) -> tuple[float, float, float, float]:
    """The light's sRGB colour times its intensity, in linear light."""
    r, g, b = (c * light.intensity for c in srgb_to_linear(light.color[:3]))
    return (r, g, b, 1.0)
