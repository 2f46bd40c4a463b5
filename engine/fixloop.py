"""Apply safe fix plans to a project, with an undo journal.

Every `FileEdit` is checked before anything is written: the path must stay
inside the project root (symlinks resolved) and outside `.git/`, and the file
must still hold the bytes the plan was made against. The original bytes (or
the absence) of every file a run changes are written to one journal entry in
`.deploy-kit/journal/` before the first write, so `undo_last` can restore them
byte for byte even after a run that stopped half-way.

Writes are atomic: a temporary file in the same folder is written, flushed to
disk with fsync and renamed over the target, keeping the target's mode.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.paths import PathEscapeError, resolve_inside
from engine.plan import CommandStep, FileEdit, FixPlan

log = logging.getLogger(__name__)

JOURNAL_DIR = Path(".deploy-kit") / "journal"
JOURNAL_VERSION = 1
DEFAULT_COMMAND_TIMEOUT = 120.0
# Mode of files a fix creates, before the umask, like `open(..., "w")`.
NEW_FILE_MODE = 0o666

# A function that stores a plan's `env` settings for the next SST run.
EnvWriter = Callable[[Mapping[str, str]], None]


class FixApplyError(Exception):
    """A plan that cannot be applied as planned; the message names the file or command."""


class UndoError(Exception):
    """The journal cannot be restored; the message names the file and what to do."""


@dataclass(frozen=True)
class EnvStore:
    """Destination of `env` plans: the file they change, relative to the project root,
    so the journal can record it first, and the function that writes it."""

    path: str
    write: EnvWriter


@dataclass(frozen=True)
class AppliedPlan:
    """The outcome of one plan: applied or not, and why not."""

    plan: FixPlan
    applied: bool
    error: str | None = None
    command_output: tuple[str, ...] = ()
    # True when an earlier plan of the same run changed one of its files: the
    # caller diagnoses again and applies the fresh plan with the same journal.
    deferred: bool = False


@dataclass
class FixRun:
    """The outcome of one `apply_plans` call and its journal entry (if anything changed)."""

    results: list[AppliedPlan] = field(default_factory=list)
    journal: Path | None = None

    @property
    def applied(self) -> list[AppliedPlan]:
        return [result for result in self.results if result.applied]


@dataclass(frozen=True)
class UndoResult:
    """Files restored or removed by `undo_last`, relative to the project root."""

    journal: Path
    restored: tuple[str, ...]
    removed: tuple[str, ...]


def apply_plans(
    root: Path,
    plans: Sequence[FixPlan],
    *,
    env_store: EnvStore | None = None,
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
    confirmed_manual: bool = False,
    journal: Journal | None = None,
) -> FixRun:
    """Apply every safe plan in `plans`. Manual plans are skipped, never applied.

    `confirmed_manual` applies manual plans too: only `deploy-kit fix` sets it,
    after the user confirmed that one finding in an interactive terminal.
    A plan whose checks fail is not applied at all, and the others still are.
    A plan that edits a file an earlier plan of this call changed is deferred.
    Pass one `journal` to several calls so that one undo reverts all of them.
    Commands run after the plan's file edits, from the project root, with a
    timeout. Files that a command changes are not in the journal.
    """
    root = root.resolve()
    run = FixRun()
    journal = journal or Journal(root)
    written: set[str] = set()
    for plan in plans:
        if plan.safety != "safe" and not confirmed_manual:
            run.results.append(
                AppliedPlan(plan, False, "manual fixes are applied only by `deploy-kit fix`")
            )
            continue
        if not plan.applicable:
            run.results.append(
                AppliedPlan(plan, False, "the plan has no edits, commands or settings")
            )
            continue
        if any(edit.path in written for edit in plan.edits):
            message = "another fix in this run changed the same file; plan again"
            run.results.append(AppliedPlan(plan, False, message, deferred=True))
            continue
        try:
            output = _apply_one(root, plan, journal, env_store, command_timeout)
        except (FixApplyError, PathEscapeError) as error:
            log.warning("fix for %s not applied: %s", plan.rule_id, error)
            run.results.append(AppliedPlan(plan, False, str(error)))
            continue
        run.results.append(AppliedPlan(plan, True, None, output))
        written.update(edit.path for edit in plan.edits)
    run.journal = journal.path
    return run


def _apply_one(
    root: Path,
    plan: FixPlan,
    journal: Journal,
    env_store: EnvStore | None,
    command_timeout: float,
) -> tuple[str, ...]:
    targets = [_check_edit(root, edit) for edit in plan.edits]
    if plan.env and env_store is None:
        raise FixApplyError("the plan sets SST run settings but this run has nowhere to store them")
    commands = [(step, _command_folder(root, step)) for step in plan.commands]

    # Write-ahead: the journal has every original before the first byte changes.
    for edit, path in targets:
        journal.record(edit.path, path)
    if plan.env and env_store is not None:
        journal.record(env_store.path, resolve_inside(root, env_store.path))
    journal.save()

    for edit, path in targets:
        if edit.after is None:
            path.unlink()
        else:
            write_atomic(path, edit.after)
        journal.mark_written(edit.path, path)
    if plan.env and env_store is not None:
        env_store.write(dict(plan.env))
        journal.mark_written(env_store.path, resolve_inside(root, env_store.path))
    journal.add_fix(plan)
    journal.save()

    return tuple(_run_command(step, folder, command_timeout) for step, folder in commands)


def _check_edit(root: Path, edit: FileEdit) -> tuple[FileEdit, Path]:
    path = resolve_inside(root, edit.path)
    current = _read_or_none(path)
    if current != edit.before:
        raise FixApplyError(
            f"{edit.path} changed since the fix was planned; run the check again to plan it anew"
        )
    if path.is_dir():
        raise FixApplyError(f"{edit.path} is a folder; a fix can only replace or create files")
    return edit, path


def _command_folder(root: Path, step: CommandStep) -> Path:
    folder = resolve_inside(root, step.cwd)
    if not folder.is_dir():
        raise FixApplyError(
            f"folder {step.cwd!r} for `{step.display()}` does not exist in the project"
        )
    return folder


def _run_command(step: CommandStep, folder: Path, timeout: float) -> str:
    environment = dict(os.environ)
    environment.update(step.env)
    try:
        completed = subprocess.run(
            list(step.argv),
            cwd=folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise FixApplyError(
            f"`{step.display()}` failed: {step.argv[0]} not found on PATH"
        ) from None
    except subprocess.TimeoutExpired:
        raise FixApplyError(f"`{step.display()}` timed out after {timeout:g} s") from None
    output = (completed.stdout + completed.stderr).strip()
    if completed.returncode != 0:
        last = output.splitlines()[-1] if output else "no output"
        raise FixApplyError(
            f"`{step.display()}` failed with exit code {completed.returncode}: {last}"
        )
    return output


def write_atomic(path: Path, content: bytes) -> None:
    """Replace `path` with `content` through a temporary file in the same folder.

    The mode of an existing file is kept; a new file gets 0o666 less the umask.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = NEW_FILE_MODE & ~_umask()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    # The rename is durable only once the folder entry is on disk.
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return None


