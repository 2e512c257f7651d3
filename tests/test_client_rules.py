"""The client's rules against the in-memory registry: fast, no MLflow (``tests/integration`` covers MLflow).

Every rejected call is checked to have written nothing: the fake's whole state is compared before and
after, and its log of calls shows no write.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mlflow_allowance import (
    AllowanceClient,
    AuditRecord,
    DatasetRef,
    InputError,
    NoEligibleCandidateError,
    NotFoundError,
    Selection,
    SelectionRequest,
)
from mlflow_allowance._schema import VERSION_TAG, allowance_tag
from mlflow_allowance.audit import ENVIRONMENT_TAG, EVENT_TAG, SEQ_TAG, AuditKind
from mlflow_allowance.datasets import DatasetInfo
from mlflow_allowance.errors import (
    EnvironmentBusyError,
    InvalidAllowanceError,
    InvalidEnvironmentError,
    InvalidVersionError,
    RegistryError,
    RollbackRefusedError,
)
from tests.fakes import InMemoryRegistry

ROOT = Path(__file__).resolve().parent.parent
#: The first tag of an audit record's details JSON.
DETAILS = "mlflow_allowance.details.000000"


@pytest.fixture
def fake() -> InMemoryRegistry:
    return InMemoryRegistry()


@pytest.fixture
def client(fake: InMemoryRegistry) -> AllowanceClient:
    return AllowanceClient(registry=fake)


@contextmanager
def nothing_written(fake: InMemoryRegistry) -> Iterator[None]:
    """Assert that the block leaves the fake's state as it was and makes no writing call."""
    before, writes = fake.snapshot(), len(fake.writes)
    yield
    assert fake.writes[writes:] == []
    assert fake.snapshot() == before


def recorded(*writes: str) -> list[str]:
    """The writing calls of one change under the write-ahead protocol: claim its number, record it pending,
    make ``writes``, mark the record complete, release the claim."""
    return ["claim", "write_audit", *writes, "finish_audit", "release"]


def reasons(selection: Selection) -> dict[str, str]:
    return {verdict.candidate.key: verdict.reason for verdict in selection.candidates}


