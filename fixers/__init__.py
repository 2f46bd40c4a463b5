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
    FixerSpec(
        "set-run-env",
        "safe",
        "fixers.set_run_env:plan",
        "set an environment variable for the next SST run",
    ),
    FixerSpec(
        "json-set-key",
        "safe",
        "fixers.json_key:plan_set",
        "set a key in a JSON file, keeping its formatting",
    ),
    FixerSpec(
        "json-delete-key",
        "safe",
        "fixers.json_key:plan_delete",
        "delete a key from a JSON file, keeping its formatting",
    ),
    FixerSpec(
        "replace-text",
        "safe",
        "fixers.replace_text:plan",
        "replace text matched by an RE2 pattern in a project file",
    ),
    FixerSpec(
        "delete-build-path",
        "safe",
        "fixers.delete_build_path:plan",
        "move a regenerable build path (.sst, .next, ...) aside",
    ),
    FixerSpec(
        "run-command",
        "manual",
        "fixers.run_command:plan",
        "show a command for the user to run",
    ),
    FixerSpec(
        "aws-login",
        "manual",
        "fixers.aws_login:plan",
        "sign in to AWS again (aws sso login, or aws configure for access keys)",
    ),
    FixerSpec(
        "sst-unlock",
        "safe",
        "fixers.sst_unlock:plan",
        "release SST's state lock of a stage with sst unlock --stage, when proven stale",
    ),
    FixerSpec(
        "rename-app-key",
        "safe",
        "fixers.rename_app_key:plan",
        "rename a misspelled key of app() in sst.config.ts, such as provider to providers",
    ),
    FixerSpec(
        "drop-dynamo-fields",
        "safe",
        "fixers.drop_dynamo_fields:plan",
        "remove Dynamo `fields` entries that no index uses",
    ),
    FixerSpec(
        "remove-next-experimental",
        "manual",
        "fixers.remove_next_experimental:plan",
        "remove one `experimental` key from next.config",
    ),
    FixerSpec(
        "interpolate-output",
        "manual",
        "fixers.interpolate_output:plan",
        "wrap a template literal that reads an Output in $interpolate",
    ),
    FixerSpec(
        "reserved-env-var",
        "manual",
        "fixers.reserved_env_var:plan",
        "remove a Lambda reserved key from a component's environment",
    ),
    FixerSpec(
        "split-dev-script",
        "safe",
        "fixers.split_dev_script:plan",
        "make a recursive `sst dev` dev script run the framework and keep it as sst:dev",
    ),
    FixerSpec(
        "remove-stale-lock",
        "safe",
        "fixers.remove_stale_lock:plan",
        "delete a lock file whose holder is gone (expired, or a dead pid on this host)",
    ),
    FixerSpec(
        "regenerate-sst-platform",
        "safe",
        "fixers.regenerate_sst_platform:plan",
        "run the project's own `sst install` to rebuild .sst/platform when SST is not running",
    ),
    FixerSpec(
        "stop-port-process",
        "manual",
        "fixers.stop_port_process:plan",
        "stop the process that holds a port, naming its pid and command",
    ),
    FixerSpec(
        "next-free-port",
        "safe",
        "fixers.next_free_port:plan",
        "run the next dev server on the first free port (PORT for the next SST run)",
    ),
    FixerSpec(
        "install-dependencies",
        "safe",
        "fixers.install_dependencies:plan",
        "install a package's dependencies from its lockfile without changing it",
    ),
)


def registry() -> FixerRegistry:
    return FixerRegistry(CATALOG)
