"""The rule cache gives the same rules as the YAML loader and never hides a rule error."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploykit.diagnosis import InvalidRulesError, load_rules
from engine.cache import cache_folder, rule_from_data, rule_to_data
from engine.rulecases import run_cases


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DEPLOY_KIT_NO_RULE_CACHE", raising=False)
    return tmp_path / "cache"


def test_cache_folder_honours_xdg() -> None:
    assert cache_folder({"XDG_CACHE_HOME": "/c"}) == Path("/c/deploy-kit/rules")


def test_cache_round_trip_keeps_every_field() -> None:
    for rule in load_rules():
        copy = rule_from_data(rule_to_data(rule))
        assert copy == rule, rule.id
        assert copy.kinds == rule.kinds, rule.id
        assert copy.aliases == rule.aliases, rule.id


def test_cached_rules_pass_their_cases(cache_home: Path) -> None:
    fresh = load_rules()
    cached = load_rules()

    assert list(cache_home.rglob("*.json"))
    assert [rule.id for rule in cached] == [rule.id for rule in fresh]
    failures = [r.rule.id for rule in cached for r in run_cases(rule) if not r.passed]
    assert failures == []


def test_cache_does_not_hide_rule_error(cache_home: Path, copy_project) -> None:  # type: ignore[no-untyped-def]
    root = copy_project("healthy")
    rules_dir = root / ".deploy-kit" / "rules"
    rules_dir.mkdir(parents=True)
    load_rules(root)
    (rules_dir / "bad.yaml").write_text("rules:\n  - id: Bad Id\n", encoding="utf-8")

    with pytest.raises(InvalidRulesError) as cached_error:
        load_rules(root)
    with pytest.raises(InvalidRulesError) as cached_again:
        load_rules(root)

    assert str(cached_error.value).startswith(".deploy-kit/rules/bad.yaml:2:")
    assert str(cached_again.value) == str(cached_error.value)


def test_cache_hit_repeats_loader_warnings(
    cache_home: Path,
    copy_project,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    root = copy_project("healthy")
    (root / ".deploy-kit" / "rules").mkdir(parents=True)
    (root / ".deploy-kit" / "rules" / "off.yaml").write_text("disable: [acme/no-such-rule]\n")
    load_rules(root)
    caplog.clear()

    load_rules(root)

    assert list(cache_home.rglob("*.json"))
    assert "acme/no-such-rule" in caplog.text