def test_the_fast_lane_never_imports_mlflow() -> None:
    """These tests, the fake and a client over it run every operation without importing MLflow."""
    code = """
import sys
import tests.test_client_rules
from mlflow_allowance import AllowanceClient, DatasetRef
from mlflow_allowance.datasets import DatasetInfo
from tests.fakes import InMemoryRegistry

fake = InMemoryRegistry()
fake.add_version("A", "1.0", metrics={"F1": 0.9})
fake.add_version("A", "2.0", metrics={"F1": 0.8})
client = AllowanceClient(registry=fake)
client.register_model("s3://bucket/model", "B", bump="minor")
client.set_allowance("prod", "<=1.0")
client.promote("prod", "A", metric="F1", stage="Production")
client.set_allowance("prod", "*")
client.promote("prod", "A")
client.rollback("prod", "A")
client.set_allowance("prod", ">=2.0")
wine = DatasetRef("wine", "0a64f9dd")
fake.save_dataset(DatasetInfo(wine, "wine.csv", "target", 45, "classifier", 0))
fake.add_score(wine, "A", 1, {"f1_score": 0.9})
client.promote("int", "A", metric="F1", dataset="wine")
client.list_datasets()
client.check(fix=True)
client.history(limit=5)
client.list_allowances()
print(",".join(sorted(m for m in sys.modules if m.partition(".")[0] == "mlflow")))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


class TestAllowances:
    @pytest.mark.parametrize(
        ("defaults", "overrides", "allowance", "source"),
        [
            pytest.param({}, {}, "*", "unset", id="nothing-set-allows-any"),
            pytest.param({"prod": "<=2.0"}, {}, "<=2.0", "default", id="default"),
            pytest.param({"prod": "<=2.0"}, {"prod": "==5.0"}, "==5.0", "model", id="override-beats-default"),
            pytest.param({}, {"prod": "==5.0"}, "==5.0", "model", id="override-without-default"),
            pytest.param({"int": "<=9"}, {"int": "==5.0"}, "*", "unset", id="other-environment-only"),
        ],
    )
    def test_override_then_default_then_any(
        self,
        client: AllowanceClient,
        fake: InMemoryRegistry,
        defaults: dict[str, str],
        overrides: dict[str, str],
        allowance: str,
        source: str,
    ) -> None:
        fake.add_version("A", "1.0")
        for env, text in defaults.items():
            client.set_allowance(env, text)
        for env, text in overrides.items():
            client.set_allowance(env, text, model="A")
        effective = client.get_allowance("PROD", model="A")
        assert (effective.environment, effective.model) == ("prod", "A")
        assert (effective.allowance.canonical, effective.source) == (allowance, source)

    def test_without_a_model_the_override_does_not_apply(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        client.set_allowance("prod", "==5.0", model="A")
        assert client.get_allowance("prod").source == "unset"
        client.set_allowance("prod", "<=2.0")
        assert client.get_allowance("prod").allowance.canonical == "<=2.0"

    @pytest.mark.parametrize(
        ("model", "tag_write"),
        [
            pytest.param(None, "set_workspace_tag", id="default"),
            pytest.param("A", "set_model_tag", id="override"),
        ],
    )
    def test_set_writes_the_tag_and_one_audit_record(
        self, client: AllowanceClient, fake: InMemoryRegistry, model: str | None, tag_write: str
    ) -> None:
        fake.add_version("A", "1.0")
        change = client.set_allowance("prod", "<=2.0", model=model, reason="ticket 42")
        assert change.changed
        assert fake.writes == recorded(tag_write)
        (record,) = client.history()
        assert (record.kind, record.environment, record.model) == ("allowance", "prod", model)
        assert (record.old, record.new, record.reason) == (None, "<=2.0", "ticket 42")

    @pytest.mark.parametrize("model", [pytest.param(None, id="default"), pytest.param("A", id="override")])
    def test_setting_the_same_allowance_again_writes_nothing(
        self, client: AllowanceClient, fake: InMemoryRegistry, model: str | None
    ) -> None:
        fake.add_version("A", "1.0")
        client.set_allowance("prod", "1.0 <= v <= 2.0", model=model)
        with nothing_written(fake):
            change = client.set_allowance("PROD", ">=1.0,<=2.0", model=model)
        assert not change.changed
        assert len(client.history()) == 1

    def test_narrowing_is_described_in_the_record(self, client: AllowanceClient) -> None:
        client.set_allowance("prod", "<=2.0")
        change = client.set_allowance("prod", "<=1.0")
        record = client.history()[0]
        assert (record.old, record.new) == ("<=2.0", "<=1.0")
        assert record.reason == change.describe() == "prod: narrowed <=2.0 → <=1.0"

    @pytest.mark.parametrize(
        ("model", "tag_delete"),
        [
            pytest.param(None, "delete_workspace_tag", id="default"),
            pytest.param("A", "delete_model_tag", id="override"),
        ],
    )
    def test_unset_deletes_the_tag_and_records_it_once(
        self, client: AllowanceClient, fake: InMemoryRegistry, model: str | None, tag_delete: str
    ) -> None:
        fake.add_version("A", "1.0")
        client.set_allowance("prod", "<=2.0", model=model)
        fake.reset_calls()
        change = client.unset_allowance("prod", model=model)
        assert change.changed
        assert fake.writes == recorded(tag_delete)
        assert (client.history()[0].old, client.history()[0].new) == ("<=2.0", None)
        with nothing_written(fake):
            again = client.unset_allowance("prod", model=model)
        assert not again.changed

    def test_unsetting_an_override_falls_back_to_the_default(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        client.set_allowance("prod", "<=2.0")
        client.set_allowance("prod", "==5.0", model="A")
        client.unset_allowance("prod", model="A")
        assert client.get_allowance("prod", model="A").source == "default"

    def test_list_shows_defaults_and_overrides_sorted(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        fake.add_version("B", "1.0")
        client.set_allowance("prod", "<=2.0")
        client.set_allowance("prod", "==5.0", model="B")
        client.set_allowance("int", "*", model="A")
        listed = [(a.environment, a.model, a.allowance.canonical, a.source) for a in client.list_allowances()]
        assert listed == [
            ("int", "A", "*", "model"),
            ("prod", None, "<=2.0", "default"),
            ("prod", "B", "==5.0", "model"),
        ]
        assert [a.model for a in client.list_allowances(model="B")] == [None, "B"]

    @pytest.mark.parametrize(
        ("call", "error"),
        [
            pytest.param(
                lambda c: c.set_allowance("prod", "banana"), InvalidAllowanceError, id="bad-allowance"
            ),
            pytest.param(
                lambda c: c.set_allowance("latest", "*"), InvalidEnvironmentError, id="reserved-env"
            ),
            pytest.param(
                lambda c: c.set_allowance("prod", "*", model="Nope"), NotFoundError, id="unknown-model"
            ),
            pytest.param(
                lambda c: c.unset_allowance("prod", model="Nope"), NotFoundError, id="unset-unknown"
            ),
            pytest.param(lambda c: c.set_allowance("prod", "*", model=" A"), InputError, id="bad-model-name"),
        ],
    )
    def test_rejected_changes_write_nothing(
        self,
        client: AllowanceClient,
        fake: InMemoryRegistry,
        call: Callable[[AllowanceClient], object],
        error: type[Exception],
    ) -> None:
        fake.add_version("A", "1.0")
        with nothing_written(fake), pytest.raises(error):
            call(client)


def arrange_competition(fake: InMemoryRegistry) -> None:
    """Two models under prod: default <=2.0, model A overridden to ==5.0."""
    fake.add_version("A", "1.0", metrics={"F1": 0.99})
    fake.add_version("A", "5.0", metrics={"F1": 0.9})
    fake.add_version("B", "2.0", metrics={"F1": 0.8})
    fake.add_version("B", "3.0", metrics={"F1": 0.99})
    fake.set_workspace_tag(allowance_tag("prod"), "<=2.0")
    fake.set_model_tag("A", allowance_tag("prod"), "==5.0")
    fake.reset_calls()


class TestSelect:
    def test_a_per_model_override_judges_that_models_versions(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        arrange_competition(fake)
        selection = client.select("prod", ["A", "B"], metric="F1")
        data = selection.to_dict()
        assert data["winner"]["name"] == "A"
        assert data["winner"]["version"] == "2"
        assert data["allowance"] == "==5.0"  # the winner's, not the default
        assert data["allowances"] == {"A": "==5.0", "B": "<=2.0"}
        assert reasons(selection) == {
            "A/2": "winner: highest F1 (0.9) within ==5.0",
            "B/1": "F1 0.8 is worse than the winner's 0.9",
            "A/1": "1.0 is outside ==5.0",
            "B/2": "3.0 is outside <=2.0",
        }

    def test_reads_each_model_once_and_writes_nothing(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        arrange_competition(fake)
        with nothing_written(fake):
            client.select("prod", ["A", "B"], metric="F1")
        assert fake.calls == Counter(registered_model=2, workspace_tags=1, candidates=1)

    def test_the_selection_carries_its_environment(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        arrange_competition(fake)
        selection = client.select("PROD", "B")
        assert selection.environment == "prod"
        assert selection.to_dict()["environment"] == "prod"
        assert selection.winner is not None
        assert selection.winner.reason == "winner: latest within <=2.0 (2.0)"

    def test_a_whole_request_selects_as_the_keywords_do(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        arrange_competition(fake)
        request = SelectionRequest(["A", "B"], metric="F1", maximize=False)
        assert client.select("prod", request) == client.select(
            "prod", ["A", "B"], metric="F1", maximize=False
        )

    def test_required_tags_and_prereleases(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0", tags={"validated": "true"})
        fake.add_version("A", "1.1", tags={"validated": "false"})
        fake.add_version("A", "2.0rc1", tags={"validated": "true"})
        picked = client.select("prod", "A", required_tags={"validated": "true"})
        assert picked.winner is not None
        assert picked.winner.candidate.key == "A/1"
        assert reasons(picked)["A/2"] == "tag 'validated' is 'false', not 'true'"
        early = client.select("prod", "A", required_tags={"validated": "true"}, prereleases=True)
        assert early.winner is not None
        assert early.winner.candidate.key == "A/3"

    def test_semantic_version_from_a_run_tag(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        fake.add_version("A", None, run_tags={"version": "3.0"})
        fake.add_version("A", "2.0", run_tags={"version": "9.0"})
        assert client.select("prod", "A").winner is not None
        selection = client.select("prod", "A", version_run_tag="version")
        assert selection.winner is not None
        assert (selection.winner.candidate.key, selection.winner.candidate.semver) == ("A/1", "3.0")

    def test_unknown_model_is_not_found(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0")
        with (
            nothing_written(fake),
            pytest.raises(NotFoundError, match="registered model 'Nope' does not exist"),
        ):
            client.select("prod", ["A", "Nope"])


class TestSelectionRequestOrKeywords:
    @pytest.mark.parametrize("operation", [pytest.param("select"), pytest.param("promote")])
    @pytest.mark.parametrize(
        "options",
        [
            pytest.param({"metric": "F1"}, id="metric"),
            pytest.param({"maximize": False}, id="maximize"),
            pytest.param({"required_tags": {"validated": "true"}}, id="required-tags"),
            pytest.param({"prereleases": False}, id="prereleases"),
            pytest.param({"version_run_tag": "version"}, id="version-run-tag"),
        ],
    )
    def test_both_is_an_input_error_before_any_request(
        self, client: AllowanceClient, fake: InMemoryRegistry, operation: str, options: dict[str, Any]
    ) -> None:
        fake.add_version("A", "1.0")
        fake.reset_calls()
        with nothing_written(fake), pytest.raises(InputError, match="not both"):
            getattr(client, operation)("prod", SelectionRequest("A"), **options)
        assert fake.calls == Counter()

    def test_keyword_defaults_are_not_options(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        """Keywords left at their defaults beside a request are no second set of options: the selection is
        the request's own."""
        fake.add_version("A", "1.0")
        fake.add_version("A", "2.0")
        selection = client.select("prod", SelectionRequest("A"), maximize=True, required_tags={})
        assert selection == client.select("prod", SelectionRequest("A"))
        assert selection.winner is not None
        winner = selection.winner
        assert (winner.candidate.key, winner.reason) == ("A/2", "winner: latest within * (2.0)")


