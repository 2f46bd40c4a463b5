"""Fixers: each module repairs one kind of problem.

`CATALOG` lists every fixer with the most it may be trusted with. A rule that
names a fixer with a higher safety than its maximum is rejected when it loads.
Add a fixer by writing `fixers/NAME.py` with a function
`plan(finding, context, params) -> FixPlan | None` and one line below.
"""

from __future__ import annotations

from engine.fixing import FixerRegistry, FixerSpec

CATALOG: tuple[FixerSpec, ...] = (
    FixerSpec("explain", "manual", "fixers.explain:plan", "show the rule's manual steps"),
    FixerSpec("set-run-env", "safe", "fixers.set_run_env:plan", "set an environment variable for the next SST run"),
    FixerSpec(
        "json-set-key", "safe", "fixers.json_key:plan_set",
        "set a key in a JSON file, keeping its formatting",
    ),
    FixerSpec(
        "json-delete-key", "safe", "fixers.json_key:plan_delete",
        "delete a key from a JSON file, keeping its formatting",
    ),
    FixerSpec(
        "replace-text", "safe", "fixers.replace_text:plan",
        "replace text matched by an RE2 pattern in a project file",
    ),
    FixerSpec(
        "delete-build-path", "safe", "fixers.delete_build_path:plan",
        "move a regenerable build path (.sst, .next, ...) aside",
    ),
    FixerSpec(
        "run-command", "manual", "fixers.run_command:plan",
        "show a command for the user to run",
    ),
    FixerSpec(
        "aws-login", "manual", "fixers.aws_login:plan",
        "sign in to AWS again (aws sso login, or aws configure for access keys)",
    ),
    FixerSpec(
        "sst-unlock", "safe", "fixers.sst_unlock:plan",
        "release SST's state lock of a stage with sst unlock --stage, when proven stale",
    ),
)


def registry() -> FixerRegistry:
    return FixerRegistry(CATALOG)
