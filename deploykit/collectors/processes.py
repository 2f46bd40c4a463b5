"""Processes: SST and Next.js processes running in this project.

A process belongs to the project when its working directory is the project
root or below it. Processes of other users, whose working directory cannot be
read, are not reported.

Facts:

- `process.sst` (one per process): `pid`, `mode` (dev, deploy or other),
  `subcommand` (such as `dev`, `deploy`, `remove`, `install`, or None), `stage`
  (from `--stage`, else None), `cwd`, `command`.
- `process.next` (one per process): `pid`, `mode` (dev, start, build, server
  for the `next-server` child of `next dev`, or other), `cwd`, `command`.
- `process.scan` (one): `available` (whether the process table could be
  read), `sst_count`, `next_count`. Fixers use it to tell "no SST process"
  apart from "not checked".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path, PurePath

from deploykit.context import RunContext
from deploykit.procinfo import ProcessInfo, is_inside, list_processes, proc_available
from engine.facts import Fact, FactIndex, Source

SST_NAMES = frozenset({"sst", "sst.mjs", "sst.js", "sst.cmd", "sst.exe"})
# Programs that run a package binary named in their arguments: `npx sst dev`,
# `pnpm sst dev`, `node node_modules/.bin/sst dev`, `python sst dev` in tests.
RUNNERS = frozenset({"node", "nodejs", "bun", "bunx", "npx", "pnpm", "pnpx", "yarn", "deno",
                     "exec", "dlx", "x", "npm"})
SST_MODES = {"dev": "dev", "deploy": "deploy"}
NEXT_MODES = frozenset({"dev", "start", "build"})
OPTIONS_WITH_VALUE = frozenset({"--stage", "--config", "--mode", "--filter", "--target"})


def collect(context: RunContext) -> Iterable[Fact]:
    own = os.getpid()
    sst_count = 0
    next_count = 0
    for process in list_processes():
        if process.pid == own or not is_inside(process.cwd, context.root):
            continue
        fact = sst_fact(process) or next_fact(process)
        if fact is None:
            continue
        if fact.kind == "process.sst":
            sst_count += 1
        else:
            next_count += 1
        yield fact
    yield Fact(
        "process.scan",
        {"available": proc_available(), "sst_count": sst_count, "next_count": next_count},
        Source(file="/proc"),
    )


def sst_fact(process: ProcessInfo) -> Fact | None:
    """Return a `process.sst` fact when `process` runs the SST CLI, else None."""
    position = _program_position(process.argv, lambda name: name in SST_NAMES)
    if position is None:
        return None
    arguments = process.argv[position + 1 :]
    subcommand = _subcommand(arguments)
    return Fact(
        "process.sst",
        {
            "pid": process.pid,
            "mode": SST_MODES.get(subcommand or "", "other"),
            "subcommand": subcommand,
            "stage": _option(arguments, "--stage"),
            "cwd": str(process.cwd),
            "command": process.command,
        },
        Source(command=f"ps -o pid,args -p {process.pid}"),
    )


def next_fact(process: ProcessInfo) -> Fact | None:
    """Return a `process.next` fact when `process` runs Next.js, else None."""
    if process.argv[0].startswith("next-server"):
        mode = "server"
    else:
        position = _program_position(
            process.argv, lambda name: name == "next" or name.endswith("next/dist/bin/next"),
        )
        if position is None:
            return None
        subcommand = _subcommand(process.argv[position + 1 :])
        mode = subcommand if subcommand in NEXT_MODES else "other"
    return Fact(
        "process.next",
        {"pid": process.pid, "mode": mode, "cwd": str(process.cwd), "command": process.command},
        Source(command=f"ps -o pid,args -p {process.pid}"),
    )


def _program_position(argv: Sequence[str], is_program: Callable[[str], bool]) -> int | None:
    """Return the index of the program in `argv`: argv[0], or an argument of a runner."""
    for index, argument in enumerate(argv[:4]):
        name = PurePath(argument).name
        if not is_program(name) and not is_program(argument):
            continue
        if index == 0:
            return 0
        runner = PurePath(argv[index - 1]).name.split(".")[0]  # pnpm.cjs runs as pnpm
        if runner in RUNNERS or runner.startswith("python") or runner.startswith("node"):
            return index
    return None


def _subcommand(arguments: Sequence[str]) -> str | None:
    skip = False
    for argument in arguments:
        if skip:
            skip = False
            continue
        if argument in OPTIONS_WITH_VALUE:
            skip = True
            continue
        if argument.startswith("-"):
            continue
        return argument
    return None


def _option(arguments: Sequence[str], name: str) -> str | None:
    for index, argument in enumerate(arguments):
        if argument == name and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith(name + "="):
            return argument.split("=", 1)[1]
    return None


def project_sst_processes(root: Path, facts: FactIndex) -> list[Fact]:
    """Return the `process.sst` facts for `root`, scanning now when none were collected.

    A fixer that must not touch `.sst/` while SST runs calls this: an index
    without a `process.scan` fact means the processes were never checked.
    """
    if facts.of_kind("process.scan"):
        return list(facts.of_kind("process.sst"))
    return [fact for fact in collect(RunContext(root=root)) if fact.kind == "process.sst"]
