"""Storm's renderer: panda3d-simplepbr, with a shadow lookup that every OpenGL driver compiles.

simplepbr samples each light's shadow map inside its light loop, indexing the sampler array with
the loop variable. Mesa's llvmpipe (the software renderer CI machines and GPU-less servers use)
crashes while compiling that for more than one light. ``install_shadow_fix`` rewrites the
fragment shader to read every shadow map with a constant index before the loop; the lighting
maths is unchanged, so pictures are identical on GPUs. The same rewrite lets the first lights
read a point light's distance cube map instead (``engine/render/point_shadows.py``).
"""
from __future__ import annotations

import logging
from typing import Any

from engine.render.point_shadows import FRAGMENT_DECLARATIONS, MAX_POINT_SHADOWS

log = logging.getLogger("storm.render")

MAX_LIGHTS = 8
_SHADOW_CALL = "float shadow_caster = shadow_caster_contrib(p3d_LightSource[i].shadowMap, v_shadow_pos[i]);"
_LOOP_HEAD = "    for (int i = 0; i < p3d_LightSource.length(); ++i) {\n        vec3 lightcol"


def _constant_index_lookups(most: int) -> str:
    lines = ["#ifdef ENABLE_SHADOWS", "    float shadow_factors[MAX_LIGHTS];"]
    for k in range(most):
        lookup = f"shadow_caster_contrib(p3d_LightSource[{k}].shadowMap, v_shadow_pos[{k}])"
        if k < MAX_POINT_SHADOWS:  # the first lights may be point lights with a distance cube map
            lookup = (f"storm_point_count > {k} ? "
                      f"storm_point_shadow(storm_point_map{k}, storm_point_light[{k}], world_normal) : {lookup}")
        lines += [f"#if MAX_LIGHTS > {k}", f"    shadow_factors[{k}] = {lookup};", "#endif"]
    lines.append("#endif")
    return "\n".join(lines) + "\n"


def shadow_fixed_fragment(source: str, most_lights: int = 16) -> str:
    """simplepbr's fragment shader with the shadow lookups moved out of the light loop, and
    point lights' distance cube maps (engine/render/point_shadows.py) read for the first lights."""
    if _SHADOW_CALL not in source or source.count(_LOOP_HEAD) != 1:
        raise RuntimeError("this simplepbr version's shader is not the one Storm knows how to fix "
                           "(requirements.txt pins panda3d-simplepbr; keep it)")
    source = source.replace(_SHADOW_CALL, "float shadow_caster = shadow_factors[i];")
    source = source.replace("void main() {", FRAGMENT_DECLARATIONS + "\nvoid main() {", 1)
    return source.replace(_LOOP_HEAD, _constant_index_lookups(most_lights) + _LOOP_HEAD)


def install_shadow_fix() -> None:
    """Replace simplepbr's fragment shader by the fixed one (idempotent, process-wide)."""
    from simplepbr.shaders import shaders

    if "shadow_factors[i]" not in shaders["simplepbr.frag"]:
        shaders["simplepbr.frag"] = shadow_fixed_fragment(shaders["simplepbr.frag"])


def create_pipeline(base: Any, *, msaa_samples: int = 0) -> Any:
    """A simplepbr pipeline on a ShowBase's window, with shadows on; None if the GPU can't run it."""
    try:
        import simplepbr
        from panda3d.core import AntialiasAttrib

        install_shadow_fix()
        pipeline = simplepbr.init(render_node=base.render, window=base.win, camera_node=base.cam,
                                  taskmgr=base.taskMgr, msaa_samples=msaa_samples, max_lights=MAX_LIGHTS,
                                  enable_shadows=True, enable_fog=False)
        if not msaa_samples:
            # simplepbr asks for automatic antialiasing; without multisampling the NVIDIA driver
            # turns that into polygon smoothing, which draws every triangle edge as a light seam
            base.render.setAntialias(AntialiasAttrib.M_none)
        return pipeline
    except Exception as exc:  # a driver without GLSL or float buffers: draw without PBR, say so
        log.warning("PBR rendering is not available on this display (%s); drawing with basic lighting", exc)
        return None
