"""Facts from a deploy, dev, build or CI log: the lines rule patterns match.

The log is `context.log_path` (the file `triage` reads, or the output a
failed deploy or dev run kept); without it this collector produces nothing.
It is read in blocks of 1 MiB, so memory stays constant whatever its size.

Fact kinds:

- `log.line`: a line that at least one rule pattern matches. Source: the
  file and line. Fields:
  - `text`: the line without ANSI colour codes, carriage return or CI timestamp.
  - `line`: the 1-based line number. `file`: the log as evidence names it.
  - `previous`: the nearest non-blank line before it.
  - `groups`: the named groups of the patterns that matched it, if any.
  - `repeats`: how many lines of the file have the same text. Only the first
    of them becomes a fact, because a crash loop prints one error hundreds of
    times. Copies are counted until the pattern reaches its limit of lines.
- `log.source`: one per log read. Fields: `file`, `bytes`, `lines`,
  `replaced_bytes` (true when a kept line had bytes that are not UTF-8, shown
  as U+FFFD), `truncated_patterns` (patterns that matched more lines than the
  limit, so later lines were not looked at), `followed_from` (the log that
  pointed at this one, or null).
- `deploy.failure`: one per run with a log, the failed run it belongs to.
  Fields: `stage` (or null), `stage_shown` (the stage, or `STAGE` when it is
  unknown, for commands in messages), `exit_code` (int or null), `phase`
  (`deploy`, `remove`, `dev`, `build` or null). Values given by the caller in
  `context.extra["failure"]` win over those read from the log (the `Stage:`
  header or `--stage NAME`), which win over `context.stage`.

When the log says only "Please check the logs in .sst/log/sst.log" and the
project has that file, it is read too.

`context.extra["log_patterns"]` lists the patterns to look for; without it
the patterns of the built-in and project rules of `context.scope` are used.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from deploykit.context import RunContext
from engine.facts import Fact, Source
from engine.logfacts import LogScanner, LogStats
from engine.paths import PathEscapeError, resolve_inside
from engine.patterns import compile_pattern

log = logging.getLogger(__name__)

SST_LOG = ".sst/log/sst.log"

# Lines this collector reads for itself, besides the rules' patterns.
STAGE_HEADER = r"^\s*Stage:\s+(?P<stage>[A-Za-z0-9][A-Za-z0-9_-]*)\s*$"
STAGE_OPTION = r"--stage[= ](?P<stage>[A-Za-z0-9][A-Za-z0-9_-]*)"
SST_LOG_POINTER = r"check the logs in \S*\.sst/log/sst\.log"
PHASE_MARKERS: tuple[tuple[str, str], ...] = (
    (r"^[~|]?\s*Deploy\s*$", "deploy"),
    (r"^[~|]?\s*Remove\s*$", "remove"),
    (r"^[~|]?\s*Dev\s*$|sst dev", "dev"),
    (r"next build|Creating an optimized production build", "build"),
)


def collect(context: RunContext) -> Iterable[Fact]:
    if context.log_path is None:
        return
    patterns = _rule_patterns(context)
    own = [STAGE_HEADER, STAGE_OPTION, SST_LOG_POINTER, *(marker for marker, _ in PHASE_MARKERS)]
    scanner = LogScanner([*patterns, *own])
    own_patterns = [compile_pattern(pattern) for pattern in own]

    lines: list[Fact] = []
    for path, display, followed_from in _logs_to_read(context, scanner, lines):
        stats = LogStats()
        with path.open("rb") as stream:
            lines.extend(_with_repeats(scanner.scan(stream, display, stats), stats))
        yield Fact(
            "log.source",
            {
                "file": display,
                "bytes": stats.bytes_read,
                "lines": stats.lines,
                "replaced_bytes": stats.replaced_bytes,
                "truncated_patterns": stats.truncated_patterns,
                "followed_from": followed_from,
            },
            Source(file=display),
        )

    # Lines that only this collector's own patterns matched are not facts.
    compiled_rule_patterns = [compile_pattern(pattern) for pattern in patterns]
    for fact in lines:
        text = str(fact.get("text"))
        if any(pattern.search(text) for pattern in compiled_rule_patterns):
            yield fact

    yield _failure(lines, context.extra.get("failure"), context.stage, own_patterns)


def _with_repeats(facts: Iterable[Fact], stats: LogStats) -> list[Fact]:
    """Add `repeats` to each line fact once the scan has counted the copies of its text."""
    kept = list(facts)
    counted = []
    for fact in kept:
        repeats = stats.repeats.get(str(fact.get("text")), 1)
        counted.append(Fact(fact.kind, {**fact.data, "repeats": repeats}, fact.source))
    return counted


def _logs_to_read(
    context: RunContext, scanner: LogScanner, lines: list[Fact],
) -> Iterator[tuple[Path, str, str | None]]:
    """Yield the log, then `.sst/log/sst.log` when the log points at it.

    `lines` fills as the caller scans, so the pointer is looked for after the
    first log has been read.
    """
    assert context.log_path is not None
    main = context.log_path
    display = display_name(main, context.root, context.extra.get("log_display"))
    yield main, display, None

    pointer = compile_pattern(SST_LOG_POINTER)
    if not any(pointer.search(str(fact.get("text"))) for fact in lines):
        return
    try:
        sst_log = resolve_inside(context.root, SST_LOG)
    except PathEscapeError:
        return
    if not sst_log.is_file() or sst_log == main.resolve():
        log.info("the log points at %s, which the project does not have", SST_LOG)
        return
    yield sst_log, SST_LOG, display


def display_name(path: Path, root: Path, given: Any = None) -> str:
    """Name a log as evidence shows it: relative to the project root when inside it."""
    if isinstance(given, str) and given:
        return given
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _rule_patterns(context: RunContext) -> list[str]:
    given = context.extra.get("log_patterns")
    if isinstance(given, list | tuple):
        return [str(pattern) for pattern in given]

    from deploykit.diagnosis import load_rules, select_rules
    from engine.logfacts import text_patterns

    rules = select_rules(load_rules(context.root), context.scope)
    patterns, unscannable = text_patterns(rules)
    for rule_id in unscannable:
        log.warning(
            "rule %s tests log lines without a pattern on `text`; its lines are not read", rule_id
        )
    return patterns


def _failure(
    lines: list[Fact], given: Any, context_stage: str | None, own_patterns: list[Any],
) -> Fact:
    header_pattern, option_pattern = own_patterns[0], own_patterns[1]
    phase_patterns = list(zip(own_patterns[3:], (phase for _, phase in PHASE_MARKERS), strict=True))

    stage: str | None = None
    phase: str | None = None
    for fact in lines:
        text = str(fact.get("text"))
        if stage is None:
            found = header_pattern.search(text) or option_pattern.search(text)
            if found is not None:
                stage = found.group("stage")
        if phase is None:
            phase = next((name for pattern, name in phase_patterns if pattern.search(text)), None)

    data: dict[str, Any] = {"stage": stage or context_stage, "exit_code": None, "phase": phase}
    if isinstance(given, Mapping):
        data.update({k: v for k, v in given.items() if k in data and v is not None})
    data["stage_shown"] = data["stage"] or "STAGE"
    # No source: the failure is the run itself, and evidence shows only log lines.
    return Fact("deploy.failure", data)
