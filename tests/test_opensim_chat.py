"""What a visitor types into the region's chat panel, and the region's sky, in a region World fed
hand-made messages: plain lines, shouts, whispers and channels as ChatFromViewer; /im to an avatar
in view; /tp, /sit and /stand through Travel, with bad arguments answered by a notice and nothing
sent; chat and IMs heard in arrival order; Windlight settings read (and hostile ones refused) and
drawn as the region's sky and sun colour."""
from __future__ import annotations

import math
import struct
import uuid
from typing import Iterator

import llsd
import pytest

from engine.render.components import Environment, Light
from netcode.opensim.chat_commands import HELP, run_line
from netcode.opensim.chat_panel import shown
from netcode.opensim.packet import decode_packet
from netcode.opensim.region_sky import SkyError, day_fraction, read_windlight
from tests.conftest import REPO_ROOT as ROOT
from tests.test_opensim_region import CODEC, Region, open_region, recorded
from tests.test_opensim_travel import FRIEND, avatar_update, feed, im_from, prim_update, wire


@pytest.fixture
def region() -> Iterator[Region]:
    yield from open_region(handshake=True)


def friend_update(local_id: int, position: tuple[float, float, float]) -> object:
    motion = bytes(16) + struct.pack("<3f", *position) + bytes(48)
    block = {"ID": local_id, "FullID": FRIEND, "PCode": 47, "Scale": (0.5, 0.5, 1.8), "ParentID": 0,
             "PathCurve": 16, "ProfileCurve": 1, "ObjectData": motion, "TextureEntry": b"",
             "NameValue": b"FirstName STRING RW SV Second\nLastName STRING RW SV Visitor\0"}
    return wire("ObjectUpdate", {"RegionData": [{"RegionHandle": 1, "TimeDilation": 0}], "ObjectData": [block]})


def chat_from(name: bytes, text: bytes, chat_type: int = 1) -> object:
    return wire("ChatFromSimulator", {"ChatData": [{
        "FromName": name + b"\0", "SourceID": FRIEND, "OwnerID": FRIEND, "SourceType": 1, "ChatType": chat_type,
        "Audible": 1, "Position": (1.0, 2.0, 3.0), "Message": text + b"\0"}]})


def chats(sent: list) -> list[tuple[str, int, int]]:
    out = []
    for name, blocks, _ in sent:
        if name == "ChatFromViewer":
            data = blocks["ChatData"][0]
            out.append((data["Message"], data["Type"], data["Channel"]))
    return out


def named(sent: list, name: str) -> list[dict]:
    return [blocks for n, blocks, _ in sent if n == name]


# -- chat and commands ----------------------------------------------------------------------------
def test_plain_lines_shouts_whispers_and_channels(region: Region) -> None:
    _, session, sent = region
    assert run_line(session, "hello there") == ""
    assert run_line(session, "/shout over here") == ""
    assert run_line(session, "/whisper psst") == ""
    assert run_line(session, "/5 open door") == "said on channel 5: open door"
    assert run_line(session, "/say /tp 1 2") == ""
    assert chats(sent) == [("hello there", 1, 0), ("over here", 2, 0), ("psst", 0, 0), ("open door", 1, 5),
                           ("/tp 1 2", 1, 0)]


def test_bad_commands_answer_with_a_notice_and_send_nothing(region: Region) -> None:
    _, session, sent = region
    assert run_line(session, "/fly") == f"unknown command /fly; {HELP}"
    assert run_line(session, "/shout").startswith("/shout: expected")
    assert run_line(session, "/99999999999 hi").startswith("/99999999999: expected a channel")
    assert run_line(session, "/tp nan 3").startswith("/tp: expected finite numbers")
    assert run_line(session, "/tp 1e9 3 30").startswith("/tp: teleport position")      # Travel's own refusal
    assert run_line(session, "/tp one two") == "/tp: expected /tp X Y [Z] (metres in the region), got 'one two'"
    assert run_line(session, "/tp 1") == "/tp: expected /tp X Y [Z] (metres in the region)"
    assert run_line(session, "/sit") == "/sit: no prim within 10 m to sit on"
    assert run_line(session, "/sit 12345").startswith("/sit: no prim 12345")
    assert run_line(session, "/im Nobody Here: hi") == "/im: no avatar named 'Nobody Here' in view"
    assert run_line(session, "/im Second Visitor hi") == "/im: expected /im First Last: message"
    assert run_line(session, "   ") == ""
    assert sent == []


