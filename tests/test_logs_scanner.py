"""The block scanner finds the same lines as a line-by-line search, at any block size."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.loader import parse_rule_document
from engine.logfacts import (
    MAX_LINE_BYTES,
    LogScanner,
    LogStats,
    clean_block,
    facts_from_text,
    read_blocks,
    text_patterns,
)
from engine.patterns import compile_pattern


def _scan(text: bytes, patterns: list[str], **options: int) -> list[tuple[int, str]]:
    scanner = LogScanner(patterns, **options)
    return [(f.get("line"), f.get("text")) for f in scanner.scan(io.BytesIO(text), "x.log")]


def _naive(text: str, patterns: list[str]) -> list[tuple[int, str]]:
    """Return the first line of each text that a pattern matches, searching line by line."""
    compiled = [compile_pattern(p) for p in patterns]
    found: dict[str, int] = {}
    for fact in facts_from_text(text):
        line_text = fact.get("text")
        if line_text not in found and any(p.search(line_text) for p in compiled):
            found[line_text] = fact.get("line")
    return sorted((number, line_text) for line_text, number in found.items())


def test_scanner_line_numbers_across_blocks() -> None:
    lines = [f"step {n} ok" for n in range(1, 2001)]
    for n in (1, 64, 65, 999, 2000):
        lines[n - 1] = f"Error: listen EADDRINUSE: address already in use :::{n}"
    text = "\n".join(lines) + "\n"

    found = _scan(text.encode(), ["EADDRINUSE"], block_size=100)

    assert [number for number, _ in found] == [1, 64, 65, 999, 2000]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["ok", "error: lock held", "Port 3000 is in use", "", "  ", "x" * 70]),
        max_size=60,
    ),
    st.sampled_from([16, 64, 1 << 20]),
)
def test_scanner_matches_line_search(lines: list[str], block_size: int) -> None:
    text = "\n".join(lines)
    patterns = ["lock held", "^Port (?P<port>\\d+)", "^$"]

    assert _scan(text.encode(), patterns, block_size=block_size) == _naive(text, patterns)


def test_scanner_without_final_newline() -> None:
    assert _scan(b"a\nb\nerror here", ["error"]) == [(3, "error here")]


def test_scanner_strips_ansi_inside_phrase() -> None:
    text = b"\x1b[31mstatic credentials\x1b[0m are \x1b[1mempty\x1b[0m\n"

    assert _scan(text, ["static credentials are empty"]) == [(1, "static credentials are empty")]


def test_scanner_strips_ci_timestamps_for_anchors() -> None:
    text = b"2026-03-02T10:15:01.1234567Z Tests:  2 failed, 3 passed\r\n"

    assert _scan(text, ["^Tests:\\s+\\d+ failed"]) == [(1, "Tests:  2 failed, 3 passed")]


def test_scanner_keeps_named_groups() -> None:
    scanner = LogScanner(["EADDRINUSE[^\\n]*:(?P<port>\\d+)", "(?P<word>address)"])

    facts = list(
        scanner.scan(io.BytesIO(b"listen EADDRINUSE: address already in use :::3000\n"), "x")
    )

    assert facts[0].get("groups") == {"port": "3000", "word": "address"}


def test_scanner_previous_line_skips_blanks() -> None:
    text = b"|  Error       Web sst:aws:Nextjs\n\n   \nInvalidParameterValueException: x\n"

    facts = list(LogScanner(["InvalidParameterValue"]).scan(io.BytesIO(text), "x"))

    assert facts[0].get("previous") == "|  Error       Web sst:aws:Nextjs"


def test_scanner_caps_lines_per_pattern() -> None:
    text = b"".join(b"error %d\n" % n for n in range(500))
    stats = LogStats()

    facts = list(LogScanner(["error"], max_lines_per_pattern=10).scan(io.BytesIO(text), "x", stats))

    assert len(facts) == 10
    assert stats.truncated_patterns == ["error"]
    assert stats.lines == 500


def test_scanner_counts_repeated_lines() -> None:
    stats = LogStats()

    data = b"error\nok\nerror\n" * 100
    facts = list(
        LogScanner(["error"], max_lines_per_pattern=500).scan(io.BytesIO(data), "x", stats)
    )

    assert [fact.get("line") for fact in facts] == [1]
    assert stats.repeats == {"error": 200}


def test_scanner_counts_bytes_and_lines() -> None:
    stats = LogStats()

    list(LogScanner(["nothing"]).scan(io.BytesIO(b"a\nb\nc\n"), "x", stats))

    assert stats.bytes_read == 6
    assert stats.lines == 3


def test_scanner_without_patterns_reads_log() -> None:
    stats = LogStats()

    facts = list(LogScanner([]).scan(io.BytesIO(b"a\nb\n"), "x", stats))

    assert facts == []
    assert stats.lines == 2


def test_read_blocks_cuts_long_lines() -> None:
    data = b"y" * (MAX_LINE_BYTES * 3) + b"\nnext\n"

    blocks = list(read_blocks(io.BytesIO(data), block_size=1024))

    assert max(len(block) for block in blocks) <= MAX_LINE_BYTES + 1024 + 1
    assert b"".join(blocks) == b"y" * MAX_LINE_BYTES + b"\nnext\n"


def test_scanner_line_numbers_after_long_line() -> None:
    data = b"y" * (MAX_LINE_BYTES * 2) + b"\nerror\n"

    assert _scan(data, ["error"], block_size=1024) == [(2, "error")]


def test_read_blocks_ends_at_newlines() -> None:
    data = b"".join(b"line %d\n" % n for n in range(1000))

    blocks = list(read_blocks(io.BytesIO(data), block_size=100))

    assert b"".join(blocks) == data
    assert all(block.endswith(b"\n") for block in blocks)


def test_clean_block_keeps_newlines() -> None:
    block = b"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\r\n\x1b[2Kdone\n"

    assert clean_block(block) == b"link\ndone\n"


def _rules(yaml_text: str) -> list:  # type: ignore[type-arg]
    from ruamel.yaml import YAML

    rules, _ = parse_rule_document(YAML(typ="rt").load(yaml_text), "t.yaml")
    return rules


RULE = """
rules:
  - id: t/{name}
    title: t
    severity: error
    scopes: [triage]
    match: {match}
    message: m
    why: w
    manual_steps: s
"""


@pytest.mark.parametrize(
    ("match", "patterns"),
    [
        ('{kind: log.line, where: {field: text, op: regex, value: "a+b"}}', ["a+b"]),
        ('{kind: log.line, where: {field: text, op: contains, value: "a.b"}}', ["a\\.b"]),
        ('{kind: log.line, where: {field: text, op: "==", value: "ok"}}', ["^ok$"]),
        (
            '{kind: log.line, where: {any: [{field: text, op: regex, value: "x"},'
            ' {field: text, op: regex, value: "y"}]}}',
            ["x", "y"],
        ),
        (
            '{kind: log.line, where: {all: [{field: line, op: ">", value: 3},'
            ' {field: text, op: regex, value: "z"}]}}',
            ["z"],
        ),
        (
            "{kind: deploy.failure, absent: {kind: log.line,"
            ' where: {field: text, op: regex, value: "w"}}}',
            ["w"],
        ),
    ],
)
def test_text_patterns_from_conditions(match: str, patterns: list[str]) -> None:
    assert text_patterns(_rules(RULE.format(name="a", match=match))) == (patterns, [])


def test_text_patterns_names_unscannable_rules() -> None:
    match = "{kind: log.line, where: {field: line, op: '>', value: 3}}"

    assert text_patterns(_rules(RULE.format(name="b", match=match))) == ([], ["t/b"])
