"""Where in a JSON text a problem is that Python's parser reports without a place: a key that an
object holds twice, or a NaN/Infinity. Only run after parsing failed; one pass of regular
expressions over the text, never quadratic."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

_TOKEN = re.compile(r'[{}\[\],"\n]|NaN|-?Infinity')
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_KEY_END = re.compile(r"\s*:")


@dataclass(frozen=True)
class Place:
    """A line and column (1-based) and the path of the value there (``entities[3].name``)."""

    line: int
    column: int
    path: str

    def __str__(self) -> str:
        where = f"line {self.line} column {self.column}"
        return f"{where} ({self.path})" if self.path else where


def locate(text: str, duplicate_key: str | None = None) -> Place | None:
    """The place of the second ``duplicate_key`` inside one object, or (no key given) of the
    first NaN/Infinity outside strings; None when not found."""
    stack: list[list] = []  # per open container: ["{", keys seen, current key] or ["[", None, index]
    line, line_start = 1, 0
    position = 0
    while True:
        match = _TOKEN.search(text, position)
        if match is None:
            return None
        token, start = match.group(), match.start()
        position = match.end()
        if token == "\n":
            line, line_start = line + 1, position
        elif token == '"':
            string = _STRING.match(text, start)
            if string is None:
                return None
            position = string.end()
            top = stack[-1] if stack else None
            if top is not None and top[0] == "{" and _KEY_END.match(text, position):
                key = json.loads(string.group())
                if key == duplicate_key and key in top[1]:
                    top[2] = key
                    return Place(line, start - line_start + 1, _path(stack))
                top[1].add(key)
                top[2] = key
        elif token == "{":
            stack.append(["{", set(), None])
        elif token == "[":
            stack.append(["[", None, 0])
        elif token in "}]":
            if stack:
                stack.pop()
        elif token == ",":
            if stack and stack[-1][0] == "[":
                stack[-1][2] += 1
        elif duplicate_key is None:  # NaN, Infinity, -Infinity outside a string
            return Place(line, start - line_start + 1, _path(stack))


def _path(stack: list[list]) -> str:
    out = ""
    for kind, _keys, where in stack:
        if kind == "[":
            out += f"[{where}]"
        elif where is not None:
            out += f".{where}" if out else str(where)
    return out
