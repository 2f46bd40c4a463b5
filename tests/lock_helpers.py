"""Helpers for the ports, processes, .sst and lock tests: real child processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from deploykit.context import RunContext
from deploykit.diagnosis import load_rules, select_rules
from engine.model import Rule

# A stand-in for `sst`, `next` and other dev tools: it optionally listens on
# 127.0.0.1:PORT (env FAKE_LISTEN_PORT), prints "ready" and waits for stdin to close.
# Run as `sst install`, it writes the packages `sst install` would put in .sst/platform.
FAKE_TOOL = """#!{python}
import os, socket, sys
from pathlib import Path
if sys.argv[1:2] == ["install"]:
    pulumi = Path(".sst/platform/node_modules/@pulumi/pulumi")
    pulumi.mkdir(parents=True, exist_ok=True)
    (pulumi / "package.json").write_text('{{"name": "@pulumi/pulumi"}}')
    sys.exit(0)
server = None
port = os.environ.get("FAKE_LISTEN_PORT")
if port:
    server = socket.socket()
    server.bind(("127.0.0.1", int(port)))
    server.listen()
print("ready", flush=True)
sys.stdin.read()
"""


def install_fake_tool(folder: Path, name: str) -> Path:
    """Write an executable fake `name` into `folder/node_modules/.bin/` and return its path."""
    binary = folder / "node_modules" / ".bin" / name
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_text(FAKE_TOOL.format(python=sys.executable))
    binary.chmod(0o755)
    return binary


@contextmanager
def running(argv: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    """Run `argv` in `cwd` until the block ends; yield its pid once it printed "ready"."""
    import os

    process = subprocess.Popen(
        list(argv), cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield process.pid
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)


def make_project(root: Path) -> Path:
    """Create a minimal SST project: sst.config.ts and package.json."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sst.config.ts").write_text(
        'export default $config({ app() { return { name: "shop", home: "aws" }; }, '
        "async run() {} });\n"
    )
    (root / "package.json").write_text('{"name": "shop", "devDependencies": {"sst": "3.3.21"}}\n')
    return root


def rules_for(scope: str, family: str) -> list[Rule]:
    return select_rules(load_rules(), scope, select=[family])


def context(
    root: Path, scope: str = "doctor", stage: str | None = None, **extra: object,
) -> RunContext:
    return RunContext(root=root, scope=scope, stage=stage, offline=True, extra=extra)
