"""A cache of validated rules, keyed by the content of the rule files.

Parsing YAML with ruamel's round-trip loader (which keeps line numbers for
error messages) is the slowest step of a run. Rules that loaded without error
are stored as JSON under the user's cache folder. The next run with the same
rule files, fixers and engine code rebuilds them from that JSON and compiles
their matchers again, so it skips YAML parsing.

Only valid rule sets are stored, so an invalid file is always read by the
real loader and reported with the same file, line and key. Warnings the
loader logged (such as a `disable:` entry that names no rule) are stored
with the rules and logged again on every cache hit. JSON, not pickle:
a cache file someone else wrote can give wrong rules at worst, never run code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from engine.facts import Fact, Source
from engine.matching import compile_match
from engine.model import FixSpec, Rule, RuleCase

log = logging.getLogger(__name__)

# Raise when the stored form of a rule changes.
CACHE_FORMAT = 2


def cache_folder(env: Mapping[str, str]) -> Path:
    """Return `$XDG_CACHE_HOME/deploy-kit/rules`, or `~/.cache/deploy-kit/rules`."""
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deploy-kit" / "rules"


def cache_key(files: Iterable[tuple[Path, str]], code: Iterable[Path], extra: str) -> str:
    """Hash the rule files' bytes and names, the validating code's size and mtime, and `extra`."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}\0{sys.version}\0{extra}\0".encode())
    for path, display in files:
        digest.update(display.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for path in code:
        status = path.stat()
        digest.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def load_cached(folder: Path, key: str, load: Callable[[], list[Rule]]) -> list[Rule]:
    """Return the rules stored under `key`, or call `load` and store what it returns.

    Errors from `load` propagate unchanged. A cache that cannot be read or
    written is skipped with a debug log line, never reported as an error.
    """
    path = folder / f"{key}.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        rules = [rule_from_data(item) for item in stored["rules"]]
        warnings = [(str(name), str(message)) for name, message in stored["warnings"]]
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.debug("rule cache %s is unusable, loading the rule files: %s", path, error)
    else:
        for name, message in warnings:
            logging.getLogger(name).warning("%s", message)
        return rules

    capture = _WarningCapture()
    root_logger = logging.getLogger()
    root_logger.addHandler(capture)
    try:
        rules = load()
    finally:
        root_logger.removeHandler(capture)
    if not root_logger.isEnabledFor(logging.WARNING):
        # Warnings were not emitted, so they could not be recorded for replay.
        return rules
    document = {"rules": [rule_to_data(rule) for rule in rules], "warnings": capture.warnings}
    try:
        _write(path, json.dumps(document))
    except (OSError, TypeError, ValueError) as error:
        log.debug("rule cache %s not written: %s", path, error)
    return rules


class _WarningCapture(logging.Handler):
    """Record the warnings logged while rules load, so a cache hit logs them again."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.warnings.append((record.name, record.getMessage()))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".rules.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def rule_to_data(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity,
        "scopes": sorted(rule.scopes),
        "message": rule.message,
        "why": rule.why,
        "manual_steps": rule.manual_steps,
        "match": rule.match,
        "fix": None
        if rule.fix is None
        else {"fixer": rule.fix.fixer, "safety": rule.fix.safety, "params": dict(rule.fix.params)},
        "must_match": [_case_to_data(case) for case in rule.must_match],
        "must_not_match": [_case_to_data(case) for case in rule.must_not_match],
        "references": list(rule.references),
        "file": rule.file,
        "line": rule.line,
        "pack": rule.pack,
        "enabled": rule.enabled,
    }


def rule_from_data(data: Mapping[str, Any]) -> Rule:
    matcher, kinds, aliases = compile_match(data["match"])
    fix = data["fix"]
    return Rule(
        id=data["id"],
        title=data["title"],
        severity=data["severity"],
        scopes=frozenset(data["scopes"]),
        message=data["message"],
        why=data["why"],
        manual_steps=data["manual_steps"],
        match=data["match"],
        matcher=matcher,
        kinds=kinds,
        aliases=aliases,
        fix=None if fix is None else FixSpec(fix["fixer"], fix["safety"], fix["params"]),
        must_match=tuple(_case_from_data(case) for case in data["must_match"]),
        must_not_match=tuple(_case_from_data(case) for case in data["must_not_match"]),
        references=tuple(data["references"]),
        file=data["file"],
        line=data["line"],
        pack=data["pack"],
        enabled=data["enabled"],
    )


def _case_to_data(case: RuleCase) -> dict[str, Any]:
    return {"facts": [fact.to_dict() for fact in case.facts], "log": case.log, "line": case.line}


def _case_from_data(data: Mapping[str, Any]) -> RuleCase:
    facts = tuple(
        Fact(item["kind"], item["data"], Source(**item["source"])) for item in data["facts"]
    )
    return RuleCase(facts=facts, log=data["log"], line=data["line"])
