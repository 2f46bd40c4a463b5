"""The `git.repo` fact: branch, upstream and uncommitted work, from the `git` executable.

`git.repo` fields:

- `inside` (bool): the project root is inside a git work tree. When false, the
  only other field is `reason` (such as `git is not installed`).
- `root` (str): absolute path of the work tree.
- `branch` (str | None): current branch; None when HEAD is detached.
- `detached` (bool), `head` (str | None): HEAD commit id, None before the first commit.
- `upstream` (str | None): such as `origin/main`; None when the branch tracks nothing.
- `ahead`, `behind` (int | None): commits not on the upstream and missing from
  it; None without an upstream.
- `uncommitted` (list[str]), `uncommitted_count` (int): tracked paths with staged
  or unstaged changes (renames list the new path), relative to `root`.
- `untracked` (list[str]), `untracked_count` (int): untracked paths; a folder
  with only untracked files shows as the folder, as `git status` does.
- `dirty` (bool): uncommitted or untracked paths exist.
- `examples` (list[str]): the first `EXAMPLE_PATHS` of those paths, for messages.

Lists hold at most `MAX_PATHS` paths; the counts are exact. deploy-kit's own
files (`.deploy-kit/`, `.deployment-lock-STAGE`) are left out, because a deploy
creates them and they must not make the tree look dirty.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploykit.context import RunContext
from engine.facts import Fact, Source

STATUS_COMMAND = ("git", "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=normal")
MAX_PATHS = 50
EXAMPLE_PATHS = 5
TIMEOUT_SECONDS = 8.0


class GitError(RuntimeError):
    """`git` failed for a reason other than "not a repository"."""


@dataclass
class _Status:
    head: str | None = None
    branch: str | None = None
    upstream: str | None = None
    ahead: int | None = None
    behind: int | None = None
    uncommitted: list[str] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)


def collect(context: RunContext) -> Iterable[Fact]:
    yield read_repo(context.root, context.env)


def read_repo(root: Path, env: Mapping[str, str] | None = None) -> Fact:
    """Return the `git.repo` fact for the work tree that contains `root`."""
    status_source = Source(command=" ".join(STATUS_COMMAND))
    try:
        top = _git(root, ("rev-parse", "--show-toplevel"), env)
    except FileNotFoundError:
        return Fact("git.repo", {"inside": False, "reason": "git is not installed"}, status_source)
    if top.returncode != 0:
        lines = top.stderr.strip().splitlines()
        reason = lines[0] if lines else "not a git repository"
        return Fact("git.repo", {"inside": False, "reason": reason}, status_source)
    work_tree = top.stdout.strip()

    result = _git(root, STATUS_COMMAND[1:], env)
    if result.returncode != 0:
        raise GitError(f"`{' '.join(STATUS_COMMAND)}` failed: {result.stderr.strip()}")
    status = parse_status(result.stdout)
    uncommitted = [path for path in status.uncommitted if not _own_file(path)]
    untracked = [path for path in status.untracked if not _own_file(path)]

    data: dict[str, Any] = {
        "inside": True,
        "root": work_tree,
        "branch": status.branch,
        "detached": status.branch is None,
        "head": status.head,
        "upstream": status.upstream,
        "ahead": status.ahead,
        "behind": status.behind,
        "uncommitted": uncommitted[:MAX_PATHS],
        "uncommitted_count": len(uncommitted),
        "untracked": untracked[:MAX_PATHS],
        "untracked_count": len(untracked),
        "dirty": bool(uncommitted or untracked),
        "examples": (uncommitted + untracked)[:EXAMPLE_PATHS],
    }
    return Fact("git.repo", data, status_source)


def parse_status(output: str) -> _Status:
    """Parse `git status --porcelain=v2 --branch -z` output."""
    status = _Status()
    entries = output.split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if not entry:
            continue
        if entry.startswith("# "):
            _parse_header(entry[2:], status)
        elif entry.startswith("1 "):
            status.uncommitted.append(entry.split(" ", 8)[8])
        elif entry.startswith("2 "):
            # A rename or copy: the new path, then the original path as its own entry.
            status.uncommitted.append(entry.split(" ", 9)[9])
            index += 1
        elif entry.startswith("u "):
            status.uncommitted.append(entry.split(" ", 10)[10])
        elif entry.startswith("? "):
            status.untracked.append(entry[2:])
    return status


def _parse_header(header: str, status: _Status) -> None:
    name, _, value = header.partition(" ")
    if name == "branch.oid":
        status.head = None if value == "(initial)" else value
    elif name == "branch.head":
        status.branch = None if value == "(detached)" else value
    elif name == "branch.upstream":
        status.upstream = value
    elif name == "branch.ab":
        ahead, behind = value.split()
        status.ahead = int(ahead.lstrip("+"))
        status.behind = int(behind.lstrip("-"))


def _own_file(path: str) -> bool:
    parts = path.split("/")
    return ".deploy-kit" in parts[:-1] or parts[-1].startswith(".deployment-lock-")


def _git(
    root: Path, args: tuple[str, ...], env: Mapping[str, str] | None,
) -> subprocess.CompletedProcess[str]:
    # GIT_OPTIONAL_LOCKS=0 stops `git status` from taking index.lock to refresh
    # the index, so a check cannot make a concurrent commit in the same tree fail.
    run_env = dict(env if env is not None else os.environ)
    run_env.update({"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"})
    return subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True, text=True, env=run_env, timeout=TIMEOUT_SECONDS, check=False,
    )
