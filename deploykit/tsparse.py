"""TypeScript syntax trees through tree-sitter, and byte-exact edits at node spans.

tree-sitter is imported inside functions: this module is imported by collectors
and fixers, never when the CLI starts. Lines and columns returned here are
1-based, as editors show them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

# Object members that carry a key: `a: 1`, `a() {}`, `a` (shorthand).
KEYED_MEMBERS = frozenset({"pair", "method_definition", "shorthand_property_identifier"})
# Wrappers that do not change the value: `(x)`, `x as T`, `x satisfies T`, `x!`.
TRANSPARENT = frozenset({
    "parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression",
})


@dataclass(frozen=True)
class SyntaxProblem:
    """The first place tree-sitter could not parse: 1-based line and column."""

    line: int
    column: int
    message: str


@functools.cache
def _parser() -> Parser:
    import tree_sitter_typescript
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_typescript.language_typescript()))


def parse_typescript(source: bytes) -> Tree:
    """Parse TypeScript (a superset of the JavaScript in next.config.mjs and .js)."""
    return _parser().parse(source)


def first_syntax_problem(tree: Tree) -> SyntaxProblem | None:
    """Return the first ERROR or MISSING node, or None when the file parsed cleanly."""
    root = tree.root_node
    source = root.text or b""
    if b"\x00" in source:
        return SyntaxProblem(1, 1, "the file contains NUL bytes, so it is not a text file")
    try:
        source.decode("utf-8")
    except UnicodeDecodeError as error:
        row = source.count(b"\n", 0, error.start) + 1
        return SyntaxProblem(row, 1, "the file is not valid UTF-8; save it as UTF-8")
    if not root.has_error:
        return None
    end = len(source.rstrip())
    for node in walk(root):
        if node.is_missing:
            return SyntaxProblem(*position(node), f"missing `{node.type}`")
        if node.is_error:
            snippet = _printable(text(node).splitlines()[0][:40] if text(node) else "")
            if node.end_byte >= end and node.start_byte < end:
                message = (
                    f"`{snippet}` is not closed before the end of the file "
                    "(a `)`, `}` or `]` is missing)"
                )
            else:
                message = f"unexpected `{snippet}`" if snippet else "syntax error"
            return SyntaxProblem(*position(node), message)
    return SyntaxProblem(1, 1, "syntax error")


def _printable(snippet: str) -> str:
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in snippet)


def walk(node: Node) -> Iterator[Node]:
    """Yield `node` and every descendant, depth first, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def position(node: Node) -> tuple[int, int]:
    row, column = node.start_point
    return row + 1, column + 1


def line(node: Node) -> int:
    return int(node.start_point[0]) + 1


def text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def unwrap(node: Node) -> Node:
    """Strip parentheses and type assertions around an expression."""
    while node.type in TRANSPARENT and node.named_children:
        node = node.named_children[0]
    return node


def string_value(node: Node | None) -> str | None:
    """Return the value of a string literal or of a template literal without substitutions."""
    if node is None:
        return None
    node = unwrap(node)
    if node.type == "string":
        return "".join(_string_piece(child) for child in node.named_children)
    if node.type == "template_string":
        if any(child.type == "template_substitution" for child in node.named_children):
            return None
        raw = text(node)
        return raw[1:-1]
    return None


def _string_piece(node: Node) -> str:
    if node.type == "escape_sequence":
        escaped = text(node)
        simple = {"\\n": "\n", "\\t": "\t", "\\\\": "\\", "\\'": "'", '\\"': '"'}
        return simple.get(escaped, escaped[1:])
    return text(node)


def key_name(member: Node) -> str | None:
    """Return the key of an object member: `a: 1`, `"a-b": 1`, `a() {}` or shorthand `a`."""
    if member.type == "shorthand_property_identifier":
        return text(member)
    key = member.child_by_field_name("key") or member.child_by_field_name("name")
    if key is None:
        return None
    if key.type in ("string", "template_string"):
        return string_value(key)
    if key.type == "computed_property_name":
        return None
    return text(key)


