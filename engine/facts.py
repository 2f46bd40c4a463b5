"""Facts: plain data of one kind, with the place it came from."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """The origin of a fact: a file and line, a command, or an API call."""

    file: str | None = None
    line: int | None = None
    command: str | None = None
    api: str | None = None

    def describe(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        if self.file:
            return self.file
        if self.command:
            return f"$ {self.command}"
        if self.api:
            return f"AWS {self.api}"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Fact:
    """One observation: a kind such as `git.status`, its data, and its source.

    `data` holds only JSON-compatible values (str, int, float, bool, None, lists
    and dicts of them), so facts print as JSON and rule authors can read them.
    """

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)
    source: Source = field(default_factory=Source)

    def get(self, path: str) -> Any:
        return lookup(self.data, path)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "data": dict(self.data), "source": self.source.to_dict()}


class Missing:
    """Marker for a field path that does not resolve."""

    _instance: Missing | None = None

    def __new__(cls) -> Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = Missing()


def lookup(data: Any, path: str) -> Any:
    """Resolve a dotted path such as `scripts.dev` or `fields.0` in nested data."""
    # Fast path: most conditions read a top-level key of a plain dict, and
    # `isinstance(..., Mapping)` is several times slower than a type check.
    if type(data) is dict and "." not in path:
        return data.get(path, MISSING)
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return MISSING
            current = current[part]
        elif isinstance(current, list | tuple) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(current) <= index < len(current):
                return MISSING
            current = current[index]
        else:
            return MISSING
    return current


def field_getter(path: str) -> Callable[[Fact], Any]:
    """Return a function that reads `path` from a fact, like `Fact.get` but faster.

    Conditions call it once per fact and rule, so a top-level key of a plain
    dict is read without the generic path walk.
    """
    if "." in path:
        return lambda fact: lookup(fact.data, path)

    def get(fact: Fact) -> Any:
        data = fact.data
        if type(data) is dict:
            return data.get(path, MISSING)
        return lookup(data, path)

    return get


class FactIndex:
    """Facts grouped by kind, so a rule only looks at the kinds it names."""

    def __init__(self, facts: Iterable[Fact] = ()) -> None:
        self._by_kind: dict[str, list[Fact]] = {}
        self._memo: dict[Any, Any] = {}
        for fact in facts:
            self.add(fact)

    def add(self, fact: Fact) -> None:
        self._by_kind.setdefault(fact.kind, []).append(fact)
        self._memo.clear()

    def memo(self, key: Any, build: Callable[[], Any]) -> Any:
        """Return `build()`, computed once per `key` until a fact is added.

        The matcher keeps indexes here that several rules share, such as the
        facts of one kind by the value of one field.
        """
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def extend(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            self.add(fact)

    def of_kind(self, kind: str) -> list[Fact]:
        return self._by_kind.get(kind, [])

    def kinds(self) -> list[str]:
        return sorted(self._by_kind)

    def __iter__(self) -> Iterator[Fact]:
        for facts in self._by_kind.values():
            yield from facts

    def __len__(self) -> int:
        return sum(len(facts) for facts in self._by_kind.values())
