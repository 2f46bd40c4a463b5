"""Locate every value of a JSON document: its line and its character span.

`json.loads` drops positions, but rules must point at the line of a script in
package.json and fixers must edit one value without re-serialising the file.
`json_spans` walks the text once (after `json.loads` accepted it) and records,
for each path such as `("scripts", "dev")` or `("healthChecks", 0, "url")`,
where its key and value sit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

JsonPath = tuple[str | int, ...]

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = ("true", "false", "null")


@dataclass(frozen=True)
class Span:
    """Location of one value: character offsets into the text, and its 1-based line.

    `key_start` is the offset of the opening quote of the member's key, or of
    the value itself for array items and the document root.
    """

    key_start: int
    value_start: int
    value_end: int
    line: int


class JsonSpanError(ValueError):
    """Text that is not a single JSON value."""


def json_spans(text: str) -> dict[JsonPath, Span]:
    """Return the span of every value in `text`, keyed by its path."""
    spans: dict[JsonPath, Span] = {}
    scanner = _Scanner(text, spans)
    position = scanner.skip(0)
    if text.startswith("\ufeff"):
        position = scanner.skip(1)
    end = scanner.value(position, (), position)
    if scanner.skip(end) != len(text):
        raise JsonSpanError(f"extra data after the JSON value at offset {end}")
    return spans


def format_path(path: JsonPath) -> str:
    """Format a path the way messages show it: `healthChecks[0].expectedStatus`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


class _Scanner:
    def __init__(self, text: str, spans: dict[JsonPath, Span]) -> None:
        self.text = text
        self.spans = spans
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def skip(self, position: int) -> int:
        found = _WHITESPACE.match(self.text, position)
        return found.end() if found else position

    def line(self, offset: int) -> int:
        import bisect

        return bisect.bisect_right(self._line_starts, offset)

    def value(self, position: int, path: JsonPath, key_start: int) -> int:
        text = self.text
        if position >= len(text):
            raise JsonSpanError("unexpected end of the document")
        char = text[position]
        if char == "{":
            end = self._object(position, path)
        elif char == "[":
            end = self._array(position, path)
        elif char == '"':
            end = self._string(position)[1]
        else:
            end = self._scalar(position)
        self.spans[path] = Span(key_start, position, end, self.line(key_start))
        return end

    def _object(self, position: int, path: JsonPath) -> int:
        text = self.text
        position = self.skip(position + 1)
        if text.startswith("}", position):
            return position + 1
        while True:
            key_start = position
            if not text.startswith('"', position):
                raise JsonSpanError(f"expected a key at offset {position}")
            key, position = self._string(position)
            position = self.skip(position)
            if not text.startswith(":", position):
                raise JsonSpanError(f"expected ':' at offset {position}")
            position = self.skip(position + 1)
            position = self.skip(self.value(position, (*path, key), key_start))
            if text.startswith(",", position):
                position = self.skip(position + 1)
                continue
            if text.startswith("}", position):
                return position + 1
            raise JsonSpanError(f"expected ',' or '}}' at offset {position}")

    def _array(self, position: int, path: JsonPath) -> int:
        text = self.text
        position = self.skip(position + 1)
        if text.startswith("]", position):
            return position + 1
        index = 0
        while True:
            position = self.skip(self.value(position, (*path, index), position))
            index += 1
            if text.startswith(",", position):
                position = self.skip(position + 1)
                continue
            if text.startswith("]", position):
                return position + 1
            raise JsonSpanError(f"expected ',' or ']' at offset {position}")

    def _string(self, position: int) -> tuple[str, int]:
        try:
            return json.decoder.scanstring(self.text, position + 1)  # type: ignore[attr-defined,no-any-return]
        except json.JSONDecodeError as error:
            raise JsonSpanError(str(error)) from None

    def _scalar(self, position: int) -> int:
        for literal in _LITERALS:
            if self.text.startswith(literal, position):
                return position + len(literal)
        found = _NUMBER.match(self.text, position)
        if found is None:
            raise JsonSpanError(f"unexpected character at offset {position}")
        return found.end()
