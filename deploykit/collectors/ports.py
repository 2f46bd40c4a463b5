"""Ports: who listens on the dev server's port and the ports after it.

The dev port is, in this order, `context.extra["port"]` (set by `deploy-kit
dev --port`), `PORT` stored for the next SST run in `.deploy-kit/run-env.json`,
`PORT` in the environment, else 3000 (the Next.js default).

Facts:

- `dev.port` (one): `port`, `free` (no listener and a bind probe succeeds),
  `origin` (where the number came from: option, run-env, environment, default),
  `next_free` (the first free port among the nine after it, or None),
  `holder` (the listeners on the port, such as `pid 4242 (node next dev)`,
  or None when the port is free).
- `port.listener` (one per listening socket on those ten ports): `port`,
  `address`, `pid` and `command` (None when the owner is another user's
  process), `cwd`, `inside_project` (its working directory is in the project),
  `dev_port` (true for the dev port itself).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from deploykit.context import RunContext
from deploykit.procinfo import (
    ListeningSocket,
    is_inside,
    listening_sockets,
    port_is_free,
    read_process,
)
from engine.facts import Fact, Source

DEFAULT_DEV_PORT = 3000
SCANNED_PORTS = 10
LISTENER_SOURCE = Source(file="/proc/net/tcp")


def dev_port(context: RunContext) -> tuple[int, str, Source]:
    """Return the dev port, where it came from, and the evidence for it."""
    requested = context.extra.get("port")
    if requested is not None:
        return int(requested), "option", Source(command=f"deploy-kit dev --port {requested}")

    from deploykit.runsettings import RUN_ENV_FILE, load_run_env

    stored = load_run_env(context.root, context.stage).get("PORT", "")
    if stored.isdigit():
        return int(stored), "run-env", Source(file=RUN_ENV_FILE.as_posix())
    environment = context.env.get("PORT", "")
    if environment.isdigit():
        return int(environment), "environment", Source(command=f"PORT={environment}")
    return DEFAULT_DEV_PORT, "default", Source(command="the Next.js default port")


def collect(context: RunContext) -> Iterable[Fact]:
    port, origin, origin_source = dev_port(context)
    scanned = range(port, min(port + SCANNED_PORTS, 65536))
    listeners = [entry for entry in listening_sockets() if entry.port in scanned]

    listener_facts = list(_listener_facts(context, listeners, port))
    yield from listener_facts

    busy = {entry.port for entry in listeners}
    free = {candidate for candidate in scanned if candidate not in busy and port_is_free(candidate)}
    next_free = min((candidate for candidate in free if candidate > port), default=None)
    holders = [_describe(fact) for fact in listener_facts if fact.get("dev_port")]
    in_use = port not in free
    if in_use and not holders:
        holders = ["a process deploy-kit cannot see"]
    yield Fact(
        "dev.port",
        {
            "port": port,
            "free": not in_use,
            "origin": origin,
            "next_free": next_free,
            "holder": ", ".join(holders) if in_use else None,
        },
        origin_source,
    )


def _describe(listener: Fact) -> str:
    pid = listener.get("pid")
    if pid is None:
        return "a process of another user"
    return f"pid {pid} ({listener.get('command') or 'command unreadable'})"


def _listener_facts(
    context: RunContext, listeners: list[ListeningSocket], port: int,
) -> Iterator[Fact]:
    seen: set[tuple[int, int | None]] = set()
    for entry in sorted(listeners, key=lambda item: (item.port, item.address)):
        # A dual-stack server shows up once per address family; one fact per owner is enough.
        if (entry.port, entry.pid) in seen and entry.pid is not None:
            continue
        seen.add((entry.port, entry.pid))
        process = read_process(entry.pid) if entry.pid is not None else None
        yield Fact(
            "port.listener",
            {
                "port": entry.port,
                "address": entry.address,
                "pid": entry.pid,
                "command": process.command if process else None,
                "cwd": str(process.cwd) if process and process.cwd else None,
                "inside_project": is_inside(process.cwd if process else None, context.root),
                "dev_port": entry.port == port,
            },
            LISTENER_SOURCE,
        )
