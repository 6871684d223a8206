"""Draco-compressed primitives (``KHR_draco_mesh_compression``) decoded with DracoPy into plain
accessors before conversion: panda3d-gltf reads no Draco, so each compressed primitive gets new
accessors whose values are the decoded arrays (handed to ``gltf_data.Repack`` as overrides)
and loses the extension. A payload that does not decode, or decodes to something other than
the primitive declares, is one ModelError naming the primitive."""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.errors import printable
from engine.packs.gltf_checks import MAX_VERTICES, DocumentCheck
from engine.packs.gltf_data import component_type_of
from engine.packs.gltf_schema import TYPE_COMPONENTS

EXTENSION = "KHR_draco_mesh_compression"


def draco_primitives(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(place, primitive) of every primitive that carries Draco data."""
    found = []
    for mesh_index, mesh in enumerate(doc.get("meshes", [])):
        for prim_index, prim in enumerate(mesh["primitives"]):
            if EXTENSION in prim.get("extensions", {}):
                found.append((f"meshes[{mesh_index}].primitives[{prim_index}]", prim))
    return found


def decode_draco(check: DocumentCheck, buffers: list[bytes]) -> dict[int, np.ndarray]:
    """Decode every Draco primitive of ``check.doc`` in place; returns the new accessors' values."""
    doc = check.doc
    primitives = draco_primitives(doc)
    if not primitives:
        return {}
    try:
        import DracoPy
    except ImportError:  # pragma: no cover - requirements.txt installs it
        check.fail(primitives[0][0], f"the DracoPy package to decode {EXTENSION} (pip install DracoPy)")
    overrides: dict[int, np.ndarray] = {}
    decoded_vertices = 0
    for place, prim in primitives:
        ext = prim["extensions"].pop(EXTENSION)
        where = f"{place}.extensions.{EXTENSION}"
        check.value(ext, ("obj", {"bufferView!": ("ref", "bufferViews"), "attributes!": "obj"}), where)
        view = doc["bufferViews"][ext["bufferView"]]
        start = view.get("byteOffset", 0)
        payload = buffers[view["buffer"]][start:start + view["byteLength"]]
        try:
            mesh = DracoPy.decode(payload)
            by_id = {int(attribute["unique_id"]): np.asarray(attribute["data"]) for attribute in mesh.attributes}
            faces = getattr(mesh, "faces", None)
            faces = None if faces is None else np.asarray(faces, dtype=np.uint32).reshape(-1, 1)
            points = max((len(values) for values in by_id.values()), default=0)
        except Exception as exc:  # noqa: BLE001 - DracoPy raises several kinds for a damaged payload
            check.fail(f"{where}.bufferView", f"Draco data that decodes (DracoPy: {type(exc).__name__}: "
                                              f"{printable(str(exc), 80)})")
        decoded_vertices += points
        if decoded_vertices > MAX_VERTICES:
            check.fail(where, f"at most {MAX_VERTICES} vertices over all primitives (split the model)",
                       decoded_vertices)
        for semantic, unique_id in ext["attributes"].items():
            field = f"{where}.attributes.{printable(semantic, 40)}"
            check.value(unique_id, "int", field)
            if semantic not in prim["attributes"]:
                check.fail(field, "an attribute the primitive also lists in its attributes")
            check.value(prim["attributes"][semantic], ("ref", "accessors"),
                        f"{place}.attributes.{printable(semantic, 40)}")
            if unique_id not in by_id:
                check.fail(field, f"the id of an attribute in the Draco data (it has {sorted(by_id)[:8]})", unique_id)
            declared = doc["accessors"][prim["attributes"][semantic]]
            values = by_id[unique_id].reshape(-1, 1) if by_id[unique_id].ndim == 1 else by_id[unique_id]
            components = TYPE_COMPONENTS[declared["type"]]
            if values.ndim != 2 or values.shape != (points, components):
                check.fail(field, f"{points} vertices of {components} components, as accessors"
                                  f"[{prim['attributes'][semantic]}] ({declared['type']}) says", values.shape)
            if component_type_of(values) == 5126 and values.dtype != np.float32:
                values = values.astype(np.float32)
            prim["attributes"][semantic] = _new_accessor(doc, overrides, values, declared)
        if "indices" in prim or faces is not None:
            if faces is None or not len(faces):
                check.fail(where, "a Draco mesh with faces for a primitive with indices (the data is a point cloud)")
            prim["indices"] = _new_accessor(doc, overrides, faces, {"type": "SCALAR"})
    return overrides


def _new_accessor(doc: dict[str, Any], overrides: dict[int, np.ndarray], values: np.ndarray,
                  declared: dict[str, Any]) -> int:
    accessor = {"componentType": component_type_of(values), "count": len(values), "type": declared["type"]}
    if declared.get("normalized") and accessor["componentType"] != 5126:
        accessor["normalized"] = True
    doc["accessors"].append(accessor)
    overrides[len(doc["accessors"]) - 1] = values
    return len(doc["accessors"]) - 1
