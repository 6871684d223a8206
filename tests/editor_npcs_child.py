"""Run by tests/test_editor_npcs.py inside a private Xvfb: the real editor with the AI feature
(scripted backend) on a copy of the demo world whose packs are temporary copies, so persona
saves never touch the repository. The NPCs panel is used through its widgets' own Dear PyGui
callbacks, and once with real X key events typed into its talk box. ``plain`` as the second
argument: an editor without the AI feature opening a world saved with NPC minds. What happened
is printed as one JSON object on the last line."""
from __future__ import annotations

import copy
import inspect
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Callable

import dearpygui.dearpygui as dpg

from tests.pack_files import folder_pack

ROOT = Path(__file__).resolve().parent.parent
KEY = "test key"
MIRA, PLAYER = 62, 30
EXTRA = {900: ("Nobody", "cast:personas/nobody.persona.json"), 901: ("Vesna", "cast:personas/vesna.persona.enc.json"),
         902: ("Boxed", "boxed:personas/boxed.persona.json"), 903: ("Locked", "locked:personas/locked.persona.json")}


def press(item: int | str, value: Any = None) -> None:
    """What Dear PyGui does when a widget is used: its callback with as many of (sender, app data,
    user data) as it takes."""
    callback = dpg.get_item_callback(item)
    args = (item, value, dpg.get_item_user_data(item))
    callback(*args[:len(inspect.signature(callback).parameters)])


def tab(name: str) -> None:
    """Show one tab of the NPCs panel, as a click on it does."""
    dpg.set_value("storm_npcs_tabs", dpg.get_alias_id(name))


def make_packs(folder: Path) -> list[Path]:
    """Copies and test packs: base (a copy), cast (no consent, encrypted), boxed (a zip), locked."""
    from ai.persona_crypto import encrypt_persona

    base = shutil.copytree(ROOT / "content" / "base", folder / "packs" / "base")
    mira = json.loads((base / "personas" / "mira.persona.json").read_text(encoding="utf-8"))
    refused = copy.deepcopy(mira)
    refused.update(name="Nobody")
    refused["consent"] = {"given": False, "by": "nobody asked"}
    vesna = dict(copy.deepcopy(mira), name="Vesna", style="slow and careful", dialogue="")
    cast = folder_pack(folder / "packs" / "cast", "cast", {"personas/nobody.persona.json": refused,
                                                           "personas/vesna.persona.enc.json": encrypt_persona(vesna, KEY)})
    boxed, made = folder / "packs" / "boxed.zip", folder_pack(folder / "boxed", "boxed", {
        "personas/boxed.persona.json": dict(mira, name="Boxed", dialogue="")})
    with zipfile.ZipFile(boxed, "w") as archive:
        for name in ("pack.toml", "personas/boxed.persona.json"):
            archive.write(made / name, name)
    locked = folder_pack(folder / "packs" / "locked", "locked",
                         {"personas/locked.persona.json": dict(mira, name="Locked", dialogue="")})
    return [base, cast, boxed, locked]


def lock(folder: Path) -> tuple[Callable[[], None], bool]:
    """Make a pack folder read-only: its permissions, or (root ignores them) a read-only bind mount
    of it over itself. The undo, and whether it worked."""
    folder.chmod(0o555)
    if not os.access(folder, os.W_OK):
        return (lambda: folder.chmod(0o755)), True
    bound = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode == 0
    if not bound:
        return (lambda: folder.chmod(0o755)), False

    def undo() -> None:
        subprocess.run(["umount", str(folder)], check=True)
        folder.chmod(0o755)

    read_only = subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True).returncode == 0
    return undo, read_only and not os.access(folder, os.W_OK)


def write_world(folder: Path) -> Path:
    world = json.loads((ROOT / "worlds" / "demo.world.json").read_text(encoding="utf-8"))
    for eid, (name, persona) in EXTRA.items():
        world["entities"].append({"id": eid, "name": name, "transform": {"pos": [eid - 905, 6, 1]},
                                  "components": {"base:npc.Npc": {"persona": persona}}})
    path = folder / "npcs.world.json"
    path.write_text(json.dumps(world), encoding="utf-8")
    return path


