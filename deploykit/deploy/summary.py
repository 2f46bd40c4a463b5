"""Console output of `deploy`, `health` and `dev`: stage headings, notes, health results, timeline.

Output goes through rich, which drops colour when the stream is not a
terminal or `NO_COLOR` is set.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deploykit.deploy.health import HealthResult

STATUS_MARKERS = {
    "passed": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "skipped": ("-", "dim"),
    "interrupted": ("!", "bold yellow"),
    "planned": ("·", "cyan"),
}


@dataclass
class StageRecord:
    """One pipeline stage in the timeline: its status, duration in seconds and a detail."""

    name: str
    status: str
    duration: float = 0.0
    detail: str = ""


@dataclass
class Timeline:
    """The stages of one deploy in the order they ran, plus the logs they kept."""

    records: list[StageRecord] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def add(self, name: str, status: str, duration: float = 0.0, detail: str = "") -> StageRecord:
        record = StageRecord(name, status, duration, detail)
        self.records.append(record)
        return record

    @property
    def failed(self) -> StageRecord | None:
        return next((r for r in self.records if r.status in ("failed", "interrupted")), None)

    @property
    def total(self) -> float:
        return sum(record.duration for record in self.records)


class Output:
    """The console of one command run."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        from rich.console import Console

        self.stream = stream or sys.stdout
        self.console = Console(file=self.stream, highlight=False, soft_wrap=True)

    def heading(self, text: str) -> None:
        self.console.print(f"\n[bold]{_escape(text)}[/bold]")

    def note(self, text: str) -> None:
        self.console.print(f"  {_escape(text)}")

    def warn(self, text: str) -> None:
        self.console.print(f"  [yellow]{_escape(text)}[/yellow]")

    def fail(self, text: str) -> None:
        self.console.print(f"  [bold red]{_escape(text)}[/bold red]")

    def stage(self, record: StageRecord) -> None:
        marker, style = STATUS_MARKERS.get(record.status, ("?", ""))
        detail = f": {record.detail}" if record.detail else ""
        line = f"{marker} {record.name} {record.status} ({record.duration:.1f} s){detail}"
        self.console.print(f"[{style}]{_escape(line)}[/{style}]" if style else _escape(line))

    def tail(self, title: str, lines: Sequence[str], limit: int = 40) -> None:
        """Print the last `limit` lines of a failed command's output."""
        from rich.text import Text

        shown = list(lines)[-limit:]
        self.console.print(f"  [dim]{_escape(title)} (last {len(shown)} lines):[/dim]")
        for line in shown:
            self.console.print(Text("    ") + Text.from_ansi(line))

    def health(self, results: Sequence[HealthResult]) -> None:
        for result in results:
            marker, style = ("✓", "green") if result.ok else ("✗", "bold red")
            self.console.print(f"  [{style}]{marker}[/{style}] {_escape(result.describe())}")

    def timeline(self, timeline: Timeline, outcome: str) -> None:
        from rich.table import Table

        table = Table(title=None, show_edge=False, pad_edge=False, box=None)
        table.add_column("stage")
        table.add_column("result")
        table.add_column("time", justify="right")
        table.add_column("detail")
        for record in timeline.records:
            marker, style = STATUS_MARKERS.get(record.status, ("?", ""))
            table.add_row(
                _escape(record.name), f"[{style}]{marker} {record.status}[/{style}]",
                f"{record.duration:.1f} s", _escape(record.detail),
            )
        self.console.print("\n[bold]Summary[/bold]")
        self.console.print(table)
        self.console.print(f"{_escape(outcome)} in {timeline.total:.1f} s")
        for path in timeline.logs:
            self.console.print(f"log: {_escape(str(path))}")

    def print(self, renderable: Any) -> None:
        self.console.print(renderable)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