def test_im_goes_to_the_avatar_named(region: Region) -> None:
    world, session, sent = region
    feed(world, session, friend_update(77, (130.0, 128.0, 25.0)))
    assert run_line(session, "/im  Second   Visitor :  hello you ") == ""
    (blocks,) = named(sent, "ImprovedInstantMessage")
    block = blocks["MessageBlock"][0]
    assert block["ToAgentID"] == FRIEND and block["Message"] == b"hello you\0"
    assert [shown(line) for line in session.heard] == ["[IM to Second Visitor] hello you"]


def test_tp_asks_for_the_position_and_keeps_the_height_when_left_out(region: Region) -> None:
    _, session, sent = region
    session.position = (10.0, 20.0, 33.0)
    assert run_line(session, "/tp 60 70 30") == "teleporting to (60, 70, 30)"
    assert run_line(session, "/teleport 61, 71") == "teleporting to (61, 71, 33)"
    positions = [b["Info"][0]["Position"] for b in named(sent, "TeleportLocationRequest")]
    assert positions == [(60.0, 70.0, 30.0), (61.0, 71.0, 33.0)]


def test_sit_picks_the_nearest_prim_within_reach_and_stand_stands(region: Region) -> None:
    world, session, sent = region
    near, far = uuid.uuid4(), uuid.uuid4()
    feed(world, session, avatar_update(5, (100.0, 100.0, 25.0)), prim_update(40, far, (100.0, 130.0, 25.0)),
         prim_update(41, near, (103.0, 100.0, 25.0)))
    assert session.position == (100.0, 100.0, 25.0)
    assert run_line(session, "/sit").startswith("sitting on ")
    assert [b["TargetObject"][0]["TargetID"] for b in named(sent, "AgentRequestSit")] == [near]
    assert run_line(session, "/sit 40").startswith("sitting on ")      # by local id, any distance
    assert [b["TargetObject"][0]["TargetID"] for b in named(sent, "AgentRequestSit")] == [near, far]
    assert run_line(session, "/stand") == "standing up" and session.stand_up == 3


def test_chat_and_ims_are_heard_in_arrival_order(region: Region) -> None:
    world, session, _ = region
    feed(world, session, chat_from(b"Second Visitor", b"hi all"), im_from(b"psst, you\0"),
         chat_from(b"Second Visitor", b"", chat_type=4),                   # a typing start: not heard
         chat_from(b"Evil\nName", b"line\x1b[31m two"))
    assert [shown(line) for line in session.heard] == [
        "Second Visitor: hi all", "[IM] Second Visitor: psst, you", "Evil\nName: line\x1b[31m two"]
    assert session.heard_count == 3


def test_the_log_line_of_chat_escapes_what_the_sender_sent(region: Region, caplog: pytest.LogCaptureFixture) -> None:
    world, session, _ = region
    with caplog.at_level("INFO", "storm.opensim"):
        feed(world, session, chat_from(b"Evil\nName", b"hi\n[chat] Test User: forged"))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("[chat]")]
    assert lines == ["[chat] Evil\\nName: hi\\n[chat] Test User: forged"]


# -- the region's sky ---------------------------------------------------------------------------
ENVIRONMENT = ROOT / "tests" / "data" / "opensim" / "environment.xml"   # what OpenSimulator 0.9.2.2 sent


def windlight(**sky: object) -> list:
    frame = {"blue_density": [0.2447, 0.4487, 0.76, 1.0], "blue_horizon": [0.4954, 0.4954, 0.64, 1.0],
             "haze_horizon": [0.19, 0.0, 0.0, 1.0], "sunlight_color": [0.7342, 0.7815, 0.9, 0.3],
             "sun_angle": 1.0, "east_angle": 0.0}
    frame.update(sky)
    return [{"messageID": uuid.UUID(int=0), "regionID": uuid.uuid4()}, [[-1.0, "Default"]], {"Default": frame}, {}]


