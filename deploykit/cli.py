"""Command-line entry point.

Each command parses its options, calls one function in `deploykit.commands`
and returns that function's exit code. Heavy modules (boto3, httpx,
tree-sitter) are imported inside those functions, never here, so that
`deploy-kit --help` starts fast.

Exit codes: 0 no error-severity findings left, 1 errors remain (or a deploy
failed), 2 usage or input errors.
"""

from __future__ import annotations

import logging
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from deploykit.errors import DeployKitError, UsageError

app = typer.Typer(
    name="deploy-kit",
    help="Diagnose, repair and deploy SST + Next.js + DynamoDB applications on AWS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: rich help formatting imports typer.rich_utils and
    # markdown-it, which more than doubled the time of `deploy-kit --help`.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
rules_app = typer.Typer(help="List, show, test and scaffold diagnosis rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


class _State:
    debug = False
    verbose = False


ProjectPath = Annotated[
    Path,
    typer.Argument(help="Project folder (the one with sst.config.ts). Default: current folder."),
]
StageOption = Annotated[
    str | None, typer.Option("--stage", help="SST stage to check, such as `staging`.")
]
ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", help="AWS profile; overrides awsProfile and sst.config.ts."),
]
OfflineOption = Annotated[bool, typer.Option("--offline", help="Skip every AWS call.")]
SelectOption = Annotated[
    list[str] | None,
    typer.Option("--select", help="Run only rules with this id or id prefix (repeatable)."),
]
IgnoreOption = Annotated[
    list[str] | None,
    typer.Option("--ignore", help="Skip rules with this id or id prefix (repeatable)."),
]
FormatOption = Annotated[str, typer.Option("--format", help="Report format: text, json or sarif.")]


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show log messages and full output.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks for internal errors.")
    ] = False,
) -> None:
    _State.verbose = verbose
    _State.debug = debug
    level = logging.WARNING
    if verbose:
        level = logging.INFO
    if debug:
        level = logging.DEBUG
    logging.basicConfig(
        level=level,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def doctor(
    path: ProjectPath = Path("."),
    fix: Annotated[bool, typer.Option("--fix", help="Apply safe fixes, then verify them.")] = False,
    stage: StageOption = None,
    profile: ProfileOption = None,
    offline: OfflineOption = False,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    output_format: FormatOption = "text",
) -> None:
    """Diagnose the project, this machine and the AWS account; --fix repairs what is safe."""
    from deploykit.commands.doctor import run_doctor

    _exit(
        lambda: run_doctor(
            path,
            fix=fix,
            stage=stage,
            profile=profile,
            offline=offline,
            select=select or [],
            ignore=ignore or [],
            output_format=_report_format(output_format),
            verbose=_State.verbose,
        )
    )


@app.command()
def validate(path: ProjectPath = Path(".")) -> None:
    """Validate .deploy-config.json and report each error with its field path."""
    from deploykit.commands.validate import run_validate

    _exit(lambda: run_validate(path))


@app.command()
def facts(
    path: ProjectPath = Path("."),
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", help="Only facts of this kind or kind prefix (repeatable)."),
    ] = None,
    stage: StageOption = None,
    profile: ProfileOption = None,
    offline: OfflineOption = False,
) -> None:
    """Print every collected fact as JSON, for writing rules."""
    from deploykit.commands.facts import run_facts

    _exit(lambda: run_facts(path, kinds=kind or [], stage=stage, profile=profile, offline=offline))


@app.command()
def fix(
    rule_id: Annotated[
        str | None, typer.Argument(help="Rule id whose manual fix to apply.")
    ] = None,
    path: Annotated[Path, typer.Option("--project", "-C", help="Project folder.")] = Path("."),
    undo: Annotated[
        bool, typer.Option("--undo", help="Restore the files changed by the last fix.")
    ] = False,
    stage: StageOption = None,
    profile: ProfileOption = None,
    offline: OfflineOption = False,
) -> None:
    """Apply one finding's fix after confirmation, or undo the last applied fixes."""
    from deploykit.commands.fix import run_fix

    _exit(
        lambda: run_fix(
            path, rule_id=rule_id, undo=undo, stage=stage, profile=profile, offline=offline
        )
    )


@rules_app.command("list")
def rules_list(
    path: Annotated[Path, typer.Option("--project", "-C", help="Project folder.")] = Path("."),
    scope: Annotated[
        str | None, typer.Option("--scope", help="doctor, dev, deploy or triage.")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="builtin or project.")] = None,
) -> None:
    """List the rules with id, severity, scopes and fix safety."""
    from deploykit.commands.rules import run_rules_list

    _exit(lambda: run_rules_list(path, scope=scope, source=source))


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(help="Rule id.")],
    path: Annotated[Path, typer.Option("--project", "-C", help="Project folder.")] = Path("."),
) -> None:
    """Show a rule: why it matters, manual steps, fix safety and example facts."""
    from deploykit.commands.rules import run_rules_show

    _exit(lambda: run_rules_show(path, rule_id))


@rules_app.command("test")
def rules_test(
    path: Annotated[
        Path | None, typer.Argument(help="A rule file or folder; default: all rules.")
    ] = None,
    project: Annotated[Path, typer.Option("--project", "-C", help="Project folder.")] = Path("."),
) -> None:
    """Run every rule's own must-match and must-not-match cases."""
    from deploykit.commands.rules import run_rules_test

    _exit(lambda: run_rules_test(project, path))


