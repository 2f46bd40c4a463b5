"""`deploy-kit facts`: print collected facts as JSON for rule authors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from deploykit.collectors import CATALOG
from deploykit.context import RunContext
from deploykit.diagnosis import run_collectors
from deploykit.project import resolve_root


def run_facts(
    path: Path, *, kinds: list[str], stage: str | None, profile: str | None, offline: bool,
) -> int:
    root = resolve_root(path)
    context = RunContext(root=root, scope="doctor", stage=stage, profile=profile, offline=offline)
    specs = [
        spec for spec in CATALOG
        if not kinds or any(k == p or p.startswith(k + ".") or p.startswith(k) for k in kinds for p in spec.provides)
    ]
    index, _ = run_collectors(context, specs)
    facts = [
        fact.to_dict() for fact in index
        if not kinds or any(fact.kind == k or fact.kind.startswith(k) for k in kinds)
    ]
    json.dump(facts, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")
    return 0
