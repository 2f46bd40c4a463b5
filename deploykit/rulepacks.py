"""Rule packs: the built-in rule files and the rule files a project adds.

A project adds rules in `.deploy-kit/rules/*.yaml` and in the folders listed
under `rulePaths` in `.deploy-config.json` (relative to the project root), in
the same format as the built-in rules. When the rules are merged:

- a project rule whose id is a built-in id replaces the built-in rule;
- `disable: [ids]` in any rule file turns those rules off;
- an id defined twice across project files is an error naming both places.

Reading a rule file never runs code: the YAML is parsed with ruamel.yaml's
round-trip loader, which builds only mappings, lists and scalars, and any
explicit tag other than the standard scalar ones (such as
`!!python/object/apply`) is rejected. Alias expansion is bounded, so a small
file cannot expand into billions of nodes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.fixing import FixerRegistry
from engine.loader import MAX_RULE_FILE_BYTES, RuleLoadError, parse_rule_document
from engine.model import Rule
from engine.paths import PathEscapeError, resolve_inside

log = logging.getLogger(__name__)

PROJECT_RULES_DIR = ".deploy-kit/rules"
RULE_FILE_SUFFIXES = (".yaml", ".yml")
BUILTIN = "builtin"
PROJECT = "project"

# Nodes a rule file may expand to once aliases (*name) are followed. A million
# is far above what a hand-written rule file reaches, and stops an alias bomb
# ("billion laughs") long before it exhausts memory.
MAX_EXPANDED_NODES = 1_000_000

# Tags a rule file may spell out; they only restate a scalar's type.
ALLOWED_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")
)


class RulePackError(RuleLoadError):
    """A rule pack that cannot be used: same `file:line: key: problem` form."""


@dataclass(frozen=True)
class RuleFile:
    """A rule file to load: its path, the name shown in errors, and its pack."""

    path: Path
    display: str
    pack: str


def builtin_rule_files() -> list[RuleFile]:
    from rules import builtin_rule_files as files

    return [RuleFile(path, f"rules/{path.name}", BUILTIN) for path in files()]


def project_rule_files(root: Path) -> list[RuleFile]:
    """List the project's rule files: `.deploy-kit/rules/` first, then `rulePaths` folders."""
    root = root.resolve()
    folders: list[tuple[Path, str]] = []
    default = root / PROJECT_RULES_DIR
    if default.is_dir():
        folders.append(
            (_folder_inside(root, PROJECT_RULES_DIR, ".deploy-kit/rules"), PROJECT_RULES_DIR)
        )
    for position, entry in enumerate(_configured_rule_paths(root)):
        where = f"`rulePaths[{position}]` in .deploy-config.json"
        folder = _folder_inside(root, entry, where)
        if not folder.is_dir():
            raise RulePackError(
                ".deploy-config.json",
                None,
                f"rulePaths[{position}]",
                f"rule folder {entry!r} does not exist; create it or remove it from rulePaths",
            )
        folders.append((folder, folder.relative_to(root).as_posix()))

    files: list[RuleFile] = []
    seen: set[Path] = set()
    for folder, shown in folders:
        for path in sorted(folder.iterdir()):
            if path.suffix not in RULE_FILE_SUFFIXES or path in seen:
                continue
            seen.add(path)
            display = f"{shown}/{path.name}"
            if not path.is_file():
                # Checked here, before anything reads the file: a link to a
                # device such as /dev/zero would never finish reading.
                raise RulePackError(
                    display, None, None, "not a regular file; a rule file must be a YAML file"
                )
            files.append(RuleFile(path, display, PROJECT))
    return files


def load_all_rules(root: Path | None, registry: FixerRegistry) -> list[Rule]:
    """Load the built-in rules and, with `root`, the project's packs, then merge them."""
    builtin_rules, builtin_disabled = load_rule_files(builtin_rule_files(), registry)
    project_rules: list[Rule] = []
    project_disabled: list[tuple[str, str]] = []
    if root is not None:
        project_rules, project_disabled = load_rule_files(project_rule_files(root), registry)
    return merge_rules(builtin_rules, project_rules, builtin_disabled + project_disabled)


def load_rule_files(
    files: Iterable[RuleFile],
    registry: FixerRegistry,
) -> tuple[list[Rule], list[tuple[str, str]]]:
    """Load `files`; return their rules and (disabled id, file that disables it) pairs.

    Rule ids must be unique across the files given.
    """
    rules: list[Rule] = []
    disabled: list[tuple[str, str]] = []
    owner: dict[str, Rule] = {}
    for file in files:
        loaded, off = load_rule_file(file, registry)
        for rule in loaded:
            first = owner.get(rule.id)
            if first is not None:
                raise RulePackError(
                    file.display,
                    rule.line,
                    "id",
                    f"rule id `{rule.id}` is also defined at {first.location}; rule ids must be "
                    "unique, so rename one of them (a project rule may reuse a built-in id to "
                    "replace the built-in rule)",
                )
            owner[rule.id] = rule
        rules.extend(loaded)
        disabled.extend((rule_id, file.display) for rule_id in off)
    return rules, disabled


