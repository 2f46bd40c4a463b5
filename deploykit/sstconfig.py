"""Read sst.config.ts through tree-sitter: app() keys, providers, components, domains.

Nothing here runs the file. Values are read when they are literals or simple
per-stage expressions: `input.stage === "production" ? a : b` (also with
`input?.stage`, `$app.stage`, `!==`, `==`, `!=`) and template literals that
only substitute the stage, such as `${$app.stage}.example.com`. Anything else
is reported as not evaluable (None) rather than guessed.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploykit import tsparse

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

# Keys SST v3/v4 reads from the object app() returns (the `App` type of `$config`).
# NOTE: this list was not checked against each SST release; a new key gives a false finding.
KNOWN_APP_KEYS = ("name", "removal", "protect", "home", "providers", "version", "watch")

# Components served by CloudFront. CloudFront only accepts ACM certificates from
# us-east-1 and rejects others with InvalidViewerCertificate.
CLOUDFRONT_COMPONENTS = frozenset({
    "Nextjs", "StaticSite", "Router", "Remix", "Astro", "SvelteKit", "SolidStart", "Nuxt",
    "Analog", "TanStackStart", "React", "Cdn",
})

# Components whose `environment` ends up in a Lambda function's configuration.
LAMBDA_COMPONENTS = frozenset({
    "Function", "Nextjs", "Remix", "Astro", "SvelteKit", "SolidStart", "Nuxt", "Analog",
    "TanStackStart", "React", "Cron", "Queue", "Bus", "ApiGatewayV1", "ApiGatewayV2",
    "ApiGatewayWebSocket", "Auth",
})

STAGE_COMPARISONS = frozenset({"===", "==", "!==", "!="})
REFERENCE_LINE = re.compile(rb"^\s*///\s*<reference\s+path\s*=\s*[\"']([^\"']+)[\"']")
ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/")


@dataclass(frozen=True)
class AwsProvider:
    """The AWS provider settings app() gives for one stage (None: not set or not evaluable)."""

    profile: str | None
    region: str | None
    line: int | None


@dataclass(frozen=True)
class Domain:
    """A component's `domain`: the custom domain CloudFront or API Gateway serves."""

    component: str
    name: str | None
    aliases: list[str]
    redirects: list[str]
    dns: str | None
    cert: str | None
    line: int


@dataclass(frozen=True)
class AppKey:
    key: str
    line: int
    known: bool


@dataclass(frozen=True)
class ProviderEntry:
    """One key of `providers` in app(), with its value node."""

    name: str
    line: int
    value: Node | None = field(compare=False, repr=False)


@dataclass(frozen=True)
class Component:
    """`new sst.aws.Nextjs("Web", {...})`: type `Nextjs`, namespace `sst.aws`."""

    type: str
    namespace: str
    name: str | None
    line: int
    variable: str | None
    args: Node | None = field(compare=False, repr=False)
    node: Node = field(compare=False, repr=False)


@dataclass(frozen=True)
class EnvVar:
    component: str | None
    component_type: str
    name: str
    line: int
    value_kind: str
    runs_on_lambda: bool


@dataclass(frozen=True)
class OutputMisuse:
    """An Output (a component property) turned into a plain string."""

    component: str | None
    key: str | None
    line: int
    expression: str
    suggestion: str
    outputs: list[str]
    start_byte: int
    end_byte: int


@dataclass(frozen=True)
class DynamoTable:
    name: str | None
    line: int
    fields: list[str]
    indexed: list[str]
    unindexed: list[str]
    static: bool


@dataclass(frozen=True)
class StageBranch:
    stage: str
    line: int
    operator: str


