"""Storm's command line: it parses arguments and calls into the packages, nothing more."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.host.runtime import Runtime
    from engine.packs.sources import Budgets

ROOT = Path(__file__).resolve().parent
DEMO_WORLD = ROOT / "worlds" / "demo.world.json"


def _play(args: argparse.Namespace) -> int:
    if getattr(args, "connect", None):
        from netcode.cli import play_connected

        return play_connected(args.connect, args.token, args.player, args.mode, args.size, args.frames,
                              args.interp_delay, args.screenshot, args.profile, args.webrtc)
    from ai.install import install_ai
    from engine.host.app import App, pick_mode
    from engine.host.runtime import create_runtime
    from engine.input import InputSystem
    from engine.packs.loading import open_content
    from plugins.session import start_plugins

    audio = "openal" if pick_mode(args.mode) == "window" else "null"
    runtime = create_runtime(open_content(args.profile, budgets=_budgets(args)), audio=audio)
    npcs = install_ai(runtime, bubbles=True)  # works without a model: NPCs then use scripted dialogue
    plugins = start_plugins(runtime)
    try:
        world = _open_world(args.world, runtime, args.seed)
    except BaseException:
        npcs.close()
        if plugins is not None:
            plugins.stop("the world did not load")
        raise
    app = App(args.mode, size=args.size)
    app.load(world)
    chat = None
    if app.mode != "headless":
        from ai.chat_box import ChatBox

        chat = ChatBox(app.base, world, npcs)  # T or Enter: talk to the nearest character
    frames = args.frames if args.frames is not None else (1 if args.screenshot else None)
    input_system = world.system(InputSystem)
    if args.record:
        input_system.start_recording()
    try:
        app.run(frames=frames)
        if args.record:
            input_system.stop_recording().save(args.record)
            print(f"recorded input: {args.record}")
        if args.screenshot:
            print(f"screenshot: {app.screenshot(args.screenshot)}")
        print(f"played {world.tick_count} ticks of {args.world} ({app.mode})")
    finally:
        if chat is not None:
            chat.destroy()
        app.close()
        npcs.close()
        if plugins is not None:
            plugins.stop("the game ended")
    return 0


def _vr(args: argparse.Namespace) -> int:
    if args.connect:
        from netcode.cli import play_vr_connected

        return play_vr_connected(args.connect, args.token, args.player, args.mode, args.xr, args.frames,
                                 args.screenshot, args.timeline, args.eye_size, args.size, args.reference,
                                 args.profile, args.interp_delay)
    from engine.host.runtime import create_runtime
    from engine.packs.loading import open_content
    from engine.xr.cli import run_vr

    runtime = create_runtime(open_content(args.profile))
    return run_vr(lambda rt: _open_world(args.world, rt, args.seed), runtime, args.mode, args.xr, args.frames,
                  args.screenshot, args.timeline, args.eye_size, args.size, args.reference)


def _open_world(name: str, runtime: "Runtime", seed: int | None = None) -> "World":
    """A world from a file path, or from an enabled pack by asset id (``village:worlds/square.world.json``)."""
    from engine.core.asset_ids import parse_asset_id
    from engine.data.world_file import load_world_data, read_world

    if not Path(name).exists() and ":" in name:
        try:
            parse_asset_id(name)
        except ValueError:
            pass
        else:
            return load_world_data(runtime.content.read_json(name), runtime.content.display(name), runtime, seed=seed)
    return read_world(name, runtime, seed=seed)


def _visit(args: argparse.Namespace) -> int:
    from netcode.opensim.visit import visit

    password = os.environ.get("STORM_OPENSIM_PASSWORD")
    if password is None:
        import getpass

        password = getpass.getpass(f"password for {args.first} {args.last}: ")
    return visit(args.login_uri, args.first, args.last, password, args.mode, args.size, args.frames,
                 args.screenshot, args.profile, args.chat)


def _edit(args: argparse.Namespace) -> int:
    from editor.launch import edit

    return edit(args.world, args.size, args.profile)


def _replay(args: argparse.Namespace) -> int:
    if args.recording is None:
        from netcode.cli import replay_session

        return replay_session(args.world, args.seek, args.speed, args.transcript, args.window, args.until)
    from engine.data.world_file import read_world
    from engine.host.runtime import create_runtime
    from engine.input import load_recording, replay

    recording = load_recording(args.recording)
    world = read_world(args.world, create_runtime(), seed=recording.seed)
    ticks = replay(world, recording)
    print(f"replayed {ticks} ticks of {args.recording} in {args.world} (headless)")
    world.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    from netcode.cli import serve

    return serve(args.world, args.host, args.port, args.tick, args.snapshot_rate, args.record, args.interest,
                 args.budget_bytes, args.token_for, args.webrtc, args.seconds, args.profile)


def _new_world(args: argparse.Namespace) -> int:
    from engine.data.world_file import save_world
    from engine.host.runtime import create_runtime
    from engine.host.starter_world import starter_world

    path = Path(args.path)
    if path.exists() and not args.force:
        print(f"{path}: already exists (use --force to overwrite)", file=sys.stderr)
        return 1
    save_world(starter_world(create_runtime(), args.name or path.name.split(".")[0]), path)
    print(f"wrote {path}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    import json

    from ai.install import add_ai_types
    from engine.data.world_check import check_world
    from engine.host.runtime import create_runtime
    from engine.packs.loading import open_content

    runtime = create_runtime(open_content(args.profile, budgets=_budgets(args)))
    add_ai_types(runtime)
    report = check_world(args.world, runtime)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    elif report.ok:
        print(f"{args.world}: ok ({report.entities} entities)")
    else:
        print(f"{args.world}: {len(report.problems)} problem{'s' if len(report.problems) > 1 else ''}")
        for problem in report.problems:
            print(f"  {problem}")
    return 0 if report.ok else 2


def _budgets(args: argparse.Namespace) -> "Budgets | None":
    from engine.packs.sources import parse_budgets

    if not getattr(args, "budget", None):
        return None
    try:
        return parse_budgets(args.budget)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None


def _pack(args: argparse.Namespace) -> int:
    from engine.packs import pack_commands

    if args.pack_command == "new":
        status, text = pack_commands.new_pack(args.id, args.kind, args.dir)
    elif args.pack_command == "validate":
        status, text = pack_commands.validate_pack(args.folder)
    elif args.pack_command == "list":
        status, text = pack_commands.list_packs(args.profile)
    elif args.pack_command == "enable":
        status, text = pack_commands.enable_pack(args.id, args.profile, args.trust)
    elif args.pack_command == "disable":
        status, text = pack_commands.disable_pack(args.id, args.profile)
    else:
        status, text = pack_commands.lock_packs(args.profile)
    print(text)
    return status


def _pack_build(args: argparse.Namespace) -> int:
    from engine.packs.pack_build import build_pack

    built = build_pack(args.folder, args.out)
    print(f"built {built.path} (pack {built.pack} {built.version}: {built.files} files, {built.bytes} bytes)")
    return 0


def _pack_why(args: argparse.Namespace) -> int:
    from engine.packs.loading import open_content
    from engine.packs.pack_build import why_lines

    content = open_content(args.profile)
    for pack in args.pack or []:
        content.add_pack(pack)
    lines = why_lines(content, args.asset)
    print("\n".join(lines))
    return 0 if content.has(args.asset) else 1


def _plugin(args: argparse.Namespace) -> int:
    from engine.host.runtime import create_runtime
    from engine.packs.loading import open_content
    from plugins.session import start_plugins

    host = start_plugins(create_runtime(open_content(args.profile)), watch_seconds=None)
    if host is None:
        print("no enabled pack has a plugin (see: storm pack list)")
        return 0 if args.plugin_command == "list" else 1
    try:
        if args.plugin_command == "list":
            for row in host.status():
                where = "in process (trusted)" if row["trusted"] else "sandboxed"
                print(f"{row['id']}: {row['status']}, {where}" + (f": {row['failure']}" if row["failure"] else ""))
            for name, decl in sorted(host.engine.cli_commands().items()):
                print(f"  storm plugin run {name}" + (f"    {decl.text}" if decl.text else ""))
            return 0
        code, text = host.engine.run_cli(args.name, args.args)
        print(text)
        return code
    finally:
        host.stop("the command ended")


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
        if width <= 0 or height <= 0:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT like 1280x720, got {text!r}") from None
    return width, height


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Storm: play, validate and create worlds.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command")

    play = sub.add_parser("play", help="play a world (the demo world by default)",
                          description="Play a world in a window, offscreen or headless.")
    play.add_argument("world", nargs="?", default=str(DEMO_WORLD),
                      help="world file, or a world in an enabled pack by asset id (default: the demo world)")
    modes = play.add_mutually_exclusive_group()
    modes.add_argument("--window", dest="mode", action="store_const", const="window", help="open a window")
    modes.add_argument("--offscreen", dest="mode", action="store_const", const="offscreen",
                       help="render into an offscreen buffer (EGL); for screenshots and tests")
    modes.add_argument("--headless", dest="mode", action="store_const", const="headless",
                       help="no rendering at all (servers)")
    play.set_defaults(mode="auto", func=_play)
    play.add_argument("--frames", type=int, help="stop after N frames of 1/60 s simulated time each")
    play.add_argument("--screenshot", metavar="OUT.png", help="write a screenshot after the last frame")
    play.add_argument("--seed", type=int, help="seed the world's random source (default: the world's own)")
    play.add_argument("--size", type=_size, default=(1280, 720), help="window or buffer size, WIDTHxHEIGHT")

    play.add_argument("--record", metavar="INPUT.jsonl", help="record the input actions of this run to a file")
    play.add_argument("--profile", help="the packs to play with: a profile file (default: profile.toml in your Storm "
                                        "folder; without one, the base pack alone)")
    play.add_argument("--connect", metavar="ws://HOST:PORT", help="join a server (storm serve) instead of playing alone")
    play.add_argument("--token", help="with --connect: the join token the server gave you")
    play.add_argument("--player", default="player", help="with --connect and no --token: the player id to sign a "
                                                          "token for with this machine's server secret")
    play.add_argument("--interp-delay", type=float, default=0.1, metavar="SECONDS",
                      help="with --connect: how far behind the server other entities are shown (default 0.1)")
    play.add_argument("--webrtc", action="store_true", help="with --connect: snapshots over a WebRTC data channel")

    vr = sub.add_parser("vr", help="play a world in VR (OpenXR headset, or --xr simulated)",
                        description="Stand inside a world through OpenXR, or the simulated backend (docs/vr.md).")
    vr.add_argument("world", nargs="?", default=str(DEMO_WORLD), help="world file or asset id (default: the demo)")
    vr.add_argument("--xr", choices=("openxr", "simulated"), default="openxr",
                    help="openxr: your headset's runtime (default); simulated: no headset, both eyes side by side")
    vr_modes = vr.add_mutually_exclusive_group()
    vr_modes.add_argument("--window", dest="mode", action="store_const", const="window", help="mirror in a window")
    vr_modes.add_argument("--offscreen", dest="mode", action="store_const", const="offscreen",
                          help="render into an offscreen buffer (EGL)")
    vr.set_defaults(mode="auto", func=_vr)
    vr.add_argument("--frames", type=int, help="stop after N frames (the session is ended properly)")
    vr.add_argument("--screenshot", metavar="OUT.png", help="write the mirror (both eyes) after the last frame")
    vr.add_argument("--timeline", metavar="T.json", help="simulated: drive head, hands and buttons from a timeline")
    vr.add_argument("--eye-size", type=_size, help="simulated: each eye's size, WIDTHxHEIGHT (default 640x720)")
    vr.add_argument("--size", type=_size, help="mirror window or buffer size (default: both eyes side by side)")
    vr.add_argument("--reference", choices=("standing", "seated"), default="standing", help="reference space")
    vr.add_argument("--seed", type=int, help="seed the world's random source")
    vr.add_argument("--profile", help="the packs to play with: a profile file")
    vr.add_argument("--connect", metavar="ws://HOST:PORT", help="join a server (storm serve) as a VR player: others "
                                                               "see your head and hands, you see them")
    vr.add_argument("--token", help="with --connect: the join token the server gave you")
    vr.add_argument("--player", default="player", help="with --connect and no --token: the player id to sign a "
                                                       "token for (needs the server's secret)")
    vr.add_argument("--interp-delay", type=float, default=0.1, metavar="SECONDS",
                    help="with --connect: how far behind the server other entities are shown (default 0.1)")

    trip = sub.add_parser("visit", help="visit an OpenSimulator region (password: STORM_OPENSIM_PASSWORD or a prompt)",
                          description="Log in to an OpenSimulator grid and show the region (docs/opensim.md).")
    trip.add_argument("login_uri", help="the grid's login URI, e.g. http://127.0.0.1:9000/")
    trip.add_argument("--first", required=True, help="the avatar's first name")
    trip.add_argument("--last", required=True, help="the avatar's last name")
    trip_modes = trip.add_mutually_exclusive_group()
    for flag, const in (("--window", "window"), ("--offscreen", "offscreen"), ("--headless", "headless")):
        trip_modes.add_argument(flag, dest="mode", action="store_const", const=const, help=f"{const} mode")
    trip.add_argument("--frames", type=int, help="stop after N frames (then log out)")
    trip.add_argument("--screenshot", metavar="OUT.png", help="write a screenshot after the last frame")
    trip.add_argument("--size", type=_size, default=(1280, 720), help="window or buffer size, WIDTHxHEIGHT")
    trip.add_argument("--profile", help="the packs to use: a profile file (default: your profile)")
    trip.add_argument("--chat", action="append", metavar="LINE",
                      help="a line typed into the chat panel once in the region, chat or a command: "
                           "'/tp 60 70', '/im First Last: hi', '/sit', '/stand', '/help' (repeatable)")
    trip.set_defaults(mode="auto", func=_visit)

    editor = sub.add_parser("edit", help="open the world editor (a new world, or the file given)",
                            description="The Dear PyGui world editor: build and play worlds (docs/editor.md).")
    editor.add_argument("world", nargs="?", help="world file to open (default: a new, unsaved world)")
    editor.add_argument("--size", type=_size, default=(1280, 800), help="editor window size, WIDTHxHEIGHT")
    editor.add_argument("--profile", help="the packs to edit with: a profile file (default: your profile)")
    editor.set_defaults(func=_edit)

    rerun = sub.add_parser("replay", help="replay recorded input in a world, headless",
                           description="Run a world headless, driven by an input recording, until it ends.")
    rerun.add_argument("world", help="world file (or a session recording made with serve --record, played alone)")
    rerun.add_argument("recording", nargs="?", help="input recording made with play --record")
    rerun.add_argument("--seek", type=float, default=0.0, metavar="SECONDS", help="session: start this far in")
    rerun.add_argument("--until", type=float, metavar="SECONDS", help="session: stop this far in")
    rerun.add_argument("--speed", type=float, default=0.0, metavar="X",
                       help="session: play at X times real time (default: as fast as it goes; 1 with --window)")
    rerun.add_argument("--transcript", action="store_true", help="session: print it as readable lines, run nothing")
    rerun.add_argument("--window", action="store_true",
                       help="session: watch it in a window (space pauses, +/- speed, left/right seek 5 s)")
    rerun.set_defaults(func=_replay)

    srv = sub.add_parser("serve", help="run an authoritative multiplayer server for a world",
                         description="Serve a world to players over websockets (docs/multiplayer.md).")
    srv.add_argument("world", help="world file, or a world in an enabled pack by asset id")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    srv.add_argument("--port", type=int, default=7777, help="port to listen on (default 7777; 0 picks a free one)")
    srv.add_argument("--tick", type=float, default=60.0, help="simulation ticks per second (default 60)")
    srv.add_argument("--snapshot-rate", type=float, default=20.0, help="snapshots per second to each client (default 20)")
    srv.add_argument("--record", metavar="SESSION.stormrec", help="record the session (storm replay plays it back)")
    srv.add_argument("--interest", type=float, metavar="CELL_M", help="interest management: grid cells of this size")
    srv.add_argument("--budget-bytes", type=int, metavar="N", help="snapshot packet budget per client (priorities)")
    srv.add_argument("--token-for", action="append", metavar="PLAYER", help="print a join token for this player id")
    srv.add_argument("--webrtc", action="store_true", help="offer WebRTC data channels for snapshots")
    srv.add_argument("--seconds", type=float, help="stop after this many seconds (default: until Ctrl+C)")
    srv.add_argument("--profile", help="the packs to serve with: a profile file (default: your profile)")
    srv.set_defaults(func=_serve)

    new = sub.add_parser("new-world", help="write a starter world file", description="Write a small lit world.")
    new.add_argument("path", help="where to write the world file (e.g. worlds/mine.world.json)")
    new.add_argument("--name", help="the world's name (default: from the file name)")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    new.set_defaults(func=_new_world)

    validate = sub.add_parser("validate", help="check a world file and everything it uses",
                              description="Load a world strictly; missing assets count as errors.")
    validate.add_argument("world", help="world file to check")
    validate.add_argument("--profile", help="the packs it may use: a profile file (default: your profile)")
    validate.add_argument("--json", action="store_true", help="print the report as JSON: every problem found")
    for command in (play, validate):
        command.add_argument("--budget", action="append", metavar="NAME=N",
                             help="raise (or lower) a loading budget: entities, depth, prefab_depth, file_bytes, "
                                  "pixels, entries, pack_bytes, manifest_bytes")
    validate.set_defaults(func=_validate)

    pack = sub.add_parser("pack", help="make, check, list, lock, build and explain content packs",
                          description="Content packs: see docs/modding.md.")
    pack.set_defaults(func=lambda _args: pack.print_help() or 2)
    pack_sub = pack.add_subparsers(dest="pack_command")
    pack_new = pack_sub.add_parser("new", help="write a new pack folder with a commented pack.toml",
                                   description="Write <dir>/<id>/ with a commented pack.toml and the usual folders.")
    pack_new.add_argument("id", help="the pack id (lower-case letters, digits, _): its asset namespace")
    pack_new.add_argument("--kind", choices=("content", "plugin", "both"), default="content",
                          help="content (data only, the default), plugin (Python) or both")
    pack_new.add_argument("--dir", help="where to make it (default: your packs folder)")
    pack_check = pack_sub.add_parser("validate", help="check a pack folder: manifest and every JSON file",
                                     description="Check a pack's manifest, every JSON file in it and the files "
                                                 "its manifest names; says ok or lists each problem.")
    pack_check.add_argument("folder", help="the pack folder")
    pack_list = pack_sub.add_parser("list", help="installed packs, enabled or not, in load order, with problems",
                                    description="List installed packs: the enabled ones in load order, the "
                                                "disabled ones, every problem, and changes since the lock file.")
    pack_lock = pack_sub.add_parser("lock", help="record each enabled pack's version and content hash",
                                    description="Write the profile's lock file; a pack that changes afterwards is "
                                                "reported when it loads.")
    pack_enable = pack_sub.add_parser("enable", help="enable an installed pack (and the packs it needs)",
                                      description="Enable a pack in the profile; nothing is saved if the packs "
                                                  "would then not load.")
    pack_enable.add_argument("id", help="the pack id")
    pack_enable.add_argument("--trust", action="store_true",
                             help="let its code run in the engine's process (not sandboxed): only for packs you trust")
    pack_disable = pack_sub.add_parser("disable", help="disable a pack", description="Disable a pack in the profile.")
    pack_disable.add_argument("id", help="the pack id")
    for command in (pack_list, pack_lock, pack_enable, pack_disable):
        command.add_argument("--profile", help="profile file (default: profile.toml in your Storm folder)")
    for command in (pack_new, pack_check, pack_list, pack_lock, pack_enable, pack_disable):
        command.set_defaults(func=_pack)
    build = pack_sub.add_parser("build", help="zip a pack folder (deterministic; refuses what loading refuses)")
    build.add_argument("folder", help="the pack folder (with its pack.toml)")
    build.add_argument("--out", metavar="F.zip", help="the zip to write (default: <id>-<version>.zip beside it)")
    build.set_defaults(func=_pack_build)
    why = pack_sub.add_parser("why", help="which pack provides an asset, and which packs overrode or patched it")
    why.add_argument("asset", help="an asset id like base:prefabs/pillar_lamp.prefab.json")
    why.add_argument("--pack", action="append", metavar="PATH",
                     help="also enable this pack (folder or .zip) after the profile's, in order")
    why.add_argument("--profile", help="profile file (default: profile.toml in your Storm folder)")
    why.set_defaults(func=_pack_why)
    plugin = sub.add_parser("plugin", help="the plugins of your enabled packs: list them, run their commands",
                            description="Plugins (docs/modding-plugins.md).")
    plugin.set_defaults(func=lambda _args: plugin.print_help() or 2)
    plugin_sub = plugin.add_subparsers(dest="plugin_command")
    plugin_list = plugin_sub.add_parser("list", help="each plugin: running or not, sandboxed or trusted; their commands")
    plugin_run = plugin_sub.add_parser("run", help="run a plugin's command: storm plugin run <pack>:<command> [args]")
    plugin_run.add_argument("name", help="<pack id>:<command>")
    plugin_run.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    for command in (plugin_list, plugin_run):
        command.add_argument("--profile", help="profile file (default: profile.toml in your Storm folder)")
        command.set_defaults(func=_plugin)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        args = parser.parse_args(["play", *(argv or [])])
    if getattr(args, "frames", None) is not None and args.frames < 1:
        parser.error("--frames must be at least 1")
    from engine.core.errors import StormError

    try:
        return args.func(args)
    except StormError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output went to a pager or `head` that has had enough
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
        return 0
    except KeyboardInterrupt:  # Ctrl+C outside the run loop (which stops cleanly by itself)
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