def runtime_over(packs: list[Path], ai: bool = True) -> Any:
    from ai.install import add_ai_types, install_ai
    from engine.host.runtime import create_runtime
    from engine.packs.content import ContentRegistry
    from tests.ai_helpers import settings

    content = ContentRegistry()
    for pack in packs:
        content.add_pack(pack).trusted = pack.name == "base"
    runtime = create_runtime(content)
    runtime.per_user_input = False
    if ai:
        return runtime, install_ai(runtime, settings(persona_key=KEY))
    add_ai_types(runtime)
    return runtime, None


def flows(folder: Path) -> dict[str, Any]:
    from Xlib import XK, X
    from Xlib import display as xdisplay
    from Xlib.ext import xtest

    from ai.components import NpcBrain
    from editor.driver import EditorDriver

    packs = make_packs(folder)
    runtime, service = runtime_over(packs)
    x = xdisplay.Display()
    out: dict[str, Any] = {}
    mira_file = packs[0] / "personas" / "mira.persona.json"
    repo_mira = (ROOT / "content" / "base" / "personas" / "mira.persona.json").read_bytes()
    unlock, out["read_only"] = lock(packs[3])
    try:
        with EditorDriver(write_world(folder), size=(1600, 1000), runtime=runtime) as ed:
            panel = ed.app.npcs

            def talk_until(done: Callable[[], bool], seconds: float = 30.0) -> bool:
                """Let Play run (as the editor's loop does) until ``done``."""
                for _ in range(int(seconds / 0.05)):
                    ed.session.play.tick(0.05)
                    ed.app.view.show_frame()
                    ed.app.frame()
                    if done():
                        return True
                return False

            menu = [i for i in dpg.get_all_items() if dpg.get_item_label(i) == "NPCs panel"]
            press(menu[0])
            ed.step(3)
            out["listed"] = dpg.get_item_configuration("storm_npcs_list")["items"]
            ed.select([MIRA])
            out["name"] = dpg.get_value("storm_persona_name")
            out["style"] = dpg.get_value("storm_persona_style")
            out["edit_mode_refusal"] = panel.say("Hello there")
            out["edit_mode_memories"] = len(ed.world.get(MIRA, NpcBrain).memories)
            out["edit_mode_note"] = dpg.get_value("storm_npcs_memory_note")

            # Play, then talk through the talk box's own callback
            ed.play(0.1)
            dpg.set_value("storm_npcs_line", "Hi Mira, have you got any bread?")
            press("storm_npcs_say")
            out["box_after_say"] = dpg.get_value("storm_npcs_line")
            out["answered"] = talk_until(lambda: "Mira: " in dpg.get_value("storm_npcs_log"))
            out["log"] = dpg.get_value("storm_npcs_log")
            out["speech"] = ed.world.get(MIRA, NpcBrain).speech
            record = service.last_prompts(MIRA)[-1]
            out["record"] = {"backend": record.backend, "kind": record.kind, "completion": record.completion_tokens,
                             "latency": record.latency_ms, "outcome": record.outcome}
            ed.step(2)
            shown = panel._prompt_rows[0]
            out["prompt_title"] = dpg.get_item_label(shown[0])
            out["prompt_figures"] = dpg.get_value(shown[1])
            out["prompt_output"] = dpg.get_value(shown[2])
            out["details"] = dpg.get_value("storm_npcs_details")
            rows = [r for r in panel._memory_rows if dpg.is_item_shown(r[0])]
            out["memories"] = [[dpg.get_value(c) for c in row[1:]] for row in rows]
            out["memory_note"] = dpg.get_value("storm_npcs_memory_note")
            out["shot_talk"] = str(ed.screenshot(folder / "npcs-talk.png"))

            # an NPC whose persona is refused cannot be talked to: the reason is the loader's
            ed.select([900])
            out["nobody_talk"] = panel.say("Hello?")
            ed.select([MIRA])

            # a 100 KB line with control characters reaches her bounded and clean
            out["blob_refusal"] = panel.say("\x1b[31m" + "A" * 100_000 + "\x07\n\x00")
            heard = [m["text"] for m in ed.world.get(MIRA, NpcBrain).memories if m["kind"] == "heard"]
            out["blob_heard"] = [len(heard[-1]), heard[-1].isprintable(), heard[-1][:20]]
            talk_until(lambda: len(service.last_prompts(MIRA)) >= 2)

            # real X keys typed into the talk box ('h' and 'e' are editor shortcuts: not while typing)
            ed.app.show_npcs()
            ed.step(3)
            (x0, y0), (x1, y1) = dpg.get_item_rect_min("storm_npcs_line"), dpg.get_item_rect_max("storm_npcs_line")
            xtest.fake_input(x, X.MotionNotify, x=int((x0 + x1) / 2), y=int((y0 + y1) / 2))
            x.sync()
            ed.step(2)
            for kind in (X.ButtonPress, X.ButtonRelease):
                xtest.fake_input(x, kind, 1)
                x.sync()
                ed.step(2)
            for key in ("h", "e", "y", "Return"):
                code = x.keysym_to_keycode(XK.string_to_keysym(key))
                xtest.fake_input(x, X.KeyPress, code)
                xtest.fake_input(x, X.KeyRelease, code)
                x.sync()
                ed.step(3)
            out["typed_answered"] = talk_until(lambda: "You: hey" in dpg.get_value("storm_npcs_log")
                                               and len(service.last_prompts(MIRA)) >= 3)
            out["tool_after_typing"] = ed.app.tool
            tab("storm_npcs_prompts_tab")
            ed.step(3)
            out["shot_prompts"] = str(ed.screenshot(folder / "npcs-prompts.png"))
            tab("storm_npcs_talk_tab")

            ed.stop()
            ed.step(3)
            out["after_stop_memories"] = len(ed.world.get(MIRA, NpcBrain).memories)
            out["after_stop_log"] = dpg.get_value("storm_npcs_log").splitlines()[-1]

            # edit her speaking style, save: the copy's file changes, the repository's does not
            dpg.set_value("storm_persona_style", "brisk; she calls everyone 'dear'")
            press("storm_persona_save")
            ed.step(2)
            out["saved_status"] = panel.form.message
            out["file_style"] = json.loads(mira_file.read_text(encoding="utf-8"))["style"]
            out["repo_unchanged"] = (ROOT / "content" / "base" / "personas" / "mira.persona.json").read_bytes() == repo_mira
            dpg.set_value("storm_persona_style", "something unsaved")
            press("storm_persona_reload")
            out["reloaded_style"] = dpg.get_value("storm_persona_style")
            out["mind_style"] = service.system_of(ed.world).minds[MIRA].persona.style
            ed.play(0.1)
            panel.say("Good day")
            talk_until(lambda: len(service.last_prompts(MIRA)) >= 4)
            out["prompt_uses_style"] = "brisk; she calls everyone 'dear'" in service.last_prompts(MIRA)[-1].messages[0]["content"]
            ed.stop()

            # unsaved edits survive choosing another NPC and coming back; Reload drops them
            dpg.set_value("storm_persona_style", "a draft")
            ed.select([901])
            ed.select([MIRA])
            out["draft_kept"] = [dpg.get_value("storm_persona_style"), panel.form.message]
            press("storm_persona_reload")
            out["draft_dropped"] = dpg.get_value("storm_persona_style")

            # a bad value is refused by the persona loader, naming the field; the file stays
            before = mira_file.read_bytes()
            dpg.set_value("storm_persona_traits", "x" * 100)
            out["bad_trait"] = panel.form.save()
            out["bad_trait_file_same"] = mira_file.read_bytes() == before
            press("storm_persona_reload")

            # no consent: the loader's refusal, nothing to save, the editor goes on
            ed.select([900])
            out["nobody_status"] = dpg.get_value(panel.form._status)
            out["nobody_fields_shown"] = dpg.is_item_shown(panel.form._fields)
            out["nobody_save"] = panel.form.save()
            tab("storm_npcs_persona_tab")
            ed.step(3)
            out["shot_refused"] = str(ed.screenshot(folder / "npcs-refused.png"))

            # encrypted: shown with the configured key, saved encrypted again
            ed.select([901])
            out["vesna_name"] = dpg.get_value("storm_persona_name")
            dpg.set_value("storm_persona_style", "quick now")
            out["vesna_save"] = panel.form.save()
            vesna_file = packs[1] / "personas" / "vesna.persona.enc.json"
            text = vesna_file.read_text(encoding="utf-8")
            from ai.personas import parse_persona

            out["vesna_file"] = ["storm_persona_encrypted" in text, "Vesna" in text,
                                 parse_persona(json.loads(text), "vesna", KEY).style]

            for eid, key in ((902, "boxed"), (903, "locked")):
                ed.select([eid])
                out[f"{key}_name"] = dpg.get_value("storm_persona_name")
                out[f"{key}_save"] = panel.form.save()
            out["alive"] = ed.create("box") > 0
    finally:
        unlock()
        service.close()
    return out