def load_rule_file(file: RuleFile, registry: FixerRegistry) -> tuple[list[Rule], list[str]]:
    """Read, parse and validate one rule file, including the parameters of its fixes."""
    document = read_rule_document(file.path, file.display)
    rules, disabled = parse_rule_document(
        document,
        file.display,
        pack=file.pack,
        fixer_lookup=registry.max_safety,
    )
    for rule in rules:
        check_fix_params(rule, registry)
    return rules, disabled


def merge_rules(
    builtin: list[Rule],
    project: list[Rule],
    disabled: list[tuple[str, str]],
) -> list[Rule]:
    """Put project rules over built-in rules of the same id, then drop disabled ids."""
    overrides = {rule.id: rule for rule in project}
    merged = [overrides.pop(rule.id, rule) for rule in builtin]
    merged.extend(rule for rule in project if rule.id in overrides)

    known = {rule.id for rule in merged}
    off: set[str] = set()
    for rule_id, file in disabled:
        if rule_id not in known:
            log.warning("%s disables rule %s, which does not exist; check the id", file, rule_id)
        off.add(rule_id)
    return [rule for rule in merged if rule.id not in off]


def read_rule_document(path: Path, display: str) -> Any:
    """Parse a rule file's YAML without running code, within size and expansion limits."""
    text = _read_text(path, display)
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    try:
        document = yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (error.problem or error.context or "invalid YAML").strip()
        raise RulePackError(display, line, None, f"invalid YAML: {problem}") from None
    except YAMLError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "invalid YAML"
        raise RulePackError(display, None, None, f"invalid YAML: {first_line}") from None
    except RecursionError:
        raise RulePackError(
            display,
            None,
            None,
            "YAML is nested too deeply to load; flatten the rule file",
        ) from None
    _check_nodes(document, display)
    return document


def check_fix_params(rule: Rule, registry: FixerRegistry) -> None:
    """Validate a rule's `fix.params` against the parameters its fixer declares."""
    if rule.fix is None:
        return
    spec = registry.get(rule.fix.fixer)
    if spec is None:
        return
    from fixers.params import declared_params, validate_params

    declared = declared_params(spec.target)
    if declared is None:
        return
    problem = validate_params(declared, rule.fix.params)
    if problem is not None:
        key, message = problem
        raise RulePackError(
            rule.file, rule.line, f"fix.params.{key}" if key else "fix.params", message
        )


def _read_text(path: Path, display: str) -> str:
    if not path.is_file():
        raise RulePackError(
            display, None, None, "not a regular file; a rule file must be a YAML file"
        )
    try:
        with path.open("rb") as handle:
            # Read one byte past the limit so that a file growing while it is
            # read, or a special file reporting size 0, is still caught.
            raw = handle.read(MAX_RULE_FILE_BYTES + 1)
    except OSError as error:
        raise RulePackError(
            display, None, None, f"cannot read the file: {error.strerror}"
        ) from None
    if len(raw) > MAX_RULE_FILE_BYTES:
        raise RulePackError(
            display,
            None,
            None,
            f"file is over the {MAX_RULE_FILE_BYTES}-byte limit for a rule file; split it into "
            "several files",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise RulePackError(
            display, line, None, "file is not valid UTF-8; save it as UTF-8"
        ) from None


def _check_nodes(document: Any, display: str) -> None:
    """Reject explicit tags and count nodes as if every alias were expanded."""
    sizes: dict[int, int] = {}

    def size_of(node: Any, depth: int) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        _check_tag(node, display)
        children: Iterable[Any] = ()
        if isinstance(node, Mapping):
            children = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        total = 1
        for child in children:
            total += size_of(child, depth + 1)
            if total > MAX_EXPANDED_NODES:
                raise RulePackError(
                    display,
                    _line(node),
                    None,
                    f"aliases expand to more than {MAX_EXPANDED_NODES} nodes; write the "
                    "values out instead of nesting aliases",
                )
        if isinstance(node, Mapping | list):
            sizes[id(node)] = total
        return total

    try:
        size_of(document, 0)
    except RecursionError:
        raise RulePackError(
            display,
            None,
            None,
            "YAML is nested too deeply to load; flatten the rule file",
        ) from None


def _check_tag(node: Any, display: str) -> None:
    tag = getattr(node, "tag", None)
    value = getattr(tag, "value", None)
    if value is None or value in ALLOWED_TAGS:
        return
    shown = value.replace("tag:yaml.org,2002:", "!!")
    raise RulePackError(
        display,
        _line(node),
        None,
        f"YAML tag {shown} is not allowed in rule files; rule files hold only plain "
        "mappings, lists and scalars, so remove the tag",
    )


def _line(node: Any) -> int | None:
    try:
        return int(node.lc.line) + 1
    except (AttributeError, TypeError):
        return None


def _folder_inside(root: Path, relative: str, where: str) -> Path:
    try:
        return resolve_inside(root, relative)
    except PathEscapeError as error:
        raise RulePackError(
            ".deploy-config.json" if where.startswith("`rulePaths") else relative,
            None,
            None,
            f"{where}: {error}; keep rule folders inside the project",
        ) from None


def _configured_rule_paths(root: Path) -> list[str]:
    """Return `rulePaths` from `.deploy-config.json`, or [] without the file."""
    if not (root / ".deploy-config.json").is_file():
        return []
    from deploykit.config import load_deploy_config

    config = load_deploy_config(root)
    if config is None:
        return []
    return list(config.rule_paths)
