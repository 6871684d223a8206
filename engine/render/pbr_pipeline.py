"""Storm's renderer: panda3d-simplepbr, with a shadow lookup that every OpenGL driver compiles and
the glTF material features simplepbr leaves out.

simplepbr samples each light's shadow map inside its light loop, indexing the sampler array with
the loop variable. Mesa's llvmpipe (the software renderer CI machines and GPU-less servers use)
crashes while compiling that for more than one light. ``install_shadow_fix`` rewrites the
fragment shader to read every shadow map with a constant index before the loop; the lighting
maths is unchanged, so pictures are identical on GPUs. The same rewrite lets the first lights
read a point light's distance cube map instead (``engine/render/point_shadows.py``), and adds
what ``storm_material`` asks for per geom (``engine/render/materials.py``): back faces of
double-sided materials lit from their own side, unlit materials, occlusion maps on their own UV
set, alpha-mask cutoffs. Normal maps are on (simplepbr's default leaves them off).
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


_MATERIAL_DECLARATIONS = """
uniform vec4 storm_material;  // x: double-sided, y: unlit, z: occlusion map (texture 1), w: alpha cutoff
uniform sampler2D p3d_Texture1;
varying vec2 v_texcoord1;
"""
# (text simplepbr has, text Storm puts in its place)
_FRAGMENT_EDITS = (
    ("varying vec2 v_texcoord;\n", "varying vec2 v_texcoord;\n" + _MATERIAL_DECLARATIONS),
    ("    vec3 world_normal = normalize(v_world_tbn * normalmap);\n",
     "    vec3 world_normal = normalize(v_world_tbn * normalmap);\n"
     "    if (storm_material.x > 0.5 && !gl_FrontFacing) {\n"
     "        n = -n;\n"
     "        world_normal = -world_normal;\n"
     "    }\n"),
    ("    float ambient_occlusion = 1.0;\n",
     "    float ambient_occlusion = storm_material.z > 0.5 ? texture2D(p3d_Texture1, v_texcoord1).r : 1.0;\n"),
    ("    vec3 diffuse_color = ",
     "    if (storm_material.w > 0.0 && base_color.a < storm_material.w) {\n"
     "        discard;\n"
     "    }\n"
     "    vec3 diffuse_color = "),
    ("\n#ifdef ENABLE_FOG\n    // Exponential fog",
     "    if (storm_material.y > 0.5) {\n"
     "        color.rgb = base_color.rgb;\n"
     "    }\n"
     "\n#ifdef ENABLE_FOG\n    // Exponential fog"),
)
_VERTEX_EDITS = (
    ("attribute vec2 p3d_MultiTexCoord0;\n", "attribute vec2 p3d_MultiTexCoord0;\nattribute vec2 p3d_MultiTexCoord1;\n"),
    ("varying vec2 v_texcoord;\n", "varying vec2 v_texcoord;\nvarying vec2 v_texcoord1;\n"),
    ("    v_texcoord = (p3d_TextureMatrix * vec4(p3d_MultiTexCoord0, 0, 1)).xy;\n",
     "    v_texcoord = (p3d_TextureMatrix * vec4(p3d_MultiTexCoord0, 0, 1)).xy;\n"
     "    v_texcoord1 = p3d_MultiTexCoord1;\n"),
    # a mesh without tangents (or with UVs that give none) gets one across its normal: with normal
    # maps on, a zero tangent would make the normal NaN and the surface black
    ("    vec4 view_position = p3d_ModelViewMatrix * model_position;\n",
     "    if (dot(model_tangent, model_tangent) < 1e-12) {\n"
     "        model_tangent = cross(model_normal, abs(model_normal.x) < 0.9 ? vec3(1, 0, 0) : vec3(0, 1, 0));\n"
     "    }\n"
     "    vec4 view_position = p3d_ModelViewMatrix * model_position;\n"),
    ("cross(view_normal, view_tangent) * p3d_Tangent.w", "cross(view_normal, view_tangent) * tangent_sign"),
    ("cross(world_normal, world_tangent) * p3d_Tangent.w", "cross(world_normal, world_tangent) * tangent_sign"),
    ("    vec3 view_normal = normalize(p3d_NormalMatrix * model_normal);\n",
     "    float tangent_sign = p3d_Tangent.w < 0.0 ? -1.0 : 1.0;\n"
     "    vec3 view_normal = normalize(p3d_NormalMatrix * model_normal);\n"),
)


def _edited(source: str, edits: tuple[tuple[str, str], ...], which: str) -> str:
    for old, new in edits:
        if source.count(old) != 1:
            raise RuntimeError(f"this simplepbr version's {which} shader is not the one Storm knows how to extend "
                               "(requirements.txt pins panda3d-simplepbr; keep it)")
        source = source.replace(old, new)
    return source


def material_fragment(source: str) -> str:
    """simplepbr's fragment shader reading ``storm_material`` (engine/render/materials.py)."""
    return _edited(source, _FRAGMENT_EDITS, "fragment")


def material_vertex(source: str) -> str:
    """simplepbr's vertex shader passing the second texture's UV set on (for the occlusion map),
    with a tangent for meshes that have none."""
    return _edited(source, _VERTEX_EDITS, "vertex")


def install_shadow_fix() -> None:
    """Replace simplepbr's shaders by Storm's (idempotent, process-wide): the shadow fix and the
    material features."""
    from simplepbr.shaders import shaders

    if "shadow_factors[i]" not in shaders["simplepbr.frag"]:
        shaders["simplepbr.frag"] = material_fragment(shadow_fixed_fragment(shaders["simplepbr.frag"]))
    if "v_texcoord1" not in shaders["simplepbr.vert"]:
        shaders["simplepbr.vert"] = material_vertex(shaders["simplepbr.vert"])


def create_pipeline(base: Any, *, msaa_samples: int = 0) -> Any:
    """A simplepbr pipeline on a ShowBase's window, with shadows on; None if the GPU can't run it."""
    try:
        import simplepbr
        from panda3d.core import AntialiasAttrib

        install_shadow_fix()
        pipeline = simplepbr.init(render_node=base.render, window=base.win, camera_node=base.cam,
                                  taskmgr=base.taskMgr, msaa_samples=msaa_samples, max_lights=MAX_LIGHTS,
                                  enable_shadows=True, enable_fog=False, use_normal_maps=True)
        if not msaa_samples:
            # simplepbr asks for automatic antialiasing; without multisampling the NVIDIA driver
            # turns that into polygon smoothing, which draws every triangle edge as a light seam
            base.render.setAntialias(AntialiasAttrib.M_none)
        return pipeline
    except Exception as exc:  # a driver without GLSL or float buffers: draw without PBR, say so
        log.warning("PBR rendering is not available on this display (%s); drawing with basic lighting", exc)
        return None