def _digest(content: bytes | None) -> str | None:
    return None if content is None else hashlib.sha256(content).hexdigest()


class Journal:
    """One journal entry: originals of every file a run changes, written before the change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, dict[str, Any]] = {}
        self.fixes: list[dict[str, Any]] = []
        self.path: Path | None = None
        self.created = datetime.now(UTC)

    def record(self, relative: str, path: Path) -> None:
        if relative in self.files:
            return
        content = _read_or_none(path)
        entry: dict[str, Any] = {"path": relative, "existed": content is not None}
        if content is not None:
            entry["content"] = base64.b64encode(content).decode("ascii")
            entry["mode"] = path.stat().st_mode & 0o7777
        self.files[relative] = entry

    def mark_written(self, relative: str, path: Path) -> None:
        self.files[relative]["after_sha256"] = _digest(_read_or_none(path))

    def add_fix(self, plan: FixPlan) -> None:
        self.fixes.append(
            {"rule_id": plan.rule_id, "fixer": plan.fixer, "description": plan.description}
        )

    def save(self) -> None:
        if not self.files:
            return
        if self.path is None:
            folder = resolve_inside(self.root, str(JOURNAL_DIR))
            folder.mkdir(parents=True, exist_ok=True)
            # Journal entries hold copies of project files and are local to
            # this checkout, so git should not offer to commit them.
            ignore = folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n", encoding="utf-8")
            # Names sort in creation order, so the newest entry is the last one.
            stamp = self.created.strftime("%Y%m%dT%H%M%S.%fZ")
            self.path = folder / f"{stamp}-{os.getpid()}.json"
        document = {
            "version": JOURNAL_VERSION,
            "created": self.created.isoformat(timespec="seconds"),
            "fixes": self.fixes,
            "files": list(self.files.values()),
        }
        write_atomic(self.path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))


def journal_entries(root: Path) -> list[Path]:
    """Return the journal entries not yet undone, oldest first."""
    folder = root / JOURNAL_DIR
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.json"))


def undo_last(root: Path, *, force: bool = False) -> UndoResult:
    """Restore every file recorded in the newest journal entry, byte for byte.

    Files the fix created are removed. A file changed again after the fix is
    left alone and raises `UndoError` unless `force`, so undo never discards
    work done since. The entry is renamed to `*.json.undone` afterwards.
    """
    root = root.resolve()
    entries = journal_entries(root)
    if not entries:
        raise UndoError(f"nothing to undo: no fix journal in {JOURNAL_DIR}/")
    entry = entries[-1]
    files = _read_journal(entry)

    planned: list[tuple[dict[str, Any], Path]] = []
    for record in files:
        relative = str(record["path"])
        try:
            path = resolve_inside(root, relative)
        except PathEscapeError as error:
            raise UndoError(f"journal {entry.name} names {relative!r}: {error}") from None
        expected = record.get("after_sha256")
        if not force and "after_sha256" in record and _digest(_read_or_none(path)) != expected:
            raise UndoError(
                f"{relative} changed after the fix recorded in journal {entry.name}, "
                "so undo would discard those changes; revert them first, then undo again"
            )
        planned.append((record, path))

    restored: list[str] = []
    removed: list[str] = []
    for record, path in planned:
        relative = str(record["path"])
        if record["existed"]:
            write_atomic(path, base64.b64decode(record["content"]))
            os.chmod(path, int(record["mode"]))
            restored.append(relative)
        elif path.exists() or path.is_symlink():
            path.unlink()
            removed.append(relative)
    entry.rename(entry.with_name(entry.name + ".undone"))
    return UndoResult(entry, tuple(restored), tuple(removed))


def _read_journal(entry: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UndoError(
            f"journal {entry.name} cannot be read ({error}); delete it to skip it"
        ) from None
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, list) or not all(
        isinstance(item, dict) and isinstance(item.get("path"), str) and "existed" in item
        for item in files
    ):
        raise UndoError(f"journal {entry.name} has no valid `files` list; delete it to skip it")
    return files
