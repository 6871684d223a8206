"""What a model's materials ask of Storm's PBR shader, handed to it per part of the model.

panda3d-simplepbr draws every surface the same way. Four glTF material features need more, and
each leaves a mark in the converted model (``engine.render.gltf_fixes`` and panda3d-gltf put them
there; Panda3D's ``.bam`` keeps them, so the import cache does too):

=====================  ==============================  ==========================================
feature                mark in the model               what the shader does (``storm_material``)
=====================  ==============================  ==========================================
``doubleSided``        culling off                     x = 1: a back face is lit with its normal
                                                       turned towards the viewer
``KHR_materials_unlit`` lights off (LightAttrib)       y = 1: the base colour as it is, no light
``occlusionTexture``   a texture stage ``Occlusion``   z = 1: texture 1 darkens the indirect light
``alphaMode: MASK``    an alpha test                   w = cutoff: fragments below it are dropped
=====================  ==============================  ==========================================

``apply_material_inputs`` sets the input on each geom that needs it; the world's root carries the
default (all 0), so everything else draws as simplepbr draws it.
"""
from __future__ import annotations

from panda3d.core import (
    AlphaTestAttrib,
    CullFaceAttrib,
    LightAttrib,
    LVecBase4f,
    NodePath,
    RenderAttrib,
    RenderState,
    ShaderAttrib,
    TextureAttrib,
)

from engine.render.gltf_fixes import OCCLUSION_STAGE

MATERIAL_INPUT = "storm_material"
DEFAULT_MATERIAL = LVecBase4f(0.0, 0.0, 0.0, 0.0)


def material_flags(state: RenderState) -> LVecBase4f | None:
    """The ``storm_material`` value a geom's state asks for; None when simplepbr's drawing is right."""
    cull = state.getAttrib(CullFaceAttrib)
    two_sided = cull is not None and cull.getActualMode() == CullFaceAttrib.M_cull_none
    lights = state.getAttrib(LightAttrib)
    unlit = lights is not None and lights.hasAllOff()
    textures = state.getAttrib(TextureAttrib)
    occlusion = textures is not None and any(textures.getOnStage(k).getName() == OCCLUSION_STAGE
                                             for k in range(textures.getNumOnStages()))
    test = state.getAttrib(AlphaTestAttrib)
    cutoff = test.getReferenceAlpha() if test is not None and test.getMode() == RenderAttrib.M_greater_equal else 0.0
    if not (two_sided or unlit or occlusion or cutoff > 0.0):
        return None
    return LVecBase4f(float(two_sided), float(unlit), float(occlusion), max(cutoff, 0.0))


def apply_material_inputs(model: NodePath) -> bool:
    """Give every geom under ``model`` whose material needs it its ``storm_material`` input;
    True when any did (a model where none did never needs this again)."""
    needed = False
    for found in model.findAllMatches("**/+GeomNode"):
        node = found.node()
        for k in range(node.getNumGeoms()):
            state = node.getGeomState(k)
            flags = material_flags(state)
            if flags is not None:
                node.setGeomState(k, state.addAttrib(ShaderAttrib.make().setShaderInput(MATERIAL_INPUT, flags)))
                needed = True
    return needed


def set_default_material_input(root: NodePath) -> None:
    """Everything under ``root`` draws as simplepbr draws it unless a geom says otherwise."""
    root.setShaderInput(MATERIAL_INPUT, DEFAULT_MATERIAL)
