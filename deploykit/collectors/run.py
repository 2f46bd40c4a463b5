"""The `run.context` fact: scope, stage and mode of this run, for rules to test."""

from __future__ import annotations

from collections.abc import Iterable

from deploykit.context import RunContext
from engine.facts import Fact, Source


def collect(context: RunContext) -> Iterable[Fact]:
    yield Fact(
        "run.context",
        {
            "scope": context.scope,
            "stage": context.stage,
            "profile": context.profile,
            "offline": context.offline,
            "ci": context.ci,
        },
        Source(command="deploy-kit"),
    )
