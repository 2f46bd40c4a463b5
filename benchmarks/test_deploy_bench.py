"""deploy-kit's own time around a replayed successful `sst deploy`.

Run with `pytest benchmarks/test_deploy_bench.py --benchmark-enable`. The fake
sst replays `fixtures/sst/deploy-timed.txt`, which pauses after each line.
`extra_info["overhead_s"]` is the mean time minus that replay delay and minus
the fake's own start-up (a replay of an empty transcript, which with a pyenv
shim takes several hundred ms). Target: under 1 s of overhead. Nothing here
fails on a slow run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from deploykit.deploy.pipeline import DeployOptions, DeployPipeline
from deploykit.deploy.summary import Output
from tests.fakesst import FAKE_SST, fake_sst_env
from tests.fakesst.projects import FIXTURES, prepare_healthy_project

TRANSCRIPT = FIXTURES / "sst" / "deploy-timed.txt"


def transcript_delay(path: Path) -> float:
    """Return the seconds the fake sleeps while replaying `path` (header `delay` per line)."""
    header, _, body = path.read_text(encoding="utf-8").partition("\n---\n")
    delay = next(
        float(line.split(":", 1)[1]) for line in header.splitlines() if line.startswith("delay:")
    )
    return delay * len(body.splitlines())


def fake_start_seconds(tmp_path: Path, env: dict[str, str]) -> float:
    """Return the median wall time of the fake replaying an empty transcript."""
    empty = tmp_path / "empty.txt"
    empty.write_text("exit: 0\n---\n", encoding="utf-8")
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(
            [str(FAKE_SST), "deploy"], env={**env, "FAKE_SST_TRANSCRIPT": str(empty)},
            cwd=tmp_path, stdout=subprocess.DEVNULL, check=True,
        )
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def test_bench_deploy_stage_overhead(benchmark: Any, tmp_path: Path) -> None:
    """The deploy stage: stage lock, run settings, streaming, log file and outputs."""
    root = prepare_healthy_project(tmp_path / "notes", {"healthChecks": []})
    env = {**os.environ, **fake_sst_env(tmp_path / "record.jsonl", "deploy-timed")}
    options = DeployOptions(root=root, stage="staging", profile="notes-dev", env=env)
    sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - closed below

    def deploy_once() -> None:
        from deploykit.deploy.locking import stage_lock

        pipeline = DeployPipeline(options, None, Output(sink))
        settings = {"backend": "file"}
        with stage_lock(root, "staging", settings, "bench", session=dict, app=lambda: "notes"):
            assert pipeline.deploy_stage()

    durations: list[float] = []

    def timed() -> None:
        started = time.perf_counter()
        deploy_once()
        durations.append(time.perf_counter() - started)

    try:
        benchmark.pedantic(timed, rounds=5, iterations=1, warmup_rounds=1)
    finally:
        sink.close()
    delay = transcript_delay(TRANSCRIPT)
    start_up = fake_start_seconds(tmp_path, env)
    benchmark.extra_info["transcript_delay_s"] = round(delay, 3)
    benchmark.extra_info["fake_start_s"] = round(start_up, 3)
    benchmark.extra_info["overhead_s"] = round(statistics.mean(durations) - delay - start_up, 3)
