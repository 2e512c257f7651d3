"""Every command in-process (Typer's CliRunner) against a real sqlite store: output and exit status."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import USER, Cli, Store, error_line

pytestmark = pytest.mark.integration

F1 = ["--metric", "F1"]


def as_json(stdout: str) -> Any:
    return json.loads(stdout)


class TestSet:
    def test_first_set_then_widen_narrow_and_replace(self, cli: Cli) -> None:
        assert cli.ok("set", "prod", "<=1.0").stdout == "prod: set <=1.0 (was unset: any version)\n"
        assert cli.ok("set", "PROD", "<= 2.0").stdout == "prod: widened <=1.0 → <=2.0\n"
        assert cli.ok("set", "prod", "<=1.0").stdout == "prod: narrowed <=2.0 → <=1.0\n"
        assert cli.ok("set", "prod", "==3.0").stdout == "prod: replaced <=1.0 → ==3.0\n"

    def test_same_allowance_again_writes_nothing(self, cli: Cli, store: Store) -> None:
        cli.ok("set", "prod", "1.0 <= v <= 2.0")
        before = store.state()
        assert cli.ok("set", "prod", ">=1.0,<=2.0").stdout == "prod: unchanged >=1.0,<=2.0\n"
        assert store.state() == before

    def test_model_override_with_reason_and_json(self, cli: Cli) -> None:
        data = as_json(
            cli.ok("set", "int", "==2.0", "--model", "AImodel", "--reason", "ticket 42", "--json").stdout
        )
        assert data == {
            "environment": "int",
            "model": "AImodel",
            "old": None,
            "new": "==2.0",
            "changed": True,
            "comparison": "narrower",
        }
        assert "ticket 42" in cli.ok("history", "int").stdout


class TestGet:
    def test_unset_default_and_override(self, cli: Cli) -> None:
        assert cli.ok("get", "prod").stdout == "*\n"
        cli.ok("set", "prod", "<=1.0")
        cli.ok("set", "prod", "==2.0", "-m", "AImodel")
        assert cli.ok("get", "prod").stdout == "<=1.0\n"
        assert cli.ok("get", "prod", "-m", "AImodel").stdout == "==2.0\n"
        assert cli.ok("get", "prod", "-m", "Other").stdout == "<=1.0\n"

    @pytest.mark.parametrize(
        ("model", "source", "allowance"),
        [
            pytest.param(None, "default", "<=1.0", id="default"),
            pytest.param("AImodel", "model", "==2.0", id="override"),
            pytest.param("Other", "default", "<=1.0", id="default-for-a-model"),
        ],
    )
    def test_json_says_where_it_comes_from(
        self, cli: Cli, model: str | None, source: str, allowance: str
    ) -> None:
        cli.ok("set", "prod", "<=1.0")
        cli.ok("set", "prod", "==2.0", "-m", "AImodel")
        args = ["get", "prod", "--json", *(["--model", model] if model else [])]
        data = as_json(cli.ok(*args).stdout)
        assert data == {"environment": "prod", "model": model, "allowance": allowance, "source": source}

    def test_json_of_an_environment_without_allowance(self, cli: Cli) -> None:
        assert as_json(cli.ok("get", "int", "--json").stdout)["source"] == "unset"


class TestUnset:
    def test_unset_override_falls_back_to_default(self, cli: Cli) -> None:
        cli.ok("set", "prod", "<=1.0")
        cli.ok("set", "prod", "==2.0", "-m", "AImodel")
        out = cli.ok("unset", "prod", "-m", "AImodel").stdout
        assert out.startswith("prod (AImodel): unset ==2.0")
        assert cli.ok("get", "prod", "-m", "AImodel").stdout == "<=1.0\n"

    def test_unset_nothing_is_unchanged(self, cli: Cli) -> None:
        assert as_json(cli.ok("unset", "prod", "--json").stdout)["changed"] is False


class TestList:
    def test_table_of_defaults_and_overrides(self, cli: Cli) -> None:
        cli.ok("set", "prod", "<=1.0")
        cli.ok("set", "int", "==2.0", "-m", "AImodel")
        assert cli.ok("list").stdout.splitlines() == [
            "ENV   MODEL    ALLOWANCE  SOURCE",
            "int   AImodel  ==2.0      model",
            "prod  *        <=1.0      default",
        ]

    def test_empty_and_json(self, cli: Cli) -> None:
        assert "no allowances set" in cli.ok("list").stdout
        cli.ok("set", "int", "==2.0", "-m", "AImodel")
        cli.ok("set", "int", "<=1.0", "-m", "Other")
        assert as_json(cli.ok("list", "--model", "Other", "--json").stdout) == [
            {"environment": "int", "model": "Other", "allowance": "<=1.0", "source": "model"}
        ]


class TestSelect:
    def test_one_line_names_the_winner(self, cli: Cli) -> None:
        cli.ok("set", "prod", "<=1.0")
        out = cli.ok("select", "prod", "-m", "AImodel", *F1).stdout
        assert out == "prod: AImodel/2 (version 1.0) — winner: highest F1 (0.98) within <=1.0\n"

    def test_explain_shows_every_candidate_and_marks_the_winner(self, cli: Cli) -> None:
        cli.ok("set", "prod", "<=1.0")
        out = cli.ok("select", "prod", "-m", "AImodel", *F1, "--explain").stdout
        assert out.splitlines() == [
            "prod: highest F1 within <=1.0",
            "   MODEL    VERSION  SEMVER  F1    ELIGIBLE  REASON",
            "*  AImodel  2        1.0     0.98  yes       winner: highest F1 (0.98) within <=1.0",
            "   AImodel  1        1.0     0.93  yes       F1 0.93 is worse than the winner's 0.98",
            "   AImodel  4        1.0     -     no        no metric 'F1'",
            "   AImodel  3        2.0     0.99  no        2.0 is outside <=1.0",
        ]

    def test_json_shape(self, cli: Cli, store: Store) -> None:
        cli.ok("set", "prod", "<=1.0")
        before = store.state()
        data = as_json(cli.ok("select", "PROD", "-m", "AImodel", "-m", "Other", *F1, "--json").stdout)
        assert store.state() == before, "select writes nothing"
        assert data["environment"] == "prod"
        assert data["allowance"] == "<=1.0"
        assert data["winner"] == {"name": "AImodel", "version": "2", "semver": "1.0", "metric": 0.98}
        assert len(data["candidates"]) == 6
        for candidate in data["candidates"]:
            assert set(candidate) >= {"name", "version", "semver", "metric", "eligible", "reason"}
            assert isinstance(candidate["version"], str)
            assert candidate["metric"] is None or isinstance(candidate["metric"], float)
            assert isinstance(candidate["eligible"], bool)
        assert [c["eligible"] for c in data["candidates"]].count(True) == 2

    def test_latest_without_metric_minimize_and_pre(self, cli: Cli) -> None:
        latest = as_json(cli.ok("select", "prod", "-m", "Other", "--json").stdout)
        assert latest["winner"]["semver"] == "1.5"
        pre = as_json(cli.ok("select", "prod", "-m", "Other", "--pre", "--json").stdout)
        assert pre["winner"]["semver"] == "2.1rc1"
        lowest = as_json(cli.ok("select", "prod", "-m", "AImodel", *F1, "--minimize", "--json").stdout)
        assert lowest["winner"]["metric"] == 0.93

    def test_no_pre_excludes_pre_releases_the_allowance_names(self, cli: Cli) -> None:
        cli.ok("set", "prod", ">=2.1rc1")
        named = as_json(cli.ok("select", "prod", "-m", "Other", "--json").stdout)
        assert named["winner"]["semver"] == "2.1rc1"
        refused = cli("select", "prod", "-m", "Other", "--no-pre", "--json")
        assert refused.exit_code == 1
        assert as_json(refused.stdout)["winner"] is None

    def test_require_tag(self, cli: Cli) -> None:
        data = as_json(
            cli.ok("select", "prod", "-m", "AImodel", "--require-tag", "validated=true", "--json").stdout
        )
        assert data["winner"]["version"] == "2"

    def test_no_eligible_candidate_exits_1_and_still_prints_json(self, cli: Cli, store: Store) -> None:
        cli.ok("set", "prod", "==3.0")
        before = store.state()
        result = cli("select", "prod", "-m", "AImodel", *F1, "--json")
        assert result.exit_code == 1
        data = as_json(result.stdout)
        assert data["winner"] is None
        assert len(data["candidates"]) == 4
        assert not any(c["eligible"] for c in data["candidates"])
        assert result.stderr.startswith("Error: no eligible candidate for prod among AImodel")
        assert len(result.stderr.splitlines()) == 1
        assert store.state() == before

    def test_no_eligible_candidate_explains_or_hints(self, cli: Cli) -> None:
        cli.ok("set", "prod", "==3.0")
        explained = cli("select", "prod", "-m", "AImodel", "--explain")
        assert explained.exit_code == 1
        lines = explained.stdout.splitlines()
        assert lines[:3] == [
            "prod: latest semantic version within ==3.0",
            "   MODEL    VERSION  SEMVER  METRIC  ELIGIBLE  REASON",
            "   AImodel  4        1.0     -       no        1.0 is outside ==3.0",
        ]
        assert error_line(explained).startswith("Error: no eligible candidate for prod among AImodel")
        plain = cli("select", "prod", "-m", "AImodel")
        assert (plain.exit_code, plain.stdout) == (1, "")
        assert plain.stderr.rstrip().endswith("run with --explain to see why")


class TestPromote:
    def test_promote_then_again_then_dry_run(self, cli: Cli, store: Store) -> None:
        cli.ok("set", "prod", "<=1.0")
        assert (
            cli.ok("promote", "prod", "-m", "AImodel", *F1).stdout
            == "prod: promoted @prod nothing → AImodel/2\n"
        )
        assert store.state()["AImodel"][0] == {"prod": 2}
        before = store.state()
        again = cli.ok("promote", "prod", "-m", "AImodel", *F1).stdout
        assert again == "prod: @prod already on AImodel/2; nothing written\n"
        cli.ok("set", "prod", "<=2.0")
        before = store.state()
        dry = cli.ok("promote", "prod", "-m", "AImodel", *F1, "--dry-run").stdout
        assert dry == "prod: would move @prod AImodel/2 → AImodel/3; dry run, nothing written\n"
        assert store.state() == before

    def test_json_shape_and_audit_record(self, cli: Cli) -> None:
        cli.ok("set", "prod", "<=1.0")
        data = as_json(
            cli.ok("promote", "prod", "-m", "AImodel", *F1, "--reason", "release 7", "--json").stdout
        )
        assert data["environment"] == "prod"
        assert data["allowance"] == "<=1.0"
        assert data["winner"] == {"name": "AImodel", "version": "2", "semver": "1.0", "metric": 0.98}
        assert {c["version"] for c in data["candidates"]} == {"1", "2", "3", "4"}
        assert (data["old"], data["new"], data["changed"], data["dry_run"]) == (
            None,
            "AImodel/2",
            True,
            False,
        )
        assert isinstance(data["record_id"], str)
        history = as_json(cli.ok("history", "prod", "--json").stdout)
        assert (history[0]["kind"], history[0]["id"], history[0]["reason"]) == (
            "promotion",
            data["record_id"],
            "release 7",
        )

    def test_explain_and_stage(self, cli: Cli, store: Store) -> None:
        out = cli.ok("promote", "prod", "-m", "AImodel", "--explain", "--stage", "production").stdout
        lines = out.splitlines()
        assert lines[0] == "prod: latest semantic version within *"
        assert lines[2].startswith("*  AImodel  3        2.0")
        assert lines[-1] == "prod: promoted @prod nothing → AImodel/3 (stage Production)"
        stages = {version: stage for version, stage, _ in store.state()["AImodel"][2]}
        assert stages[3] == "Production"

    def test_only_the_winners_model_keeps_the_alias(self, cli: Cli, store: Store) -> None:
        cli.ok("promote", "prod", "-m", "Other")
        cli.ok("promote", "prod", "-m", "AImodel", "-m", "Other")
        state = store.state()
        assert (state["AImodel"][0], state["Other"][0]) == ({"prod": 3}, {})

    def test_no_eligible_candidate_exits_1_writes_nothing_and_prints_json(
        self, cli: Cli, store: Store
    ) -> None:
        cli.ok("set", "prod", "==3.0")
        before = store.state()
        result = cli("promote", "prod", "-m", "AImodel", *F1, "--json")
        assert result.exit_code == 1
        data = as_json(result.stdout)
        assert (data["environment"], data["winner"], data["changed"]) == ("prod", None, False)
        assert len(data["candidates"]) == 4
        assert error_line(result) == f"Error: {data['error']}"
        assert store.state() == before


class TestRollback:
    def test_rollback_to_the_previous_holder(self, cli: Cli, store: Store) -> None:
        cli.ok("set", "prod", "<=1.0")
        cli.ok("promote", "prod", "-m", "AImodel", *F1)
        cli.ok("set", "prod", "<=2.0")
        cli.ok("promote", "prod", "-m", "AImodel", *F1)
        out = cli.ok("rollback", "prod", "-m", "AImodel").stdout
        assert out == "prod: rolled back @prod AImodel/3 → AImodel/2\n"
        assert store.state()["AImodel"][0] == {"prod": 2}

    def test_refused_outside_the_allowance_unless_forced(self, cli: Cli, store: Store) -> None:
        cli.ok("promote", "prod", "-m", "AImodel")
        cli.ok("promote", "prod", "-m", "AImodel", *F1, "--minimize")
        cli.ok("set", "prod", "<2.0")
        before = store.state()
        refused = cli("rollback", "prod", "-m", "AImodel")
        assert refused.exit_code == 1
        assert error_line(refused).startswith("Error: cannot roll back prod to AImodel/3")
        assert store.state() == before
        forced = as_json(cli.ok("rollback", "prod", "-m", "AImodel", "--force", "--json").stdout)
        assert (forced["old"], forced["new"], forced["changed"]) == ("AImodel/1", "AImodel/3", True)

    def test_nothing_to_roll_back(self, cli: Cli, store: Store) -> None:
        before = store.state()
        result = cli("rollback", "prod", "-m", "AImodel")
        assert result.exit_code == 1
        assert error_line(result).startswith("Error: nothing to roll back")
        assert store.state() == before


class TestCheck:
    def test_ok_then_violation_then_fix(self, cli: Cli, store: Store) -> None:
        cli.ok("promote", "prod", "-m", "AImodel", *F1)
        assert "none outside its allowance" in cli.ok("check").stdout  # no allowance: not an environment
        cli.ok("set", "prod", "<=2.0")
        assert cli.ok("check").stdout == "ok: 1 environment alias checked, none outside its allowance\n"
        cli.ok("set", "prod", "<=1.0")
        before = store.state()
        found = cli("check", "prod")
        assert (found.exit_code, found.stderr) == (1, "")
        assert found.stdout.splitlines() == [
            "ENV   MODEL    VERSION  SEMVER  ALLOWANCE  PROBLEM",
            "prod  AImodel  3        2.0     <=1.0      2.0 is outside <=1.0",
            "1 violation in 1 environment alias checked; run check --fix to re-promote",
        ]
        assert store.state() == before
        fixed = cli.ok("check", "--fix", "--model", "AImodel")
        assert "fixed: prod: promoted @prod AImodel/3 → AImodel/2" in fixed.stdout
        assert store.state()["AImodel"][0] == {"prod": 2}
        assert as_json(cli.ok("check", "--json").stdout) == {
            "ok": True,
            "checked": 1,
            "violations": [],
            "fixes": [],
            "repairs": [],
            "foreign_records": 0,
            "remaining": [],
        }

    def test_json_of_a_violation(self, cli: Cli) -> None:
        cli.ok("promote", "prod", "-m", "AImodel")
        cli.ok("set", "prod", "<=1.0")
        result = cli("check", "--json")
        assert result.exit_code == 1
        data = as_json(result.stdout)
        assert data["ok"] is False
        assert data["violations"][0] == {
            "environment": "prod",
            "model": "AImodel",
            "version": "3",
            "semver": "2.0",
            "allowance": "<=1.0",
            "problem": "2.0 is outside <=1.0",
            "kind": "outside-allowance",
            "record_id": None,
        }


class TestHistory:
    def test_table_newest_first(self, cli: Cli) -> None:
        cli.ok("set", "prod", "<=1.0", "--reason", "first\nline")
        cli.ok("promote", "prod", "-m", "AImodel", *F1)
        lines = cli.ok("history").stdout.splitlines()
        assert re.fullmatch(r"TIME \(UTC\) +USER +KIND +ENV +MODEL +CHANGE +REASON", lines[0])
        time = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
        assert re.fullmatch(
            rf"{time}  {USER}  promotion  prod  AImodel  - → AImodel/2  highest F1 within <=1.0", lines[1]
        )
        assert re.fullmatch(
            rf"{time}  {USER}  allowance  prod  \*        - → <=1.0      first line", lines[2]
        )

    def test_filters_limit_and_json(self, cli: Cli) -> None:
        cli.ok("set", "prod", "<=1.0")
        cli.ok("set", "int", "==2.0", "-m", "AImodel")
        cli.ok("set", "int", "<=1.0", "-m", "Other")
        assert len(cli.ok("history", "int").stdout.splitlines()) == 3
        assert len(cli.ok("history", "--limit", "1").stdout.splitlines()) == 2
        records = as_json(cli.ok("history", "int", "--model", "Other", "--json").stdout)
        assert [(r["model"], r["new"], r["user"]) for r in records] == [("Other", "<=1.0", USER)]

    def test_empty(self, cli: Cli) -> None:
        assert cli.ok("history").stdout == "no audit records\n"

    def test_limit_0_gives_none_as_in_the_api(self, cli: Cli) -> None:
        cli.ok("set", "prod", "<=1.0")
        assert cli.ok("history", "--limit", "0").stdout == "no audit records\n"
        assert as_json(cli.ok("history", "--limit", "0", "--json").stdout) == []


class TestTagVersion:
    def test_tag_then_select_sees_it(self, cli: Cli) -> None:
        assert (
            cli.ok("tag-version", "-m", "AImodel", "4", "v3.0.0").stdout
            == "AImodel/4: semantic version v3.0.0\n"
        )
        data = as_json(cli.ok("select", "prod", "-m", "AImodel", "--json").stdout)
        assert data["winner"]["version"] == "4"
        assert as_json(cli.ok("tag-version", "-m", "AImodel", "4", "3.1", "--json").stdout) == {
            "name": "AImodel",
            "version": "4",
            "semver": "3.1",
        }

    def test_the_positional_model_still_works_with_a_warning(self, cli: Cli, store: Store) -> None:
        result = cli("tag-version", "AImodel", "4", "3.2")
        assert (result.exit_code, result.stdout) == (0, "AImodel/4: semantic version 3.2\n")
        assert result.stderr == (
            "warning: `mlflow-allowance tag-version NAME REGISTRY_VERSION SEMVER` is deprecated and stops "
            "working in 0.3.0: write `mlflow-allowance tag-version --model AImodel 4 3.2`\n"
        )

    def test_the_positional_model_failing_is_still_one_line(self, cli: Cli) -> None:
        result = cli("tag-version", "AImodel", "4", "abc")
        assert result.exit_code == 2
        assert error_line(result).startswith("Error: Invalid version 'abc'")

    @pytest.mark.parametrize(
        ("args", "says"),
        [
            pytest.param(["4", "3.2"], "Error: Missing option '--model' / '-m'", id="no-model"),
            pytest.param(
                ["-m", "AImodel", "AImodel", "4", "3.2"], "Error: Got unexpected extra argument", id="both"
            ),
        ],
    )
    def test_model_given_neither_or_twice_exits_2(
        self, cli: Cli, store: Store, args: list[str], says: str
    ) -> None:
        before = store.state()
        result = cli("tag-version", *args)
        assert result.exit_code == 2
        assert error_line(result).startswith(says)
        assert store.state() == before


class TestDashboard:
    def test_environments_are_positional(self, cli: Cli, tmp_path: Path) -> None:
        cli.ok("set", "prod", "<=1.0")
        cli.ok("set", "int", "<=2.0")
        out = tmp_path / "board.html"
        assert cli.ok("dashboard", "int", "-o", str(out)).stdout == f"wrote {out}\n"
        html = out.read_text("utf-8")
        assert 'id="env-int"' in html
        assert 'id="env-prod"' not in html

    def test_env_option_still_works_with_a_warning(self, cli: Cli, tmp_path: Path) -> None:
        cli.ok("set", "prod", "<=1.0")
        cli.ok("set", "int", "<=2.0")
        out = tmp_path / "board.html"
        result = cli("dashboard", "-o", str(out), "--env", "int")
        assert (result.exit_code, result.stdout) == (0, f"wrote {out}\n")
        assert result.stderr == (
            "warning: `mlflow-allowance dashboard --env ENV` is deprecated and stops working in 0.3.0: "
            "name the environments first, `mlflow-allowance dashboard int`\n"
        )
        assert 'id="env-prod"' not in out.read_text("utf-8")

    def test_a_bad_positional_environment_is_one_line(self, cli: Cli, tmp_path: Path) -> None:
        result = cli("dashboard", "latest", "-o", str(tmp_path / "x.html"))
        assert result.exit_code == 2
        assert error_line(result).startswith("Error: Invalid environment 'latest'")
        assert not (tmp_path / "x.html").exists()
