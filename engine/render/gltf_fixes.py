"""Fixes to panda3d-gltf 1.3.0's converter, installed once per process before a model converts.

1. **Keyframes.** The converter resamples every clip at 30 frames a second, but its blend factor
   between two keys is ``max(f, 1)``, always 1: each frame takes the *next* key's value, so a
   clip of a few keys jumps from key to key instead of moving (panda3d-gltf issue #143). And a
   channel whose keys end before the clip does reads past its last key, which fails the whole
   model. Fixed here: the factor is clamped to 0..1 and the key index to the keys there are.
2. **Materials.** ``KHR_materials_unlit`` is ignored and ``occlusionTexture`` is dropped. Here an
   unlit material gets ``LightAttrib.make_all_off()``, and an occlusion map becomes a texture
   stage named ``Occlusion`` placed second, right after the base colour (a white base colour
   stands in where the material has none), so the PBR shader finds it as texture 1 with its own
   UV set. Both are marks that Panda3D's ``.bam`` keeps, so models from the import cache carry
   them too; ``engine.render.materials`` turns them into shader inputs when a model is shown.

Each fix checks that the function it replaces is the one it knows, so a panda3d-gltf that has
changed keeps its own code (requirements.txt pins 1.3.0).
"""
from __future__ import annotations

import bisect
import logging
from typing import Any, Sequence

from panda3d.core import InternalName, LightAttrib, RenderState, Texture, TextureAttrib, TextureStage

log = logging.getLogger("storm.render")

FIXES_VERSION = 1             # goes up when a fix changes what the converter makes (an import cache keys on it)
OCCLUSION_STAGE = "Occlusion"
BASE_STAGE = "Base Color"     # panda3d-gltf's name for the base colour stage
BASE_SORT, OCCLUSION_SORT = -2, -1
_installed = False
_white: Texture | None = None


def lerp_factor(currtime: float, lasttime: float, nexttime: float) -> float:
    """How far ``currtime`` lies from the last key to the next, 0..1."""
    if not nexttime > lasttime:
        return 1.0
    return min(max((currtime - lasttime) / (nexttime - lasttime), 0.0), 1.0)


def next_time_index(currtime: float, times: Sequence[float]) -> int:
    """The index of the first key at or after ``currtime``, within 1..len-1 (the caller blends it
    with the key before)."""
    last = len(times) - 1
    return min(max(bisect.bisect_left(times, currtime, 1, max(last, 1)), 1), max(last, 1))


def _white_texture() -> Texture:
    global _white
    if _white is None:
        _white = Texture("storm-white")
        _white.setup2dTexture(1, 1, Texture.T_unsigned_byte, Texture.F_rgba)
        _white.setRamImage(b"\xff\xff\xff\xff")
    return _white


def _texcoord(info: dict[str, Any]) -> int:
    value = info.get("texCoord", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 8 else 0


def storm_material_state(converter: Any, state: RenderState, gltf_mat: Any) -> RenderState:
    """The converter's state for a glTF material with Storm's marks added (see the module text)."""
    if not isinstance(gltf_mat, dict):
        return state
    extensions = gltf_mat.get("extensions")
    if isinstance(extensions, dict) and "KHR_materials_unlit" in extensions:
        state = state.setAttrib(LightAttrib.makeAllOff())
    occlusion = gltf_mat.get("occlusionTexture")
    index = occlusion.get("index") if isinstance(occlusion, dict) else None
    texture = converter.textures.get(index) if isinstance(index, int) else None
    if not isinstance(texture, Texture):
        return state
    attrib = state.getAttrib(TextureAttrib) or TextureAttrib.make()
    base = next((attrib.getOnStage(k) for k in range(attrib.getNumOnStages())
                 if attrib.getOnStage(k).getName() == BASE_STAGE), None)
    if base is None:
        base = converter.get_texture_stage(BASE_STAGE, TextureStage.M_modulate, _texcoord(occlusion))
        attrib = attrib.addOnStage(base, _white_texture())
    base.setSort(BASE_SORT)
    stage = TextureStage(OCCLUSION_STAGE)
    stage.setTexcoordName(InternalName.getTexcoordName(str(_texcoord(occlusion))))
    stage.setMode(TextureStage.M_height)    # a mode the PBR shader does not look up by name
    stage.setSort(OCCLUSION_SORT)
    return state.setAttrib(attrib.addOnStage(stage, texture))


def install_gltf_fixes() -> bool:
    """Patch panda3d-gltf's converter (idempotent, process-wide); False when its code is not the
    one these fixes were written for."""
    global _installed
    if _installed:
        return True
    from gltf import _converter as converter

    known = (converter.get_lerp_factor(0.5, 0.0, 1.0) == 1 and converter.get_next_time_index(0.5, [0.0, 1.0]) == 1
             and hasattr(converter.Converter, "load_material") and hasattr(converter.Converter, "get_texture_stage"))
    if not known:
        log.warning("panda3d-gltf's converter is not the one Storm's fixes know (requirements.txt pins 1.3.0); "
                    "keyframes, unlit materials and occlusion maps are left as it does them")
        return False
    converter.get_lerp_factor = lerp_factor
    converter.get_next_time_index = next_time_index
    original = converter.Converter.load_material

    def load_material(self: Any, matid: int, gltf_mat: Any) -> None:
        original(self, matid, gltf_mat)
        if matid in self.mat_states:
            self.mat_states[matid] = storm_material_state(self, self.mat_states[matid], gltf_mat)

    converter.Converter.load_material = load_material
    _installed = True
    return True