def object_members(node: Node | None) -> list[tuple[str, Node]]:
    """List the keyed members of an object literal, in source order, as (key, member)."""
    if node is None:
        return []
    node = unwrap(node)
    if node.type != "object":
        return []
    members = []
    for child in node.named_children:
        if child.type not in KEYED_MEMBERS:
            continue
        name = key_name(child)
        if name is not None:
            members.append((name, child))
    return members


def member_value(member: Node) -> Node | None:
    """Return the value of a `key: value` pair (None for methods and shorthand)."""
    if member.type != "pair":
        return None
    value = member.child_by_field_name("value")
    return unwrap(value) if value is not None else None


def get_member(node: Node | None, key: str) -> Node | None:
    """Return the value of `key` in an object literal, or None."""
    for name, member in object_members(node):
        if name == key:
            return member_value(member)
    return None


def has_spread(node: Node | None) -> bool:
    """True when an object literal has `...spread` or computed keys (not fully static)."""
    if node is None:
        return False
    node = unwrap(node)
    if node.type != "object":
        return True
    for child in node.named_children:
        if child.type == "spread_element":
            return True
        key = child.child_by_field_name("key")
        if key is not None and key.type == "computed_property_name":
            return True
    return False


def string_list(node: Node | None) -> list[str] | None:
    """Return the items of an array of string literals, or None when any item is not one."""
    if node is None:
        return None
    node = unwrap(node)
    if node.type != "array":
        value = string_value(node)
        return [value] if value is not None else None
    items = []
    for child in node.named_children:
        if child.type == "comment":
            continue
        value = string_value(child)
        if value is None:
            return None
        items.append(value)
    return items


def find_member(container: Node, path: list[str]) -> Node | None:
    """Walk `path` of keys down from the object `container`; return the last member node."""
    current: Node | None = container
    found: Node | None = None
    for key in path:
        found = None
        for name, member in object_members(current):
            if name == key:
                found = member
                break
        if found is None:
            return None
        current = member_value(found)
    return found


def replace_span(source: bytes, start: int, end: int, replacement: bytes) -> bytes:
    return source[:start] + replacement + source[end:]


def remove_member(source: bytes, member: Node) -> bytes:
    """Delete one object member, keeping every other byte (comments, commas, layout).

    A member alone on its line(s) is removed with its line, its trailing comma
    and line break. A member sharing its line with others is removed with its
    comma and the spaces after it. The last member of an inline object takes
    the comma before it instead, so `{ a: 1, b: 2 }` becomes `{ a: 1 }`.
    """
    start, end = member.start_byte, member.end_byte

    after = end
    while after < len(source) and source[after:after + 1] in (b" ", b"\t"):
        after += 1
    has_comma = source[after:after + 1] == b","
    comma_end = after + 1 if has_comma else end

    line_start = source.rfind(b"\n", 0, start) + 1
    rest = comma_end
    while rest < len(source) and source[rest:rest + 1] in (b" ", b"\t", b"\r"):
        rest += 1
    alone_before = source[line_start:start].strip() == b""
    alone_after = rest >= len(source) or source[rest:rest + 1] == b"\n"
    if alone_before and alone_after:
        return source[:line_start] + source[min(rest + 1, len(source)):]
    if alone_before and source[rest:rest + 2] in (b"//", b"/*"):
        return source[:start] + source[rest:]  # the comment after it stays on its own line

    previous = member.prev_sibling
    while previous is not None and previous.type == "comment":
        previous = previous.prev_sibling
    previous_comma = previous.start_byte if previous is not None and previous.type == "," else None

    closes = source[rest:rest + 1] in (b"}", b"]")
    if has_comma and not (closes and previous_comma is not None):
        return source[:start] + source[rest:]
    if previous_comma is not None:
        return source[:previous_comma] + source[comma_end:]
    return source[:start] + source[comma_end:]