class SstConfig:
    """One parsed sst.config.ts. Build it with `parse_sst_config(path)`."""

    def __init__(self, path: Path, source: bytes) -> None:
        self.path = path
        self.source = source
        self.tree: Tree = tsparse.parse_typescript(source)
        self.syntax_problem = tsparse.first_syntax_problem(self.tree)
        self.reference_path = _reference_path(source)
        self.app_object, self.app_parameter = _find_app_object(self.tree.root_node)
        stage_names = {"$app"}
        stage_names.add(self.app_parameter or "input")
        self._stage_holders = frozenset(stage_names)
        self.components = _find_components(self.tree.root_node)
        self._component_variables = {
            c.variable: c for c in self.components if c.variable is not None
        }

    # app()

    @property
    def has_reference(self) -> bool:
        return self.reference_path is not None

    @property
    def app_keys(self) -> list[AppKey]:
        return [
            AppKey(name, tsparse.line(member), name in KNOWN_APP_KEYS)
            for name, member in tsparse.object_members(self.app_object)
        ]

    def app_member(self, key: str) -> Node | None:
        """The member node `key: ...` of the object app() returns."""
        for name, member in tsparse.object_members(self.app_object):
            if name == key:
                return member
        return None

    @property
    def app_name(self) -> str | None:
        return self._app_string("name")

    @property
    def home(self) -> str | None:
        return self._app_string("home")

    def _app_string(self, key: str) -> str | None:
        value = self.evaluate(tsparse.get_member(self.app_object, key), None)
        return value if isinstance(value, str) else None

    @property
    def providers(self) -> list[ProviderEntry]:
        """Entries of the `providers` object app() returns."""
        entries = []
        container = tsparse.get_member(self.app_object, "providers")
        for name, member in tsparse.object_members(container):
            entries.append(ProviderEntry(name, tsparse.line(member), tsparse.member_value(member)))
        return entries

    def aws_provider(self, stage: str | None) -> AwsProvider:
        """Profile and region of `providers.aws` for `stage` (None: any stage not compared)."""
        for entry in self.providers:
            if entry.name != "aws":
                continue
            profile = self.evaluate(tsparse.get_member(entry.value, "profile"), stage)
            region = self.evaluate(tsparse.get_member(entry.value, "region"), stage)
            return AwsProvider(
                profile if isinstance(profile, str) else None,
                region if isinstance(region, str) else None,
                entry.line,
            )
        return AwsProvider(None, None, None)

    # Expressions that depend on the stage

    def is_stage_reference(self, node: Node | None) -> bool:
        """True for `input.stage`, `input?.stage` and `$app.stage`."""
        if node is None:
            return False
        node = tsparse.unwrap(node)
        if node.type != "member_expression":
            return False
        target = node.child_by_field_name("object")
        prop = node.child_by_field_name("property")
        return (
            target is not None and prop is not None and tsparse.text(prop) == "stage"
            and tsparse.text(target) in self._stage_holders
        )

    def stage_comparison(self, node: Node) -> tuple[str, str] | None:
        """(operator, stage) of `STAGE === "name"` or `"name" !== STAGE`, else None."""
        node = tsparse.unwrap(node)
        if node.type != "binary_expression":
            return None
        operator = node.child_by_field_name("operator")
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if operator is None or left is None or right is None:
            return None
        op = tsparse.text(operator)
        if op not in STAGE_COMPARISONS:
            return None
        if self.is_stage_reference(left):
            literal = tsparse.string_value(right)
        elif self.is_stage_reference(right):
            literal = tsparse.string_value(left)
        else:
            return None
        return (op, literal) if literal is not None else None

    def evaluate(self, node: Node | None, stage: str | None) -> str | bool | float | None:
        """Return the value of `node` for `stage`, or None when it is absent or not evaluable.

        `stage=None` stands for any stage that no comparison names, so
        `input.stage === "production" ? a : b` gives `b`.
        """
        if node is None:
            return None
        node = tsparse.unwrap(node)
        literal = tsparse.string_value(node)
        if literal is not None:
            return literal
        if node.type in ("true", "false"):
            return node.type == "true"
        if node.type == "number":
            try:
                return float(tsparse.text(node))
            except ValueError:
                return None
        if node.type == "template_string":
            return self._evaluate_template(node, stage)
        if node.type == "ternary_expression":
            condition = node.child_by_field_name("condition")
            comparison = self.stage_comparison(condition) if condition is not None else None
            if comparison is None:
                return None
            op, compared = comparison
            equal = stage == compared
            chosen = equal if op in ("===", "==") else not equal
            branch = node.child_by_field_name("consequence" if chosen else "alternative")
            return self.evaluate(branch, stage)
        return None

    def _evaluate_template(self, node: Node, stage: str | None) -> str | None:
        parts = []
        for child in node.named_children:
            if child.type == "template_substitution":
                inner = child.named_children[0] if child.named_children else None
                if stage is None or not self.is_stage_reference(inner):
                    return None
                parts.append(stage)
            else:
                parts.append(tsparse.text(child))
        return "".join(parts)

    def compared_stages(self, node: Node | None) -> list[str]:
        """Stage names compared anywhere inside `node`, in source order."""
        if node is None:
            return []
        stages: list[str] = []
        for child in tsparse.walk(node):
            comparison = self.stage_comparison(child) if child.type == "binary_expression" else None
            if comparison is not None and comparison[1] not in stages:
                stages.append(comparison[1])
        return stages

    @property
    def stage_branches(self) -> list[StageBranch]:
        branches = []
        for node in tsparse.walk(self.tree.root_node):
            if node.type != "binary_expression":
                continue
            comparison = self.stage_comparison(node)
            if comparison is not None:
                branches.append(StageBranch(comparison[1], tsparse.line(node), comparison[0]))
        return branches

    # Components

    def component_for_variable(self, name: str) -> Component | None:
        return self._component_variables.get(name)

    def output_root(self, node: Node | None) -> Component | None:
        """Return the component whose property `node` reads, such as `api` in `api.url`."""
        if node is None:
            return None
        node = tsparse.unwrap(node)
        if node.type != "member_expression":
            return None
        target = node.child_by_field_name("object")
        while target is not None and tsparse.unwrap(target).type == "member_expression":
            target = tsparse.unwrap(target).child_by_field_name("object")
        if target is None or tsparse.unwrap(target).type != "identifier":
            return None
        return self._component_variables.get(tsparse.text(tsparse.unwrap(target)))

    @property
    def env_vars(self) -> list[EnvVar]:
        found = []
        for component in self.components:
            environment = tsparse.get_member(component.args, "environment")
            for name, member in tsparse.object_members(environment):
                found.append(EnvVar(
                    component.name, component.type, name, tsparse.line(member),
                    self.value_kind(tsparse.member_value(member)),
                    component.type in LAMBDA_COMPONENTS,
                ))
        return found

    def value_kind(self, node: Node | None) -> str:
        """literal, template, output, interpolate, apply, variable or expression."""
        if node is None:
            return "expression"
        node = tsparse.unwrap(node)
        if tsparse.string_value(node) is not None or node.type in ("number", "true", "false"):
            return "literal"
        if node.type == "template_string":
            return "template"
        if self.output_root(node) is not None:
            return "output"
        if node.type == "call_expression":
            function = node.child_by_field_name("function")
            callee = tsparse.text(function) if function is not None else ""
            if callee in ("$interpolate", "$concat", "$jsonStringify", "$resolve", "$output"):
                return "interpolate"
            if callee.endswith(".apply"):
                return "apply"
            return "expression"
        if node.type == "identifier":
            return "variable"
        return "expression"

    @property
    def output_misuses(self) -> list[OutputMisuse]:
        found = []
        for node in tsparse.walk(self.tree.root_node):
            if node.type == "template_string":
                misuse = self._template_misuse(node)
            elif node.type == "binary_expression":
                misuse = self._concatenation_misuse(node)
            else:
                misuse = None
            if misuse is not None:
                found.append(misuse)
        return found

    def _template_misuse(self, node: Node) -> OutputMisuse | None:
        parent = node.parent
        if parent is not None and parent.type == "call_expression":
            return None  # a tagged template such as $interpolate`...` receives the parts itself
        outputs = []
        for child in node.named_children:
            if child.type != "template_substitution" or not child.named_children:
                continue
            inner = child.named_children[0]
            if self.output_root(inner) is not None:
                outputs.append(tsparse.text(inner))
        if not outputs:
            return None
        return self._misuse(node, outputs, "$interpolate" + tsparse.text(node))

    def _concatenation_misuse(self, node: Node) -> OutputMisuse | None:
        if not _is_plus(node) or (node.parent is not None and _is_plus(node.parent)):
            return None
        operands = _plus_operands(node)
        has_text = any(
            tsparse.unwrap(o).type in ("string", "template_string") for o in operands
        )
        outputs = [tsparse.text(o) for o in operands if self.output_root(o) is not None]
        if not has_text or not outputs:
            return None
        pieces = []
        for operand in operands:
            inner = tsparse.unwrap(operand)
            literal = tsparse.string_value(inner)
            if literal is not None:
                pieces.append(_escape_template(literal))
            elif inner.type == "template_string":
                pieces.append(tsparse.text(inner)[1:-1])
            else:
                pieces.append("${" + tsparse.text(operand) + "}")
        return self._misuse(node, outputs, "$interpolate`" + "".join(pieces) + "`")

    def _misuse(self, node: Node, outputs: list[str], suggestion: str) -> OutputMisuse:
        component = _enclosing_component(node, self.components)
        return OutputMisuse(
            component=component.name if component else None,
            key=_enclosing_key(node),
            line=tsparse.line(node),
            expression=tsparse.text(node),
            suggestion=suggestion,
            outputs=outputs,
            start_byte=node.start_byte,
            end_byte=node.end_byte,
        )

    @property
    def dynamo_tables(self) -> list[DynamoTable]:
        tables = []
        for component in self.components:
            if component.type != "Dynamo":
                continue
            tables.append(_dynamo_table(component))
        return tables

    def domain_nodes(self) -> list[tuple[Component, Node]]:
        """(component, value of `domain`) for every component with a domain."""
        found = []
        for component in self.components:
            value = tsparse.get_member(component.args, "domain")
            if value is not None:
                found.append((component, value))
        return found

    def domains(self, stage: str | None) -> list[Domain]:
        """Return each component's domain with its stage-dependent values evaluated for `stage`."""
        domains = []
        for component, value in self.domain_nodes():
            domains.append(self.domain(component, value, stage))
        return domains

    def domain(self, component: Component, value: Node, stage: str | None) -> Domain:
        """Return the domain `value` of `component` evaluated for `stage`."""
        if value.type != "object":
            name = self.evaluate(value, stage)
            return Domain(
                component.name or "", name if isinstance(name, str) else None, [], [], None, None,
                tsparse.line(value),
            )
        name = self.evaluate(tsparse.get_member(value, "name"), stage)
        cert = self.evaluate(tsparse.get_member(value, "cert"), stage)
        return Domain(
            component=component.name or "",
            name=name if isinstance(name, str) else None,
            aliases=tsparse.string_list(tsparse.get_member(value, "aliases")) or [],
            redirects=tsparse.string_list(tsparse.get_member(value, "redirects")) or [],
            dns=_dns_kind(tsparse.get_member(value, "dns")),
            cert=cert if isinstance(cert, str) else None,
            line=tsparse.line(value),
        )


