"""The one path: scope → rules → fact kinds → collectors → facts → findings → plans."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deploykit.collectors import CollectorSpec, collectors_for
from deploykit.context import RunContext
from deploykit.errors import InputError
from engine.facts import Fact, FactIndex, Source
from engine.fixing import FixContext, FixerRegistry, plan_fix
from engine.loader import RuleLoadError
from engine.matcher import evaluate, needed_kinds
from engine.model import Finding, Rule

log = logging.getLogger(__name__)


@dataclass
class Diagnosis:
    """The result of one pass of the engine."""

    rules: list[Rule]
    facts: FactIndex
    findings: list[Finding]
    timings: dict[str, float] = field(default_factory=dict)


def load_rules(root: Path | None = None, registry: FixerRegistry | None = None) -> list[Rule]:
    """Load the built-in rules and, with `root`, the project's own rule packs.

    Project rules replace built-in rules of the same id and `disable:` lists
    turn rules off (see `deploykit.rulepacks`). An invalid rule file raises
    `InvalidRulesError`, which names the file, line and key.
    """
    from deploykit.rulepacks import load_all_rules

    registry = registry or default_registry()
    try:
        return _load_with_cache(root, registry, lambda: load_all_rules(root, registry))
    except RuleLoadError as error:
        raise InvalidRulesError(error) from None


def _load_with_cache(
    root: Path | None, registry: FixerRegistry, load: Callable[[], list[Rule]]
) -> list[Rule]:
    """Return the rules from the rule cache (see `engine.cache`), or from `load` on a miss.

    Set DEPLOY_KIT_NO_RULE_CACHE=1 to always read the rule files.
    """
    import os

    import engine
    import fixers
    from deploykit import rulepacks
    from engine import cache

    if os.environ.get("DEPLOY_KIT_NO_RULE_CACHE"):
        return load()
    files = rulepacks.builtin_rule_files()
    if root is not None:
        files += rulepacks.project_rule_files(root)
    code = sorted(Path(engine.__file__).parent.glob("*.py"))
    code += sorted(Path(fixers.__file__).parent.glob("*.py"))
    code.append(Path(rulepacks.__file__))
    fixer_catalog = ";".join(f"{s.name}={s.max_safety}={s.target}" for s in registry)
    try:
        named_files = ((f.path, f"{f.pack}:{f.display}") for f in files)
        key = cache.cache_key(named_files, code, fixer_catalog)
    except OSError:
        return load()
    return cache.load_cached(cache.cache_folder(os.environ), key, load)


class InvalidRulesError(InputError):
    """A rule file that does not load; the message is `file:line: key `KEY`: problem`."""

    def __init__(self, error: RuleLoadError) -> None:
        super().__init__(str(error))
        self.file = error.file
        self.line = error.line
        self.key = error.key


def default_registry() -> FixerRegistry:
    from fixers import registry

    return registry()


def select_rules(
    rules: Sequence[Rule],
    scope: str | None,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> list[Rule]:
    """Keep rules in `scope` whose id matches `select` (if given) and not `ignore`.

    A selector matches a rule id exactly or as a prefix ending at a `/` or `-`
    boundary, so `git` selects `git/dirty-tree` but not `github/...`.
    """
    selected = list(select)
    ignored = list(ignore)
    chosen = []
    for rule in rules:
        if not rule.enabled:
            continue
        if scope is not None and scope not in rule.scopes:
            continue
        if selected and not any(id_matches(rule.id, s) for s in selected):
            continue
        if any(id_matches(rule.id, s) for s in ignored):
            continue
        chosen.append(rule)
    return chosen


def id_matches(rule_id: str, selector: str) -> bool:
    selector = selector.rstrip("/")
    if rule_id == selector:
        return True
    return rule_id.startswith(selector) and rule_id[len(selector)] in "/-"


def collect(context: RunContext, kinds: Iterable[str]) -> tuple[FactIndex, dict[str, float]]:
    """Run the collectors that provide `kinds`, concurrently, each with its timeout."""
    specs = collectors_for(kinds)
    return run_collectors(context, specs)


def run_collectors(
    context: RunContext,
    specs: Sequence[CollectorSpec],
) -> tuple[FactIndex, dict[str, float]]:
    results: queue.Queue[tuple[str, list[Fact] | BaseException, float]] = queue.Queue()

    def work(spec: CollectorSpec) -> None:
        started = time.perf_counter()
        try:
            facts: list[Fact] | BaseException = list(spec.load()(context))
        except BaseException as error:  # reported as a "could not check" finding
            facts = error
        results.put((spec.name, facts, time.perf_counter() - started))

    # Daemon threads: a collector that hangs past its timeout must not keep the
    # process alive after the report is printed.
    for spec in specs:
        threading.Thread(
            target=work, args=(spec,), name=f"collect-{spec.name}", daemon=True
        ).start()

    index = FactIndex()
    timings: dict[str, float] = {}
    pending = {spec.name: spec for spec in specs}
    deadline = {spec.name: time.monotonic() + spec.timeout for spec in specs}
    while pending:
        wait = max(0.0, min(deadline[name] for name in pending) - time.monotonic())
        try:
            name, outcome, elapsed = results.get(timeout=wait)
        except queue.Empty:
            now = time.monotonic()
            for name in [n for n in pending if deadline[n] <= now]:
                spec = pending.pop(name)
                index.add(collector_error(spec, f"timed out after {spec.timeout:g} s"))
            continue
        if name not in pending:  # already reported as timed out
            continue
        spec = pending.pop(name)
        timings[name] = elapsed
        if isinstance(outcome, BaseException):
            log.debug("collector %s failed", name, exc_info=outcome)
            index.add(collector_error(spec, _reason(outcome)))
        else:
            index.extend(outcome)
    return index, timings


def collector_error(spec: CollectorSpec, reason: str) -> Fact:
    return Fact(
        "collector.error",
        {
            "collector": spec.name,
            "kinds": sorted(spec.provides),
            "reason": reason,
            "description": spec.description or spec.name,
        },
        Source(command=f"collector {spec.name}"),
    )


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def diagnose(
    context: RunContext,
    rules: Sequence[Rule],
    registry: FixerRegistry | None = None,
    extra_facts: Iterable[Fact] = (),
) -> Diagnosis:
    """Collect the facts `rules` need, match them and plan fixes."""
    kinds = needed_kinds(rules) | {"collector.error", "run.context"}
    facts, timings = collect(context, kinds)
    facts.extend(extra_facts)

    started = time.perf_counter()
    findings = evaluate(rules, facts)
    timings["engine"] = time.perf_counter() - started

    registry = registry or default_registry()
    fix_context = FixContext(root=context.root, facts=facts, stage=context.stage, env=context.env)
    findings = [plan_fix(finding, fix_context, registry) for finding in findings]
    return Diagnosis(rules=list(rules), facts=facts, findings=findings, timings=timings)
