"""Sign in to AWS again: `aws sso login` for SSO profiles, `aws configure` otherwise.

Always manual: it changes credentials outside the project and needs a person
at a browser or keyboard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.facts import Fact
from engine.fixing import FixContext
from engine.model import Finding
from engine.plan import CommandStep, FixPlan

DEFAULT_PROFILE = "default"


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan the sign-in command for the profile named by the finding or the run."""
    profile_fact = _first(context.facts.of_kind("aws.profile"))
    profile = _profile_name(finding, profile_fact)
    sso = _is_sso(finding, profile_fact, context, profile)

    if sso:
        argv: tuple[str, ...] = ("aws", "sso", "login", "--profile", profile)
        description = f"sign in to AWS SSO again for profile {profile}"
    elif profile == DEFAULT_PROFILE:
        argv = ("aws", "configure")
        description = "store access keys for the default AWS profile"
    else:
        argv = ("aws", "configure", "--profile", profile)
        description = f"store access keys for AWS profile {profile}"

    steps = [line for line in finding.rule.manual_steps.splitlines() if line.strip()]
    return FixPlan(
        rule_id=finding.rule.id,
        fixer="aws-login",
        safety="manual",
        description=description,
        commands=(CommandStep(argv, description),),
        steps=tuple(steps),
    )


def _profile_name(finding: Finding, profile_fact: Fact | None) -> str:
    primary = finding.fact
    if primary is not None:
        field = "name" if primary.kind == "aws.profile" else "profile"
        value = primary.get(field)
        if isinstance(value, str) and value:
            return value
    if profile_fact is not None and isinstance(profile_fact.get("name"), str):
        return str(profile_fact.get("name"))
    return DEFAULT_PROFILE


def _is_sso(
    finding: Finding, profile_fact: Fact | None, context: FixContext, profile: str,
) -> bool:
    if finding.fact is not None and finding.fact.kind == "aws.sso":
        return True
    if any(fact.get("profile") == profile for fact in context.facts.of_kind("aws.sso")):
        return True
    return profile_fact is not None and profile_fact.get("sso") is True and (
        profile_fact.get("name") == profile
    )


def _first(facts: list[Fact]) -> Fact | None:
    return facts[0] if facts else None
