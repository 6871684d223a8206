"""A visit to an OpenSimulator region: login, the circuit on a network thread, the region in a World.

``Visit.start(uri, first, last, password, runtime)`` logs in (XML-RPC), builds a World of the
runtime (``game`` profile to draw it, ``server`` for a headless client), opens the circuit
(UseCircuitCode, CompleteAgentMovement) on an asyncio loop in a background thread, follows the
seed capability's event queue there, and installs the ``RegionSystem``. ``close()`` logs out
(bounded wait for LogoutReply) and stops the thread. ``visit()`` is what ``storm visit`` runs.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from netcode.opensim.caps import CapsError, EventQueue
from netcode.opensim.circuit import Circuit
from netcode.opensim.login import LoginReply, login
from netcode.opensim.messages import Message
from netcode.opensim.messaging import escaped
from netcode.opensim.region import RegionSession, RegionSystem
from netcode.opensim.region_sky import SkyError, fetch_day_cycle
from netcode.opensim.textures import DiskCache, RegionTextures, TextureFetcher, texture_cache_folder

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.host.runtime import Runtime

log = logging.getLogger("storm.opensim")


class _LoopThread:
    """An asyncio loop in a daemon thread (the World ticks on the caller's thread)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="storm-opensim", daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


def _read_sky(capabilities: dict[str, str], session: RegionSession) -> None:
    """Read the region's Windlight sky on a thread of its own (the region may make us wait)."""
    url = capabilities.get("EnvironmentSettings")
    if not url:
        log.info("opensim: the region grants no EnvironmentSettings; Storm's own sky is drawn")
        return

    def read() -> None:
        try:
            cycle = fetch_day_cycle(url)
        except (CapsError, SkyError) as exc:
            log.warning("opensim: the region's sky was not read (Storm's own is drawn): %s", exc)
            return
        if cycle is not None:
            session.sky.set_cycle(cycle)

    threading.Thread(target=read, name="storm-opensim-sky", daemon=True).start()


class Visit:
    """One avatar in one region: ``world`` mirrors the region, ``session`` holds what is known of it."""

    def __init__(self, reply: LoginReply, world: "World", net: _LoopThread, circuit: Circuit,
                 session: RegionSession, events: EventQueue | None) -> None:
        self.reply = reply
        self.world = world
        self.net = net
        self.circuit = circuit
        self.session = session
        self.events = events
        self.closed = False

    @classmethod
    def start(cls, uri: str, first: str, last: str, password: str, runtime: "Runtime", profile: str = "game",
              recorder: Callable[[bytes], None] | None = None, event_queue: bool = True,
              textures: bool | None = None, texture_cache: Path | None | str = "default",
              reply: LoginReply | None = None) -> "Visit":
        """Log in and enter the region. ``textures``: fetch and show prim textures (by default when the
        World is drawn, i.e. not the ``server`` profile), cached on disk in ``texture_cache`` (by
        default the XDG cache's folder for this grid; None: no disk cache). ``reply``: a login already
        made (``login``, e.g. on a worker thread by the editor), so ``password`` is not used."""
        from netcode.opensim.region_world import RegionObject

        runtime.add_component_type(RegionObject)
        reply = login(uri, first, last, password) if reply is None else reply
        world = runtime.new_world(name=f"OpenSimulator {reply.sim_ip}:{reply.sim_port}", profile=profile)
        net = _LoopThread()
        circuit_box: list[Circuit] = []

        def send(name: str, blocks: dict[str, list[dict[str, Any]]], reliable: bool) -> None:
            net.loop.call_soon_threadsafe(circuit_box[0].send, name, blocks, reliable)

        events = EventQueue(reply.seed_capability) if event_queue and reply.seed_capability else None
        region_textures = None
        if textures or (textures is None and profile != "server"):
            folder = texture_cache_folder(uri) if texture_cache == "default" else texture_cache
            region_textures = RegionTextures(world, TextureFetcher(
                lambda: events.capabilities.get("GetTexture") or events.capabilities.get("ViewerAsset")
                if events is not None else None, DiskCache(Path(folder)) if folder else None))
        session = RegionSession(world, reply, send, region_textures)

        def on_message(message: Message) -> None:
            if message.name in ("KickUser", "DisableSimulator"):
                ending = cls._ending(message, reply)
                if ending:                          # the region ends the visit: the circuit closes, saying why
                    circuit_box[0].close(ending)
            session.receive(message)

        if events is not None:
            events.on_capabilities.append(lambda granted: _read_sky(granted, session))
        circuit = Circuit((reply.sim_ip, reply.sim_port), on_message, recorder=recorder)
        circuit_box.append(circuit)
        try:
            net.run(cls._open(circuit, reply, events), timeout=15)
        except BaseException:
            net.stop()
            if events is not None:
                events.stop()
            session.close()
            world.close()
            raise
        world.add_system(RegionSystem(session))
        return cls(reply, world, net, circuit, session, events)

    @staticmethod
    def _ending(message: Message, reply: LoginReply) -> str:
        """Why the region ends the visit ('' for a KickUser addressed to another agent)."""
        if message.name == "DisableSimulator":
            return "the region disabled the simulator (DisableSimulator)"
        try:
            info = message.block("UserInfo")
            if info["AgentID"] != reply.agent_id:
                return ""
            reason = bytes(info["Reason"]).rstrip(b"\0").decode("utf-8", "replace").strip()
        except (KeyError, IndexError, TypeError, ValueError):
            return ""
        return f"kicked by the region: {escaped(reason, 200) or 'no reason given'}"

    @staticmethod
    async def _open(circuit: Circuit, reply: LoginReply, events: EventQueue | None) -> None:
        await circuit.open()
        circuit.send("UseCircuitCode", {"CircuitCode": [{"Code": reply.circuit_code, "SessionID": reply.session_id,
                                                         "ID": reply.agent_id}]}, reliable=True)
        circuit.send("CompleteAgentMovement", {"AgentData": [{"AgentID": reply.agent_id, "SessionID": reply.session_id,
                                                              "CircuitCode": reply.circuit_code}]}, reliable=True)
        if events is not None:
            events.start()

    def tick_until(self, done: Callable[[], bool], timeout: float, dt: float = 1 / 60) -> bool:
        """Tick the World (headless pace: about real time) until ``done()`` or ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = time.monotonic()
            self.world.tick(dt)
            if done():
                return True
            if self.circuit.closed.is_set():
                return done()
            time.sleep(max(0.0, dt - (time.monotonic() - started)))
        return done()

    def say(self, text: str, channel: int = 0) -> None:
        self.session.say(text, channel)

    def im(self, to: str | uuid.UUID, text: str) -> None:
        """An instant message to an avatar, by UUID or by the name of one in view ("First Last")."""
        to_id = to if isinstance(to, uuid.UUID) else self.session.find_avatar(to)
        if to_id is None:
            raise LookupError(f"no avatar named {to!r} in view")
        self.session.send_im(to_id, text, str(to))

    def close(self, timeout: float = 10.0) -> bool:
        """Log out (waiting at most ``timeout`` for the reply) and stop the network thread; True when
        the simulator confirmed the logout."""
        if self.closed:
            return False
        self.closed = True
        replied = False
        try:
            replied = self.net.run(self.circuit.logout(self.reply.agent_id, self.reply.session_id, timeout),
                                   timeout=timeout + 2)
        except Exception as exc:  # the loop or the socket is gone: nothing left to log out
            log.warning("opensim: logout did not complete: %s", exc)
        if self.events is not None:
            self.events.stop()
        self.net.stop()
        self.session.close()
        return bool(replied)


def visit(uri: str, first: str, last: str, password: str, mode: str = "auto", size: tuple[int, int] = (1280, 720),
          frames: int | None = None, screenshot: str | None = None, profile: str | None = None,
          typed: list[str] | None = None) -> int:
    """``storm visit``: show the region in a window (or offscreen/headless) until closed, ``frames`` or
    Ctrl+C, with the chat panel over it; ``typed``: lines typed into the panel once in the region."""
    from engine.core.edit_commands import CreateEntity
    from engine.host.app import App, pick_mode
    from engine.host.runtime import create_runtime
    from engine.packs.loading import open_content
    from netcode.opensim.chat_commands import run_line

    audio = "openal" if pick_mode(mode) == "window" else "null"
    runtime = create_runtime(open_content(profile), audio=audio)
    trip = Visit.start(uri, first, last, password, runtime)
    world = trip.world
    print(f"logged in to {uri} as {trip.reply.first_name} {trip.reply.last_name}; region at "
          f"{trip.reply.sim_ip}:{trip.reply.sim_port}", flush=True)
    try:
        trip.tick_until(lambda: trip.session.mirror.local_avatar != 0, timeout=10)
        trip.session.sky.make_sky()              # the region's sky and sun (they follow its settings)
        world.apply(CreateEntity.new("camera", 0, {"Camera": {
            "mode": "third_person", "target": trip.session.mirror.local_avatar, "distance": 6.0, "far": 2000.0}},
            {"pos": [128.0, 100.0, 40.0]}))
        app = App(mode, size=size, title=f"Storm - {trip.session.region_name or uri}")
        app.load(world)
        panel = None
        if app.mode != "headless":
            from netcode.opensim.chat_panel import RegionChatPanel

            panel = RegionChatPanel(app.base, trip.session)     # Enter or T: talk; /help
        for line in typed or ():
            notice = panel.send(line) if panel is not None else run_line(trip.session, line)
            if notice:
                print(f"[storm] {notice}", flush=True)
        try:
            report = app.run(frames=frames)
            if screenshot:
                print(f"screenshot: {app.screenshot(Path(screenshot))}")
            for line in trip.session.heard:
                print(f"[{line.kind}] {escaped(line.name, 100)}: {escaped(line.text)}")
            sky = trip.session.sky
            drawn = (f"the region's day cycle at {sky.fraction if sky.fraction is not None else 0.5:.3f} "
                     f"(sky top {sky.sky.sky_top})" if sky.sky is not None else "Storm's sky")
            print(f"visited {trip.session.region_name!r} for {report.ticks} ticks: "
                  f"{len(trip.session.mirror.entities)} objects, {drawn}, {dict(trip.circuit.stats)}")
        finally:
            if panel is not None:
                panel.destroy()
            app.close()
    except KeyboardInterrupt:
        print("interrupted; logging out", flush=True)
    finally:
        print("logged out" if trip.close() else "logged out (the region did not confirm)", flush=True)
    return 0
