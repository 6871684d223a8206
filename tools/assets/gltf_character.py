"""Writes the base pack's test character: a low-poly skinned humanoid with idle, walk, run and jump.

The figure is 1.8 m tall, stands on z = 0 at the origin and faces +Y (Storm and Panda3D are
Z-up, +Y forward). Every part is rigidly skinned to one joint of a 16-joint skeleton. The
buffer is embedded as base64 and every number is rounded before it is written, so two runs
give the same bytes:

    python -m tools.assets.gltf_character                 # writes content/base/models/character.gltf
    python -m tools.assets.gltf_character /tmp/out.gltf
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from engine.packs.primitives import mesh_arrays  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "content" / "base" / "models" / "character.gltf"
FPS = 30  # key rate; panda3d-gltf resamples clips at 30 frames per second too

# name -> (parent, position in the character's space, Panda3D Z-up metres). The character's
# right hand side is +X (it faces +Y), so its left limbs are at -X.
JOINTS: dict[str, tuple[str | None, tuple[float, float, float]]] = {
    "root": (None, (0.0, 0.0, 0.0)),
    "hips": ("root", (0.0, 0.0, 0.95)),
    "spine": ("hips", (0.0, 0.0, 1.05)),
    "head": ("spine", (0.0, 0.0, 1.5)),
    "upper_arm_L": ("spine", (-0.24, 0.0, 1.44)),
    "lower_arm_L": ("upper_arm_L", (-0.24, 0.0, 1.16)),
    "hand_L": ("lower_arm_L", (-0.24, 0.0, 0.92)),
    "upper_arm_R": ("spine", (0.24, 0.0, 1.44)),
    "lower_arm_R": ("upper_arm_R", (0.24, 0.0, 1.16)),
    "hand_R": ("lower_arm_R", (0.24, 0.0, 0.92)),
    "upper_leg_L": ("hips", (-0.1, 0.0, 0.92)),
    "lower_leg_L": ("upper_leg_L", (-0.1, 0.0, 0.5)),
    "foot_L": ("lower_leg_L", (-0.1, 0.0, 0.08)),
    "upper_leg_R": ("hips", (0.1, 0.0, 0.92)),
    "lower_leg_R": ("upper_leg_R", (0.1, 0.0, 0.5)),
    "foot_R": ("lower_leg_R", (0.1, 0.0, 0.08)),
}
JOINT_NAMES = list(JOINTS)

MATERIALS: dict[str, tuple[float, float, float]] = {
    "skin": (0.86, 0.66, 0.52),
    "shirt": (0.2, 0.45, 0.8),
    "trousers": (0.2, 0.22, 0.3),
    "shoes": (0.16, 0.11, 0.08),
    "hair": (0.25, 0.15, 0.08),
    "eyes": (0.05, 0.05, 0.06),
}

Mesh = tuple[np.ndarray, np.ndarray, np.ndarray]  # positions, normals, triangles


@dataclass(frozen=True)
class Part:
    """One rigid piece of the body: a box or a capsule, its material and the joint it follows."""

    shape: str                      # "box" or "capsule"
    joint: str
    material: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]  # box: full size; capsule: diameter x, diameter y, length z


def _side(x: float, side: str) -> float:
    return -x if side == "L" else x


def body_parts() -> list[Part]:
    """The figure, part by part, in the bind pose (arms and legs hanging straight down)."""
    parts = [
        Part("box", "hips", "trousers", (0.0, 0.0, 0.95), (0.32, 0.2, 0.16)),
        Part("capsule", "spine", "shirt", (0.0, 0.0, 1.26), (0.38, 0.24, 0.52)),
        Part("capsule", "head", "skin", (0.0, 0.0, 1.53), (0.1, 0.1, 0.12)),          # neck
        Part("capsule", "head", "skin", (0.0, 0.0, 1.68), (0.22, 0.24, 0.25)),
        Part("box", "head", "skin", (0.0, 0.115, 1.66), (0.04, 0.05, 0.05)),         # nose
        Part("box", "head", "eyes", (-0.045, 0.105, 1.71), (0.035, 0.03, 0.025)),
        Part("box", "head", "eyes", (0.045, 0.105, 1.71), (0.035, 0.03, 0.025)),
        Part("box", "head", "hair", (0.0, -0.02, 1.785), (0.2, 0.2, 0.05)),
        Part("box", "head", "hair", (0.0, -0.1, 1.71), (0.2, 0.06, 0.16)),
    ]
    for side in ("L", "R"):
        parts += [
            Part("capsule", f"upper_arm_{side}", "shirt", (_side(0.24, side), 0.0, 1.31), (0.11, 0.11, 0.32)),
            Part("capsule", f"lower_arm_{side}", "skin", (_side(0.24, side), 0.0, 1.04), (0.09, 0.09, 0.27)),
            Part("capsule", f"hand_{side}", "skin", (_side(0.24, side), 0.0, 0.86), (0.08, 0.1, 0.14)),
            Part("capsule", f"upper_leg_{side}", "trousers", (_side(0.1, side), 0.0, 0.72), (0.15, 0.15, 0.48)),
            Part("capsule", f"lower_leg_{side}", "trousers", (_side(0.1, side), 0.0, 0.3), (0.12, 0.12, 0.46)),
            Part("box", f"foot_{side}", "shoes", (_side(0.1, side), 0.04, 0.04), (0.11, 0.26, 0.08)),
        ]
    return parts


def capsule_mesh(size: tuple[float, float, float], segments: int = 10, rings: int = 3) -> Mesh:
    """A low-poly capsule along Z centred on the origin: ``size`` is (diameter x, diameter y, length).

    The caps are half-ellipsoids as tall as the narrower radius, so the shape stays round-ended
    when the cross-section is an ellipse.
    """
    a, b, length = size[0] / 2, size[1] / 2, size[2]
    cap = min(a, b, length / 2)
    straight = length / 2 - cap
    pos, nrm = [], []
    for half, sign in ((0, -1.0), (1, 1.0)):
        for i in range(rings + 1):
            phi = sign * math.pi / 2 * ((rings - i) / rings if half == 0 else i / rings)
            for j in range(segments + 1):
                theta = 2 * math.pi * j / segments
                ring_x, ring_y = math.cos(phi) * math.cos(theta), math.cos(phi) * math.sin(theta)
                pos.append((a * ring_x, b * ring_y, sign * straight + cap * math.sin(phi)))
                normal = np.array((ring_x / a, ring_y / b, math.sin(phi) / cap))
                nrm.append(normal / np.linalg.norm(normal))
    rows = 2 * (rings + 1)
    tri = []
    for i in range(rows - 1):
        for j in range(segments):
            lo = i * (segments + 1) + j
            hi = lo + segments + 1
            tri += [(lo, lo + 1, hi + 1), (lo, hi + 1, hi)]
    return np.array(pos, float), np.array(nrm, float), np.array(tri)


def part_mesh(part: Part) -> Mesh:
    """The part's triangles in the character's space (Z-up)."""
    if part.shape == "box":
        pos, nrm, _uv, tri = mesh_arrays("box")
        pos = pos * np.array(part.size, float)
    else:
        pos, nrm, tri = capsule_mesh(part.size)
    return pos + np.array(part.center), nrm, tri


# -- coordinate conversion: Storm (Z-up) to glTF (Y-up) ----------------------------------------
def to_gltf(v: np.ndarray) -> np.ndarray:
    """(x, y, z) Z-up -> (x, z, -y) Y-up: a rotation, so triangle winding is kept."""
    v = np.asarray(v, float)
    return np.stack([v[..., 0], v[..., 2], -v[..., 1]], axis=-1)


def quat(axis: tuple[float, float, float], degrees: float) -> np.ndarray:
    """A glTF quaternion (x, y, z, w) turning ``degrees`` about a Z-up axis (right-handed)."""
    half = math.radians(degrees) / 2
    x, y, z = to_gltf(np.array(axis, float))
    return np.array([x * math.sin(half), y * math.sin(half), z * math.sin(half), math.cos(half)])


def qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The quaternion product a * b (b's turn first), both (x, y, z, w)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz])


def pose_quat(pitch: float = 0.0, roll: float = 0.0, yaw: float = 0.0) -> np.ndarray:
    """Pitch about X (positive swings a hanging limb forward), then roll about Y, then yaw about Z."""
    return qmul(quat((0, 0, 1), yaw), qmul(quat((0, 1, 0), roll), quat((1, 0, 0), pitch)))


# -- animation --------------------------------------------------------------------------------
Pose = dict[str, tuple[float, float, float]]  # joint -> (pitch, roll, yaw) degrees; "hips_z": lift


def _locomotion(p: float, leg: float, knee: float, arm: float, elbow: float, lean: float, bob: float,
                drop: float) -> Pose:
    s, c = math.sin(2 * math.pi * p), math.cos(2 * math.pi * p)
    return {
        "upper_leg_L": (leg * s + lean * 0.3, 0, 0), "upper_leg_R": (-leg * s + lean * 0.3, 0, 0),
        "lower_leg_L": (-(5 + knee * max(0.0, c)), 0, 0), "lower_leg_R": (-(5 + knee * max(0.0, -c)), 0, 0),
        "upper_arm_L": (-arm * s, 4, 0), "upper_arm_R": (arm * s, -4, 0),
        "lower_arm_L": (elbow, 0, 0), "lower_arm_R": (elbow, 0, 0),
        "spine": (-lean, 0, 6 * s), "hips": (0, 0, -4 * s),
        "hips_z": (bob * math.cos(4 * math.pi * p) - drop, 0, 0),
    }


def idle_pose(p: float) -> Pose:
    s = math.sin(2 * math.pi * p)
    return {"spine": (1.5 * s, 0, 0), "head": (-1.0 * s, 0, 3 * math.sin(2 * math.pi * p + 1.0)),
            "upper_arm_L": (0, 4 + 1.5 * s, 0), "upper_arm_R": (0, -4 - 1.5 * s, 0),
            "lower_arm_L": (6, 0, 0), "lower_arm_R": (6, 0, 0), "hips": (0, 1.0 * s, 0),
            "hips_z": (0.004 * s, 0, 0)}


def walk_pose(p: float) -> Pose:
    return _locomotion(p, leg=28, knee=40, arm=22, elbow=15, lean=3, bob=0.02, drop=0.01)


def run_pose(p: float) -> Pose:
    return _locomotion(p, leg=48, knee=85, arm=45, elbow=85, lean=14, bob=0.04, drop=0.06)


def jump_pose(p: float) -> Pose:
    t = min(p * 2.0, 1.0)       # tucks over the first half, then holds
    e = t * t * (3 - 2 * t)
    return {"upper_leg_L": (65 * e, 0, 0), "upper_leg_R": (65 * e, 0, 0),
            "lower_leg_L": (-95 * e, 0, 0), "lower_leg_R": (-95 * e, 0, 0),
            "upper_arm_L": (150 * e, 18 * e, 0), "upper_arm_R": (150 * e, -18 * e, 0),
            "lower_arm_L": (15 * e, 0, 0), "lower_arm_R": (15 * e, 0, 0),
            "spine": (-8 * e, 0, 0), "hips_z": (0.05 * e, 0, 0)}


# name -> (seconds, pose at phase 0..1, loops); a looping clip's phase 1 is its phase 0 again,
# the jump clip holds its last frame
CLIPS: dict[str, tuple[float, Callable[[float], Pose], bool]] = {
    "idle": (2.0, idle_pose, True), "walk": (1.0, walk_pose, True), "run": (0.6, run_pose, True),
    "jump": (0.5, jump_pose, False)}


KEY_LAG = 1e-4  # seconds each key sits after its frame time (see key_times)


def clip_frames(seconds: float) -> int:
    """Frames a clip of this length has at FPS."""
    return round(seconds * FPS)


def key_times(frames: int) -> np.ndarray:
    """Times of a clip's keys: a key at 0, then frame k's key just after k / FPS.

    panda3d-gltf 1.3.0 samples a clip at FPS and always takes the next key in full (its lerp
    factor is ``max(f, 1)``; Moguri/panda3d-gltf issue #143): keys just after each frame time,
    behind a duplicated first key, give every frame exactly its pose, and an importer that
    interpolates reads the same poses KEY_LAG late. The importer makes
    ``ceil(last key time * FPS)`` = ``frames`` frames; a looping clip's closing frame (its
    first again) is left out, since Panda3D's frame blending wraps to frame 0 by itself.
    """
    return np.array([0.0] + [k / FPS + KEY_LAG for k in range(frames)], np.float32)


# -- writing ----------------------------------------------------------------------------------
class _Buffer:
    """Packs arrays into one binary blob, one bufferView and accessor each."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def add(self, array: np.ndarray, kind: str, component: int, target: int | None = None,
            bounds: bool = False) -> int:
        while len(self.blob) % 4:
            self.blob.append(0)
        data = np.ascontiguousarray(array).tobytes()
        view: dict = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self.blob += data
        self.views.append(view)
        accessor: dict = {"bufferView": len(self.views) - 1, "componentType": component,
                          "count": int(array.shape[0]), "type": kind}
        if bounds:
            flat = array.reshape(array.shape[0], -1)
            accessor["min"] = [float(v) for v in flat.min(axis=0)]
            accessor["max"] = [float(v) for v in flat.max(axis=0)]
        self.accessors.append(accessor)
        return len(self.accessors) - 1


