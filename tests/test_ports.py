"""Ports: listeners on the dev port, the next free port, and the port rules and fixers."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from deploykit.collectors.ports import collect
from deploykit.diagnosis import diagnose
from deploykit.procinfo import listening_sockets, port_is_free
from deploykit.runsettings import save_run_env
from engine.facts import Fact
from tests.aws_server import free_port
from tests.lock_helpers import context, install_fake_tool, make_project, rules_for, running


def facts_of(kind: str, facts: list[Fact]) -> list[Fact]:
    return [fact for fact in facts if fact.kind == kind]


def test_listening_sockets_finds_own_socket() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        found = [entry for entry in listening_sockets() if entry.port == port]
    assert len(found) == 1
    assert found[0].address == "127.0.0.1"
    assert found[0].pid == os.getpid()


def test_port_is_free_false_while_listening() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert not port_is_free(port)
    assert port_is_free(port)


def test_ports_reports_child_listener(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    next_binary = install_fake_tool(project, "next")
    port = free_port()
    with running([str(next_binary), "dev"], project, {"FAKE_LISTEN_PORT": str(port)}) as pid:
        facts = list(collect(context(project, "dev", port=port)))
    listeners = [f for f in facts_of("port.listener", facts) if f.get("port") == port]
    assert len(listeners) == 1
    assert listeners[0].get("pid") == pid
    assert listeners[0].get("command") == f"{sys.executable} {next_binary} dev"
    assert listeners[0].get("inside_project") is True
    assert listeners[0].get("dev_port") is True


def test_ports_dev_port_names_holder(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    next_binary = install_fake_tool(project, "next")
    port = free_port()
    with running([str(next_binary), "dev"], project, {"FAKE_LISTEN_PORT": str(port)}) as pid:
        (dev_port,) = facts_of("dev.port", list(collect(context(project, "dev", port=port))))
    assert dev_port.get("free") is False
    assert f"pid {pid}" in dev_port.get("holder")
    assert dev_port.get("next_free") is not None
    assert dev_port.get("next_free") > port


def test_ports_dev_port_free_without_listener(tmp_path: Path) -> None:
    port = free_port()
    (dev_port,) = facts_of("dev.port", list(collect(context(tmp_path, "dev", port=port))))
    assert dev_port.get("free") is True
    assert dev_port.get("holder") is None
    assert dev_port.get("origin") == "option"


def test_ports_dev_port_from_run_env(tmp_path: Path) -> None:
    save_run_env(tmp_path, None, {"PORT": "4100"})
    (dev_port,) = facts_of("dev.port", list(collect(context(tmp_path, "dev"))))
    assert dev_port.get("port") == 4100
    assert dev_port.get("origin") == "run-env"


def test_ports_dev_port_defaults_to_3000(tmp_path: Path) -> None:
    run = context(tmp_path, "dev")
    run = type(run)(root=run.root, scope="dev", env={}, offline=True)
    (dev_port,) = facts_of("dev.port", list(collect(run)))
    assert dev_port.get("port") == 3000
    assert dev_port.get("origin") == "default"


def test_port_rule_dev_plans_next_free_port(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    next_binary = install_fake_tool(project, "next")
    port = free_port()
    with running([str(next_binary), "dev"], project, {"FAKE_LISTEN_PORT": str(port)}) as pid:
        diagnosis = diagnose(context(project, "dev", port=port), rules_for("dev", "ports"))
    (finding,) = [f for f in diagnosis.findings if f.rule.id == "ports/dev-port-in-use"]
    assert f"port {port}" in finding.message
    assert f"pid {pid}" in finding.message
    assert finding.plan is not None
    assert finding.plan.safety == "safe"
    planned = int(finding.plan.env["PORT"])
    assert planned > port
    assert any(f"pid {pid}" in step for step in finding.plan.steps)


def test_port_rule_doctor_plans_stopping_holder(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    next_binary = install_fake_tool(project, "next")
    port = free_port()
    with running([str(next_binary), "dev"], project, {"FAKE_LISTEN_PORT": str(port)}) as pid:
        diagnosis = diagnose(context(project, "doctor", port=port), rules_for("doctor", "ports"))
    (finding,) = [f for f in diagnosis.findings if f.rule.id == "ports/dev-port-held"]
    assert finding.plan is not None
    assert finding.plan.safety == "manual"
    assert [step.argv for step in finding.plan.commands] == [("kill", str(pid))]
    assert str(next_binary) in finding.plan.description


def test_port_rule_silent_when_port_free(tmp_path: Path) -> None:
    port = free_port()
    diagnosis = diagnose(context(tmp_path, "dev", port=port), rules_for("dev", "ports"))
    assert [f.rule.id for f in diagnosis.findings if f.rule.id.startswith("ports/")] == []
