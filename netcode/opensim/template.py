"""Storm's reader of Second Life message templates (the ``message_template.msg`` format).

The template is data: every message's name, frequency and number, whether it is zero-coded,
and its blocks (Single, Multiple N, Variable) of typed fields. ``load_template()`` parses the
copy shipped beside this module once; the codec (``messages.py``) works from the parsed layouts.
Nothing is generated as code. A malformed template raises ``TemplateError`` naming the line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TEMPLATE_PATH = Path(__file__).with_name("message_template.msg")
FREQUENCIES = ("High", "Medium", "Low", "Fixed")
# Wire size of each fixed-size type (Variable and Fixed sizes come from the template).
TYPE_SIZES = {
    "U8": 1, "U16": 2, "U32": 4, "U64": 8, "S8": 1, "S16": 2, "S32": 4, "S64": 8, "F32": 4, "F64": 8,
    "LLVector3": 12, "LLVector3d": 24, "LLVector4": 16, "LLQuaternion": 12, "LLUUID": 16, "BOOL": 1,
    "IPADDR": 4, "IPPORT": 2,
}
MAX_BLOCKS_PER_MESSAGE = 64
MAX_FIELDS_PER_BLOCK = 128


class TemplateError(ValueError):
    """A message template that cannot be read: names the line and what was expected there."""


@dataclass(frozen=True)
class FieldLayout:
    """One field: its name, type (``U32``, ``Variable``, ``Fixed``, ...) and size (the length prefix
    of a Variable field, the byte count of a Fixed one, the wire size of the others)."""

    name: str
    kind: str
    size: int


@dataclass(frozen=True)
class BlockLayout:
    """One block of a message: Single (once), Multiple (``count`` times) or Variable (a U8 count first)."""

    name: str
    quantity: str
    count: int
    fields: tuple[FieldLayout, ...]

    @property
    def min_size(self) -> int:
        """The fewest bytes one instance can take on the wire."""
        return sum(f.size for f in self.fields)


@dataclass(frozen=True)
class MessageLayout:
    """One message: ``wire_id`` is the number as it starts the body (High n, Medium 0xFF00+n,
    Low 0xFFFF0000+n, Fixed 0xFFFFFFxx), ``id_size`` how many bytes it takes there."""

    name: str
    frequency: str
    number: int
    trusted: bool
    zerocoded: bool
    blocks: tuple[BlockLayout, ...]

    @property
    def wire_id(self) -> int:
        return wire_id(self.frequency, self.number)

    @property
    def id_size(self) -> int:
        return {"High": 1, "Medium": 2, "Low": 4, "Fixed": 4}[self.frequency]


def wire_id(frequency: str, number: int) -> int:
    if frequency == "High":
        return number
    if frequency == "Medium":
        return 0xFF00 | number
    if frequency == "Low":
        return 0xFFFF0000 | number
    return number  # Fixed numbers are written whole (0xFFFFFFFB)


@dataclass(frozen=True)
class MessageTemplate:
    """Every message layout of a template, by name and by wire id."""

    by_name: dict[str, MessageLayout]
    by_wire_id: dict[int, MessageLayout]

    def __getitem__(self, name: str) -> MessageLayout:
        return self.by_name[name]


_TOKEN = re.compile(r"\{|\}|[^\s{}]+")


def _tokens(text: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("//", 1)[0]
        out.extend((token, number) for token in _TOKEN.findall(line))
    return out


class _Reader:
    def __init__(self, tokens: list[tuple[str, int]], source: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.source = source

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def line(self) -> int:
        return self.tokens[min(self.pos, len(self.tokens) - 1)][1] if self.tokens else 0

    def take(self, expected: str = "") -> str:
        if self.pos >= len(self.tokens):
            raise TemplateError(f"{self.source}: the text ends where {expected or 'more'} was expected")
        token = self.tokens[self.pos][0]
        if expected in ("{", "}") and token != expected:
            raise self.error(f"{expected!r}", token)
        self.pos += 1
        return token

    def number(self, what: str) -> int:
        token = self.take(what)
        try:
            return int(token, 0)
        except ValueError:
            raise self.error(what, token, back=1) from None

    def error(self, expected: str, got: str, back: int = 0) -> TemplateError:
        line = self.tokens[max(0, self.pos - back)][1] if self.tokens else 0
        return TemplateError(f"{self.source}, line {line}: expected {expected}, got {got!r}")


def parse_template(text: str, source: str = "message template") -> MessageTemplate:
    """Parse template text into layouts; raises TemplateError naming the line of the first problem."""
    reader = _Reader(_tokens(text), source)
    if reader.peek() == "version":
        reader.take()
        reader.take("a version number")
    by_name: dict[str, MessageLayout] = {}
    by_wire: dict[int, MessageLayout] = {}
    while reader.peek() is not None:
        message = _message(reader)
        if message.name in by_name or message.wire_id in by_wire:
            raise TemplateError(f"{source}, line {reader.line()}: message {message.name} "
                                f"({message.frequency} {message.number}) is defined twice")
        by_name[message.name] = message
        by_wire[message.wire_id] = message
    return MessageTemplate(by_name, by_wire)


def _message(reader: _Reader) -> MessageLayout:
    reader.take("{")
    name = reader.take("a message name")
    frequency = reader.take("a frequency")
    if frequency not in FREQUENCIES:
        raise reader.error(f"a frequency ({', '.join(FREQUENCIES)})", frequency, back=1)
    number = reader.number("a message number")
    limit = {"High": 254, "Medium": 254, "Low": 0xFFFF, "Fixed": 0xFFFFFFFF}[frequency]
    if not 0 < number <= limit or (frequency == "Fixed" and number < 0xFFFFFFFA):
        raise reader.error(f"a {frequency} message number in range", hex(number), back=1)
    trust = reader.take("Trusted or NotTrusted")
    if trust not in ("Trusted", "NotTrusted"):
        raise reader.error("Trusted or NotTrusted", trust, back=1)
    encoding = reader.take("Zerocoded or Unencoded")
    if encoding not in ("Zerocoded", "Unencoded"):
        raise reader.error("Zerocoded or Unencoded", encoding, back=1)
    while reader.peek() not in ("{", "}", None):   # Deprecated, UDPDeprecated, UDPBlackListed
        reader.take()
    blocks: list[BlockLayout] = []
    while reader.peek() == "{":
        blocks.append(_block(reader))
        if len(blocks) > MAX_BLOCKS_PER_MESSAGE:
            raise reader.error(f"at most {MAX_BLOCKS_PER_MESSAGE} blocks in {name}", "more")
    reader.take("}")
    return MessageLayout(name, frequency, number, trust == "Trusted", encoding == "Zerocoded", tuple(blocks))


def _block(reader: _Reader) -> BlockLayout:
    reader.take("{")
    name = reader.take("a block name")
    quantity = reader.take("Single, Multiple or Variable")
    count = 1
    if quantity == "Multiple":
        count = reader.number("a block count")
        if not 0 < count <= 255:
            raise reader.error("a block count from 1 to 255", str(count), back=1)
    elif quantity == "Variable":
        count = 0
    elif quantity != "Single":
        raise reader.error("Single, Multiple or Variable", quantity, back=1)
    fields: list[FieldLayout] = []
    while reader.peek() == "{":
        reader.take("{")
        field_name = reader.take("a field name")
        kind = reader.take("a field type")
        if kind == "Variable":
            size = reader.number("1 or 2 (the length prefix)")
            if size not in (1, 2):
                raise reader.error("a Variable length prefix of 1 or 2", str(size), back=1)
        elif kind == "Fixed":
            size = reader.number("a byte count")
            if not 0 < size <= 4096:
                raise reader.error("a Fixed size from 1 to 4096", str(size), back=1)
        elif kind in TYPE_SIZES:
            size = TYPE_SIZES[kind]
        else:
            raise reader.error(f"a field type ({', '.join(TYPE_SIZES)}, Variable N, Fixed N)", kind, back=1)
        reader.take("}")
        fields.append(FieldLayout(field_name, kind, size))
        if len(fields) > MAX_FIELDS_PER_BLOCK:
            raise reader.error(f"at most {MAX_FIELDS_PER_BLOCK} fields in block {name}", "more")
    reader.take("}")
    return BlockLayout(name, quantity, count, tuple(fields))


@lru_cache(maxsize=1)
def load_template() -> MessageTemplate:
    """The template shipped with Storm (parsed once per process)."""
    return parse_template(TEMPLATE_PATH.read_text(encoding="utf-8"), TEMPLATE_PATH.name)
