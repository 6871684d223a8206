"""The decision format models answer in, generated from the action registry for one NPC at one
moment: a GBNF grammar (llama.cpp) and a JSON schema (Grok's structured output), both allowing
only the persona's verbs and, for entity arguments, only the entities it perceives; and the
parser every answer goes through, whatever produced it.

An answer is one flat JSON object, speech first so the first words can stream into a bubble::

    {"say":"Fresh bread, still warm.","action":"give","item":12,"to":30}
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ai.actions.registry import ActionRefused, ActionSpec, ArgSpec, Decision
from engine.core.fields import Bool, EntityRef, Enum, FieldType, Float, Int, Str

SAY_CHARS = 60  # about 15 tokens: a decision stays well inside decision_tokens
# What speech may contain: no quotes or escapes (JSON stays simple), no brackets or asterisks
# (stage directions), no colon (a "Player:" line), no newline.
SAY_CLASS = r'[^"\\\n\r\t*()\[\]{}<>~:]'
MAX_ENUMERATED = 200


@dataclass
class DecisionFormat:
    """The verbs and targets one decision may use: what the grammar and schema are built from."""

    specs: list[ActionSpec]
    targets: dict[tuple[str, str], list[int]]  # (verb, argument) -> entity ids it may name
    say_chars: int = SAY_CHARS

    @classmethod
    def build(cls, specs: Iterable[ActionSpec], candidates: Callable[[ActionSpec, ArgSpec], list[int]],
              say_chars: int = SAY_CHARS) -> "DecisionFormat":
        """Keep the verbs whose every entity argument has at least one candidate."""
        kept: list[ActionSpec] = []
        targets: dict[tuple[str, str], list[int]] = {}
        for spec in specs:
            ok = True
            for arg in spec.args:
                if isinstance(arg.type, EntityRef):
                    ids = sorted(set(candidates(spec, arg)))
                    if not ids:
                        ok = False
                        break
                    targets[(spec.name, arg.name)] = ids
            if ok:
                kept.append(spec)
        return cls(kept, targets, say_chars)

    def names(self) -> list[str]:
        return [spec.name for spec in self.specs]

    # -- GBNF -------------------------------------------------------------------------------------
    def gbnf(self) -> str:
        """A llama.cpp grammar accepting exactly the answers this format allows."""
        if not self.specs:
            raise ValueError("no action is possible: nothing to build a grammar from")
        lines = ['root ::= "{\\"say\\":\\"" say "\\",\\"action\\":" act "}"',
                 f"say ::= sc{{0,{self.say_chars}}}", f"sc ::= {SAY_CLASS}",
                 "act ::= " + " | ".join(f"v-{_rule(s.name)}" for s in self.specs)]
        for spec in self.specs:
            parts = [_lit(json.dumps(spec.name))]
            for arg in spec.args:
                parts.append(_lit(f",{json.dumps(arg.name)}:"))
                parts.append(self._value_rule(spec, arg, lines))
            lines.append(f"v-{_rule(spec.name)} ::= " + " ".join(parts))
        return "\n".join(lines) + "\n"

    def _value_rule(self, spec: ActionSpec, arg: ArgSpec, lines: list[str]) -> str:
        name = f"a-{_rule(spec.name)}-{_rule(arg.name)}"
        kind = arg.type
        if isinstance(kind, EntityRef):
            body = " | ".join(_lit(str(i)) for i in self.targets[(spec.name, arg.name)])
        elif isinstance(kind, Enum):
            body = " | ".join(_lit(json.dumps(c)) for c in kind.choices)
        elif isinstance(kind, Bool):
            body = '"true" | "false"'
        elif isinstance(kind, (Int, Float)) and kind.min is not None and kind.max is not None \
                and kind.max - kind.min <= MAX_ENUMERATED:
            low, high = int(-(-kind.min // 1)), int(kind.max // 1)
            body = " | ".join(_lit(str(n)) for n in range(low, high + 1))
        elif isinstance(kind, (Int, Float)):
            body = '"-"? [0-9]{1,6}'
        elif isinstance(kind, Str):
            body = f'"\\"" sc{{0,{min(kind.max_length, self.say_chars)}}} "\\""'
        else:
            raise ValueError(f"action {spec.name!r}: argument type {kind.describe()} has no grammar")
        lines.append(f"{name} ::= {body}")
        return name

    # -- JSON schema --------------------------------------------------------------------------------
    def json_schema(self) -> dict[str, Any]:
        """The same format as a JSON schema (strict: every key required, nothing else allowed)."""
        options = []
        for spec in self.specs:
            properties: dict[str, Any] = {"say": {"type": "string", "maxLength": self.say_chars},
                                          "action": {"type": "string", "enum": [spec.name]}}
            for arg in spec.args:
                if isinstance(arg.type, EntityRef):
                    properties[arg.name] = {"type": "integer", "enum": self.targets[(spec.name, arg.name)]}
                else:
                    properties[arg.name] = arg.type.json_schema()
            options.append({"type": "object", "properties": properties, "required": list(properties),
                            "additionalProperties": False})
        return options[0] if len(options) == 1 else {"anyOf": options}

    def describe(self) -> str:
        """The verbs for a prompt: one line each with its arguments and their possible values."""
        out = []
        for spec in self.specs:
            args = []
            for arg in spec.args:
                if isinstance(arg.type, EntityRef):
                    args.append(f"{arg.name}=one of {self.targets[(spec.name, arg.name)]}")
                else:
                    args.append(f"{arg.name}={_short_type(arg.type)}")
            out.append(f"- {spec.name}: {spec.doc}" + (f" ({', '.join(args)})" if args else ""))
        return "\n".join(out)


def _short_type(kind: FieldType) -> str:
    if isinstance(kind, Enum):
        return "|".join(kind.choices)
    return kind.describe()


def _rule(name: str) -> str:
    return name.replace("_", "-")


def _lit(text: str) -> str:
    return json.dumps(text)


def parse_decision(text: str) -> Decision:
    """An answer as a Decision, or ActionRefused('?', why) when it is not one (any producer's
    text passes here: a grammar, a schema, a stand-in server or a pack file)."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ActionRefused("?", f"the answer is not JSON ({getattr(exc, 'msg', 'too deep')})") from None
    if not isinstance(data, dict):
        raise ActionRefused("?", "the answer is not a JSON object")
    action = data.get("action")
    if not isinstance(action, str) or not action:
        raise ActionRefused("?", "the answer names no action")
    say = data.get("say", "")
    if not isinstance(say, str):
        raise ActionRefused(action[:40], "'say' is not a string")
    args = {k: v for k, v in data.items() if k not in ("say", "action")}
    return Decision(action, args, say)


class SayStream:
    """Picks the words of the ``say`` string out of a decision's text as it streams in, so the
    first word reaches the bubble before the rest of the JSON is written."""

    def __init__(self, on_word: Callable[[str], None]) -> None:
        self.on_word = on_word
        self._seen = ""
        self._state = "before"
        self._word = ""

    def feed(self, piece: str) -> None:
        for char in piece:
            if self._state == "before":
                self._seen = (self._seen + char)[-8:]
                if self._seen.endswith('"say":"'):
                    self._state = "in"
            elif self._state == "in":
                if char == '"':
                    self._state = "after"
                    self._flush()
                elif char == " ":
                    self._flush()
                else:
                    self._word += char

    def _flush(self) -> None:
        if self._word:
            self.on_word(self._word)
            self._word = ""
