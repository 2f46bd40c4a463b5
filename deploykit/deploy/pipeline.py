"""The five stages of `deploy STAGE`.

1. pre-deploy checks: the engine in `deploy` scope, then the project's own
   checks (`preDeploymentChecks`, else typecheck/lint/test/build scripts);
2. deploy: the stage lock, the `preDeploy` and `postBuild` hooks, then
   `sst deploy --stage STAGE` (or `customDeployScript STAGE`);
3. health checks from `.deploy-config.json`;
4. CloudFront invalidation (`/*`), unless `skipCacheInvalidation` is set;
5. the summary, then the `postDeploy` hook on success or `onError` on failure.

The lock is held from the hooks to the end of the invalidation. A stage that
fails stops the pipeline, and its log goes to `triage_log` with
`failure={stage, exit_code, phase}`. `--dry-run` runs only the engine checks,
prints the plan, takes no lock and writes nothing.
"""

from __future__ import annotations

import logging
import re
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploykit.context import RunContext
from deploykit.deploy.summary import Output, Timeline
from deploykit.errors import InputError, UsageError

if TYPE_CHECKING:
    from deploykit.aws.session import AwsRun
    from deploykit.checks import CheckResult
    from deploykit.config import DeployConfig, StageConfig
    from deploykit.sst import LineSink, ProcessResult

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


class DeployInterrupted(Exception):
    """Ctrl-C or SIGTERM arrived while a stage ran; the stage has already stopped."""


@dataclass(frozen=True)
class DeployOptions:
    """The options of one `deploy STAGE` run."""

    root: Path
    stage: str
    profile: str | None = None
    dry_run: bool = False
    yes: bool = False
    fix: bool = False
    retry: int = 0
    wait: bool = False
    verbose: bool = False
    base_url: str | None = None
    interactive: bool = False
    env: Mapping[str, str] = field(default_factory=dict)