def _f32(array: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(array, float), 6).astype(np.float32)


def _write_meshes(buf: _Buffer) -> list[dict]:
    primitives = []
    parts = body_parts()
    for material_index, material in enumerate(MATERIALS):
        pos_list, nrm_list, joint_list, tri_list, base = [], [], [], [], 0
        for part in (p for p in parts if p.material == material):
            pos, nrm, tri = part_mesh(part)
            pos_list.append(pos)
            nrm_list.append(nrm)
            joint_list.append(np.full(len(pos), JOINT_NAMES.index(part.joint)))
            tri_list.append(tri + base)
            base += len(pos)
        pos = _f32(to_gltf(np.concatenate(pos_list)))
        nrm = _f32(to_gltf(np.concatenate(nrm_list)))
        joints = np.zeros((len(pos), 4), np.uint8)
        joints[:, 0] = np.concatenate(joint_list)
        weights = np.zeros((len(pos), 4), np.float32)
        weights[:, 0] = 1.0
        indices = np.concatenate(tri_list).astype(np.uint16).reshape(-1)
        attributes = {"POSITION": buf.add(pos, "VEC3", 5126, 34962, bounds=True),
                      "NORMAL": buf.add(nrm, "VEC3", 5126, 34962),
                      "JOINTS_0": buf.add(joints, "VEC4", 5121, 34962),
                      "WEIGHTS_0": buf.add(weights, "VEC4", 5126, 34962)}
        primitives.append({"attributes": attributes, "indices": buf.add(indices, "SCALAR", 5123, 34963),
                           "material": material_index})
    return primitives