def certificate_region(arn: str | None) -> str | None:
    """Return the region part of an ACM certificate ARN, or None for anything else."""
    if not arn:
        return None
    found = ACM_ARN.match(arn)
    return found.group(1) if found else None


@functools.cache
def known_regions() -> frozenset[str]:
    """Return the AWS regions listed in botocore's endpoints.json, every partition."""
    import botocore

    data_file = Path(botocore.__file__).parent / "data" / "endpoints.json"
    data: dict[str, Any] = json.loads(data_file.read_text(encoding="utf-8"))
    regions: set[str] = set()
    for partition in data.get("partitions", []):
        regions.update(partition.get("regions", {}))
    return frozenset(regions)


_CACHE: dict[Path, tuple[int, int, SstConfig]] = {}
_CACHE_LOCK = threading.Lock()


def parse_sst_config(path: Path) -> SstConfig:
    """Parse `path`, reusing the last result while its mtime and size are unchanged."""
    resolved = path.resolve()
    stat = resolved.stat()
    with _CACHE_LOCK:
        cached = _CACHE.get(resolved)
        if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
    config = SstConfig(resolved, resolved.read_bytes())
    with _CACHE_LOCK:
        _CACHE[resolved] = (stat.st_mtime_ns, stat.st_size, config)
    return config