@rules_app.command("new")
def rules_new(
    rule_id: Annotated[
        str, typer.Argument(help="Id of the new rule, such as `acme/debug-flag-on`.")
    ],
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Fact kind to match; a fact collected now is the example."),
    ] = None,
    log_line: Annotated[
        str | None, typer.Option("--log-line", help="Log line to match, copied from a failed run.")
    ] = None,
    project: Annotated[Path, typer.Option("--project", "-C", help="Project folder.")] = Path("."),
    offline: OfflineOption = False,
) -> None:
    """Write .deploy-kit/rules/ID.yaml: a rule with its test cases, never overwriting."""
    from deploykit.commands.rules import run_rules_new

    _exit(lambda: run_rules_new(project, rule_id, kind=kind, log_line=log_line, offline=offline))


@rules_app.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of rule files (for editors and CI)."""
    from deploykit.commands.rules import run_rules_schema

    _exit(run_rules_schema)


@rules_app.command("fixers")
def rules_fixers() -> None:
    """List the fixers: name, maximum safety, summary and parameters."""
    from deploykit.commands.rules import run_rules_fixers

    _exit(run_rules_fixers)


@app.command()
def deploy(
    stage: Annotated[str, typer.Argument(help="SST stage to deploy, such as `staging`.")],
    path: Annotated[Path, typer.Option("--project", "-C", help="Project folder.")] = Path("."),
    profile: ProfileOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Run the checks and print the plan only.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Confirm stages that require it without a prompt.")
    ] = False,
    fix: Annotated[
        bool, typer.Option("--fix", help="Apply safe fixes when a stage fails.")
    ] = False,
    retry: Annotated[
        int,
        typer.Option(
            "--retry",
            min=0,
            help="Retry a failed deploy up to N times without asking (after --fix applies fixes).",
        ),
    ] = 0,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the CloudFront invalidation to finish.")
    ] = False,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="URL that health check paths are joined to.")
    ] = None,
) -> None:
    """Check, deploy with SST, health-check and invalidate the cache for STAGE."""
    from deploykit.commands.deploy import run_deploy

    _exit(
        lambda: run_deploy(
            path,
            stage,
            profile=profile,
            dry_run=dry_run,
            yes=yes,
            fix=fix,
            retry=retry,
            wait=wait,
            verbose=_State.verbose,
            base_url=base_url,
        )
    )


@app.command()
def dev(
    path: Annotated[Path, typer.Option("--project", "-C", help="Project folder.")] = Path("."),
    stage: StageOption = None,
    profile: ProfileOption = None,
    port: Annotated[
        int,
        typer.Option(
            "--port", min=1, max=65535, help="Dev server port; the next free one if taken."
        ),
    ] = 3000,
    skip_checks: Annotated[
        bool, typer.Option("--skip-checks", help="Start sst dev without the pre-flight checks.")
    ] = False,
) -> None:
    """Run the pre-flight checks, then start `sst dev`."""
    from deploykit.commands.dev import run_dev

    _exit(
        lambda: run_dev(
            path,
            stage=stage,
            profile=profile,
            port=port,
            skip_checks=skip_checks,
            verbose=_State.verbose,
        )
    )


@app.command()
def health(
    stage: Annotated[str, typer.Argument(help="SST stage whose health checks to run.")],
    path: Annotated[Path, typer.Option("--project", "-C", help="Project folder.")] = Path("."),
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="URL that health check paths are joined to, instead of the stage domain.",
        ),
    ] = None,
) -> None:
    """Run the health checks from .deploy-config.json against STAGE."""
    from deploykit.commands.health import run_health

    _exit(lambda: run_health(path, stage, base_url=base_url))


@app.command()
def triage(
    log_file: Annotated[
        str, typer.Argument(help="Log file to diagnose, or - for standard input.")
    ] = "-",
    path: Annotated[Path, typer.Option("--project", "-C", help="Project folder.")] = Path("."),
    fix: Annotated[bool, typer.Option("--fix", help="Apply safe fixes.")] = False,
    output_format: FormatOption = "text",
) -> None:
    """Diagnose a saved SST, CI or dev log."""
    from deploykit.commands.triage import run_triage

    _exit(lambda: run_triage(path, log_file, fix=fix, output_format=_report_format(output_format)))


def _report_format(value: str) -> str:
    """Check `--format` inside `_exit`, so a wrong value is one `error:` line and exit 2."""
    try:
        return OutputFormat(value).value
    except ValueError:
        choices = ", ".join(item.value for item in OutputFormat)
        raise UsageError(f"unknown --format {value!r}; use one of {choices}") from None


def _exit(command: object) -> None:
    """Run a command function and turn its result or error into the exit code."""
    try:
        code = command()  # type: ignore[operator]
    except DeployKitError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    except BrokenPipeError:
        # The reader of stdout (such as `| head`) closed it. Point stdout at
        # /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(1) from None
    except Exception as error:
        if _State.debug:
            raise
        typer.echo(
            f"internal error: {type(error).__name__}: {error}. Rerun with --debug for the "
            "traceback and report it.",
            err=True,
        )
        raise typer.Exit(3) from None
    raise typer.Exit(int(code or 0))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
