"""Turn log text into `log.line` facts, the shape the log collector produces.

A `log.line` fact has `text`, the line without ANSI colour codes, a trailing
carriage return or a leading CI timestamp. It also has `line` (1-based),
`file`, and `previous`: the nearest non-blank line before it, which in SST's
output names the resource that failed. The scanner adds `groups`, the named
groups of the patterns that matched the line.

`facts_from_text` turns every line of a short text into a fact (rule test
cases use it). `LogScanner` reads a log of any size in blocks and keeps only
the lines that at least one rule pattern matches, so memory stays constant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from engine.facts import Fact, Source

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
# GitHub Actions and similar CI prefixes: 2024-01-02T03:04:05.1234567Z
CI_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?\s")

# The same clean-up over a whole block of bytes. The OSC form stops at a
# newline so that a stray escape byte cannot join two lines.
_ANSI_BYTES = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?")
_CI_TIMESTAMP_BYTES = re.compile(
    rb"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?[ \t]", re.MULTILINE
)
_TIMESTAMP_PROBE = re.compile(rb"(?:^|\n)\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")

BLOCK_SIZE = 1 << 20
# A line longer than this is cut: minified bundles and base64 blobs in logs
# are never what a rule is looking for, and they would defeat the block size.
MAX_LINE_BYTES = 64 << 10
# Maximum matching lines examined per pattern, repeated copies of a line
# included. A pattern that matches every line of a 50 MB log must not turn the
# log into a million facts, nor be searched line by line to its end.
DEFAULT_MAX_LINES_PER_PATTERN = 200


def clean_line(line: str) -> str:
    line = ANSI.sub("", line.rstrip("\r\n"))
    return CI_TIMESTAMP.sub("", line, count=1)


def facts_from_text(text: str, file: str = "<log>") -> Iterator[Fact]:
    previous = ""
    for number, line in enumerate(text.splitlines(), start=1):
        cleaned = clean_line(line)
        yield line_fact(cleaned, number, file, previous)
        if cleaned.strip():
            previous = cleaned


def line_fact(text: str, number: int, file: str, previous: str = "") -> Fact:
    return Fact(
        "log.line",
        {"text": text, "line": number, "file": file, "previous": previous},
        Source(file=file, line=number),
    )


@dataclass
class LogStats:
    """Summary of a scan: size, line count, decoding, repeated lines and the patterns that hit."""

    bytes_read: int = 0
    lines: int = 0
    replaced_bytes: bool = False
    truncated_patterns: list[str] = field(default_factory=list)
    # Text of each kept line -> number of lines with that text.
    repeats: dict[str, int] = field(default_factory=dict)
    matched_patterns: set[int] = field(default_factory=set)


class LogScanner:
    """Find the lines of a log that any of `patterns` (RE2 syntax) matches.

    One RE2 set of every pattern scans each block. Only a block that the set
    matches is searched pattern by pattern, and only the lines found there
    are decoded and checked against the pattern as written. `(?m)` is added
    to the block patterns, so `^` and `$` mean the start and end of a line.
    """

    def __init__(
        self, patterns: Sequence[str], *, block_size: int = BLOCK_SIZE,
        max_lines_per_pattern: int = DEFAULT_MAX_LINES_PER_PATTERN,
    ) -> None:
        import re2

        from engine.patterns import compile_pattern

        self.patterns = tuple(dict.fromkeys(patterns))
        self.block_size = block_size
        self.max_lines_per_pattern = max_lines_per_pattern
        # Compiling each pattern as written first rejects what RE2 cannot run,
        # with the message rule authors get everywhere else.
        self._line_patterns = [compile_pattern(p) for p in self.patterns]

        # Blocks are matched as Latin-1, one character per byte, so that bytes
        # that are not UTF-8 neither need a decoding pass nor stop a match. Each
        # pattern is rewritten to its UTF-8 bytes for that. A non-ASCII character
        # class then matches any of its bytes, which only adds candidate lines,
        # and every candidate line is checked with the pattern as written.
        options = re2.Options()
        options.encoding = re2.Options.Encoding.LATIN1
        options.max_mem = 64 << 20
        byte_patterns = [b"(?m)" + p.encode("utf-8") for p in self.patterns]
        self._block_patterns = [re2.compile(p, options) for p in byte_patterns]
        self._set: Any = None
        if self.patterns:
            self._set = re2.Set.SearchSet(options)
            for pattern in byte_patterns:
                self._set.Add(pattern)
            self._set.Compile()

    def scan(self, stream: BinaryIO, file: str, stats: LogStats | None = None) -> Iterator[Fact]:
        """Yield a `log.line` fact for each matching line of `stream`, in line order."""
        stats = stats if stats is not None else LogStats()
        kept = [0] * len(self.patterns)
        truncated: set[int] = set()
        first_line = 1
        for block in read_blocks(stream, self.block_size):
            stats.bytes_read += len(block)
            block = clean_block(block)
            newlines = block.count(b"\n")
            if self._set is not None:
                hits = self._set.Match(block)
                if hits:
                    yield from self._lines_in_block(
                        block, first_line, file, hits, kept, truncated, stats
                    )
            first_line += newlines
            if not block.endswith(b"\n"):
                first_line += 1
        stats.lines = first_line - 1
        stats.truncated_patterns = [self.patterns[i] for i in sorted(truncated)]

    def _lines_in_block(
        self, block: bytes, first_line: int, file: str, hits: Iterable[int], kept: list[int],
        truncated: set[int], stats: LogStats,
    ) -> Iterator[Fact]:
        hit_list = list(hits)
        # Line start offset -> line text, for each line a pattern matched.
        found: dict[int, str] = {}
        for index in hit_list:
            if index in truncated:
                continue
            for match in self._block_patterns[index].finditer(block):
                start = block.rfind(b"\n", 0, match.start()) + 1
                # `$` also matches after the block's final newline, where no line starts.
                if start in found or start == len(block):
                    continue
                if kept[index] >= self.max_lines_per_pattern:
                    truncated.add(index)
                    break
                end = block.find(b"\n", start)
                text = _decode(block[start : end if end >= 0 else len(block)], stats)
                if text in stats.repeats:
                    # A copy of a line already kept: counted, not kept again. Copies
                    # count towards the limit too, or a crash loop printing one
                    # error per line would be searched line by line to the end.
                    stats.repeats[text] += 1
                    kept[index] += 1
                    continue
                if self._line_patterns[index].search(text) is None:
                    continue
                stats.repeats[text] = 1
                found[start] = text
                stats.matched_patterns.add(index)
                kept[index] += 1

        for start in sorted(found):
            text = found[start]
            number = first_line + block.count(b"\n", 0, start)
            fact = line_fact(text, number, file, _previous_line(block, start, stats))
            groups = self._groups(text, hit_list)
            if groups:
                fact = Fact(fact.kind, {**fact.data, "groups": groups}, fact.source)
            yield fact

    def _groups(self, text: str, hits: list[int]) -> dict[str, str]:
        """Return the named groups of every pattern that matches `text`, first match first."""
        groups: dict[str, str] = {}
        for index in hits:
            pattern = self._line_patterns[index]
            if not pattern.groupindex:
                continue
            match = pattern.search(text)
            if match is None:
                continue
            for name, value in match.groupdict().items():
                if value is not None:
                    groups.setdefault(name, value)
        return groups


def read_blocks(stream: BinaryIO, block_size: int = BLOCK_SIZE) -> Iterator[bytes]:
    """Yield blocks of about `block_size` bytes, each ending just after a newline.

    A line longer than `MAX_LINE_BYTES` is cut there and the rest of it is
    dropped, so a block never grows past `block_size + MAX_LINE_BYTES` and
    line numbers stay right. Only the last block may lack a final newline.
    """
    carry = b""
    skipping = False
    while True:
        chunk = stream.read(block_size)
        if not chunk:
            if carry:
                yield carry
            return
        if skipping:
            newline = chunk.find(b"\n")
            if newline < 0:
                continue
            chunk = chunk[newline + 1 :]
            skipping = False

        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
        else:
            yield data[: cut + 1]
            carry = data[cut + 1 :]

        if len(carry) > MAX_LINE_BYTES:
            yield carry[:MAX_LINE_BYTES] + b"\n"
            carry = b""
            skipping = True


def clean_block(block: bytes) -> bytes:
    """Remove ANSI codes, carriage returns and CI timestamps, keeping every newline."""
    if b"\x1b" in block:
        block = _ANSI_BYTES.sub(b"", block)
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n").replace(b"\r", b"")
    # CI runners stamp every line, so the first 4 KiB tell whether a block has them.
    if _TIMESTAMP_PROBE.search(block, 0, 4096):
        block = _CI_TIMESTAMP_BYTES.sub(b"", block)
    return block


def _previous_line(block: bytes, start: int, stats: LogStats) -> str:
    end = start - 1
    while end > 0:
        begin = block.rfind(b"\n", 0, end) + 1
        text = block[begin:end]
        if text.strip():
            return _decode(text, stats)
        end = begin - 1
    return ""


def _decode(raw: bytes, stats: LogStats) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        stats.replaced_bytes = True
        return raw.decode("utf-8", errors="replace")


def text_patterns(rules: Iterable[Any]) -> tuple[list[str], list[str]]:
    """Return the RE2 patterns that select the `log.line` facts `rules` read.

    `regex` on `text` is used as written; `contains` and `==` become escaped
    patterns. The second list names the rules whose `log.line` condition has
    no such test in some branch: a scan cannot know which lines they need.
    """
    patterns: list[str] = []
    unscannable: list[str] = []
    for rule in rules:
        for part in _log_line_parts(rule.match):
            where = part.get("where")
            found = _condition_patterns(where) if where is not None else None
            if found is None:
                unscannable.append(rule.id)
                continue
            patterns.extend(found)
    return list(dict.fromkeys(patterns)), list(dict.fromkeys(unscannable))


def _log_line_parts(match: Any) -> Iterator[Any]:
    if not isinstance(match, dict):
        return
    if match.get("kind") == "log.line":
        yield match
    for key in ("join", "absent"):
        related = match.get(key) or []
        for item in related if isinstance(related, list) else [related]:
            # An `absent` line must be scanned too, or it would always look absent.
            if isinstance(item, dict) and item.get("kind") == "log.line":
                yield item


def _condition_patterns(node: Any) -> list[str] | None:
    """Return patterns of which one must match `text` for `node` to hold, or None if unknown."""
    if not isinstance(node, dict):
        return None
    if "all" in node:
        # Any one branch that narrows the lines is enough.
        for item in node["all"]:
            found = _condition_patterns(item)
            if found is not None:
                return found
        return None
    if "any" in node:
        patterns: list[str] = []
        for item in node["any"]:
            found = _condition_patterns(item)
            if found is None:
                return None
            patterns.extend(found)
        return patterns
    if node.get("field") != "text":
        return None
    value = node.get("value")
    if not isinstance(value, str):
        return None
    if node.get("op") == "regex":
        return [value]
    if node.get("op") == "contains":
        return [re.escape(value)]
    if node.get("op") == "==":
        return [f"^{re.escape(value)}$"]
    return None