def _reference_path(source: bytes) -> str | None:
    for raw in source.splitlines()[:20]:
        found = REFERENCE_LINE.match(raw)
        if found:
            return found.group(1).decode("utf-8", errors="replace")
    return None


def _find_app_object(root: Node) -> tuple[Node | None, str | None]:
    """The object app() returns in `$config({...})`, and the name of its parameter."""
    config_argument = None
    for node in tsparse.walk(root):
        if node.type != "call_expression":
            continue
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is None or tsparse.text(function) != "$config" or arguments is None:
            continue
        objects = [a for a in arguments.named_children if tsparse.unwrap(a).type == "object"]
        if objects:
            config_argument = tsparse.unwrap(objects[0])
            break
    if config_argument is None:
        return None, None

    for name, member in tsparse.object_members(config_argument):
        if name != "app":
            continue
        function = member if member.type == "method_definition" else tsparse.member_value(member)
        if function is None:
            return None, None
        return _returned_object(function), _first_parameter(function)
    return None, None


def _returned_object(function: Node) -> Node | None:
    body = function.child_by_field_name("body")
    if body is None:
        return None
    body = tsparse.unwrap(body)
    if body.type == "object":
        return body
    for statement in body.named_children:
        if statement.type == "return_statement" and statement.named_children:
            value = tsparse.unwrap(statement.named_children[0])
            if value.type == "object":
                return value
    return None


