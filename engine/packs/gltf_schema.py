"""The shape of a glTF 2.0 document as Storm checks it: component and accessor types, and for
each top-level list the fields the converter reads with the kind of value each must hold
(``gltf_checks.DocumentCheck.value`` knows the kinds). A field name ending in ``!`` is required."""
from __future__ import annotations

import re
from typing import Any

COMPONENT_SIZES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
TYPE_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
INDEX_TYPES = (5121, 5123, 5125)

Spec = dict[str, Any]  # field name (``!`` at the end: required) -> kind
TEXTURE_TRANSFORM = {"offset": ("nums", 2), "rotation": "num", "scale": ("nums", 2), "texCoord": "int"}
TEXTURE_INFO = {"index!": ("ref", "textures"), "texCoord": "int", "scale": "num", "strength": "num",
            "extensions": ("obj", {"KHR_texture_transform": ("obj", TEXTURE_TRANSFORM)})}
PRIMITIVE = {"attributes!": "obj", "indices": ("ref", "accessors"), "material": ("ref", "materials"),
              "mode": ("enum", (0, 1, 2, 3, 4, 5, 6)), "targets": ("objs", {}), "extensions": "obj"}
LIGHT = {"type!": ("enum", ("point", "spot", "directional")), "color": ("nums", 3), "intensity": "num",
          "range": "num+", "spot": ("obj", {"innerConeAngle": "num", "outerConeAngle": "num+"})}
SPEC: dict[str, Spec] = {
    "buffers": {"byteLength!": "count", "uri": "str"},
    "bufferViews": {"buffer!": ("ref", "buffers"), "byteOffset": "int", "byteLength!": "count", "byteStride": "int",
                    "target": "int"},
    "accessors": {"bufferView": ("ref", "bufferViews"), "byteOffset": "int", "normalized": "bool", "count!": "count",
                  "componentType!": ("enum", tuple(COMPONENT_SIZES)), "type!": ("enum", tuple(TYPE_COMPONENTS)),
                  "max": "numlist", "min": "numlist",
                  "sparse": ("obj", {"count!": "count",
                                     "indices!": ("obj", {"bufferView!": ("ref", "bufferViews"), "byteOffset": "int",
                                                          "componentType!": ("enum", INDEX_TYPES)}),
                                     "values!": ("obj", {"bufferView!": ("ref", "bufferViews"),
                                                         "byteOffset": "int"})})},
    "images": {"uri": "str", "bufferView": ("ref", "bufferViews"), "mimeType": "str", "name": "str"},
    "samplers": {"magFilter": "int", "minFilter": "int", "wrapS": "int", "wrapT": "int"},
    "textures": {"source": ("ref", "images"), "sampler": ("ref", "samplers")},
    "materials": {"name": "str", "emissiveFactor": ("nums", 3), "alphaCutoff": "num", "doubleSided": "bool",
                  "alphaMode": ("enum", ("OPAQUE", "MASK", "BLEND")),
                  "pbrMetallicRoughness": ("obj", {"baseColorFactor": ("nums", 4), "metallicFactor": "num",
                                                   "roughnessFactor": "num", "baseColorTexture": ("obj", TEXTURE_INFO),
                                                   "metallicRoughnessTexture": ("obj", TEXTURE_INFO)}),
                  "normalTexture": ("obj", TEXTURE_INFO), "occlusionTexture": ("obj", TEXTURE_INFO),
                  "emissiveTexture": ("obj", TEXTURE_INFO),
                  "extensions": ("obj", {"KHR_materials_ior": ("obj", {"ior": "num"})})},
    "meshes": {"name": "str", "primitives!": ("objs+", PRIMITIVE), "weights": "numlist",
               "extras": ("obj", {"targetNames": "strlist"})},
    "nodes": {"name": "str", "children": ("refs", "nodes"), "mesh": ("ref", "meshes"), "skin": ("ref", "skins"),
              "matrix": ("nums", 16), "rotation": ("nums", 4), "scale": ("nums", 3), "translation": ("nums", 3),
              "weights": "numlist",
              "extensions": ("obj", {"KHR_lights_punctual": ("obj", {"light!": ("ref", "lights")})})},
    "skins": {"joints!": ("refs+", "nodes"), "inverseBindMatrices": ("ref", "accessors"), "skeleton": ("ref", "nodes")},
    "scenes": {"name": "str", "nodes": ("refs", "nodes"), "extras": ("obj", {"hidden_nodes": ("refs", "nodes")})},
    "animations": {"name": "str",
                   "channels!": ("objs+", {"sampler!": "int", "target!": ("obj", {"node": ("ref", "nodes"),
                                                                                  "path!": "str"})}),
                   "samplers!": ("objs+", {"input!": ("ref", "accessors"), "output!": ("ref", "accessors"),
                                           "interpolation": ("enum", ("LINEAR", "STEP", "CUBICSPLINE"))})},
}
EXPECTED = {"int": "a whole number >= 0", "count": "a whole number >= 1", "num": "a finite number",
             "num+": "a finite number > 0", "str": "a string", "bool": "true or false", "obj": "an object",
             "numlist": "a list of finite numbers", "strlist": "a list of strings"}


# Attributes the converter makes columns of; a second set of colours, joints or weights, or an
# application's own ("_NAME"), would give columns it cannot name or that repeat a name.
CONVERTED = re.compile(r"^(POSITION|NORMAL|TANGENT|TEXCOORD_[0-7]|COLOR_0|JOINTS_0|WEIGHTS_0)")


def attribute_types(semantic: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The accessor types and component types a vertex attribute may have (integer positions,
    normals and texture coordinates are KHR_mesh_quantization's, made float before conversion)."""
    every = tuple(COMPONENT_SIZES)
    if semantic in ("POSITION", "NORMAL"):
        return ("VEC3",), every
    if semantic == "TANGENT":
        return ("VEC4",), every
    base = semantic.split("_", 1)[0]
    if base == "TEXCOORD":
        return ("VEC2",), every
    if base == "COLOR":
        return ("VEC3", "VEC4"), (5121, 5123, 5126)
    if base == "JOINTS":
        return ("VEC4",), (5121, 5123)
    return ("VEC4",), (5121, 5123, 5126)  # WEIGHTS_0
