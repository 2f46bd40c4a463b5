"""Triage of a 50 MB deploy log with every triage rule: throughput and peak memory.

Target: 100 MB/s or more and a peak resident size under 100 MB. Run with
`.venv/bin/python -m pytest benchmarks/test_triage_bench.py --benchmark-enable -s`;
the throughput and memory figures are printed and stored in `extra_info`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from deploykit.collectors.logs import PHASE_MARKERS, SST_LOG_POINTER, STAGE_HEADER, STAGE_OPTION
from deploykit.context import RunContext
from deploykit.diagnosis import load_rules, select_rules
from deploykit.triage import triage_log
from engine.logfacts import ANSI, LogScanner, text_patterns

LOG_BYTES = 50 * 1000 * 1000

# Ordinary SST deploy output, with colours and the error lines that the rules
# look for spread out (one in every 20,000 lines).
ORDINARY = [
    "|  Created     Web sst:aws:Nextjs → WebServerEuwest1Function aws:lambda:Function (3.2s)",
    "|  Updated     \x1b[1mWebCdnDistribution\x1b[0m aws:cloudfront:Distribution (1m 2.1s)",
    "|  Building    Web sst:aws:Nextjs (next build)",
    "   ▲ Next.js 15.3.1",
    "   Creating an optimized production build ...",
    " ✓ Compiled successfully in 21.0s",
    "   Collecting page data ...",
    "|  Log         Web [cache] uploading 1873 files to s3://my-app-production-assets-abcd/",
]
ERRORS = [
    "Error: listen EADDRINUSE: address already in use :::3000",
    "Details: retrieving credentials: static credentials are empty",
    "|  Locked      A concurrent update was detected on the app.",
]


def write_log(path: Path, size: int = LOG_BYTES, *, colour: bool = True) -> Path:
    ordinary = ORDINARY if colour else [ANSI.sub("", line) for line in ORDINARY]
    line_number = 0
    written = 0
    with path.open("wb") as stream:
        while written < size:
            lines = []
            for _ in range(10_000):
                line_number += 1
                if line_number % 20_000 == 0:
                    lines.append(ERRORS[(line_number // 20_000) % len(ERRORS)])
                else:
                    lines.append(ordinary[line_number % len(ordinary)])
            data = ("\n".join(lines) + "\n").encode("utf-8")
            stream.write(data)
            written += len(data)
    return path


@pytest.fixture(scope="module", params=["colour", "plain"])
def big_log(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 50 MB log; `colour` has ANSI codes on one line in eight, `plain` has none."""
    folder = tmp_path_factory.mktemp(request.param)
    return write_log(folder / "deploy.log", colour=request.param == "colour")


@pytest.fixture(scope="module")
def patterns() -> list[str]:
    rules = select_rules(load_rules(), "triage")
    found, _ = text_patterns(rules)
    own = [STAGE_HEADER, STAGE_OPTION, SST_LOG_POINTER, *(marker for marker, _ in PHASE_MARKERS)]
    return [*found, *own]


def _scan(path: Path, scanner: LogScanner) -> int:
    with path.open("rb") as stream:
        return sum(1 for _ in scanner.scan(stream, "deploy.log"))


def test_bench_scan_50mb_log(benchmark: Any, big_log: Path, patterns: list[str]) -> None:
    scanner = LogScanner(patterns)
    size = big_log.stat().st_size

    found = benchmark.pedantic(_scan, args=(big_log, scanner), rounds=3, iterations=1)

    seconds = benchmark.stats.stats.min
    benchmark.extra_info.update(
        {"bytes": size, "patterns": len(patterns), "mb_per_s": size / seconds / 1e6}
    )
    print(f"\nscan: {size / 1e6:.0f} MB, {len(patterns)} patterns, {size / seconds / 1e6:.0f} MB/s")
    assert found > 0


def test_bench_triage_log_end_to_end(benchmark: Any, big_log: Path, tmp_path: Path) -> None:
    rules = select_rules(load_rules(), "triage")
    context = RunContext(root=tmp_path)
    size = big_log.stat().st_size

    def run() -> int:
        result = triage_log(context, big_log, failure=None, fix=False, rules=rules)
        return len(result.findings)

    findings = benchmark.pedantic(run, rounds=2, iterations=1)

    seconds = benchmark.stats.stats.min
    benchmark.extra_info.update({"bytes": size, "mb_per_s": size / seconds / 1e6})
    print(f"\ntriage_log: {size / 1e6:.0f} MB, {len(rules)} rules, {size / seconds / 1e6:.0f} MB/s")
    assert findings > 0


PEAK_SCRIPT = """
import json, resource, sys, time
from pathlib import Path
from deploykit.context import RunContext
from deploykit.triage import triage_log

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
result = triage_log(RunContext(root=Path(sys.argv[2])), Path(sys.argv[1]), failure=None, fix=False)
elapsed = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"start_kib": before, "peak_kib": after, "seconds": elapsed,
                  "findings": len(result.findings)}))
"""


def test_bench_triage_peak_memory(big_log: Path, tmp_path: Path) -> None:
    """Peak resident size of a fresh process that triages the log (ru_maxrss, Linux KiB)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(big_log), str(tmp_path)],
        capture_output=True, text=True, check=True, timeout=600,
    )
    measured: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    print(
        f"\npeak RSS {measured['peak_kib'] / 1024:.0f} MiB "
        f"(after imports {measured['start_kib'] / 1024:.0f} MiB), "
        f"triage {measured['seconds']:.2f} s, process {time.perf_counter() - started:.2f} s"
    )
    assert measured["peak_kib"] < 100 * 1024