def _first_parameter(function: Node) -> str | None:
    parameters = function.child_by_field_name("parameters")
    if parameters is None:
        parameters = function.child_by_field_name("parameter")
    if parameters is None:
        return None
    if parameters.type == "identifier":
        return tsparse.text(parameters)
    for parameter in parameters.named_children:
        pattern = parameter.child_by_field_name("pattern")
        if pattern is not None and pattern.type == "identifier":
            return tsparse.text(pattern)
    return None


def _find_components(root: Node) -> list[Component]:
    components = []
    for node in tsparse.walk(root):
        if node.type != "new_expression":
            continue
        constructor = node.child_by_field_name("constructor")
        if constructor is None:
            continue
        dotted = tsparse.text(constructor)
        if not dotted.startswith("sst.") or dotted.count(".") < 2:
            continue
        namespace, _, type_name = dotted.rpartition(".")
        arguments = node.child_by_field_name("arguments")
        values = [a for a in arguments.named_children if a.type != "comment"] if arguments else []
        name = tsparse.string_value(values[0]) if values else None
        args = tsparse.unwrap(values[1]) if len(values) > 1 else None
        components.append(Component(
            type=type_name, namespace=namespace, name=name, line=tsparse.line(node),
            variable=_declared_variable(node),
            args=args if args is not None and args.type == "object" else None, node=node,
        ))
    return components


def _declared_variable(node: Node) -> str | None:
    parent = node.parent
    while parent is not None and parent.type in ("await_expression", *tsparse.TRANSPARENT):
        parent = parent.parent
    if parent is None or parent.type != "variable_declarator":
        return None
    name = parent.child_by_field_name("name")
    return tsparse.text(name) if name is not None and name.type == "identifier" else None


def _enclosing_component(node: Node, components: list[Component]) -> Component | None:
    by_node = {(c.node.start_byte, c.node.end_byte): c for c in components}
    current = node.parent
    while current is not None:
        component = by_node.get((current.start_byte, current.end_byte))
        if component is not None and current.type == "new_expression":
            return component
        current = current.parent
    return None


def _enclosing_key(node: Node) -> str | None:
    current = node.parent
    while current is not None:
        if current.type == "pair":
            return tsparse.key_name(current)
        current = current.parent
    return None


def _escape_template(literal: str) -> str:
    return literal.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")


def _is_plus(node: Node) -> bool:
    if node.type != "binary_expression":
        return False
    operator = node.child_by_field_name("operator")
    return operator is not None and tsparse.text(operator) == "+"


def _plus_operands(node: Node) -> list[Node]:
    if not _is_plus(node):
        return [node]
    left = node.child_by_field_name("left")
    right = node.child_by_field_name("right")
    operands: list[Node] = []
    for side in (left, right):
        if side is not None:
            operands.extend(_plus_operands(side))
    return operands


def _dns_kind(node: Node | None) -> str | None:
    """`sst.aws.dns`, `sst.cloudflare.dns`, `false` (no DNS records), or the source text."""
    if node is None:
        return None
    node = tsparse.unwrap(node)
    if node.type == "false":
        return "false"
    if node.type == "call_expression":
        function = node.child_by_field_name("function")
        if function is not None:
            return tsparse.text(function)
    return tsparse.text(node)


def _dynamo_table(component: Component) -> DynamoTable:
    fields_node = tsparse.get_member(component.args, "fields")
    static = fields_node is not None and not tsparse.has_spread(fields_node)
    field_names = [name for name, _ in tsparse.object_members(fields_node)]

    keys: list[str | None] = []
    primary = tsparse.get_member(component.args, "primaryIndex")
    static = static and primary is not None and not tsparse.has_spread(primary)
    keys += _index_keys(primary)
    for group in ("globalIndexes", "localIndexes"):
        indexes = tsparse.get_member(component.args, group)
        if indexes is None:
            continue
        if tsparse.has_spread(indexes):
            static = False
        for _, member in tsparse.object_members(indexes):
            index = tsparse.member_value(member)
            if index is None or tsparse.has_spread(index):
                static = False
                continue
            keys += _index_keys(index)
    if any(key is None for key in keys):
        static = False

    indexed = [name for name in field_names if name in keys]
    unindexed = [name for name in field_names if name not in keys] if static else []
    return DynamoTable(component.name, component.line, field_names, indexed, unindexed, static)


def _index_keys(index: Node | None) -> list[str | None]:
    """Return the hashKey and rangeKey of an index (None for a key that is not a literal)."""
    keys = []
    for name in ("hashKey", "rangeKey"):
        value = tsparse.get_member(index, name)
        if value is not None:
            keys.append(tsparse.string_value(value))
    return keys
