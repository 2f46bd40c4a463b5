"""Processes and listening sockets of this machine, read from Linux `/proc`.

Everything here only reads. A process or socket that the current user may not
inspect (another user's process, a process that exits mid-scan) is reported
with the fields that could be read and `None` for the rest, never an error.

NOTE: only Linux `/proc` is read. On other systems `list_processes()` and
`listening_sockets()` return empty lists, so `port_is_free()` (a bind probe,
portable) is the only port check that still works there.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PROC = Path("/proc")
TCP_LISTEN_STATE = "0A"


@dataclass(frozen=True)
class ProcessInfo:
    """One process: its pid, command line and working directory (None when unreadable)."""

    pid: int
    argv: tuple[str, ...]
    cwd: Path | None

    @property
    def command(self) -> str:
        return " ".join(self.argv)


@dataclass(frozen=True)
class ListeningSocket:
    """A TCP socket in LISTEN state; `pid` is None when its owner cannot be read."""

    port: int
    address: str
    inode: int
    pid: int | None


def proc_available() -> bool:
    return (PROC / "self" / "stat").exists()


def read_process(pid: int) -> ProcessInfo | None:
    """Return the process `pid`, or None when it no longer exists or is a kernel thread."""
    base = PROC / str(pid)
    try:
        raw = (base / "cmdline").read_bytes()
    except OSError:
        return None
    argv = tuple(part.decode("utf-8", errors="replace") for part in raw.split(b"\0") if part)
    if not argv:
        return None
    try:
        cwd: Path | None = Path(os.readlink(base / "cwd"))
    except OSError:
        cwd = None
    return ProcessInfo(pid, argv, cwd)


def list_processes() -> list[ProcessInfo]:
    """Return every user-space process whose command line is readable."""
    if not proc_available():
        return []
    processes = []
    for entry in _pid_entries():
        info = read_process(entry)
        if info is not None:
            processes.append(info)
    return processes


def listening_sockets() -> list[ListeningSocket]:
    """Return TCP listeners (IPv4 and IPv6) with the pid that owns each, where readable."""
    if not proc_available():
        return []
    rows: list[tuple[int, str, int]] = []
    for name, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        try:
            text = (PROC / "net" / name).read_text()
        except OSError:
            continue
        rows.extend(_parse_tcp_table(text, family))
    if not rows:
        return []
    owners = _socket_owners({inode for _, _, inode in rows})
    return [
        ListeningSocket(port, address, inode, owners.get(inode)) for port, address, inode in rows
    ]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Tell whether a server could listen on `port` now, by binding a socket briefly.

    SO_REUSEADDR is set as Node.js (libuv) sets it, so connections in
    TIME_WAIT do not count as use, but any listener on the port does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def pid_alive(pid: int) -> bool:
    """Tell whether `pid` is a running process on this machine (zombies count as dead)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    state = _process_state(pid)
    return state != "Z"


def process_start_time(pid: int) -> float | None:
    """Return when `pid` started, as a Unix timestamp, or None when unknown.

    Used to spot a pid that was reused by a newer process after the lock
    holder exited: field 22 of /proc/PID/stat is the start time in clock ticks
    after boot (proc(5)).
    """
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        boot_time = _boot_time()
    except OSError:
        return None
    if boot_time is None:
        return None
    fields = stat.rpartition(")")[2].split()
    # fields[0] is field 3 (state), so field 22 is fields[19].
    try:
        ticks = int(fields[19])
    except (IndexError, ValueError):
        return None
    return boot_time + ticks / os.sysconf("SC_CLK_TCK")


def is_inside(path: Path | None, root: Path) -> bool:
    """Tell whether `path` is `root` or below it (both resolved)."""
    if path is None:
        return False
    try:
        resolved = path.resolve()
    except OSError:
        return False
    root = root.resolve()
    return resolved == root or root in resolved.parents


def _pid_entries() -> list[int]:
    try:
        names = os.listdir(PROC)
    except OSError:
        return []
    return sorted(int(name) for name in names if name.isdigit())


def _process_state(pid: int) -> str | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[0] if fields else None


def _boot_time() -> float | None:
    with open(PROC / "stat") as stream:
        for line in stream:
            if line.startswith("btime "):
                return float(line.split()[1])
    return None


def _parse_tcp_table(text: str, family: int) -> list[tuple[int, str, int]]:
    """Parse /proc/net/tcp or tcp6: (port, address, inode) of each LISTEN row."""
    rows = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != TCP_LISTEN_STATE:
            continue
        address_hex, _, port_hex = fields[1].partition(":")
        try:
            rows.append((int(port_hex, 16), _decode_address(address_hex, family), int(fields[9])))
        except ValueError:
            continue
    return rows


def _decode_address(address_hex: str, family: int) -> str:
    """Decode the kernel's hex address: 32-bit words in host byte order (little-endian)."""
    raw = bytes.fromhex(address_hex)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(family, words)


def _socket_owners(inodes: set[int]) -> dict[int, int]:
    """Map socket inodes to the pid holding them, by reading /proc/PID/fd links."""
    owners: dict[int, int] = {}
    for pid in _pid_entries():
        fd_dir = PROC / str(pid) / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd_dir / fd)
            except OSError:
                continue
            if not target.startswith("socket:["):
                continue
            inode = int(target[8:-1])
            if inode in inodes and inode not in owners:
                owners[inode] = pid
        if len(owners) == len(inodes):
            break
    return owners
