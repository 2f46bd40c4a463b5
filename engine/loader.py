"""Load rule files: YAML to validated, compiled `Rule` objects.

A rule file is a mapping with a `rules` list. Every error names the file, the
line and the key, so a contributor can fix a rule without reading this code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from engine.conditions import ConditionError
from engine.facts import Fact, Source
from engine.matching import compile_match
from engine.model import SAFETIES, SCOPES, SEVERITIES, FixSpec, Rule, RuleCase

MAX_RULE_FILE_BYTES = 1 << 20
RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)+$")
FILE_KEYS = ("rules", "disable")
RULE_KEYS = (
    "id",
    "title",
    "severity",
    "scopes",
    "match",
    "message",
    "why",
    "manual_steps",
    "fix",
    "references",
    "tests",
    "enabled",
)
REQUIRED_KEYS = ("id", "title", "severity", "scopes", "match", "message", "why", "manual_steps")
FIX_KEYS = ("fixer", "safety", "params")
TEST_KEYS = ("match", "no_match")
CASE_KEYS = ("facts", "log")
FACT_KEYS = ("kind", "data", "source")

# Returns the maximum safety of a fixer, or None when no fixer has that name.
FixerLookup = Callable[[str], str | None]


class RuleLoadError(ValueError):
    """An invalid rule file: `file:line: key: problem`."""

    def __init__(self, file: str, line: int | None, key: str | None, problem: str) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
        where = f"{file}:{line}" if line else file
        subject = f"key `{key}`: " if key else ""
        super().__init__(f"{where}: {subject}{problem}")


def load_rule_file(
    path: Path,
    *,
    pack: str = "builtin",
    fixer_lookup: FixerLookup | None = None,
    display_name: str | None = None,
) -> tuple[list[Rule], list[str]]:
    """Load one file; return its rules and the rule ids it disables."""
    name = display_name or str(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise RuleLoadError(name, None, None, f"cannot read the file: {error.strerror}") from None
    if size > MAX_RULE_FILE_BYTES:
        raise RuleLoadError(
            name,
            None,
            None,
            f"file is {size} bytes, over the {MAX_RULE_FILE_BYTES}-byte limit for a rule file; "
            "split it into several files",
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RuleLoadError(
            name,
            _line_of_offset(raw, error.start),
            None,
            "file is not valid UTF-8; save it as UTF-8",
        ) from None
    document = _parse_yaml(text, name)
    return parse_rule_document(document, name, pack=pack, fixer_lookup=fixer_lookup)


def parse_rule_document(
    document: Any,
    name: str,
    *,
    pack: str = "builtin",
    fixer_lookup: FixerLookup | None = None,
) -> tuple[list[Rule], list[str]]:
    if document is None:
        return [], []
    if not isinstance(document, Mapping):
        raise RuleLoadError(name, 1, None, "a rule file must be a mapping with a `rules` list")
    for key in document:
        if key not in FILE_KEYS:
            raise RuleLoadError(
                name,
                _key_line(document, key),
                str(key),
                f"unknown top-level key; expected {', '.join(FILE_KEYS)}",
            )

    disabled = document.get("disable", [])
    if not isinstance(disabled, list) or not all(isinstance(i, str) for i in disabled):
        raise RuleLoadError(
            name, _key_line(document, "disable"), "disable", "must be a list of rule ids"
        )

    items = document.get("rules", [])
    if not isinstance(items, list):
        raise RuleLoadError(name, _key_line(document, "rules"), "rules", "must be a list of rules")

    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for position, item in enumerate(items):
        rule = _parse_rule(item, name, _item_line(items, position), pack, fixer_lookup)
        if rule.id in seen:
            raise RuleLoadError(
                name,
                rule.line,
                "id",
                f"rule id `{rule.id}` is already used at line {seen[rule.id]} of this file",
            )
        seen[rule.id] = rule.line
        rules.append(rule)
    return rules, list(disabled)


def _parse_rule(
    node: Any,
    name: str,
    line: int,
    pack: str,
    fixer_lookup: FixerLookup | None,
) -> Rule:
    if not isinstance(node, Mapping):
        raise RuleLoadError(name, line, None, "each entry of `rules` must be a mapping")

    def fail(key: str | None, problem: str, at: Any = node) -> RuleLoadError:
        key_line = _key_line(at, key) if key else None
        return RuleLoadError(name, key_line or _node_line(at) or line, key, problem)

    for key in node:
        if key not in RULE_KEYS:
            raise fail(str(key), f"unknown key; expected one of {', '.join(RULE_KEYS)}")
    for key in REQUIRED_KEYS:
        if key not in node:
            raise RuleLoadError(name, line, key, "missing; every rule needs it")

    rule_id = node["id"]
    if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        raise fail(
            "id",
            f"invalid rule id {rule_id!r}; use lowercase words with hyphens, grouped by "
            "slashes, such as `git/dirty-tree`",
        )
    for key in ("title", "message", "why", "manual_steps"):
        if not isinstance(node[key], str) or not node[key].strip():
            raise fail(key, "must be a non-empty string")
    severity = node["severity"]
    if severity not in SEVERITIES:
        raise fail("severity", f"invalid value {severity!r}; use one of {', '.join(SEVERITIES)}")
    scopes = node["scopes"]
    if not isinstance(scopes, list) or not scopes:
        raise fail("scopes", f"must be a non-empty list of {', '.join(SCOPES)}")
    for scope in scopes:
        if scope not in SCOPES:
            raise fail("scopes", f"unknown scope {scope!r}; use {', '.join(SCOPES)}")
    enabled = node.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail("enabled", "must be true or false")
    references = node.get("references", [])
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        raise fail("references", "must be a list of URLs")

    try:
        matcher, kinds, aliases = compile_match(node["match"])
    except ConditionError as error:
        at = error.node if error.node is not None else node["match"]
        raise RuleLoadError(
            name,
            _key_line(at, error.key) or _node_line(at) or _key_line(node, "match"),
            f"match.{error.key}" if error.key else "match",
            str(error),
        ) from None

    fix = _parse_fix(node.get("fix"), name, node, fixer_lookup)
    must_match, must_not_match = _parse_tests(node.get("tests"), name, node)

    return Rule(
        id=rule_id,
        title=node["title"].strip(),
        severity=severity,
        scopes=frozenset(scopes),
        message=node["message"].strip(),
        why=node["why"].strip(),
        manual_steps=node["manual_steps"].strip(),
        match=_plain(node["match"]),
        matcher=matcher,
        kinds=kinds,
        aliases=aliases,
        fix=fix,
        must_match=must_match,
        must_not_match=must_not_match,
        references=tuple(references),
        file=name,
        line=line,
        pack=pack,
        enabled=enabled,
    )


def _parse_fix(
    node: Any,
    name: str,
    rule: Mapping[str, Any],
    fixer_lookup: FixerLookup | None,
) -> FixSpec | None:
    if node is None:
        return None
    if not isinstance(node, Mapping):
        raise RuleLoadError(
            name, _key_line(rule, "fix"), "fix", "must be a mapping with `fixer` and `safety`"
        )
    for key in node:
        if key not in FIX_KEYS:
            raise RuleLoadError(
                name,
                _key_line(node, key),
                f"fix.{key}",
                f"unknown key; expected {', '.join(FIX_KEYS)}",
            )
    fixer = node.get("fixer")
    if not isinstance(fixer, str) or not fixer:
        raise RuleLoadError(name, _key_line(rule, "fix"), "fix.fixer", "missing fixer name")
    safety = node.get("safety")
    if safety not in SAFETIES:
        raise RuleLoadError(
            name,
            _key_line(node, "safety") or _key_line(rule, "fix"),
            "fix.safety",
            f"invalid value {safety!r}; use safe or manual",
        )
    params = node.get("params", {})
    if not isinstance(params, Mapping):
        raise RuleLoadError(name, _key_line(node, "params"), "fix.params", "must be a mapping")

    if fixer_lookup is not None:
        maximum = fixer_lookup(fixer)
        if maximum is None:
            raise RuleLoadError(
                name,
                _key_line(node, "fixer"),
                "fix.fixer",
                f"unknown fixer {fixer!r}; `deploy-kit rules fixers` lists the fixers",
            )
        if maximum == "manual" and safety == "safe":
            raise RuleLoadError(
                name,
                _key_line(node, "safety"),
                "fix.safety",
                f"fixer {fixer!r} can be at most manual, so a rule cannot mark it safe; "
                "set `safety: manual`",
            )
    return FixSpec(fixer=fixer, safety=safety, params=_plain(params))


def _parse_tests(
    node: Any,
    name: str,
    rule: Mapping[str, Any],
) -> tuple[tuple[RuleCase, ...], tuple[RuleCase, ...]]:
    if node is None:
        return (), ()
    if not isinstance(node, Mapping):
        raise RuleLoadError(
            name, _key_line(rule, "tests"), "tests", "must be a mapping with `match` and `no_match`"
        )
    for key in node:
        if key not in TEST_KEYS:
            raise RuleLoadError(
                name,
                _key_line(node, key),
                f"tests.{key}",
                f"unknown key; expected {', '.join(TEST_KEYS)}",
            )
    groups = []
    for key in TEST_KEYS:
        cases = node.get(key, [])
        if not isinstance(cases, list):
            raise RuleLoadError(
                name, _key_line(node, key), f"tests.{key}", "must be a list of cases"
            )
        groups.append(
            tuple(
                _parse_case(
                    case, name, f"tests.{key}", _item_line(cases, i) or _key_line(node, key)
                )
                for i, case in enumerate(cases)
            )
        )
    return groups[0], groups[1]


def _parse_case(node: Any, name: str, key: str, line: int | None) -> RuleCase:
    if not isinstance(node, Mapping):
        raise RuleLoadError(name, line, key, "a case is a mapping with `facts` or `log`")
    for case_key in node:
        if case_key not in CASE_KEYS:
            raise RuleLoadError(
                name,
                _key_line(node, case_key),
                f"{key}.{case_key}",
                f"unknown key; expected {', '.join(CASE_KEYS)}",
            )
    log = node.get("log")
    if log is not None and not isinstance(log, str):
        raise RuleLoadError(name, _key_line(node, "log"), f"{key}.log", "must be log text")
    raw_facts = node.get("facts", [])
    if not isinstance(raw_facts, list):
        raise RuleLoadError(
            name, _key_line(node, "facts"), f"{key}.facts", "must be a list of facts"
        )
    facts = []
    for i, raw in enumerate(raw_facts):
        fact_line = _item_line(raw_facts, i)
        if not isinstance(raw, Mapping) or not isinstance(raw.get("kind"), str):
            raise RuleLoadError(name, fact_line, f"{key}.facts", "each fact needs a `kind`")
        for fact_key in raw:
            if fact_key not in FACT_KEYS:
                raise RuleLoadError(
                    name,
                    _key_line(raw, fact_key),
                    f"{key}.facts.{fact_key}",
                    f"unknown key; expected {', '.join(FACT_KEYS)}",
                )
        data = raw.get("data", {})
        if not isinstance(data, Mapping):
            raise RuleLoadError(
                name, _key_line(raw, "data"), f"{key}.facts.data", "must be a mapping"
            )
        source = raw.get("source", {})
        if not isinstance(source, Mapping):
            raise RuleLoadError(
                name, _key_line(raw, "source"), f"{key}.facts.source", "must be a mapping"
            )
        facts.append(
            Fact(
                raw["kind"],
                _plain(data),
                Source(
                    **{
                        k: v
                        for k, v in _plain(source).items()
                        if k in ("file", "line", "command", "api")
                    }
                ),
            )
        )
    if log is None and not facts:
        raise RuleLoadError(name, line, key, "a case needs `facts` or `log`")
    return RuleCase(facts=tuple(facts), log=log, line=line)


def _parse_yaml(text: str, name: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (error.problem or error.context or "invalid YAML").strip()
        raise RuleLoadError(name, line, None, f"invalid YAML: {problem}") from None
    except YAMLError as error:
        raise RuleLoadError(name, None, None, f"invalid YAML: {error}") from None


def _key_line(node: Any, key: Any) -> int | None:
    try:
        position = node.lc.key(key)
    except (AttributeError, KeyError, TypeError):
        return None
    return int(position[0]) + 1


def _item_line(items: Any, index: int) -> int:
    try:
        return int(items.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 0


def _node_line(node: Any) -> int | None:
    try:
        return int(node.lc.line) + 1
    except AttributeError:
        return None


def _line_of_offset(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _plain(value: Any) -> Any:
    """Convert ruamel's round-trip containers to plain dicts, lists and scalars."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        if type(value) not in (bool, int, float, str, type(None)):
            for base in (bool, int, float, str):
                if isinstance(value, base):
                    return base(value)
        return value
    return str(value)


def load_rule_files(
    paths: Iterable[tuple[Path, str]],
    fixer_lookup: FixerLookup | None = None,
) -> tuple[list[Rule], list[str]]:
    """Load several files given as (path, display name); ids must be unique across them."""
    rules: list[Rule] = []
    disabled: list[str] = []
    owner: dict[str, str] = {}
    for path, display in paths:
        loaded, off = load_rule_file(path, fixer_lookup=fixer_lookup, display_name=display)
        for rule in loaded:
            if rule.id in owner:
                raise RuleLoadError(
                    display,
                    rule.line,
                    "id",
                    f"rule id `{rule.id}` is also defined in {owner[rule.id]}; "
                    "rule ids must be unique",
                )
            owner[rule.id] = rule.location
        rules.extend(loaded)
        disabled.extend(off)
    return rules, disabled
