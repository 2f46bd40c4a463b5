"""AWS variables set in `.env*` files and in the process environment, without their secrets.

SST v3 loads `.env` files into the environment of `sst deploy` and `sst dev`,
and Next.js loads `.env`, `.env.local` and `.env.<mode>`, so an
`AWS_ACCESS_KEY_ID=` line there overrides the AWS profile.

`env.file_var` (one per AWS variable per file; source: the file and line):
`file` (relative to the project root), `name`, `line`, `empty` (bool), and
`value` only for names in `PLAIN_NAMES`; other values are never read into a
fact.

`env.process_var` (one per AWS variable set in the environment; source: the
process environment): `name`, `empty`, and `value` only for `PLAIN_NAMES`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from deploykit.context import RunContext
from deploykit.layout import find_layout
from engine.facts import Fact, Source

# Values that identify but do not authenticate, so rules may show them.
PLAIN_NAMES = frozenset({"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"})
# Files that document variables rather than set them.
TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".defaults")
ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*)$")
MAX_ENV_FILE_BYTES = 1 << 20


def collect(context: RunContext) -> Iterable[Fact]:
    layout = find_layout(context.root)
    folders = dict.fromkeys([layout.root, layout.sst_dir, *layout.next_apps])
    facts: list[Fact] = []
    for folder in folders:
        for path in env_files(folder):
            facts.extend(file_var_facts(path, layout.relative(path)))
    facts.extend(process_var_facts(context.env))
    return facts


def env_files(folder: Path) -> list[Path]:
    """Return the `.env` and `.env.*` files of `folder`, except templates such as `.env.example`."""
    try:
        candidates = sorted(folder.glob(".env*"))
    except OSError:
        return []
    return [
        path for path in candidates
        if path.is_file() and (path.name == ".env" or path.name.startswith(".env."))
        and not path.name.endswith(TEMPLATE_SUFFIXES)
    ]


def file_var_facts(path: Path, relative: str) -> Iterator[Fact]:
    try:
        if path.stat().st_size > MAX_ENV_FILE_BYTES:
            return
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    for number, line in enumerate(lines, start=1):
        found = ASSIGNMENT.match(line)
        if found is None or not is_aws_name(found.group("name")):
            continue
        name = found.group("name")
        value = parse_value(found.group("value"))
        data: dict[str, object] = {
            "file": relative, "name": name, "line": number, "empty": value == "",
        }
        if name in PLAIN_NAMES:
            data["value"] = value
        yield Fact("env.file_var", data, Source(file=relative, line=number))


def process_var_facts(env: Mapping[str, str]) -> Iterator[Fact]:
    for name in sorted(env):
        if not is_aws_name(name):
            continue
        value = env[name]
        data: dict[str, object] = {"name": name, "empty": value.strip() == ""}
        if name in PLAIN_NAMES:
            data["value"] = value
        yield Fact("env.process_var", data, Source(command=f"environment variable {name}"))


def is_aws_name(name: str) -> bool:
    return name.startswith("AWS_")


def parse_value(raw: str) -> str:
    """Return a dotenv value without quotes or a trailing ` # comment`."""
    text = raw.strip()
    if text[:1] in ("'", '"', "`"):
        quote = text[0]
        end = text.find(quote, 1)
        return text[1:end] if end != -1 else text[1:]
    return re.split(r"\s+#", text, maxsplit=1)[0].strip()
