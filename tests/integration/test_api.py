"""The Python API against real MLflow: an sqlite store and a live ``mlflow server`` (REST)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from mlflow_allowance import (
    AllowanceClient,
    InputError,
    NoEligibleCandidateError,
    NotFoundError,
    VersionAllowance,
)
from mlflow_allowance._schema import PREFIX, TAG_VALUE_LIMIT
from mlflow_allowance.allowance import AllowanceComparison
from mlflow_allowance.errors import (
    InvalidAllowanceError,
    InvalidEnvironmentError,
    InvalidVersionError,
    RollbackRefusedError,
)

from .conftest import MakeVersion, aliases_of, registry_state

pytestmark = pytest.mark.integration


class TestAllowances:
    def test_default_then_override_then_unset(
        self, api: AllowanceClient, env: str, make_version: MakeVersion, unique_name: str
    ) -> None:
        make_version(unique_name, "1.0")
        assert api.get_allowance(env, model=unique_name).source == "unset"
        api.set_allowance(env, "<=1.0")
        effective = api.get_allowance(env, model=unique_name)
        assert (effective.allowance.canonical, effective.source) == ("<=1.0", "default")
        api.set_allowance(env, "==2.0", model=unique_name)
        effective = api.get_allowance(env, model=unique_name)
        assert (effective.allowance.canonical, effective.source) == ("==2.0", "model")
        assert api.get_allowance(env).allowance.canonical == "<=1.0"
        api.unset_allowance(env, model=unique_name)
        assert api.get_allowance(env, model=unique_name).source == "default"

    def test_widening_is_reported_and_audited(self, api: AllowanceClient, env: str) -> None:
        api.set_allowance(env, "<=1.0")
        change = api.set_allowance(env, "<=2.0")
        assert change.comparison is AllowanceComparison.WIDER
        assert "widened <=1.0 → <=2.0" in change.describe()
        latest = api.history(env)[0]
        assert (latest.kind, latest.old, latest.new) == ("allowance", "<=1.0", "<=2.0")

    def test_setting_the_same_allowance_writes_nothing(
        self, api: AllowanceClient, env: str, mlflow_client: MlflowClient
    ) -> None:
        api.set_allowance(env, "1.0 <= v <= 2.0")
        before = len(api.history(env))
        change = api.set_allowance(env, ">=1.0,<=2.0")
        assert not change.changed
        assert len(api.history(env)) == before

    def test_list_shows_defaults_and_overrides(
        self, api: AllowanceClient, env: str, make_version: MakeVersion, unique_name: str
    ) -> None:
        make_version(unique_name, "1.0")
        api.set_allowance(env, "<=1.0")
        api.set_allowance(env, "==2.0", model=unique_name)
        listed = {(a.model, a.allowance.canonical, a.source) for a in api.list_allowances(model=unique_name)}
        assert (None, "<=1.0", "default") in listed
        assert (unique_name, "==2.0", "model") in listed

    def test_stored_where_the_ui_shows_it_under_our_prefix(
        self,
        api: AllowanceClient,
        env: str,
        mlflow_client: MlflowClient,
        make_version: MakeVersion,
        unique_name: str,
    ) -> None:
        make_version(unique_name, "1.0")
        api.set_allowance(env, "<=1.0", model=unique_name)
        tags = mlflow_client.get_registered_model(unique_name).tags
        assert tags[f"{PREFIX}allowance.{env}"] == "<=1.0"
        assert all(key.startswith(PREFIX) for key in tags)

    @pytest.mark.parametrize("bad", ["<=abc", ">=3,<2", ""])
    def test_invalid_allowance_changes_nothing(
        self,
        api: AllowanceClient,
        env: str,
        mlflow_client: MlflowClient,
        bad: str,
        make_version: MakeVersion,
        unique_name: str,
    ) -> None:
        make_version(unique_name, "1.0")
        api.set_allowance(env, "<=1.0", model=unique_name)
        before = registry_state(mlflow_client, unique_name)
        with pytest.raises(InvalidAllowanceError, match="Invalid allowance"):
            api.set_allowance(env, bad, model=unique_name)
        assert registry_state(mlflow_client, unique_name) == before

    @pytest.mark.parametrize("bad", ["latest", "v1", "pr od", "a/b", "x" * 256])
    def test_invalid_environment_is_rejected(self, api: AllowanceClient, bad: str) -> None:
        with pytest.raises(InvalidEnvironmentError):
            api.set_allowance(bad, "<=1.0")

    def test_unknown_model_says_what_to_do(self, api: AllowanceClient, env: str) -> None:
        with pytest.raises(NotFoundError, match="does not exist; register a version first"):
            api.set_allowance(env, "<=1.0", model="no-such-model-anywhere")


class TestSemanticVersions:
    def test_set_and_get_version(
        self, api: AllowanceClient, make_version: MakeVersion, unique_name: str
    ) -> None:
        version = make_version(unique_name, None)
        assert api.get_version(unique_name, version).semver is None
        api.set_version(unique_name, str(version), "v2.0.0-rc.1")
        assert api.get_version(unique_name, version).semver == "v2.0.0-rc.1"

    def test_invalid_version_writes_nothing(
        self, api: AllowanceClient, make_version: MakeVersion, unique_name: str, mlflow_client: MlflowClient
    ) -> None:
        version = make_version(unique_name, "1.0")
        before = registry_state(mlflow_client, unique_name)
        with pytest.raises(InvalidVersionError):
            api.set_version(unique_name, version, "not-a-version")
        assert registry_state(mlflow_client, unique_name) == before

    def test_next_semver_bumps_the_highest(
        self, api: AllowanceClient, make_version: MakeVersion, unique_name: str
    ) -> None:
        make_version(unique_name, "1.2")
        make_version(unique_name, "banana")
        make_version(unique_name, "1.10")
        assert str(api.next_semver(unique_name, "minor")) == "1.11"
        assert str(api.next_semver(unique_name, "major")) == "2.0"

    def test_register_model_rejects_bad_version_before_writing(
        self, api: AllowanceClient, mlflow_client: MlflowClient, unique_name: str
    ) -> None:
        with pytest.raises(InvalidVersionError):
            api.register_model("runs:/0123/model", unique_name, semver="1.0.0.banana")
        assert mlflow_client.search_registered_models(f"name = '{unique_name}'") == []


class TestSelect:
    def test_best_by_metric_with_reasons(
        self, api: AllowanceClient, env: str, make_version: MakeVersion, unique_name: str
    ) -> None:
        low = make_version(unique_name, "1.0", {"F1": 0.9})
        best = make_version(unique_name, "1.0", {"F1": 0.95})
        newer = make_version(unique_name, "2.0", {"F1": 0.99})
        missing = make_version(unique_name, "1.0", {"Accuracy": 0.99})
        api.set_allowance(env, "<=1.0")
        selection = api.select(env, unique_name, metric="F1")
        assert selection.winner is not None
        assert selection.winner.candidate.version == best
        reasons = {v.candidate.version: v.reason for v in selection.candidates}
        assert reasons[newer] == "2.0 is outside <=1.0"
        assert reasons[missing] == "no metric 'F1'"
        assert "worse than the winner" in reasons[low]

    def test_select_writes_nothing(
        self,
        api: AllowanceClient,
        env: str,
        make_version: MakeVersion,
        unique_name: str,
        mlflow_client: MlflowClient,
    ) -> None:
        make_version(unique_name, "1.0", {"F1": 0.9})
        before = registry_state(mlflow_client, unique_name)
        api.select(env, unique_name, metric="F1")
        assert registry_state(mlflow_client, unique_name) == before

    @pytest.mark.parametrize("suffix", ["it's", "50%_model", 'quote"d', "back\\slash"])
    def test_names_needing_escapes(
        self, api: AllowanceClient, env: str, make_version: MakeVersion, unique_name: str, suffix: str
    ) -> None:
        name = f"{unique_name}-{suffix}"
        decoy = f"{unique_name}-{suffix.replace('%', 'x').replace('_', 'y')}x"
        version = make_version(name, "1.0", {"F1": 0.5})
        make_version(decoy, "1.0", {"F1": 0.9})
        selection = api.select(env, name, metric="F1")
        assert [(v.candidate.name, v.candidate.version) for v in selection.candidates] == [(name, version)]

    def test_semantic_version_from_the_training_run_when_asked(
        self, api: AllowanceClient, env: str, make_version: MakeVersion, unique_name: str
    ) -> None:
        version = make_version(unique_name, None, {"F1": 0.9}, run_tags={"model_version": "1.0"})
        assert api.select(env, unique_name, metric="F1").winner is None
        selection = api.select(env, unique_name, metric="F1", version_run_tag="model_version")
        assert selection.winner is not None
        assert selection.winner.candidate.version == version

    def test_registry_version_is_an_int_on_every_backend(
        self, api: AllowanceClient, env: str, make_version: MakeVersion, unique_name: str
    ) -> None:
        versions = [make_version(unique_name, "1.0") for _ in range(11)]
        selection = api.select(env, unique_name)
        assert selection.winner is not None
        assert selection.winner.candidate.version == max(versions) == 11  # 11 > 9 as numbers, not text


class TestPromote:
    def test_promote_is_idempotent(
        self,
        api: AllowanceClient,
        env: str,
        make_version: MakeVersion,
        unique_name: str,
        mlflow_client: MlflowClient,
    ) -> None:
        best = make_version(unique_name, "1.0", {"F1": 0.95})
        first = api.promote(env, unique_name, metric="F1")
        assert first.changed
        assert aliases_of(mlflow_client, unique_name) == {env: best}
        records = len(api.history(env))
        again = api.promote(env, unique_name, metric="F1")
        assert not again.changed
        assert len(api.history(env)) == records

    def test_no_eligible_candidate_leaves_alias_unchanged(
        self,
        api: AllowanceClient,
        env: str,
        make_version: MakeVersion,
        unique_name: str,
        mlflow_client: MlflowClient,
    ) -> None:
        make_version(unique_name, "1.0", {"F1": 0.9})
        api.promote(env, unique_name, metric="F1")
        make_version(unique_name, "3.0", {"F1": 0.99})
        api.set_allowance(env, "==3.0")
        api.set_allowance(env, "==4.0")
        before = registry_state(mlflow_client, unique_name)
        with pytest.raises(NoEligibleCandidateError, match="unchanged") as raised:
            api.promote(env, unique_name, metric="F1")
        assert raised.value.selection is not None
        assert registry_state(mlflow_client, unique_name) == before

    def test_dry_run_writes_nothing(
        self,
        api: AllowanceClient,
        env: str,
        make_version: MakeVersion,
        unique_name: str,
        mlflow_client: MlflowClient,
    ) -> None:
        make_version(unique_name, "1.0", {"F1": 0.9})
        before = registry_state(mlflow_client, unique_name)
        promotion = api.promote(env, unique_name, metric="F1", dry_run=True)
        assert (promotion.dry_run, promotion.changed, promotion.new) == (True, False, f"{unique_name}/1")
        assert registry_state(mlflow_client, unique_name) == before

    def test_competing_models_leave_the_alias_only_on_the_winner(
        self,
        api: AllowanceClient,
        env: str,
        make_version: MakeVersion,
        unique_name: str,
        mlflow_client: MlflowClient,
    ) -> None:
        rival = f"{unique_name}-rival"
        make_version(unique_name, "1.0", {"F1": 0.9})
        api.promote(env, unique_name, metric="F1")
        winner = make_version(rival, "1.0", {"F1": 0.95})
        promotion = api.promote(env, [unique_name, rival], metric="F1")
        assert promotion.new == f"{rival}/{winner}"
        assert env not in mlflow_client.get_registered_model(unique_name).aliases
        assert aliases_of(mlflow_client, rival) == {env: winner}

    @pytest.mark.filterwarnings("ignore::FutureWarning")  # reading current_stage is deprecated in MLflow
    def test_stage_mirror_archives_the_previous_holder(
        self,
        api: AllowanceClient,
        env: str,
        make_version: MakeVersion,
        unique_name: str,
        mlflow_client: MlflowClient,
    ) -> None:
        first = make_version(unique_name, "1.0", {"F1": 0.9})
        api.promote(env, unique_name, metric="F1", stage="production")
        second = make_version(unique_name, "1.0", {"F1": 0.95})
        api.promote(env, unique_name, metric="F1", stage="Production")
        stages = {
            int(v.version): v.current_stage
            for v in mlflow_client.search_model_versions(f"name = '{unique_name}'")
        }
        assert stages == {first: "Archived", second: "Production"}

    def test_audit_record_has_the_candidate_table(
        self, api: AllowanceClient, env: str, make_version: MakeVersion, unique_name: str
    ) -> None:
        for f1 in (0.9, 0.8, 0.7):
            make_version(unique_name, "1.0", {"F1": f1})
        api.promote(env, unique_name, metric="F1", reason="nightly retraining")
        record = api.history(env, model=unique_name)[0]
        assert (record.kind, record.new, record.reason) == (
            "promotion",
            f"{unique_name}/1",
            "nightly retraining",
        )
        assert [c["version"] for c in record.details["candidates"]] == ["1", "2", "3"]
        assert record.details["metric"] == "F1"

    def test_huge_candidate_tables_stay_under_the_tag_limit(
        self,
        api: AllowanceClient,
        env: str,
        make_version: MakeVersion,
        unique_name: str,
        mlflow_client: MlflowClient,
    ) -> None:
        long_name = unique_name + "-" + "n" * 200
        for index in range(40):
            make_version(long_name, "1.0", {"F1": index / 100})
        promotion = api.promote(env, long_name, metric="F1")
        assert promotion.record is not None
        assert promotion.record.record_id is not None
        tags = mlflow_client.get_run(promotion.record.record_id).data.tags
        assert max(len(v) for v in tags.values()) < TAG_VALUE_LIMIT
        assert len(api.history(env)[0].details["candidates"]) == 40


class TestRollbackAndCheck:
    def test_rollback_returns_to_the_previous_holder(
        self,
        api: AllowanceClient,
        env: str,
        make_version: MakeVersion,
        unique_name: str,
        mlflow_client: MlflowClient,
    ) -> None:
        first = make_version(unique_name, "1.0", {"F1": 0.9})
        api.promote(env, unique_name, metric="F1")
        make_version(unique_name, "1.0", {"F1": 0.95})
        api.promote(env, unique_name, metric="F1")
        back = api.rollback(env, unique_name)
        assert back.new == f"{unique_name}/{first}"
        assert aliases_of(mlflow_client, unique_name)[env] == first
        assert api.history(env)[0].kind == "rollback"

    def test_rollback_refuses_outside_the_allowance_unless_forced(
        self,
        api: AllowanceClient,
        env: str,
        make_version: MakeVersion,
        unique_name: str,
        mlflow_client: MlflowClient,
    ) -> None:
        old = make_version(unique_name, "1.0", {"F1": 0.9})
        api.promote(env, unique_name, metric="F1")
        make_version(unique_name, "2.0", {"F1": 0.95})
        api.promote(env, unique_name, metric="F1")
        api.set_allowance(env, ">=2.0")
        before = registry_state(mlflow_client, unique_name)
        with pytest.raises(RollbackRefusedError, match="outside the current allowance"):
            api.rollback(env, unique_name)
        assert registry_state(mlflow_client, unique_name) == before
        assert api.rollback(env, unique_name, force=True).new == f"{unique_name}/{old}"

    def test_nothing_to_roll_back(
        self, api: AllowanceClient, env: str, make_version: MakeVersion, unique_name: str
    ) -> None:
        make_version(unique_name, "1.0", {"F1": 0.9})
        with pytest.raises(RollbackRefusedError):
            api.rollback(env, unique_name)
        api.promote(env, unique_name, metric="F1")
        with pytest.raises(RollbackRefusedError, match="first holder"):
            api.rollback(env, unique_name)

    def test_check_finds_and_fixes_a_tightened_environment(
        self,
        api: AllowanceClient,
        env: str,
        make_version: MakeVersion,
        unique_name: str,
        mlflow_client: MlflowClient,
    ) -> None:
        one = make_version(unique_name, "1.0", {"F1": 0.9})
        make_version(unique_name, "2.0", {"F1": 0.95})
        api.set_allowance(env, "<=2.0")
        api.promote(env, unique_name, metric="F1")
        assert api.check(env, unique_name).ok
        api.set_allowance(env, "<=1.0")
        report = api.check(env, unique_name)
        assert [(v.version, v.problem) for v in report.violations] == [(2, "2.0 is outside <=1.0")]
        fixed = api.check(env, unique_name, fix=True)
        assert fixed.fixes
        assert fixed.fixes[0].new == f"{unique_name}/{one}"
        assert api.check(env, unique_name).ok

    def test_fix_reuses_the_last_promotion_policy(
        self, api: AllowanceClient, env: str, make_version: MakeVersion, unique_name: str
    ) -> None:
        validated = [
            make_version(unique_name, semver, {"F1": f1}) for semver, f1 in (("1.0", 0.90), ("2.0", 0.95))
        ]
        unvalidated = make_version(unique_name, "1.1", {"F1": 0.99})
        client = MlflowClient(api.tracking_uri, api.tracking_uri)
        for version in validated:
            client.set_model_version_tag(unique_name, str(version), "validated", "true")
        api.set_allowance(env, "<=2.0")
        promotion = api.promote(env, unique_name, metric="F1", required_tags={"validated": "true"})
        assert promotion.new == f"{unique_name}/{validated[1]}"
        api.set_allowance(env, "<2.0")
        fixed = api.check(env, unique_name, fix=True).fixes[0]
        assert fixed.new == f"{unique_name}/{validated[0]}"
        assert fixed.new != f"{unique_name}/{unvalidated}"

    def test_a_deliberate_prerelease_promotion_is_not_a_violation(
        self, api: AllowanceClient, env: str, make_version: MakeVersion, unique_name: str
    ) -> None:
        candidate = make_version(unique_name, "2.0rc1", {"F1": 0.9})
        api.set_allowance(env, "<=2.0")
        assert (
            api.promote(env, unique_name, metric="F1", prereleases=True).new == f"{unique_name}/{candidate}"
        )
        assert api.check(env, unique_name).ok

    def test_check_flags_a_holder_without_a_semantic_version(
        self,
        api: AllowanceClient,
        env: str,
        make_version: MakeVersion,
        unique_name: str,
        mlflow_client: MlflowClient,
    ) -> None:
        version = make_version(unique_name, None)
        api.set_allowance(env, "*")
        mlflow_client.set_registered_model_alias(unique_name, env, str(version))
        report = api.check(env, unique_name)
        assert [v.problem for v in report.violations] == ["no valid semantic version"]


# save_model of a model without a signature warns that it infers "Any"; irrelevant to what is tested here.
@pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")
def test_register_model_stores_the_version_and_leaves_mlflow_uris_alone(
    sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unique_name: str
) -> None:
    import mlflow
    import mlflow.sklearn
    from sklearn.dummy import DummyClassifier

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    saved = tmp_path / "saved-model"
    mlflow.sklearn.save_model(
        DummyClassifier().fit([[0], [1]], [0, 1]), saved, pip_requirements=["scikit-learn"]
    )
    before = (dict(os.environ), mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    api = AllowanceClient(tracking_uri=sqlite_uri, registry_uri=sqlite_uri)
    info = api.register_model(str(saved), unique_name, semver="v1.0.0")
    assert api.get_version(unique_name, info.version).semver == "v1.0.0"
    assert (dict(os.environ), mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == before


def test_bad_inputs_are_input_errors(api: AllowanceClient, env: str) -> None:
    with pytest.raises(InputError):
        api.select(env, [])
    with pytest.raises(InputError):
        api.promote(env, "x", stage="Prod-ish")
    assert VersionAllowance.parse("*").is_any
