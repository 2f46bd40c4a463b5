"""Find the port number a finding is about and the processes listening on it.

Shared by the `stop-port-process` and `next-free-port` fixers. The port comes
from the finding's primary fact (`port`), or from the rule parameter `port`
(a template such as `{capture.port}` for a log line). Listeners come from the
collected `port.listener` facts, or from a fresh read of the socket table when
none were collected (a log triaged without the ports collector).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.templates import regex_captures, render
from fixers.params import Param

# The parameters of both port fixers: they find the port the same way.
PORT_PARAMETERS: Mapping[str, Mapping[str, Param]] = {
    "plan": {
        "port": Param(
            "string", "port number when the finding's fact has no `port`, such as `{capture.port}`"
        ),
    },
}


@dataclass(frozen=True)
class Holder:
    """A process listening on the port; `pid` and `command` are None when unreadable."""

    pid: int | None
    command: str | None

    def describe(self) -> str:
        if self.pid is None:
            return "a process of another user"
        return f"pid {self.pid} ({self.command or 'command unreadable'})"


def finding_port(finding: Finding, params: Mapping[str, Any]) -> int | None:
    """Return the port of the finding, or None when it names none."""
    fact = finding.fact
    value = fact.get("port") if fact is not None else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    template = str(params.get("port", ""))
    if not template:
        return None
    captures = regex_captures(finding.rule.match.get("where"), finding.match)
    text = render(template, finding.match, finding.rule.aliases, captures)
    return int(text) if text.isdigit() else None


def port_holders(port: int, context: FixContext) -> list[Holder]:
    """Return the processes listening on `port`, one per pid."""
    from deploykit.procinfo import listening_sockets, read_process

    facts = [fact for fact in context.facts.of_kind("port.listener") if fact.get("port") == port]
    if facts:
        holders = [
            Holder(_int_or_none(fact.get("pid")), _str_or_none(fact.get("command")))
            for fact in facts
        ]
    else:
        holders = []
        for entry in listening_sockets():
            if entry.port != port:
                continue
            process = read_process(entry.pid) if entry.pid is not None else None
            holders.append(Holder(entry.pid, process.command if process else None))
    return list(dict.fromkeys(holders))


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
