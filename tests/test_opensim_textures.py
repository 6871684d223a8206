"""Prim textures: the TextureEntry decoder (real and hand-made entries, cut and lying ones, a seeded
fuzz run), the JPEG 2000 header check and bounded decode (a declared 60000x60000 image refused
from its header), and fetching through a texture capability served by a local HTTP server on
127.0.0.1 (disk cache, bounded concurrency, failures logged once, textures applied at the start
of a tick, the memory cache's bound)."""
from __future__ import annotations

import io
import logging
import math
import random
import struct
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from PIL import Image

from engine.host.runtime import create_runtime
from netcode.opensim import j2k
from netcode.opensim.login import LoginReply
from netcode.opensim.messages import Message, MessageCodec
from netcode.opensim.region import RegionSession, RegionSystem
from netcode.opensim.region_world import RegionObject
from netcode.opensim.texture_entry import TextureEntryError, decode_texture_entry, encode_texture_entry
from netcode.opensim.textures import MAX_GRIDS, DiskCache, RegionTextures, TextureFetcher, texture_cache_folder

CODEC = MessageCodec()
PLYWOOD = uuid.UUID("89556747-24cb-43ed-920b-47caed15465f")
# the TextureEntry OpenSimulator 0.9.2.2 sent for a new box (tests/data/opensim/session.lludp)
REAL_ENTRY = bytes.fromhex("8955674724cb43ed920b47caed15465f0000000000000000803f000000803f00000000000000000000000000"
                           "0000000000000000000000000000000000000000")


