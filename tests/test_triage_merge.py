"""One failure quoted on several log lines is one finding with every line as evidence."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"


def test_triage_merges_lines_of_one_failure(cli: Callable[..., CompletedProcess[str]]) -> None:
    log = CASES / "sst-v2-cli-run-on-a-v3-config" / "deploy.log"
    result = cli("triage", str(log), "--format", "json")
    findings = [
        f for f in json.loads(result.stdout)["findings"]
        if f["rule_id"] == "versions/sst-v2-cli-on-v3-config-in-log"
    ]
    assert len(findings) == 1
    lines = [evidence["line"] for evidence in findings[0]["evidence"]]
    assert lines == [2, 4, 5]