def _joint_nodes() -> list[dict]:
    nodes = []
    for name, (parent, position) in JOINTS.items():
        origin = JOINTS[parent][1] if parent else (0.0, 0.0, 0.0)
        local = to_gltf(np.subtract(position, origin))
        node: dict = {"name": name, "translation": [float(v) for v in _f32(local)]}
        children = [1 + JOINT_NAMES.index(child) for child, (p, _) in JOINTS.items() if p == name]
        if children:
            node["children"] = children
        nodes.append(node)
    return nodes


def _write_animation(buf: _Buffer, name: str, seconds: float, pose: Callable[[float], Pose], loops: bool) -> dict:
    frames = clip_frames(seconds)
    times = key_times(frames)
    last = frames if loops else frames - 1        # a looping clip's frame `frames` is its frame 0
    poses = [pose(k / last) for k in (0, *range(frames))]
    time_accessor = buf.add(times, "SCALAR", 5126, bounds=True)
    samplers, channels = [], []
    animated = sorted({joint for p in poses for joint in p if joint != "hips_z"}, key=JOINT_NAMES.index)
    for joint in animated:
        rotations = np.array([pose_quat(*p.get(joint, (0.0, 0.0, 0.0))) for p in poses])
        samplers.append({"input": time_accessor, "output": buf.add(_f32(rotations), "VEC4", 5126),
                         "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1,
                         "target": {"node": 1 + JOINT_NAMES.index(joint), "path": "rotation"}})
    if any("hips_z" in p for p in poses):
        rest = np.subtract(JOINTS["hips"][1], JOINTS["root"][1])
        lifts = [rest + np.array([0.0, 0.0, p.get("hips_z", (0.0, 0, 0))[0]]) for p in poses]
        samplers.append({"input": time_accessor, "output": buf.add(_f32(to_gltf(np.array(lifts))), "VEC3", 5126),
                         "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1,
                         "target": {"node": 1 + JOINT_NAMES.index("hips"), "path": "translation"}})
    return {"name": name, "samplers": samplers, "channels": channels}