def legacy_phase(fraction: float) -> float:
    """OpenSimulator's EnvironmentModule: the day fraction as SunPhase for legacy viewers."""
    if fraction <= 0.25:
        fraction += 1.5
    elif fraction > 0.75:
        fraction += 0.5
    elif fraction >= 0.333333:
        fraction = 3 * fraction - 1
    else:
        fraction = 3 * fraction + 1
    return min(2.0, max(0.0, fraction)) * math.pi


def test_a_line_of_glyphs_the_font_lacks_is_drawn_without_a_warning_for_each() -> None:
    from panda3d.core import LineStream, Notify, TextNode

    from engine.input.typing import clean_line
    from engine.ui.chat_window import SHOWN_LINE, drawable

    node, known = TextNode("chat-log"), {}
    hostile = clean_line("Hi \U0001F600" * 200 + "e" + "\u0301" * 500 + "\u4e2d\u6587", SHOWN_LINE)
    text = drawable(node, f"Ann: {hostile}\nBob: café", known)
    assert text.startswith("Ann: Hi ?Hi ?") and text.endswith("\nBob: café") and len(text) == len(f"Ann: {hostile}") + 10
    assert len(known) < 20, "each character is asked about once"
    before, stream = Notify.ptr().getOstreamPtr(), LineStream()
    Notify.ptr().setOstreamPtr(stream, False)
    try:
        node.setText(text)
        node.getWidth()
    finally:
        Notify.ptr().setOstreamPtr(before, False)
    assert not stream.isTextAvailable(), stream.getLine()


def test_the_regions_day_cycle_as_opensimulator_sends_it() -> None:
    cycle = read_windlight(llsd.parse(ENVIRONMENT.read_bytes()))
    assert cycle is not None
    assert [round(t, 3) for t, _ in cycle.keys] == [0.0, 0.05, 0.125, 0.3, 0.5, 0.7, 0.875, 0.95]
    noon, midnight, morning = cycle.at(0.5), cycle.at(0.0), cycle.at(0.125)
    assert noon.sky_top == pytest.approx((0.2447, 0.4487, 0.76), abs=1e-3) and noon.sun_direction == pytest.approx((0.0, 0.0, 1.0), abs=1e-3)
    assert noon.sky_horizon == pytest.approx((0.5912, 0.5912, 0.7084), abs=1e-3)    # paler than straight up
    assert midnight.sun_direction[2] < -0.99 and sum(midnight.sky_top) < sum(noon.sky_top)
    assert morning.sun_direction[0] > 0.99 > morning.sun_direction[2] > 0.0   # low in the east at dawn
    assert cycle.at(0.875).sun_direction[0] < -0.99                            # and in the west at dusk
    between = cycle.at(0.4)                                                    # halfway from 0.3 to 0.5
    assert between.sky_top[0] == pytest.approx((cycle.at(0.3).sky_top[0] + noon.sky_top[0]) / 2, abs=1e-3)
    assert cycle.at(1.5) == noon                                                # the day wraps
    assert max(noon.sun_color) == 1.0 and noon.sun_color[0] < noon.sun_color[2]   # the default sun is bluish


def test_the_day_fraction_comes_back_out_of_sun_phase() -> None:
    for step in range(200):
        fraction = step / 200
        assert day_fraction(legacy_phase(fraction)) == pytest.approx(fraction, abs=1e-6) or fraction == 0.0
    assert day_fraction(legacy_phase(0.0)) in (pytest.approx(0.0), pytest.approx(1.0))
    assert day_fraction(float("nan")) is None and day_fraction(-1.0) is None and day_fraction(100.0) is None