def j2k_bytes(size: tuple[int, int] = (256, 256), jp2: bool = False, colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    ys, xs = np.mgrid[0:size[1], 0:size[0]]
    pixels = np.stack([np.full_like(xs, colour[0]), (xs * 255 // max(1, size[0] - 1)),
                       np.full_like(xs, colour[2])], axis=-1).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, format="JPEG2000", no_jp2=not jp2)
    return out.getvalue()


# -- TextureEntry ------------------------------------------------------------------------------------
def test_the_real_entry_names_plywood_in_white() -> None:
    entry = decode_texture_entry(REAL_ENTRY)
    assert entry.texture == PLYWOOD and entry.color == (1.0, 1.0, 1.0, 1.0)
    assert entry.repeat == (1.0, 1.0) and entry.offset == (0.0, 0.0) and entry.face_textures == {}


def test_per_face_textures_and_colours_decode() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    raw = bytearray(encode_texture_entry(PLYWOOD, (1.0, 0.0, 0.0, 1.0), {0: a, 5: b, 20: a}))
    entry = decode_texture_entry(bytes(raw))
    assert entry.texture == PLYWOOD and entry.color == pytest.approx((1.0, 0.0, 0.0, 1.0))
    assert entry.face_textures == {0: a, 5: b, 20: a}
    assert entry.texture_of(5) == b and entry.texture_of(3) == PLYWOOD
    # a colour exception for faces 1 and 2 (mask 0b110), in the layout's inverted bytes; then the entry ends
    raw = PLYWOOD.bytes + b"\0" + bytes(4) + b"\x06" + bytes([255, 0, 255, 0]) + b"\0"
    entry = decode_texture_entry(raw)
    assert entry.color == (1.0, 1.0, 1.0, 1.0)
    assert entry.face_colors == {1: (0.0, 1.0, 0.0, 1.0), 2: (0.0, 1.0, 0.0, 1.0)}


def test_the_fast_path_for_plain_entries_agrees_with_the_general_one() -> None:
    tail = (struct.pack("<f", 2.0) + b"\0" + struct.pack("<f", float("nan")) + b"\0" + struct.pack("<h", 16384) + b"\0"
            + struct.pack("<h", -32767) + b"\0" + struct.pack("<h", 8192) + b"\0" + bytes(6))
    plain = PLYWOOD.bytes + b"\0" + bytes([0, 128, 255, 0]) + b"\0" + tail
    # the same values with a (redundant) texture for face 0: the general path reads it
    general = PLYWOOD.bytes + b"\x01" + PLYWOOD.bytes + b"\0" + bytes([0, 128, 255, 0]) + b"\0" + tail
    fast, slow = decode_texture_entry(plain), decode_texture_entry(general)
    assert slow.face_textures == {0: PLYWOOD}
    for entry in (fast, slow):
        assert entry.repeat == (2.0, 1.0) and entry.offset == pytest.approx((16384 / 32767, -1.0))
        assert entry.rotation == pytest.approx(math.pi / 2) and entry.color == pytest.approx((1.0, 127 / 255, 0.0, 1.0))


def test_an_entry_that_ends_after_a_section_keeps_the_defaults() -> None:
    entry = decode_texture_entry(PLYWOOD.bytes + b"\0")
    assert entry.texture == PLYWOOD and entry.color == (1.0, 1.0, 1.0, 1.0)
    assert decode_texture_entry(b"").texture is None


@pytest.mark.parametrize("raw, what", [
    (PLYWOOD.bytes[:10], "textures"),                                          # cut inside the default
    (PLYWOOD.bytes + b"\x01" + bytes(5), "textures"),                          # cut inside an exception
    (PLYWOOD.bytes + b"\xff\xff\xff\xff\xff\x01" + bytes(16), "longer than 5 bytes"),
    (PLYWOOD.bytes + b"\x90\x80\x80\x80\x00" + bytes(16) + b"\0", "beyond face 31"),
])
def test_cut_and_lying_entries_are_refused(raw: bytes, what: str) -> None:
    with pytest.raises(TextureEntryError, match=what):
        decode_texture_entry(raw)


def test_fuzzed_entries_decode_or_are_refused() -> None:
    rng = random.Random(14)
    seed = encode_texture_entry(PLYWOOD, (0.5, 0.5, 0.5, 1.0), {1: uuid.uuid4(), 3: uuid.uuid4()})
    outcomes = {"decoded": 0, "refused": 0}
    for _ in range(3000):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = data[:rng.randint(0, len(data))] if rng.random() < 0.3 else data
        try:
            entry = decode_texture_entry(bytes(data))
            assert len(entry.face_textures) <= 32 and len(entry.face_colors) <= 32
            outcomes["decoded"] += 1
        except TextureEntryError:
            outcomes["refused"] += 1
    assert outcomes["decoded"] > 100 and outcomes["refused"] > 100, outcomes


# -- JPEG 2000 ---------------------------------------------------------------------------------------
def test_the_header_says_the_size_of_raw_codestreams_and_jp2_files() -> None:
    assert j2k.codestream_size(j2k_bytes((300, 200))) == j2k.CodestreamSize(300, 200, 3)
    assert j2k.codestream_size(j2k_bytes((64, 32), jp2=True)) == j2k.CodestreamSize(64, 32, 3)


def test_a_huge_declared_image_is_refused_from_its_header() -> None:
    data = bytearray(j2k_bytes((64, 64)))
    struct.pack_into(">II", data, 8, 60000, 60000)                 # Xsiz, Ysiz of the SIZ marker
    started = time.perf_counter()
    with pytest.raises(j2k.TextureError, match="60000x60000 pixels, more than"):
        j2k.decode(bytes(data))
    assert time.perf_counter() - started < 0.05
    too_many = bytearray(j2k_bytes((64, 64)))
    struct.pack_into(">H", too_many, 4 + 36, 300)                  # Csiz
    with pytest.raises(j2k.TextureError, match="300 components"):
        j2k.codestream_size(bytes(too_many))
    with pytest.raises(j2k.TextureError, match="not a JPEG 2000"):
        j2k.codestream_size(b"\x89PNG\r\n\x1a\n" + bytes(100))


def test_decoding_is_bounded_by_the_side_asked_for() -> None:
    width, height, rgba = j2k.decode(j2k_bytes((512, 256)), max_side=128)
    assert (width, height) == (128, 64) and len(rgba) == 128 * 64 * 4
    pixels = np.frombuffer(rgba, np.uint8).reshape(64, 128, 4)
    assert abs(int(pixels[:, :, 0].mean()) - 200) < 8 and pixels[0, -1, 1] > pixels[0, 0, 1] + 150
    with pytest.raises(j2k.TextureError, match="not decodable"):
        j2k.decode(j2k_bytes((256, 256))[:100])


def test_fuzzed_codestreams_decode_or_are_refused() -> None:
    rng = random.Random(2)
    seed = j2k_bytes((64, 64))
    outcomes = {"decoded": 0, "refused": 0}
    for _ in range(150):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            width, height, rgba = j2k.decode(bytes(data), max_side=64)
            assert len(rgba) == width * height * 4 and max(width, height) <= 128
            outcomes["decoded"] += 1
        except j2k.TextureError:
            outcomes["refused"] += 1
    assert sum(outcomes.values()) == 150 and outcomes["refused"] > 0, outcomes


# -- fetching ----------------------------------------------------------------------------------------
class TextureServer:
    """A texture capability on 127.0.0.1: ``?texture_id=`` answered from ``assets`` (else 404)."""

    def __init__(self, assets: dict[uuid.UUID, bytes], delay: float = 0.0) -> None:
        self.assets, self.delay = assets, delay
        self.requests: list[str] = []
        self.active = self.most_active = 0
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                texture = query.get("texture_id", [""])[0]
                with lock:
                    owner.requests.append(texture)
                    owner.active += 1
                    owner.most_active = max(owner.most_active, owner.active)
                try:
                    time.sleep(owner.delay)
                    data = owner.assets.get(uuid.UUID(texture)) if texture else None
                    if data is None:
                        self.send_error(404)
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", "image/x-j2c")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass                          # the client stopped reading (a refused header)
                finally:
                    with lock:
                        owner.active -= 1

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/CAP/texture"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def served() -> Iterator[tuple[TextureServer, dict[uuid.UUID, bytes]]]:
    assets = {uuid.uuid4(): j2k_bytes((128, 128), colour=(30 * k, 100, 200 - 30 * k)) for k in range(6)}
    server = TextureServer(assets, delay=0.15)
    yield server, assets
    server.close()


def wait_results(fetcher: TextureFetcher, count: int, timeout: float = 20.0) -> list:
    out: list = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        out += fetcher.results(100)
        time.sleep(0.02)
    return out


def test_textures_are_fetched_two_at_a_time_and_cached_on_disk(served, tmp_path: Path) -> None:
    server, assets = served
    fetcher = TextureFetcher(lambda: server.url, DiskCache(tmp_path), workers=2, max_side=64)
    try:
        for texture_id in assets:
            assert fetcher.want(texture_id)
        results = wait_results(fetcher, len(assets))
    finally:
        fetcher.close()
    assert {r[0] for r in results} == set(assets) and all(r[1] is not None for r in results), results
    assert all((r[1].width, r[1].height) == (64, 64) for r in results)
    assert server.most_active <= 2 and len(server.requests) == len(assets)
    assert sorted(p.name for p in tmp_path.glob("*.j2c")) == sorted(f"{t}.j2c" for t in assets)
    again = TextureFetcher(lambda: server.url, DiskCache(tmp_path), workers=1, max_side=64)
    try:
        again.want(next(iter(assets)))
        assert wait_results(again, 1)[0][1] is not None
    finally:
        again.close()
    assert again.stats["from_cache"] == 1 and len(server.requests) == len(assets)


def test_a_hostile_capability_is_refused_from_the_header_and_not_cached(tmp_path: Path) -> None:
    huge = bytearray(j2k_bytes((64, 64)))
    struct.pack_into(">II", huge, 8, 60000, 60000)
    bad, missing, junk = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    server = TextureServer({bad: bytes(huge) + bytes(3 * 1024 * 1024), junk: b"<html>no</html>"})
    fetcher = TextureFetcher(lambda: server.url, DiskCache(tmp_path), workers=2)
    try:
        for texture_id in (bad, missing, junk):
            fetcher.want(texture_id)
        results = {r[0]: r[2] for r in wait_results(fetcher, 3)}
    finally:
        fetcher.close()
        server.close()
    assert "60000x60000" in results[bad] and "HTTP 404" in results[missing] and "not a JPEG 2000" in results[junk]
    assert not list(tmp_path.glob("*.j2c"))


def test_the_disk_cache_keeps_its_bounds(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_files=2)
    ids = [uuid.uuid4() for _ in range(3)]
    for texture_id in ids:
        cache.put(texture_id, b"x" * 10)
        time.sleep(0.01)
    assert cache.get(ids[0]) is None and cache.get(ids[2]) == b"x" * 10
    assert len(list(tmp_path.glob("*.j2c"))) == 2


def test_the_cache_folder_is_one_per_grid_and_their_number_is_bounded(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORM_OPENSIM_TEXTURE_CACHE", str(tmp_path))
    first = texture_cache_folder("http://grid.example:8002/")
    assert first.parent == tmp_path and first != texture_cache_folder("http://other.example:8002/")
    for k in range(MAX_GRIDS + 5):
        texture_cache_folder(f"http://grid{k}.example/")
    assert len(list(tmp_path.iterdir())) == MAX_GRIDS
    monkeypatch.setenv("STORM_OPENSIM_TEXTURE_CACHE", "off")
    assert texture_cache_folder("http://grid.example:8002/") is None


def object_update(local_id: int, entry: bytes, position: tuple[float, float, float]) -> Message:
    block = {"ID": local_id, "FullID": uuid.uuid4(), "PCode": 9, "Scale": (1.0, 1.0, 1.0), "ParentID": 0,
             "PathCurve": 16, "ProfileCurve": 1, "PathScaleX": 100, "PathScaleY": 100,
             "ObjectData": struct.pack("<3f", *position) + bytes(48), "TextureEntry": entry}
    return CODEC.decode(CODEC.encode(Message("ObjectUpdate", {"RegionData": [{"RegionHandle": 1, "TimeDilation": 0}],
                                                              "ObjectData": [block]})))


@pytest.fixture
def textured_region(served) -> Iterator[tuple]:
    server, assets = served
    runtime = create_runtime()
    runtime.add_component_type(RegionObject)
    world = runtime.new_world(profile="server")
    reply = LoginReply(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), 1, "127.0.0.1", 9000, "", 256000, 256000, "T", "U", "")
    textures = RegionTextures(world, TextureFetcher(lambda: server.url, None, max_side=64), max_count=3)
    session = RegionSession(world, reply, lambda *a: None, textures)
    world.add_system(RegionSystem(session))
    yield world, session, list(assets)
    session.close()
    world.close()


def tick_until(world, done, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        world.tick(1 / 60)
        if done():
            return True
        time.sleep(0.01)
    return False


def test_textures_are_applied_at_a_tick_and_a_failure_keeps_the_colour_and_logs_once(
        textured_region, caplog: pytest.LogCaptureFixture) -> None:
    world, session, ids = textured_region
    missing = uuid.uuid4()
    session.receive(object_update(1, encode_texture_entry(ids[0]), (10.0, 10.0, 30.0)))
    session.receive(object_update(2, encode_texture_entry(ids[0]), (12.0, 10.0, 30.0)))
    for local_id in (3, 4):
        session.receive(object_update(local_id, encode_texture_entry(missing, (0.0, 1.0, 0.0, 1.0)), (14.0, 10, 30)))
    with caplog.at_level(logging.WARNING, "storm.opensim"):
        world.tick(1 / 60)
        assert not world.node(session.mirror.entity_of(1)).hasTexture()      # fetched off the tick
        assert tick_until(world, lambda: all(world.node(session.mirror.entity_of(k)).hasTexture() for k in (1, 2)))
        assert tick_until(world, lambda: session.textures.stats["failed"] >= 1)
    assert [r for r in caplog.records if str(missing) in r.getMessage()].__len__() == 1
    green = session.mirror.entity_of(3)
    assert not world.node(green).hasTexture() and world.get(green, RegionObject).texture == str(missing)
    from engine.render.components import MeshRenderer

    assert world.get(green, MeshRenderer).color == pytest.approx((0.0, 1.0, 0.0, 1.0))
    assert world.node(session.mirror.entity_of(1)).getTexture().getName() == str(ids[0])


def test_the_memory_cache_drops_the_oldest_texture_past_its_count(textured_region) -> None:
    world, session, ids = textured_region                                  # at most 3 textures kept
    for k in range(4):
        session.receive(object_update(10 + k, encode_texture_entry(ids[k]), (10.0 + k, 20.0, 30.0)))
        assert tick_until(world, lambda: session.textures.stats["loaded"] >= k + 1)
    assert len(session.textures.textures) == 3 and session.textures.stats["evicted"] == 1
    assert not world.node(session.mirror.entity_of(10)).hasTexture()
    assert world.node(session.mirror.entity_of(13)).hasTexture()
    session.receive(Message("KillObject", {"ObjectData": [{"ID": 13}]}))
    world.tick(1 / 60)
    assert not session.textures.users.get(ids[3])


def test_a_face_entity_shows_its_own_look_not_its_prims(served) -> None:
    """Panda3D passes a node's texture down to its children and composes texture matrices, so a
    face's child entity must neither show its prim's texture nor multiply its prim's repeats."""
    from panda3d.core import TexMatrixAttrib, TextureAttrib, TextureStage

    from netcode.opensim.texture_entry import FaceLook

    server, assets = served
    ids = list(assets)
    world = create_runtime().new_world(profile="server")
    textures = RegionTextures(world, TextureFetcher(lambda: server.url, None, max_side=64))
    prim = world.create_entity("prim")
    plain, untextured, repeated = (world.create_entity(name, prim) for name in ("plain", "untextured", "repeated"))
    try:
        textures.show(prim, FaceLook(ids[0], repeat=(2.0, 2.0)))
        textures.show(plain, FaceLook(ids[0]))
        textures.show(untextured, FaceLook(None))
        textures.show(repeated, FaceLook(ids[1], repeat=(3.0, 3.0)))
        deadline = time.monotonic() + 20.0
        while textures.stats["applied"] < 3 and time.monotonic() < deadline:
            textures.update()                                  # what the region's tick does
            time.sleep(0.01)
        assert textures.stats["applied"] == 3

        def drawn(eid: int) -> tuple:
            state = world.node(eid).getNetState()
            texture = state.getAttrib(TextureAttrib)
            matrix = state.getAttrib(TexMatrixAttrib)
            on = texture.getOnTexture(TextureStage.getDefault()) if texture is not None else None
            scale = matrix.getTransform(TextureStage.getDefault()).getMat().getRow3(0)[0] if matrix else 1.0
            return (on.getName() if on is not None else None), round(scale, 3)

        assert drawn(prim) == (str(ids[0]), 2.0)
        assert drawn(plain) == (str(ids[0]), 1.0), "a face of repeat 1 is not drawn with its prim's repeats"
        assert drawn(untextured)[0] is None, "a face without a texture does not show its prim's"
        assert drawn(repeated) == (str(ids[1]), 3.0), "a face's repeats are its own, not times its prim's"
        textures.show(repeated, FaceLook(None))                # its texture taken away: not its prim's either
        assert drawn(repeated)[0] is None
    finally:
        textures.close()
        world.close()