class TestPromote:
    def test_writes_the_alias_and_one_record_holding_the_request(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0", metrics={"F1": 0.9}, tags={"validated": "true"})
        fake.add_version("A", "2.0", metrics={"F1": 0.95}, tags={"validated": "true"})
        request = SelectionRequest("A", metric="F1", required_tags={"validated": "true"})
        promotion = client.promote("PROD", request, reason="release 7")
        assert fake.writes == recorded("set_alias")
        assert fake.aliases("A") == {"prod": 2}
        assert (promotion.environment, promotion.old, promotion.new, promotion.changed) == (
            "prod",
            None,
            "A/2",
            True,
        )
        assert promotion.request == request
        record = promotion.record
        assert record is not None
        assert record.record_id is not None
        assert (record.kind, record.model, record.old, record.new, record.reason) == (
            "promotion",
            "A",
            None,
            "A/2",
            "release 7",
        )
        assert record.to_dict()["details"]["request"] == request.to_dict()
        assert client.history() == [record]  # stored as returned
        assert client.history()[0].request == request

    def test_default_reason_describes_the_policy(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0", metrics={"F1": 0.9})
        client.set_allowance("prod", "<=1.0")
        record = client.promote("prod", "A", metric="F1").record
        assert record is not None
        assert record.reason == "highest F1 within <=1.0"

    def test_when_the_winner_already_holds_the_alias_nothing_is_written(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        client.promote("prod", "A")
        with nothing_written(fake):
            again = client.promote("prod", "A")
        assert (again.changed, again.old, again.new, again.record) == (False, "A/1", "A/1", None)

    def test_dry_run_writes_nothing(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0")
        client.promote("prod", "A")
        fake.add_version("A", "2.0")
        with nothing_written(fake):
            promotion = client.promote("prod", "A", dry_run=True, stage="Production")
        assert (promotion.dry_run, promotion.changed, promotion.old, promotion.new) == (
            True,
            False,
            "A/1",
            "A/2",
        )

    @pytest.mark.parametrize(
        "stage",
        [
            pytest.param("Archived", id="archived"),
            pytest.param("archived", id="archived-lower"),
            pytest.param("None", id="none"),
            pytest.param("Prod", id="misspelt"),
            pytest.param("", id="empty"),
        ],
    )
    def test_a_stage_that_takes_the_model_out_of_service_is_rejected_before_any_request(
        self, client: AllowanceClient, fake: InMemoryRegistry, stage: str
    ) -> None:
        fake.add_version("A", "1.0")
        fake.reset_calls()
        with nothing_written(fake), pytest.raises(InputError, match="expected 'Production' or 'Staging'"):
            client.promote("prod", "A", stage=stage)
        assert fake.calls == Counter()

    def test_stage_mirror_archives_the_previous_holder(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        client.promote("prod", "A", stage="production")
        fake.add_version("A", "2.0")
        fake.reset_calls()
        promotion = client.promote("prod", "A", stage="Production")
        assert fake.writes == recorded("set_alias", "transition_stage")
        assert promotion.stage == "Production"
        assert (fake.stage("A", 1), fake.stage("A", 2)) == ("Archived", "Production")

    def test_a_stage_alone_is_still_mirrored_for_the_holder(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        client.promote("prod", "A")
        fake.reset_calls()
        promotion = client.promote("prod", "A", stage="Staging")
        assert promotion.changed
        assert fake.writes[-3:] == ["transition_stage", "finish_audit", "release"]
        assert (fake.stage("A", 1), fake.aliases("A")) == ("Staging", {"prod": 1})

    def test_only_the_winners_model_keeps_the_alias(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0", metrics={"F1": 0.9})
        fake.add_version("B", "1.0", metrics={"F1": 0.95})
        client.promote("prod", "A", metric="F1")
        fake.reset_calls()
        promotion = client.promote("prod", ["A", "B"], metric="F1")
        assert fake.writes == recorded("set_alias", "delete_alias")
        assert (fake.aliases("A"), fake.aliases("B")) == ({}, {"prod": 1})
        assert (promotion.old, promotion.new) == ("A/1", "B/1")
        assert promotion.record is not None
        assert promotion.record.details["models"] == ("A", "B")

    def test_a_winner_sharing_the_alias_takes_it_from_the_others(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0", metrics={"F1": 0.99})
        fake.add_version("B", "1.0", metrics={"F1": 0.5})
        fake.set_alias("A", "prod", 1)
        fake.set_alias("B", "prod", 1)  # set by hand: two models hold @prod
        fake.reset_calls()
        promotion = client.promote("prod", ["A", "B"], metric="F1")
        assert promotion.changed
        assert fake.writes == recorded("delete_alias")  # A already holds @prod: only B loses it
        assert (fake.aliases("A"), fake.aliases("B")) == ({"prod": 1}, {})

    def test_no_eligible_candidate_leaves_everything_alone(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "2.0")
        client.set_allowance("prod", "<=1.0")
        with (
            nothing_written(fake),
            pytest.raises(NoEligibleCandidateError, match="@prod is unchanged") as raised,
        ):
            client.promote("prod", "A")
        selection = raised.value.selection
        assert isinstance(selection, Selection)
        assert selection.environment == "prod"
        assert reasons(selection) == {"A/1": "2.0 is outside <=1.0"}


def promote_twice(client: AllowanceClient, fake: InMemoryRegistry, **options: Any) -> None:
    """@prod moved A/1 → A/2 (1.0 → 2.0) by two promotions."""
    fake.add_version("A", "1.0")
    client.promote("prod", "A", **options)
    fake.add_version("A", "2.0")
    client.promote("prod", "A", **options)
    fake.reset_calls()


class TestRollback:
    def test_goes_back_to_the_previous_holder(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        promote_twice(client, fake)
        promoted = client.history()[0]
        rollback = client.rollback("PROD", "A", reason="bad canary")
        assert fake.writes == recorded("set_alias")
        assert fake.aliases("A") == {"prod": 1}
        assert (rollback.old, rollback.new, rollback.changed, rollback.request) == ("A/2", "A/1", True, None)
        record = rollback.record
        assert record is not None
        assert (record.kind, record.old, record.new, record.reason) == (
            "rollback",
            "A/2",
            "A/1",
            "bad canary",
        )
        assert record.details["undoes"] == promoted.record_id
        assert record.details["forced"] is False

    def test_rolling_back_a_rollback_goes_forward_again(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        promote_twice(client, fake)
        client.rollback("prod", "A")
        client.rollback("prod", "A")
        assert fake.aliases("A") == {"prod": 2}

    def test_nothing_recorded_is_refused(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0")
        fake.set_alias("A", "prod", 1)  # by hand: no record
        with (
            nothing_written(fake),
            pytest.raises(RollbackRefusedError, match="nothing to roll back: no promotion"),
        ):
            client.rollback("prod", "A")

    def test_the_first_holder_is_refused(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0")
        client.promote("prod", "A")
        with (
            nothing_written(fake),
            pytest.raises(RollbackRefusedError, match="A/1 was the first holder of @prod"),
        ):
            client.rollback("prod", "A")

    def test_unknown_model_is_not_found(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        with nothing_written(fake), pytest.raises(NotFoundError, match="registered model 'Nope'"):
            client.rollback("prod", "Nope")

    @pytest.mark.parametrize(
        ("model", "allowance", "force", "refused"),
        [
            pytest.param(None, "*", False, False, id="inside"),
            pytest.param(None, ">=2.0", False, True, id="outside-default"),
            pytest.param("A", ">=2.0", False, True, id="outside-override"),
            pytest.param(None, ">=2.0", True, False, id="outside-forced"),
            pytest.param("A", "<=1.0", False, False, id="override-allows-it"),
        ],
    )
    def test_a_target_outside_the_current_allowance_needs_force(
        self,
        client: AllowanceClient,
        fake: InMemoryRegistry,
        model: str | None,
        allowance: str,
        force: bool,
        refused: bool,
    ) -> None:
        promote_twice(client, fake)
        client.set_allowance("prod", allowance, model=model)
        if refused:
            with (
                nothing_written(fake),
                pytest.raises(RollbackRefusedError, match="outside the current allowance"),
            ):
                client.rollback("prod", "A", force=force)
            return
        rollback = client.rollback("prod", "A", force=force)
        assert fake.aliases("A") == {"prod": 1}
        assert rollback.record is not None
        assert rollback.record.details["forced"] is force

    def test_across_models_restores_the_previous_model(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0", metrics={"F1": 0.9})
        client.promote("prod", "A", metric="F1")
        fake.add_version("B", "1.0", metrics={"F1": 0.95})
        client.promote("prod", ["A", "B"], metric="F1")
        fake.reset_calls()
        rollback = client.rollback("prod", "B")
        assert fake.writes == recorded("set_alias", "delete_alias")
        assert (fake.aliases("A"), fake.aliases("B")) == ({"prod": 1}, {})
        assert (rollback.old, rollback.new) == ("B/1", "A/1")

    def test_mirrors_the_stage_the_promotion_mirrored(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        promote_twice(client, fake, stage="Production")
        client.rollback("prod", "A")
        assert fake.writes == recorded("set_alias", "transition_stage")
        assert (fake.stage("A", 1), fake.stage("A", 2)) == ("Production", "Archived")

    def test_a_damaged_newer_record_does_not_hide_the_last_promotion(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        promote_twice(client, fake)
        fake.add_audit_run({EVENT_TAG: "promotion", ENVIRONMENT_TAG: "prod", DETAILS: "["})
        fake.add_audit_run({"mlflow.user": "someone", ENVIRONMENT_TAG: "prod"})
        assert client.rollback("prod", "A").new == "A/1"


def arrange_replay(client: AllowanceClient, fake: InMemoryRegistry) -> SelectionRequest:
    """A/4 (2.0) promoted by lowest F1 among validated versions; then prod narrowed to <2.0.

    Replaying that request picks A/2 (lowest validated F1 below 2.0); the latest version of A would be A/3
    (1.2, not validated) and the highest F1 A/1.
    """
    fake.add_version("A", "1.0", metrics={"F1": 0.5}, tags={"validated": "true"})
    fake.add_version("A", "1.1", metrics={"F1": 0.2}, tags={"validated": "true"})
    fake.add_version("A", "1.2", metrics={"F1": 0.1}, tags={"validated": "false"})
    fake.add_version("A", "2.0", metrics={"F1": 0.05}, tags={"validated": "true"})
    request = SelectionRequest("A", metric="F1", maximize=False, required_tags={"validated": "true"})
    assert client.promote("prod", request, stage="Staging").new == "A/4"
    client.set_allowance("prod", "<2.0")
    fake.reset_calls()
    return request


class TestCheck:
    def test_finds_a_holder_outside_a_narrowed_allowance_and_writes_nothing(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        arrange_replay(client, fake)
        with nothing_written(fake):
            report = client.check()
        assert (report.ok, report.checked, report.fixes) == (False, 1, ())
        (violation,) = report.violations
        assert (violation.environment, violation.model, violation.version, violation.semver) == (
            "prod",
            "A",
            4,
            "2.0",
        )
        assert violation.problem == "2.0 is outside <2.0"

    def test_fix_replays_exactly_the_stored_request(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        request = arrange_replay(client, fake)
        report = client.check("prod", fix=True)
        (fix,) = report.fixes
        assert (fix.old, fix.new, fix.stage) == ("A/4", "A/2", "Staging")
        assert fix.request == request
        assert fix.record is not None
        assert fix.record.request == request
        assert fix.record.reason == "check --fix: 2.0 is outside <2.0"
        assert fake.writes == recorded("set_alias", "transition_stage")
        assert client.check().ok

    def test_fix_falls_back_to_the_latest_version_when_the_stored_request_is_damaged(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        arrange_replay(client, fake)
        damaged = AuditRecord(  # the newest promotion (its number follows the allowance change's)
            "promotion", "prod", "A", "A/1", "A/4", "ana", 0, details={"request": {"models": []}}, seq=3
        )
        fake.add_audit_run(damaged.to_tags())
        (fix,) = client.check(fix=True).fixes
        assert (fix.new, fix.request) == ("A/3", SelectionRequest("A"))

    @pytest.mark.parametrize(
        ("semver", "problem"),
        [
            pytest.param(None, "no valid semantic version", id="no-semver"),
            pytest.param("banana", "invalid version 'banana'", id="invalid-semver"),
            pytest.param("3.0", "3.0 is outside <=2.0", id="outside"),
        ],
    )
    def test_problems_are_named(
        self, client: AllowanceClient, fake: InMemoryRegistry, semver: str | None, problem: str
    ) -> None:
        fake.add_version("A", semver)
        fake.set_alias("A", "prod", 1)
        client.set_allowance("prod", "<=2.0")
        assert [v.problem for v in client.check().violations] == [problem]

    @pytest.mark.parametrize(
        ("alias", "semver", "checked"),
        [
            pytest.param("champion", "9.0", 0, id="alias-without-allowance"),
            pytest.param("prod", "2.0rc1", 1, id="prerelease-inside-range"),
            pytest.param("prod", "1.0", 1, id="inside"),
        ],
    )
    def test_no_violation(
        self, client: AllowanceClient, fake: InMemoryRegistry, alias: str, semver: str, checked: int
    ) -> None:
        fake.add_version("A", semver)
        fake.set_alias("A", alias, 1)
        client.set_allowance("prod", "<=2.0")
        report = client.check()
        assert (report.ok, report.checked) == (True, checked)

    def test_an_override_counts_for_its_model_only(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "3.0")
        fake.add_version("B", "3.0")
        for name in ("A", "B"):
            fake.set_alias(name, "prod", 1)
        client.set_allowance("prod", "<=2.0")
        client.set_allowance("prod", "==3.0", model="B")
        outside = [v.model for v in client.check().violations if v.kind == "outside-allowance"]
        assert outside == ["A"]
        assert [v.model for v in client.check(models="B").violations] == []
        assert client.check("int").checked == 0

    def test_unknown_model_is_not_found(self, client: AllowanceClient) -> None:
        with pytest.raises(NotFoundError, match="registered model 'Nope'"):
            client.check(models=["Nope"])


OLD = DatasetRef("wine", "0a64f9dd")
NEW = DatasetRef("wine", "bbc53a5e")


def save(fake: InMemoryRegistry, ref: DatasetRef) -> None:
    """Record ``ref`` as the current content of its name, as ``evaluate`` does."""
    fake.save_dataset(DatasetInfo(ref, f"/data/{ref.name}.csv", "target", 45, "classifier", 0))


def arrange_scores(fake: InMemoryRegistry) -> None:
    """A/1 has the best training F1 but the worst F1 on wine@0a64f9dd, the name's current content; A/3 has
    scores only on other content; A/4 failed on it."""
    fake.add_version("A", "1.0", metrics={"F1": 0.99})
    fake.add_version("A", "1.1", metrics={"F1": 0.5})
    fake.add_version("A", "1.2", metrics={"F1": 0.4})
    fake.add_version("A", "1.3", metrics={"F1": 0.3})
    fake.add_score(OLD, "A", 1, {"f1_score": 0.6})
    fake.add_score(OLD, "A", 2, {"f1_score": 0.9, "accuracy_score": 0.92})
    fake.add_score(NEW, "A", 3, {"f1_score": 1.0})
    fake.add_score(DatasetRef("iris", OLD.digest), "A", 3, {"f1_score": 1.0})  # same digest, other name
    fake.add_score(OLD, "A", 4, {"f1_score": 1.0}, error="cannot load models:/A/4: no model artifacts")
    save(fake, OLD)
    fake.reset_calls()


class TestDatasets:
    def test_a_name_judges_its_current_content_and_writes_nothing(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        arrange_scores(fake)
        with nothing_written(fake):
            selection = client.select("prod", "A", metric="F1", dataset="wine")
        assert selection.policy.dataset == OLD
        assert reasons(selection) == {
            "A/2": "winner: highest F1 (0.9) on wine@0a64f9dd within *",
            "A/1": "F1 0.6 is worse than the winner's 0.9",
            "A/3": "no F1 on wine@0a64f9dd",
            "A/4": "failed on wine@0a64f9dd: cannot load models:/A/4: no model artifacts",
        }
        assert fake.calls == Counter(registered_model=1, workspace_tags=1, dataset=1, candidates=1)
        training = client.select("prod", "A", metric="F1").winner
        assert training is not None
        assert training.candidate.key == "A/1"  # the training runs' metric, without a dataset

    def test_the_name_follows_the_newest_content(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        arrange_scores(fake)
        save(fake, NEW)
        selection = client.select("prod", "A", metric="F1", dataset="wine")
        assert selection.policy.dataset == NEW
        assert selection.winner is not None
        assert selection.winner.candidate.key == "A/3"
        assert [v.reason for v in selection.candidates if not v.eligible] == ["no F1 on wine@bbc53a5e"] * 3

    def test_a_pinned_digest_ignores_other_digests_and_needs_no_record(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        arrange_scores(fake)
        save(fake, NEW)  # the name now means other content: a pin still judges on the old
        for dataset in ("wine@0a64f9dd", OLD):
            selection = client.select("prod", "A", metric="F1", dataset=dataset)
            assert selection.policy.dataset == OLD
            assert selection.winner is not None
            assert selection.winner.candidate.key == "A/2"
            assert reasons(selection)["A/3"] == "no F1 on wine@0a64f9dd"  # its scores are on other data
        assert fake.calls["dataset"] == 0

    def test_any_metric_the_evaluator_logged_can_judge(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        arrange_scores(fake)
        selection = client.select("prod", "A", metric="accuracy", dataset="wine")
        assert selection.winner is not None
        assert selection.winner.reason == "winner: highest accuracy (0.92) on wine@0a64f9dd within *"
        assert reasons(selection)["A/1"] == "no accuracy on wine@0a64f9dd"

    def test_a_failed_score_never_wins(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0")
        fake.add_version("A", "1.1")
        fake.add_score(OLD, "A", 1, {"f1_score": 0.1})
        fake.add_score(OLD, "A", 2, error="ValueError: X has 5 features")
        save(fake, OLD)
        selection = client.select("prod", "A", metric="F1", dataset="wine")
        assert selection.winner is not None
        assert selection.winner.candidate.key == "A/1"
        assert reasons(selection)["A/2"] == "failed on wine@0a64f9dd: ValueError: X has 5 features"

    def test_the_newest_score_of_a_version_counts(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        fake.add_score(OLD, "A", 1, error="boom")
        fake.add_score(OLD, "A", 1, {"f1_score": 0.7})  # retried: scored this time
        save(fake, OLD)
        selection = client.select("prod", "A", metric="F1", dataset="wine")
        assert selection.winner is not None
        assert selection.winner.metric == 0.7

    @pytest.mark.parametrize("operation", ["select", "promote"])
    def test_an_unknown_dataset_name_says_to_evaluate_and_writes_nothing(
        self, client: AllowanceClient, fake: InMemoryRegistry, operation: str
    ) -> None:
        arrange_scores(fake)
        with (
            nothing_written(fake),
            pytest.raises(NotFoundError) as raised,
        ):
            getattr(client, operation)("prod", "A", metric="F1", dataset="holdout")
        assert str(raised.value) == (
            "no dataset 'holdout' has been evaluated on memory://fake: score the versions on it first, "
            "evaluating them on its data under the name holdout"
        )
        assert raised.value.hints == ("evaluate",)
        assert fake.aliases("A") == {}

    @pytest.mark.parametrize("operation", ["select", "promote"])
    def test_a_dataset_without_a_metric_is_rejected_before_any_request(
        self, client: AllowanceClient, fake: InMemoryRegistry, operation: str
    ) -> None:
        arrange_scores(fake)
        with nothing_written(fake), pytest.raises(InputError, match="a dataset needs a metric to judge by"):
            getattr(client, operation)("prod", "A", dataset="wine")
        assert fake.calls == Counter()

    @pytest.mark.parametrize("operation", ["select", "promote"])
    def test_a_request_and_a_dataset_keyword_is_an_input_error(
        self, client: AllowanceClient, fake: InMemoryRegistry, operation: str
    ) -> None:
        arrange_scores(fake)
        with nothing_written(fake), pytest.raises(InputError, match="not both"):
            getattr(client, operation)("prod", SelectionRequest("A", metric="F1"), dataset="wine")
        assert fake.calls == Counter()

    def test_promote_records_the_request_as_asked_and_the_content_judged(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        arrange_scores(fake)
        promotion = client.promote("PROD", "A", metric="F1", dataset="wine")
        assert fake.writes == recorded("set_alias")
        assert (promotion.new, fake.aliases("A")) == ("A/2", {"prod": 2})
        request = SelectionRequest("A", metric="F1", dataset="wine")
        assert promotion.request == request
        record = promotion.record
        assert record is not None
        assert record.request == request
        assert record.request.dataset == DatasetRef("wine")  # the name: a replay judges its content then
        assert record.details["request"]["dataset"] == "wine"
        assert record.details["dataset"] == {"name": "wine", "digest": "0a64f9dd"}  # what was judged
        assert record.details["policy"]["dataset"] == {"name": "wine", "digest": "0a64f9dd"}
        assert record.details["description"] == "highest F1 on wine@0a64f9dd within *"
        assert record.reason == "highest F1 on wine@0a64f9dd within *"
        recorded_reasons = {c["version"]: c["reason"] for c in record.details["candidates"]}
        assert recorded_reasons["4"] == "failed on wine@0a64f9dd: cannot load models:/A/4: no model artifacts"
        assert client.history() == [record]

    @pytest.mark.parametrize(
        ("dataset", "replayed"),
        [
            pytest.param("wine", "A/3", id="name-judges-the-current-content"),
            pytest.param("wine@0a64f9dd", "A/1", id="pin-judges-the-pinned-content"),
        ],
    )
    def test_check_fix_replays_a_dataset_scoped_promotion(
        self, client: AllowanceClient, fake: InMemoryRegistry, dataset: str, replayed: str
    ) -> None:
        """A/5 (2.0) won on wine; prod is then narrowed to <2.0 and new content recorded under the name.

        Below 2.0, the latest version is A/4 (1.3), the best training F1 A/2 (1.1), the best on the old
        content A/1 and on the new A/3: the replay judges on the dataset the request named, as it names it.
        """
        fake.add_version("A", "1.0", metrics={"F1": 0.1})
        fake.add_version("A", "1.1", metrics={"F1": 0.99})
        fake.add_version("A", "1.2", metrics={"F1": 0.1})
        fake.add_version("A", "1.3", metrics={"F1": 0.1})
        fake.add_version("A", "2.0", metrics={"F1": 0.1})
        for version, old, new in [
            (1, 0.95, 0.5),
            (2, 0.7, 0.6),
            (3, 0.6, 0.9),
            (4, 0.5, 0.4),
            (5, 0.99, 0.99),
        ]:
            fake.add_score(OLD, "A", version, {"f1_score": old})
            fake.add_score(NEW, "A", version, {"f1_score": new})
        save(fake, OLD)
        request = SelectionRequest("A", metric="F1", dataset=dataset)
        assert client.promote("prod", request).new == "A/5"
        client.set_allowance("prod", "<2.0")
        save(fake, NEW)
        fake.reset_calls()
        (fix,) = client.check("prod", fix=True).fixes
        assert (fix.old, fix.new) == ("A/5", replayed)
        assert fix.request == request
        assert fix.record is not None
        assert fix.record.request == request
        assert fix.record.reason == "check --fix: 2.0 is outside <2.0"
        judged = OLD if "@" in dataset else NEW
        assert fix.record.details["dataset"] == judged.to_dict()
        assert fake.writes == recorded("set_alias")
        assert client.check().ok

    def test_check_fix_can_judge_the_replay_on_a_dataset(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        """A/5 (2.0) won on its training F1; below 2.0 the best training F1 is A/2, the best on wine A/1."""
        for semver, training in [("1.0", 0.1), ("1.1", 0.9), ("1.2", 0.1), ("1.3", 0.1), ("2.0", 1.0)]:
            fake.add_version("A", semver, metrics={"F1": training})
        for version, f1 in [(1, 0.95), (2, 0.7), (3, 0.6), (4, 0.5), (5, 0.99)]:
            fake.add_score(OLD, "A", version, {"f1_score": f1})
        assert client.promote("prod", "A", metric="F1").new == "A/5"
        client.set_allowance("prod", "<2.0")
        fake.reset_calls()
        (fix,) = client.check("prod", fix=True, dataset="wine@0a64f9dd").fixes
        assert (fix.old, fix.new) == ("A/5", "A/1")
        assert fix.request == SelectionRequest("A", metric="F1", dataset=OLD)
        assert fix.record is not None
        assert fix.record.details["dataset"] == OLD.to_dict()

    def test_a_dataset_for_check_needs_fix(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        arrange_scores(fake)
        with nothing_written(fake), pytest.raises(InputError, match="add fix=True"):
            client.check(dataset="wine")

    def test_check_fix_on_an_unknown_dataset_repairs_nothing(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0", metrics={"F1": 0.9})
        fake.add_version("A", "3.0", metrics={"F1": 0.8})
        client.promote("prod", "A", metric="F1")
        client.set_allowance("prod", "<=2.0")
        fake.set_alias("A", "prod", 2)  # by hand: the alias drifted, and onto a version outside <=2.0
        with nothing_written(fake), pytest.raises(NotFoundError, match="no dataset 'holdout'"):
            client.check(fix=True, dataset="holdout")

    def test_datasets_lists_each_names_current_content(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        save(fake, OLD)
        save(fake, DatasetRef("iris", "1234abcd"))
        save(fake, NEW)
        assert [info.ref for info in client.list_datasets()] == [DatasetRef("iris", "1234abcd"), NEW]


def pending(
    kind: AuditKind = "promotion", new: str | None = "A/1", *, seq: int = 1, age_s: float = 0, **kw: Any
) -> AuditRecord:
    """A record another writer left pending ``age_s`` seconds ago."""
    when = int(time.time() * 1000 - age_s * 1000)
    details = {"models": ["A"], "stage": None} if kind == "promotion" else {}
    return AuditRecord(
        kind, "prod", kw.get("model", "A"), None, new, "bo", when, "", details, seq=seq, state="pending"
    )


class TestWriteAhead:
    def test_each_environment_numbers_its_changes(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        client.set_allowance("prod", "<=2.0")
        client.set_allowance("int", "*")
        client.promote("prod", "A")
        assert [(r.environment, r.seq, r.state) for r in client.history()] == [
            ("prod", 2, "complete"),
            ("int", 1, "complete"),
            ("prod", 1, "complete"),
        ]

    def test_a_change_in_progress_elsewhere_makes_the_environment_busy(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        fake.another_client().write_audit(pending(age_s=1))
        with nothing_written(fake), pytest.raises(EnvironmentBusyError, match="prod is being changed by bo"):
            client.promote("prod", "A")
        assert client.select("prod", "A").winner is not None  # reading is never blocked

    def test_a_number_claimed_elsewhere_makes_the_environment_busy(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        fake.another_client().claim("prod", 1)
        before = fake.snapshot()
        with pytest.raises(EnvironmentBusyError, match="change 1 was claimed"):
            client.set_allowance("prod", "<=1.0")
        assert fake.writes == ["claim"]  # refused: it changed nothing
        assert fake.snapshot() == before

    def test_a_number_claimed_and_abandoned_long_ago_is_skipped(self) -> None:
        clock = [int(time.time() * 1000) - 600_000]
        fake = InMemoryRegistry(clock=lambda: clock[0])
        fake.another_client().claim("prod", 1)  # ten minutes ago; it crashed before writing its record
        clock[0] += 600_000
        client = AllowanceClient(registry=fake)
        client.set_allowance("prod", "<=1.0")
        assert fake.writes == ["claim", *recorded("set_workspace_tag")]
        assert [r.seq for r in client.history()] == [2]

    @pytest.mark.parametrize(
        ("shown", "state"),
        [
            pytest.param(True, "complete", id="change-visible"),
            pytest.param(False, "abandoned", id="not-made"),
        ],
    )
    def test_the_next_writer_settles_a_stale_pending_record(
        self, client: AllowanceClient, fake: InMemoryRegistry, shown: bool, state: str
    ) -> None:
        fake.add_version("A", "1.0")
        fake.another_client().write_audit(pending(age_s=600))
        if shown:
            fake.set_alias("A", "prod", 1)  # the crashed writer got that far
        fake.reset_calls()
        client.set_allowance("prod", "<=2.0")
        assert fake.writes == ["finish_audit", *recorded("set_workspace_tag")]
        assert [(r.kind, r.seq, r.state) for r in client.history()] == [
            ("allowance", 2, "complete"),
            ("promotion", 1, state),
        ]

    def test_a_failed_write_is_recorded_as_abandoned_and_released(
        self, client: AllowanceClient, fake: InMemoryRegistry, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake.add_version("A", "1.0")

        def refuse(name: str, alias: str, version: int) -> None:
            raise RegistryError("MLflow failed while setting alias: disk full")

        monkeypatch.setattr(fake, "set_alias", refuse)
        with pytest.raises(RegistryError, match="disk full"):
            client.promote("prod", "A")
        assert fake.aliases("A") == {}
        assert [(r.kind, r.state) for r in client.history()] == [("promotion", "abandoned")]
        assert fake.calls["release"] == 1
        fake.another_client().claim("prod", 2)  # the number after the abandoned one is free


class TestStages:
    def test_a_stage_taken_further_by_another_environment_is_not_behind(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        # int mirrors Staging onto A/1, then prod takes the same version on to Production: a stage is the
        # version's, so int's record is not "behind" (the walkthrough's story).
        fake.add_version("A", "1.0")
        client.promote("int", "A", stage="Staging")
        client.promote("prod", "A", stage="Production")
        assert fake.stage("A", 1) == "Production"
        assert client.check().ok

    def test_a_stage_left_behind_is_found_and_mirrored(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        client.promote("prod", "A", stage="Production")
        fake.transition_stage("A", 1, "Staging")  # by hand, outside mlflow-allowance
        (violation,) = client.check().violations
        assert (violation.kind, violation.model, violation.version) == ("stage-behind", "A", 1)
        report = client.check(fix=True)
        assert [r.kind for r in report.repairs] == ["repair"]
        assert fake.stage("A", 1) == "Production"
        assert client.check().ok


class TestArguments:
    @pytest.mark.parametrize(
        "wait",
        [
            pytest.param(-1, id="negative"),
            pytest.param(float("nan"), id="nan"),
            pytest.param(True, id="bool"),
        ],
    )
    def test_wait_must_be_seconds(self, client: AllowanceClient, fake: InMemoryRegistry, wait: Any) -> None:
        fake.add_version("A", "1.0")
        with nothing_written(fake), pytest.raises(InputError, match="Invalid wait"):
            client.promote("prod", "A", wait=wait)

    @pytest.mark.parametrize("reason", [pytest.param(5, id="int"), pytest.param(b"x", id="bytes")])
    def test_reason_must_be_text(self, client: AllowanceClient, fake: InMemoryRegistry, reason: Any) -> None:
        fake.add_version("A", "1.0")
        with nothing_written(fake), pytest.raises(InputError, match="Invalid reason"):
            client.set_allowance("prod", "<=1.0", reason=reason)

    def test_no_reason_is_the_default_reason(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0")
        client.set_allowance("prod", "<=1.0", reason=None)  # type: ignore[arg-type]
        assert client.history("prod")[0].reason == "prod: set <=1.0 (was unset: any version)"


class TestHistory:
    def test_newest_first_filtered_and_limited(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0")
        fake.add_version("B", "1.0")
        client.set_allowance("prod", "<=2.0")
        client.promote("prod", ["A", "B"])  # A/1 and B/1 tie; A wins on the name
        client.set_allowance("int", "*", model="B")
        kinds = [(r.kind, r.environment, r.model) for r in client.history()]
        assert kinds == [("allowance", "int", "B"), ("promotion", "prod", "A"), ("allowance", "prod", None)]
        assert [r.kind for r in client.history("prod", limit=1)] == ["promotion"]
        assert [r.kind for r in client.history(model="B")] == ["allowance", "promotion"]  # B competed

    def test_limit_zero_reads_nothing(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        client.set_allowance("prod", "*")
        fake.reset_calls()
        assert client.history(limit=0) == []
        assert fake.calls == Counter()

    @pytest.mark.parametrize(
        "limit",
        [pytest.param(-1, id="negative"), pytest.param(True, id="bool"), pytest.param(1.5, id="float")],
    )
    def test_invalid_limit_is_rejected(
        self, client: AllowanceClient, fake: InMemoryRegistry, limit: Any
    ) -> None:
        with nothing_written(fake), pytest.raises(InputError, match="Invalid limit"):
            client.history(limit=limit)

    def test_foreign_and_damaged_runs_are_skipped(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        client.set_allowance("prod", "<=1.0")
        fake.add_audit_run({"mlflow.user": "someone"})
        fake.add_audit_run({EVENT_TAG: "bogus", ENVIRONMENT_TAG: "prod"})
        fake.add_audit_run({EVENT_TAG: "promotion", ENVIRONMENT_TAG: "prod", SEQ_TAG: "two"})
        fake.add_audit_run({EVENT_TAG: "promotion"})  # no environment
        assert [r.kind for r in client.history()] == ["allowance"]
        assert [r.kind for r in client.history("prod")] == ["allowance"]
        assert client.check().foreign_records == 4

    def test_a_record_whose_details_are_lost_still_counts(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        client.set_allowance("prod", "<=1.0")
        fake.add_audit_run({EVENT_TAG: "promotion", ENVIRONMENT_TAG: "prod", DETAILS: "["})
        newest = client.history()[0]
        assert (newest.kind, newest.details) == ("promotion", {"unreadable_details": True})


class TestVersions:
    @pytest.mark.parametrize(
        "version",
        [pytest.param("3", id="digits"), pytest.param(3, id="int"), pytest.param(" 3 ", id="padded")],
    )
    def test_registry_version_accepted(
        self, client: AllowanceClient, fake: InMemoryRegistry, version: Any
    ) -> None:
        for semver in ("1.0", "2.0", "3.0"):
            fake.add_version("A", semver)
        info = client.get_version("A", version)
        assert (info.name, info.version, info.semver) == ("A", 3, "3.0")

    @pytest.mark.parametrize(
        "version",
        [
            pytest.param("٣", id="arabic-indic-digit"),
            pytest.param("1_0", id="underscore"),
            pytest.param("1.9", id="decimal-text"),
            pytest.param(1.9, id="float"),
            pytest.param(True, id="bool"),
            pytest.param(0, id="zero"),
            pytest.param(-1, id="negative"),
            pytest.param("", id="empty"),
            pytest.param(None, id="none"),
            pytest.param(2**31, id="past-mlflow-int-column"),
            pytest.param(str(10**30), id="huge-digits"),
        ],
    )
    def test_registry_version_rejected_before_any_request(
        self, client: AllowanceClient, fake: InMemoryRegistry, version: Any
    ) -> None:
        fake.add_version("A", "1.0")
        fake.reset_calls()
        with nothing_written(fake), pytest.raises(InputError, match="Invalid registry version"):
            client.get_version("A", version)
        with nothing_written(fake), pytest.raises(InputError, match="Invalid registry version"):
            client.set_version("A", version, "2.0")
        assert fake.calls == Counter()

    def test_missing_version_is_not_found(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0")
        with pytest.raises(NotFoundError, match=r"Model Version \(name=A, version=2\) not found"):
            client.get_version("A", 2)
        with nothing_written(fake), pytest.raises(NotFoundError):
            client.set_version("A", 2, "2.0")

    def test_set_version_writes_the_tag_once(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        fake.add_version("A", None)
        fake.reset_calls()
        assert client.set_version("A", "1", "v2.0.0").semver == "v2.0.0"
        assert fake.writes == ["set_version_tag"]
        assert client.get_version("A", 1).semver == "v2.0.0"
        with nothing_written(fake), pytest.raises(InvalidVersionError):
            client.set_version("A", 1, "banana")

    def test_register_model_with_a_semantic_version(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        run_id = fake.add_run(metrics={"F1": 0.9})
        info = client.register_model(f"runs:/{run_id}/model", "A", semver="2.0", tags={"team": "ml"})
        assert (info.name, info.version, info.semver) == ("A", 1, "2.0")
        assert fake.writes == ["register"]
        assert fake.version_tags("A", 1) == {"team": "ml", VERSION_TAG: "2.0"}

    @pytest.mark.parametrize(
        ("existing", "bump", "expected"),
        [
            pytest.param([], "minor", "0.1", id="new-model"),
            pytest.param([], "major", "1.0", id="new-model-major"),
            pytest.param(["1.0", "1.4.2", "banana", None], "minor", "1.5.0", id="skips-invalid"),
            pytest.param(["1.0", "2.0.0-rc.1"], "patch", "2.0.0", id="prerelease-to-its-release"),
            pytest.param(["v1.2.3"], "patch", "1.2.4", id="semver-prefix"),
        ],
    )
    def test_register_model_with_a_bump(
        self,
        client: AllowanceClient,
        fake: InMemoryRegistry,
        existing: list[str | None],
        bump: Any,
        expected: str,
    ) -> None:
        for semver in existing:
            fake.add_version("A", semver)
        fake.reset_calls()
        info = client.register_model("s3://bucket/model", "A", bump=bump)
        assert (info.version, info.semver) == (len(existing) + 1, expected)
        assert fake.writes == ["register"]
        assert fake.version_tags("A", info.version) == {VERSION_TAG: expected}

    @pytest.mark.parametrize(
        ("options", "error"),
        [
            pytest.param({}, InputError, id="neither"),
            pytest.param({"semver": "1.0", "bump": "minor"}, InputError, id="both"),
            pytest.param({"bump": "minr"}, InputError, id="bad-bump"),
            pytest.param({"semver": "banana"}, InvalidVersionError, id="bad-semver"),
        ],
    )
    def test_register_model_rejects_before_writing(
        self,
        client: AllowanceClient,
        fake: InMemoryRegistry,
        options: Mapping[str, Any],
        error: type[Exception],
    ) -> None:
        fake.add_version("A", "1.0")
        with nothing_written(fake), pytest.raises(error):
            client.register_model("s3://bucket/model", "A", **options)
