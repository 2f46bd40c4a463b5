"""The git collector on real repositories made under tmp_path, and the git rules."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from deploykit.collectors.git import parse_status, read_repo
from deploykit.context import RunContext
from deploykit.diagnosis import diagnose, load_rules, select_rules
from engine.model import Finding

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


BRANCH_CONFIG = json.dumps({
    "projectName": "shop",
    "stages": ["production"],
    "stageConfig": {"production": {"branch": "main"}},
})


def git(folder: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    result = subprocess.run(
        ["git", "-C", str(folder), *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return result.stdout


def make_repo(folder: Path, branch: str = "main") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "-q", "-b", branch)
    (folder / "package.json").write_text('{"name": "shop"}\n')
    git(folder, "add", "package.json")
    git(folder, "commit", "-q", "-m", "Start")
    return folder


def commit_file(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text)
    git(folder, "add", name)
    git(folder, "commit", "-q", "-m", f"Add {name}")


def env() -> dict[str, str]:
    return {**os.environ, **GIT_ENV}


def findings(
    root: Path, rule_id: str, scope: str = "deploy", stage: str | None = None
) -> list[Finding]:
    rules = select_rules(load_rules(), scope, [rule_id])
    context = RunContext(root=root, scope=scope, stage=stage, offline=True, env=env())
    return [f for f in diagnose(context, rules).findings if f.rule.id == rule_id]


def test_git_repo_outside_repository(tmp_path: Path) -> None:
    fact = read_repo(tmp_path, env())
    assert fact.get("inside") is False
    assert "not a git repository" in fact.get("reason")


def test_git_repo_clean_tree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")
    fact = read_repo(repo, env())
    assert fact.get("inside") is True
    assert fact.get("root") == str(repo.resolve())
    assert fact.get("branch") == "main"
    assert fact.get("detached") is False
    assert fact.get("dirty") is False
    assert fact.get("uncommitted_count") == 0
    assert fact.get("untracked_count") == 0
    assert fact.get("upstream") is None
    assert fact.get("behind") is None


def test_git_repo_lists_uncommitted_and_untracked(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")
    commit_file(repo, "api.ts", "export {};\n")
    (repo / "api.ts").write_text("export const x = 1;\n")
    (repo / "package.json").write_text('{"name": "shop2"}\n')
    git(repo, "add", "package.json")
    (repo / "notes.txt").write_text("todo\n")
    fact = read_repo(repo, env())
    assert fact.get("dirty") is True
    assert sorted(fact.get("uncommitted")) == ["api.ts", "package.json"]
    assert fact.get("uncommitted_count") == 2
    assert fact.get("untracked") == ["notes.txt"]
    assert fact.get("untracked_count") == 1


def test_git_repo_paths_with_spaces_and_renames(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")
    commit_file(repo, "old name.ts", "export {};\n")
    git(repo, "mv", "old name.ts", "new name.ts")
    (repo / "draft file.md").write_text("x\n")
    fact = read_repo(repo, env())
    assert fact.get("uncommitted") == ["new name.ts"]
    assert fact.get("untracked") == ["draft file.md"]


def test_git_repo_ignores_own_state_files(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")
    (repo / ".deployment-lock-staging").write_text("{}\n")
    (repo / ".deploy-kit").mkdir()
    (repo / ".deploy-kit" / "journal.json").write_text("{}\n")
    fact = read_repo(repo, env())
    assert fact.get("dirty") is False
    assert fact.get("untracked_count") == 0


def test_git_repo_detached_head(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach", head)
    fact = read_repo(repo, env())
    assert fact.get("detached") is True
    assert fact.get("branch") is None
    assert fact.get("head") == head


def test_git_repo_before_first_commit(tmp_path: Path) -> None:
    repo = tmp_path / "empty"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    fact = read_repo(repo, env())
    assert fact.get("head") is None
    assert fact.get("branch") == "main"


def test_git_repo_ahead_and_behind_upstream(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    commit_file(origin, "a.ts", "a\n")
    commit_file(origin, "b.ts", "b\n")
    commit_file(clone, "c.ts", "c\n")
    git(clone, "fetch", "-q")
    fact = read_repo(clone, env())
    assert fact.get("upstream") == "origin/main"
    assert fact.get("ahead") == 1
    assert fact.get("behind") == 2


def test_git_repo_from_subfolder_reports_work_tree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "mono")
    infra = repo / "infra"
    infra.mkdir()
    fact = read_repo(infra, env())
    assert fact.get("root") == str(repo.resolve())


def test_parse_status_unmerged_entry() -> None:
    output = (
        "# branch.oid abc\0# branch.head main\0"
        "u UU N... 100644 100644 100644 100644 a b c src/x.ts\0"
    )
    status = parse_status(output)
    assert status.uncommitted == ["src/x.ts"]


def test_dirty_tree_rule_fires_before_deploy(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")
    (repo / "package.json").write_text('{"name": "changed"}\n')
    found = findings(repo, "git/dirty-tree")
    assert len(found) == 1
    assert "package.json" in found[0].message


def test_dirty_tree_rule_respects_require_clean_git_false(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")
    commit_file(
        repo,
        ".deploy-config.json",
        '{"projectName": "shop", "stages": ["dev"], "requireCleanGit": false}\n',
    )
    (repo / "package.json").write_text('{"name": "changed"}\n')
    assert findings(repo, "git/dirty-tree") == []


def test_wrong_branch_rule_names_both_branches(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")
    config = BRANCH_CONFIG
    commit_file(repo, ".deploy-config.json", config)
    git(repo, "switch", "-q", "-c", "feature/search")
    found = findings(repo, "git/wrong-branch-for-stage", stage="production")
    assert len(found) == 1
    assert "branch main" in found[0].message
    assert "feature/search" in found[0].message


def test_wrong_branch_rule_quiet_on_the_stage_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")
    config = BRANCH_CONFIG
    commit_file(repo, ".deploy-config.json", config)
    assert findings(repo, "git/wrong-branch-for-stage", stage="production") == []


@pytest.mark.parametrize("scope", ["doctor", "deploy"])
def test_behind_upstream_rule_counts_commits(tmp_path: Path, scope: str) -> None:
    origin = make_repo(tmp_path / "origin")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    commit_file(origin, "a.ts", "a\n")
    git(clone, "fetch", "-q")
    found = findings(clone, "git/behind-upstream", scope=scope)
    assert len(found) == 1
    assert "1 commits behind origin/main" in found[0].message
