"""Turn log text into `log.line` facts, the shape the log collector produces.

Each fact has `text` (the line without ANSI colour codes or a leading CI
timestamp), `raw` is not kept, `line` (1-based) and `file`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.facts import Fact, Source

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
# GitHub Actions and similar CI prefixes: 2024-01-02T03:04:05.1234567Z
CI_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?\s")


def clean_line(line: str) -> str:
    line = ANSI.sub("", line.rstrip("\r\n"))
    return CI_TIMESTAMP.sub("", line, count=1)


def facts_from_text(text: str, file: str = "<log>") -> Iterator[Fact]:
    for number, line in enumerate(text.splitlines(), start=1):
        cleaned = clean_line(line)
        yield Fact("log.line", {"text": cleaned, "line": number, "file": file}, Source(file=file, line=number))
