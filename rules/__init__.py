"""Built-in rules: YAML files, one per family, shipped inside the wheel."""

from __future__ import annotations

from pathlib import Path

RULES_DIR = Path(__file__).resolve().parent


def builtin_rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yaml"))