def plain(folder: Path) -> dict[str, Any]:
    """An editor without the AI feature (only its types) opens a world saved with NPC minds."""
    from ai.components import NpcBrain
    from editor.driver import EditorDriver
    from engine.data.world_file import read_world, save_world

    packs = make_packs(folder)
    runtime, service = runtime_over(packs[:1])
    thinking = read_world(ROOT / "worlds" / "demo.world.json", runtime)
    thinking.tick()
    saved = folder / "minds.world.json"
    save_world(thinking, saved)
    thinking.close()
    service.close()
    runtime, _none = runtime_over(packs[:1], ai=False)
    out: dict[str, Any] = {"saved_brain": "NpcBrain" in saved.read_text(encoding="utf-8")}
    with EditorDriver(saved, size=(1280, 800), runtime=runtime) as ed:
        ed.select([MIRA])
        ed.step(2)
        out["memories"] = len(ed.world.get(MIRA, NpcBrain).memories)
        out["listed"] = dpg.get_item_configuration("storm_npcs_list")["items"]
        out["status"] = dpg.get_value("storm_npcs_status")
        out["name"] = dpg.get_value("storm_persona_name")
        out["refusal"] = ed.app.npcs.say("hello")
    return out


def smollm2(folder: Path) -> dict[str, Any]:
    """Mira thinks with the real SmolLM2 in llama.cpp: her words stream into the panel while the
    editor's loop goes on, and the prompt record has the model's token counts."""
    import time

    from ai.backends.local_llama import LocalLlama
    from ai.install import install_ai
    from ai.settings import bundled_gguf
    from editor.driver import EditorDriver
    from engine.host.runtime import create_runtime
    from tests.ai_helpers import settings

    runtime = create_runtime()
    runtime.per_user_input = False
    budgets = {"decision": 120_000.0, "line": 60_000.0, "reflection": 120_000.0, "narrative": 120_000.0}
    local = LocalLlama(bundled_gguf(), threads=1, context=2048, embeddings=False)
    service = install_ai(runtime, settings(budgets_ms=budgets, embeddings=False), backends={"local": local})
    out: dict[str, Any] = {"streamed_shown": False, "words": 0}
    try:
        with EditorDriver(ROOT / "worlds" / "demo.world.json", size=(1280, 800), runtime=runtime) as ed:
            panel = ed.app.npcs
            ed.select([MIRA])
            ed.play(0.1)
            heard = panel.word

            def word(entity: int, text: str) -> None:
                out["words"] += 1
                heard(entity, text)

            panel.word = word  # type: ignore[method-assign]
            out["refusal"] = panel.say("Hello Mira, have you got any bread today?")
            frames, slowest, started = 0, 0.0, time.monotonic()
            while not service.last_prompts(MIRA) and time.monotonic() - started < 150:
                begun = time.monotonic()
                ed.session.play.tick(1 / 30)
                ed.app.view.show_frame()
                ed.app.frame()
                frames, slowest = frames + 1, max(slowest, time.monotonic() - begun)
                out["streamed_shown"] |= dpg.get_value("storm_npcs_log").endswith(" ...")
            record = service.last_prompts(MIRA)[-1]
            out.update(frames=frames, slowest_frame_ms=slowest * 1000, backend=record.backend, model=record.model,
                       prompt_tokens=record.prompt_tokens, completion_tokens=record.completion_tokens,
                       latency_ms=record.latency_ms, first_token_ms=record.first_token_ms, outcome=record.outcome)
            for _ in range(5):
                ed.app.frame()
            out["figures"] = dpg.get_value(panel._prompt_rows[0][1])
            out["log"] = dpg.get_value("storm_npcs_log")
            ed.app.show_npcs()
            tab("storm_npcs_prompts_tab")
            out["shot"] = str(ed.screenshot(folder / "npcs-smollm2.png"))
    finally:
        service.close()
    return out


if __name__ == "__main__":
    where, mode = Path(sys.argv[1]), sys.argv[2:]
    print(json.dumps(plain(where) if mode == ["plain"] else smollm2(where) if mode == ["smollm2"] else flows(where)))
