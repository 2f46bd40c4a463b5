"""`deploy-kit facts`: print collected facts as JSON for rule authors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from deploykit.collectors import CATALOG
from deploykit.context import RunContext
from deploykit.diagnosis import run_collectors
from deploykit.errors import UsageError
from deploykit.project import resolve_root
from deploykit.stages import check_stage_option
from engine.redact import redact_data


def run_facts(
    path: Path, *, kinds: list[str], stage: str | None, profile: str | None, offline: bool,
) -> int:
    root = resolve_root(path)
    check_stage_option(root, stage)
    known = sorted({kind for spec in CATALOG for kind in spec.provides} | {"collector.error"})
    for selector in kinds:
        if not any(_kind_matches(kind, selector) for kind in known):
            raise UsageError(
                f"unknown fact kind {selector!r}; known kinds: {', '.join(known)}"
            )

    context = RunContext(root=root, scope="doctor", stage=stage, profile=profile, offline=offline)
    specs = [
        spec for spec in CATALOG
        if not kinds or any(_kind_matches(p, k) for k in kinds for p in spec.provides)
    ]
    index, _ = run_collectors(context, specs)
    wanted = [*kinds, "collector.error"] if kinds else []
    facts = [
        redact_data(fact.to_dict()) for fact in index
        if not wanted or any(_kind_matches(fact.kind, k) for k in wanted)
    ]
    json.dump(facts, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")
    return 0


def _kind_matches(kind: str, selector: str) -> bool:
    """`aws` selects `aws.profile`; `aws.profile` selects only itself."""
    selector = selector.rstrip(".")
    return kind == selector or kind.startswith(selector + ".")