class DeployPipeline:
    """Runs the stages for one stage of one project and keeps the timeline."""

    def __init__(
        self, options: DeployOptions, config: DeployConfig | None, output: Output,
        ask: Callable[[str], str] = input,
    ) -> None:
        self.options = options
        self.config = config
        self.output = output
        self.ask = ask
        self.stage = options.stage
        self.root = options.root
        self.timeline = Timeline()
        self.context = RunContext(
            root=options.root, scope="deploy", stage=options.stage, profile=options.profile,
            env=dict(options.env),
        )
        self._aws: AwsRun | None = None
        self.outputs: dict[str, Any] = {}
        # Whether the last process's output went to the terminal line by line,
        # so that its tail need not be printed again after a failure.
        self._printed_in_full = False

    @property
    def stage_config(self) -> StageConfig:
        from deploykit.config import StageConfig

        return self.config.stage_config(self.stage) if self.config else StageConfig(self.stage)

    @property
    def hooks(self) -> dict[str, str]:
        return self.config.hooks if self.config else {}

    def run(self) -> int:
        """Run every stage and return the exit code: 0, 1 (a stage failed) or 130."""
        self.require_confirmation()
        try:
            code = self._run_stages()
        except DeployInterrupted:
            code = EXIT_INTERRUPTED
        except KeyboardInterrupt:
            self.timeline.add("deploy-kit", "interrupted", detail="Ctrl-C")
            code = EXIT_INTERRUPTED
        return self.finish(code)

    def _run_stages(self) -> int:
        if not self.checks_stage():
            return EXIT_FAILED
        if self.options.dry_run:
            self.print_plan()
            return EXIT_OK

        from deploykit.deploy.locking import stage_lock
        from deploykit.locks import LockHeldError

        started = time.monotonic()
        try:
            with stage_lock(
                self.root, self.stage, self._lock_settings(), f"deploy-kit deploy {self.stage}",
                session=lambda: self.aws().session(), app=self.app_name,
            ) as where:
                log.info("holding %s", where)
                ok = self.deploy_stage() and self.health_stage() and self.invalidation_stage()
        except LockHeldError as error:
            self.timeline.add("deploy", "failed", time.monotonic() - started, str(error))
            self.output.fail(str(error))
            return EXIT_FAILED
        return EXIT_OK if ok else EXIT_FAILED

    # Confirmation -----------------------------------------------------------

    def require_confirmation(self) -> None:
        """Ask for the stage name when the stage requires confirmation.

        Raises `UsageError` without a terminal and without `--yes`, before
        anything runs.
        """
        if not self.stage_config.requires_confirmation or self.options.dry_run or self.options.yes:
            return
        if not self.options.interactive:
            raise UsageError(
                f"stage {self.stage!r} requires confirmation (requiresConfirmation in "
                ".deploy-config.json) and there is no terminal to ask; rerun with --yes"
            )
        answer = self.ask(f"Deploying {self.stage} requires confirmation. Type the stage name: ")
        if answer.strip() != self.stage:
            raise UsageError(
                f"confirmation {answer.strip()!r} does not match stage {self.stage!r}; "
                "nothing was deployed, run the command again to retry"
            )

    # Stage 1: checks ----------------------------------------------------------

    def checks_stage(self) -> bool:
        from deploykit.checks import run_checks
        from deploykit.diagnosis import load_rules, select_rules
        from deploykit.render import render_report

        self.output.heading(f"Pre-deploy checks for {self.stage}")
        started = time.monotonic()
        rules = select_rules(load_rules(self.root), "deploy")
        result = run_checks(self.context, rules, fix=self.options.fix and not self.options.dry_run)
        if result.findings or result.fixes:
            render_report(result, "text", self.output.stream)
        if result.exit_code:
            errors = result.count("error")
            detail = f"{errors} error(s) found by the deploy checks"
            self._record("pre-deploy checks", "failed", started, detail)
            return False
        if self.options.dry_run:
            self._record("pre-deploy checks", "passed", started, "engine checks only (dry run)")
            return True

        from deploykit.deploy.project_checks import check_env, plan_project_checks

        configured = self.config.pre_deployment_checks if self.config else None
        for check in plan_project_checks(self.root, configured):
            run = self._run_process(
                check.argv, cwd=check.cwd, env=check_env(self.context.env),
                log_name=f"{self.stage}-check-{_slug(check.name)}", timeout=check.timeout,
                title=check.name, quiet=True,
            )
            if not run.ok:
                reason = f"exit code {run.exit_code}"
                if run.timed_out:
                    reason = f"timed out after {check.timeout:g} s"
                self.output.fail(f"{check.name} failed: {reason}")
                self.output.tail(check.describe(), run.tail)
                self._record("pre-deploy checks", "failed", started, f"{check.name}: {reason}")
                self.triage(run, "checks")
                return False
            self.output.note(f"✓ {check.name} ({run.duration:.1f} s)")
        self._record("pre-deploy checks", "passed", started)
        return True

    # Stage 2: deploy ----------------------------------------------------------

    def deploy_stage(self) -> bool:
        self.output.heading(f"Deploying {self.stage}")
        started = time.monotonic()
        for name in ("preDeploy", "postBuild"):
            if not self.run_hook(name):
                self._record("deploy", "failed", started, f"{name} hook failed")
                return False

        retries_left = max(0, self.options.retry)
        while True:
            argv, cwd, env, title = self.deploy_command()
            run = self._run_process(argv, cwd=cwd, env=env, log_name=self.stage, title=title)
            if run.ok:
                from deploykit.sst import read_outputs

                self.outputs = read_outputs(cwd)
                self._record("deploy", "passed", started, self.context_detail())
                return True

            self.output.fail(f"{title} failed with exit code {run.exit_code}")
            if not self._printed_in_full:
                self.output.tail(title, run.tail)
            triage = self.triage(run, "deploy")
            if retries_left > 0:
                retries_left -= 1
                self.output.warn(f"retrying the deploy ({retries_left} more retries allowed)")
                continue
            if self.offer_retry(triage):
                continue
            self._record("deploy", "failed", started, f"exit code {run.exit_code}")
            return False

    def deploy_command(self) -> tuple[list[str], Path, dict[str, str], str]:
        """Return argv, folder, environment and title of the deploy command."""
        from deploykit.sst import build_sst_command

        command = build_sst_command(
            self.root, self.stage, "deploy", profile=self.profile(), base_env=self.context.env,
        )
        script = self.config.custom_deploy_script if self.config else None
        if script:
            argv = [*shlex.split(script), self.stage]
            return argv, self.root, command.env, shlex.join(argv)
        return command.argv, command.cwd, command.env, f"sst deploy --stage {self.stage}"

    def context_detail(self) -> str:
        from deploykit.sst import output_urls

        urls = output_urls(self.outputs)
        return urls[0] if urls else ""

    def offer_retry(self, triage: CheckResult | None) -> bool:
        """Ask whether to retry after `--fix` applied safe fixes; only on a terminal."""
        if not self.options.fix or triage is None or not any(f.applied for f in triage.fixes):
            return False
        if not self.options.interactive:
            self.output.note("safe fixes were applied; rerun with --retry 1 to retry unasked")
            return False
        answer = self.ask("Safe fixes were applied. Retry the deploy? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    # Stage 3: health ----------------------------------------------------------

    def health_stage(self) -> bool:
        from deploykit.deploy.health import run_health_checks, stage_base_url

        started = time.monotonic()
        checks = self.config.health_checks if self.config else []
        if not checks:
            detail = "no healthChecks in .deploy-config.json"
            self._record("health checks", "skipped", started, detail)
            return True

        self.output.heading(f"Health checks for {self.stage}")
        base_url = stage_base_url(self.options.base_url, self.stage_config.domain, self.outputs)
        try:
            results = run_health_checks(checks, base_url)
        except InputError as error:
            # SST has deployed by now, so this is a failed stage, not an input error.
            self.output.fail(str(error))
            self._record("health checks", "failed", started, "no URL to check")
            return False
        self.output.health(results)
        failed = [result for result in results if not result.ok]
        if not failed:
            self._record("health checks", "passed", started, f"{len(results)} passed")
            return True

        log_path = self._write_stage_log("health", [result.describe() for result in results])
        self._record("health checks", "failed", started, f"{len(failed)} of {len(results)} failed")
        self.triage_file(log_path, EXIT_FAILED, "health")
        return False

    # Stage 4: CloudFront invalidation -----------------------------------------

    def invalidation_stage(self) -> bool:
        from deploykit.deploy.invalidation import invalidate_stage

        started = time.monotonic()
        if self.stage_config.skip_cache_invalidation:
            detail = f"skipCacheInvalidation is set for {self.stage}"
            self._record("cache invalidation", "skipped", started, detail)
            return True

        self.output.heading("CloudFront cache invalidation")
        outcome = invalidate_stage(
            self.aws().session(), self.app_name(), self.stage, self.stage_config.domain,
            self.outputs, wait=self.options.wait,
        )
        self.output.note(outcome.detail)
        self._record("cache invalidation", outcome.status, started, outcome.detail)
        if outcome.status != "failed":
            return True
        log_path = self._write_stage_log("invalidation", [outcome.detail])
        self.triage_file(log_path, EXIT_FAILED, "invalidation")
        return False

    # Stage 5: summary and hooks -------------------------------------------------

    def finish(self, code: int) -> int:
        if self.options.dry_run:
            return code
        failed = self.timeline.failed
        if code == EXIT_OK:
            if not self.run_hook("postDeploy"):
                code = EXIT_FAILED
        elif code == EXIT_FAILED and failed is not None:
            extra = {"DEPLOY_KIT_FAILED_PHASE": failed.name}
            if self.timeline.logs:
                extra["DEPLOY_KIT_LOG"] = str(self.timeline.logs[-1])
            self.run_hook("onError", extra)

        if code == EXIT_OK:
            outcome = f"deployed {self.stage}"
        elif code == EXIT_INTERRUPTED:
            outcome = f"deploy of {self.stage} interrupted; the lock was released and the log kept"
        else:
            where = failed.name if failed else "a hook"
            outcome = f"deploy of {self.stage} failed at {where}"
        self.output.timeline(self.timeline, outcome)
        return code

    # Dry run -----------------------------------------------------------------

    def print_plan(self) -> None:
        from deploykit.deploy.health import resolve_check_url, stage_base_url
        from deploykit.deploy.locking import describe_lock
        from deploykit.deploy.project_checks import plan_project_checks

        self.output.heading(f"Plan for deploying {self.stage} (dry run: nothing was changed)")
        configured = self.config.pre_deployment_checks if self.config else None
        for project_check in plan_project_checks(self.root, configured):
            self.output.note(f"check: {project_check.describe()}")
        self.output.note(f"lock: {describe_lock(self._lock_settings(), self.stage)}")
        for name in ("preDeploy", "postBuild"):
            if self.hooks.get(name):
                self.output.note(f"hook {name}: {self.hooks[name]}")
        argv, cwd, env, _ = self.deploy_command()
        profile = env.get("AWS_PROFILE")
        on_profile = f" with AWS_PROFILE={profile}" if profile else ""
        self.output.note(f"deploy: {shlex.join(argv)} (in {cwd}){on_profile}")

        checks = self.config.health_checks if self.config else []
        base_url = stage_base_url(self.options.base_url, self.stage_config.domain, {})
        for check in checks:
            try:
                url = resolve_check_url(check.url, base_url)
            except UsageError as error:
                url = str(error)
            except Exception as error:  # an unresolvable URL is shown, not raised, in a plan
                url = f"{check.url} ({error})"
            self.output.note(f"health check: GET {url} expecting {check.expected_status}")
        if self.stage_config.skip_cache_invalidation:
            self.output.note("cache invalidation: skipped (skipCacheInvalidation)")
        else:
            self.output.note("cache invalidation: /* on the stage's CloudFront distribution")
        if self.hooks.get("postDeploy"):
            self.output.note(f"hook postDeploy: {self.hooks['postDeploy']}")

    # Shared steps ----------------------------------------------------------------

    def run_hook(self, name: str, extra: Mapping[str, str] | None = None) -> bool:
        from deploykit.deploy.hooks import HOOK_TIMEOUT_SECONDS, make_hook

        hook = make_hook(self.hooks, name, self.stage, self.context.env, extra)
        if hook is None:
            return True
        self.output.note(f"hook {name}: {hook.command}")
        run = self._run_process(
            hook.argv, cwd=self.root, env=hook.env, log_name=f"{self.stage}-hook-{name}",
            timeout=HOOK_TIMEOUT_SECONDS, title=f"{name} hook",
        )
        if run.ok:
            return True
        self.output.fail(f"{name} hook failed with exit code {run.exit_code}")
        if not self._printed_in_full:
            self.output.tail(hook.command, run.tail)
        if name != "onError":
            self.triage(run, name)
        return False

    def triage(self, run: ProcessResult, phase: str) -> CheckResult | None:
        return self.triage_file(run.log_path, run.exit_code, phase)

    def triage_file(self, log_path: Path, exit_code: int, phase: str) -> CheckResult | None:
        from deploykit.render import render_report
        from deploykit.triage import triage_log

        failure = {"stage": self.stage, "exit_code": exit_code, "phase": phase}
        result = triage_log(self.context, log_path, failure=failure, fix=self.options.fix)
        self.output.heading(f"Diagnosis of the failed {phase}")
        render_report(result, "text", self.output.stream)
        return result

    def _run_process(
        self, argv: list[str], *, cwd: Path, env: Mapping[str, str], log_name: str, title: str,
        timeout: float | None = None, quiet: bool = False,
    ) -> ProcessResult:
        from deploykit.sst import PlainSink, SilentSink, choose_sink, new_log_path, run_streamed

        log_path = new_log_path(self.root, log_name)
        self.timeline.logs.append(log_path)
        sink: LineSink = (
            SilentSink() if quiet and not self.options.verbose
            else choose_sink(title, verbose=self.options.verbose, stream=self.output.stream)
        )
        self._printed_in_full = isinstance(sink, PlainSink)
        run = run_streamed(argv, cwd=cwd, env=env, log_path=log_path, sink=sink, timeout=timeout)
        if run.interrupted:
            self.timeline.add(title, "interrupted", run.duration, f"log kept at {log_path}")
            raise DeployInterrupted
        return run

    def _write_stage_log(self, phase: str, lines: list[str]) -> Path:
        from deploykit.sst import new_log_path

        path = new_log_path(self.root, f"{self.stage}-{phase}")
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        self.timeline.logs.append(path)
        return path

    def _record(self, name: str, status: str, started: float, detail: str = "") -> None:
        record = self.timeline.add(name, status, time.monotonic() - started, detail)
        self.output.stage(record)

    def _lock_settings(self) -> dict[str, str]:
        return self.config.lock if self.config else {"backend": "file"}

    def aws(self) -> AwsRun:
        if self._aws is None:
            from deploykit.aws.session import aws_run

            self._aws = aws_run(self.context)
        return self._aws

    def profile(self) -> str | None:
        """Return the resolved AWS profile for SST, or None for the default chain."""
        if self.options.profile:
            return self.options.profile
        value: str | None = self.aws().profile.value
        return value

    def app_name(self) -> str:
        app: str | None = self.aws().project.app
        return app or (self.config.project_name if self.config else None) or self.root.name


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "check"