def test_no_settings_keeps_storms_sky() -> None:
    assert read_windlight([{"messageID": uuid.UUID(int=0)}]) is None
    cycle = read_windlight(windlight())                 # a fixed sky (time -1)
    assert cycle is not None and len(cycle.keys) == 1 and cycle.at(0.9) == cycle.at(0.1)


@pytest.mark.parametrize("reply, expected", [
    ("not a list", "expected an array"),
    ([{}, {"no": "track"}, {}], "expected [header, day cycle track, sky frames, water]"),
    ([{}, [[0.0, "Missing"]], {}], "names sky frame 'Missing', which is not there"),
    ([{}, [["bad"]], {}], "day cycle entry 0: expected [time, frame name]"),
    ([{}, [[0.0, "A"]], {f"f{i}": {} for i in range(65)}], "65 sky frames"),
    ([{}, [[0.0, "A"]], {"A": "sunny"}], "sky frame 'A' is not a map of settings"),
    (windlight(blue_density=[float("nan"), 0.0, 0.0, 1.0]), "blue_density[0]: expected a number 0-10"),
    (windlight(blue_horizon=[1e9, 0.0, 0.0, 1.0]), "blue_horizon[0]: expected a number 0-10"),
    (windlight(blue_horizon=["red", 0.0, 0.0]), "blue_horizon[0]: expected a number"),
    (windlight(sunlight_color=[1.0]), "sunlight_color: expected a list of 3 or 4 numbers"),
    (windlight(haze_horizon="thick"), "haze_horizon[0]: expected a number"),
    (windlight(sun_angle=float("inf")), "sun_angle: expected an angle in radians"),
    (windlight(blue_density=None), "blue_density: expected a list of 3 or 4 numbers, got NoneType"),
])
def test_hostile_windlight_settings_are_refused_saying_where(reply: object, expected: str) -> None:
    with pytest.raises(SkyError) as error:
        read_windlight(reply)
    assert expected in str(error.value)


def time_message(phase: float, direction: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> object:
    return wire("SimulatorViewerTimeMessage", {"TimeInfo": [{
        "UsecSinceStart": 0, "SecPerDay": 14400, "SecPerYear": 0, "SunDirection": direction, "SunPhase": phase,
        "SunAngVelocity": (0.0, 0.0, 0.0)}]})


def test_the_session_draws_the_day_cycle_at_the_regions_time_of_day(region: Region) -> None:
    world, session, _ = region
    messages = [CODEC.decode(decode_packet(raw).body) for raw in recorded()]
    feed(world, session, next(m for m in messages if m.name == "RegionHandshake"))
    sky = session.sky
    assert sky.sky_entity and world.name_of(sky.sky_entity) == "region sky" and sky.sun    # Storm's until told
    default_top = world.get(sky.sky_entity, Environment).sky_top
    cycle = read_windlight(llsd.parse(ENVIRONMENT.read_bytes()))
    sky.set_cycle(cycle)
    feed(world, session, time_message(legacy_phase(0.5)))                     # noon
    environment = world.get(sky.sky_entity, Environment)
    assert tuple(environment.sky_top[:3]) == pytest.approx((0.2447, 0.4487, 0.76), abs=1e-3) and environment.sky_top != default_top
    assert tuple(world.node(sky.sun).getQuat().getForward()) == pytest.approx((0.0, 0.0, -1.0), abs=1e-3)
    assert world.get(sky.sun, Light).intensity == 2.5
    assert tuple(world.get(sky.sun, Light).color[:3]) == pytest.approx(cycle.at(0.5).sun_color)
    feed(world, session, time_message(legacy_phase(0.875)))                   # dusk: low in the west
    forward = world.node(sky.sun).getQuat().getForward()
    assert forward[0] > 0.99 and forward[2] < 0                               # shining east, a little down
    feed(world, session, time_message(legacy_phase(0.0)))                     # midnight
    assert world.get(sky.sun, Light).intensity < 1.0
    assert sum(world.get(sky.sky_entity, Environment).sky_top[:3]) < sum(cycle.at(0.5).sky_top)
    suns = [e for e, _ in world.query(Light)]
    assert suns == [sky.sun], "one sun"
