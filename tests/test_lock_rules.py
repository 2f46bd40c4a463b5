"""Lock facts, rules and the remove-stale-lock fixer, on real lock files."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deploykit.checks import run_checks
from deploykit.collectors.locks import collect
from deploykit.diagnosis import Diagnosis, diagnose
from deploykit.locks.file_lock import acquire_file_lock
from engine.facts import Fact, FactIndex
from engine.fixing import FixContext, plan_fix
from engine.matcher import evaluate
from engine.model import Finding
from fixers import registry
from tests.conftest import REPO
from tests.lock_helpers import context, make_project, rules_for

HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from deploykit.locks.file_lock import acquire_file_lock
    lock = acquire_file_lock(Path(sys.argv[1]), "prod", "deploy-kit deploy prod")
    print("ready", flush=True)
    sys.stdin.read()
    lock.release()
    """
)


def finding_of(diagnosis: Diagnosis, rule_id: str) -> Finding:
    (finding,) = [f for f in diagnosis.findings if f.rule.id == rule_id]
    return finding


def lock_facts(project: Path) -> list[Fact]:
    return list(collect(context(project)))


def test_lock_fact_sample_is_stale(copy_project: Callable[[str], Path]) -> None:
    project = copy_project("broken")
    (fact,) = lock_facts(project)
    assert fact.kind == "lock.file"
    assert fact.get("stage") == "staging"
    assert fact.get("expired") is True
    assert fact.get("same_host") is False
    assert fact.get("holder_alive") is None
    assert fact.get("stale") is True


def test_stale_lock_rule_plans_exact_deletion(copy_project: Callable[[str], Path]) -> None:
    project = copy_project("broken")
    diagnosis = diagnose(context(project), rules_for("doctor", "locks"))
    finding = finding_of(diagnosis, "locks/stale-file-lock")
    assert "ci@build-runner-7" in finding.message
    assert finding.plan is not None
    assert finding.plan.safety == "safe"
    (edit,) = finding.plan.edits
    assert edit.path == ".deployment-lock-staging"
    assert edit.before == (project / ".deployment-lock-staging").read_bytes()
    assert edit.after is None


def test_stale_lock_fix_is_verified(copy_project: Callable[[str], Path]) -> None:
    project = copy_project("broken")
    result = run_checks(context(project), rules_for("doctor", "locks"), fix=True)
    (outcome,) = [o for o in result.fixes if o.finding.rule.id == "locks/stale-file-lock"]
    assert outcome.applied
    assert outcome.verified is True
    assert not (project / ".deployment-lock-staging").exists()


def test_live_lock_blocks_deploy_of_its_stage(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(project), str(REPO)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        diagnosis = diagnose(context(project, "deploy", stage="prod"), rules_for("deploy", "locks"))
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    finding = finding_of(diagnosis, "locks/stage-locked-by-another-deploy")
    assert finding.severity == "error"
    assert f"pid {holder.pid}" in finding.message
    assert finding.plan is not None
    assert finding.plan.safety == "manual"


def test_live_lock_ignored_for_other_stage(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    with acquire_file_lock(project, "prod", "deploy-kit deploy prod"):
        diagnosis = diagnose(
            context(project, "deploy", stage="staging"), rules_for("deploy", "locks"),
        )
    assert [f.rule.id for f in diagnosis.findings if f.rule.id.startswith("locks/")] == []


def test_own_lock_is_not_a_finding(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    with acquire_file_lock(project, "prod", "deploy-kit deploy prod"):
        diagnosis = diagnose(context(project, "deploy", stage="prod"), rules_for("deploy", "locks"))
    assert [f.rule.id for f in diagnosis.findings if f.rule.id.startswith("locks/")] == []


def test_malformed_lock_is_a_finding(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    (project / ".deployment-lock-staging").write_text("{not json")
    diagnosis = diagnose(context(project), rules_for("doctor", "locks"))
    finding = finding_of(diagnosis, "locks/malformed-file-lock")
    assert ".deployment-lock-staging:1:2" in finding.message


def test_malformed_lock_doctor_cli_reports_it(
    tmp_path: Path, cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    project = make_project(tmp_path / "shop")
    (project / ".deployment-lock-staging").write_bytes(b"\xff\xfe")
    result = cli("doctor", str(project), "--offline", "--select", "locks")
    assert "Traceback" not in result.stderr
    assert "locks/malformed-file-lock" in result.stdout


def test_remove_stale_lock_manual_when_lock_came_alive(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    now = datetime.now(UTC)
    stale = {
        "stage": "prod", "deployer": "ci@runner", "pid": 999999, "host": "runner",
        "command": "deploy", "createdAt": (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expiresAt": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    path = project / ".deployment-lock-prod"
    path.write_text(json.dumps(stale))
    rules = rules_for("doctor", "locks")
    facts = lock_facts(project)

    # Another deploy takes the lock over between collecting and planning.
    path.unlink()
    index = FactIndex(facts)
    (finding,) = [f for f in evaluate(rules, index) if f.rule.id == "locks/stale-file-lock"]
    with acquire_file_lock(project, "prod", "deploy-kit deploy prod"):
        planned = plan_fix(finding, FixContext(root=project, facts=index), registry())
    assert planned.plan is not None
    assert planned.plan.safety == "manual"
    assert planned.plan.edits == ()
    assert socket.gethostname() in planned.plan.description