def character_gltf() -> dict:
    """The whole glTF document (Y-up, as glTF requires; panda3d-gltf turns it Z-up on load)."""
    buf = _Buffer()
    primitives = _write_meshes(buf)
    inverse_binds = np.zeros((len(JOINTS), 16), np.float32)
    for i, (_parent, position) in enumerate(JOINTS.values()):
        matrix = np.eye(4)
        matrix[:3, 3] = -to_gltf(np.array(position))
        inverse_binds[i] = _f32(matrix.T.reshape(-1))  # glTF matrices are column-major
    ibm = buf.add(inverse_binds, "MAT4", 5126)
    animations = [_write_animation(buf, name, seconds, pose, loops) for name, (seconds, pose, loops) in CLIPS.items()]
    mesh_node = 1 + len(JOINTS)
    return {
        "asset": {"version": "2.0", "generator": "storm tools.assets.gltf_character"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"name": "character", "children": [1, mesh_node]}, *_joint_nodes(),
                  {"name": "body", "mesh": 0, "skin": 0}],
        "skins": [{"name": "skeleton", "joints": list(range(1, 1 + len(JOINTS))), "skeleton": 1,
                   "inverseBindMatrices": ibm}],
        "meshes": [{"name": "body", "primitives": primitives}],
        "materials": [{"name": name, "pbrMetallicRoughness": {
            "baseColorFactor": [*color, 1.0], "metallicFactor": 0.0, "roughnessFactor": 0.85}}
            for name, color in MATERIALS.items()],
        "animations": animations,
        "buffers": [{"byteLength": len(buf.blob),
                     "uri": "data:application/octet-stream;base64," + base64.b64encode(bytes(buf.blob)).decode()}],
        "bufferViews": buf.views,
        "accessors": buf.accessors,
    }


def write_character(path: Path | str = DEFAULT_OUT, log: Callable[[str], None] = print) -> Path:
    """Write the character to ``path``; the same bytes every run."""
    path = Path(path)
    log(f"building {len(body_parts())} body parts on {len(JOINTS)} joints")
    document = character_gltf()
    for animation in document["animations"]:
        seconds, _pose, loops = CLIPS[animation["name"]]
        log(f"clip {animation['name']!r}: {clip_frames(seconds)} frames at {FPS} fps"
            f"{', looping' if loops else ''}, {len(animation['channels'])} channels")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {path} ({path.stat().st_size} bytes)")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(DEFAULT_OUT), help="the .gltf file to write")
    write_character(parser.parse_args().out)


if __name__ == "__main__":
    main()
