"""Each rule of issue 19 lives in one place, and every face (client, CLI, dashboard) reaches it there.

Against the in-memory fake: no MLflow.
"""

from __future__ import annotations

import pytest

from mlflow_allowance import AllowanceClient, InputError, SelectionRequest, VersionAllowance
from mlflow_allowance._dashboard._data import gather
from mlflow_allowance._schema import allowance_tag
from mlflow_allowance.selection import SelectionPolicy, within
from mlflow_allowance.versions import SemanticVersion
from tests.fakes import InMemoryRegistry
from tests.test_client_rules import nothing_written


@pytest.fixture
def fake() -> InMemoryRegistry:
    return InMemoryRegistry()


@pytest.fixture
def client(fake: InMemoryRegistry) -> AllowanceClient:
    return AllowanceClient(registry=fake)


class TestOneSelectionRequest:
    """The judging options are checked once, by one function, with one message per rule."""

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            pytest.param(
                {"maximize": False}, "minimizing needs a metric: without one the latest", id="minimize-alone"
            ),
            pytest.param({"dataset": "wine"}, "a dataset needs a metric to judge by", id="dataset-alone"),
            pytest.param({"metric": ""}, "Invalid metric ''", id="empty-metric"),
        ],
    )
    def test_the_request_refuses_and_the_client_writes_nothing(
        self, client: AllowanceClient, fake: InMemoryRegistry, options: dict[str, object], message: str
    ) -> None:
        fake.add_version("A", "1.0", metrics={"F1": 0.5})
        with pytest.raises(InputError, match=message):
            SelectionRequest("A", **options)  # type: ignore[arg-type]
        with nothing_written(fake), pytest.raises(InputError, match=message):
            client.promote("prod", "A", **options)  # type: ignore[arg-type]

    def test_the_policy_shares_the_request_rules_and_messages(self) -> None:
        with pytest.raises(InputError, match="a dataset needs a metric to judge by") as from_policy:
            SelectionPolicy("<=1.0", dataset="wine")
        with pytest.raises(InputError, match="a dataset needs a metric to judge by") as from_request:
            SelectionRequest("A", dataset="wine")
        assert str(from_policy.value) == str(from_request.value)
        with pytest.raises(TypeError) as policy_type:
            SelectionPolicy(maximize="no")  # type: ignore[arg-type]
        with pytest.raises(TypeError) as request_type:
            SelectionRequest("A", maximize="no")  # type: ignore[arg-type]
        assert str(policy_type.value) == str(request_type.value) == "maximize must be True or False, not 'no'"

    def test_a_request_makes_the_policy_it_describes(self) -> None:
        request = SelectionRequest(
            "A", metric="loss", maximize=False, required_tags={"ok": "1"}, dataset="d@ab"
        )
        policy = request.policy(VersionAllowance("<=2.0"), {})
        assert (policy.metric, policy.maximize, dict(policy.required_tags), str(policy.dataset)) == (
            "loss",
            False,
            {"ok": "1"},
            "d@ab",
        )
        assert policy == SelectionPolicy("<=2.0", "loss", False, {"ok": "1"}, None, {}, "d@ab")

    @pytest.mark.parametrize(
        "options",
        [
            pytest.param({"metric": "F1"}, id="metric"),
            pytest.param({"maximize": False}, id="maximize"),
            pytest.param({"prereleases": True}, id="prereleases"),
        ],
    )
    def test_build_names_the_options_given_twice(self, options: dict[str, object]) -> None:
        with pytest.raises(InputError, match=f"not both \\({next(iter(options))}\\)"):
            SelectionRequest.build(SelectionRequest("A", metric="x"), **options)

    def test_build_takes_defaults_as_no_options(self) -> None:
        request = SelectionRequest("A", metric="F1")
        assert SelectionRequest.build(request, maximize=True, required_tags={}, metric=None) is request


class TestInsideTheAllowance:
    """``within`` is the one rule for "inside": check, rollback and the dashboard agree on it."""

    @pytest.mark.parametrize(
        ("allowance", "version", "inside"),
        [
            pytest.param("<=2.0", "2.0rc1", True, id="prerelease-inside-range"),
            pytest.param("<=2.0", "2.0", True, id="edge"),
            pytest.param("<2.0", "2.0", False, id="outside"),
            pytest.param("==1.*", "1.5.dev0", True, id="dev-inside-wildcard"),
        ],
    )
    def test_within(self, allowance: str, version: str, inside: bool) -> None:
        assert within(VersionAllowance(allowance), SemanticVersion(version)) is inside

    def test_a_prerelease_holder_is_inside_for_check_and_for_the_dashboard(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0", metrics={"F1": 0.5})
        fake.add_version("A", "2.0rc1", metrics={"F1": 0.9})
        client.set_allowance("prod", "==2.0rc1")  # an allowance naming the pre-release admits it
        promotion = client.promote("prod", "A", metric="F1")
        assert promotion.new == "A/2"
        client.set_allowance("prod", "<=2.0")  # widened: the holder stays inside, as a pre-release
        assert client.check().ok
        (view,) = gather(client).environments
        (holder,) = view.holders
        point = next(p for p in view.points if p.version == 2)
        assert (holder.version, point.inside) == (2, True)
        # Selection without pre-releases still passes it over, for the pre-release reason, not "outside".
        reasons = {v.candidate.version: v.reason for v in client.select("prod", "A", metric="F1").candidates}
        assert reasons[2] == "2.0rc1 is a pre-release; <=2.0 does not name one"


class TestEffectiveAllowanceInViolations:
    def test_a_violation_shows_the_models_override_not_the_default(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        fake.add_version("B", "1.0")
        client.set_allowance("prod", "<=1.0")
        client.set_allowance("prod", "==1.0", model="B")
        client.promote("prod", "B")
        fake.set_model_tag("B", allowance_tag("prod"), "==3.0")  # changed outside mlflow-allowance
        kinds = {v.kind: v for v in client.check().violations}
        assert str(kinds["allowance-drift"].allowance) == "==3.0"
        assert str(kinds["outside-allowance"].allowance) == "==3.0"


class TestCheckRemaining:
    def test_without_fix_remaining_is_every_violation(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        fake.add_version("A", "2.0")
        client.set_allowance("prod", "<=2.0")
        client.promote("prod", "A")
        fake.set_workspace_tag(allowance_tag("prod"), "<=1.0")
        report = client.check()
        assert report.remaining == report.violations
        assert len(report.violations) == 2  # the drifted allowance, and the holder outside it

    def test_after_fix_remaining_is_what_a_new_check_reports(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        fake.add_version("A", "2.0")
        client.set_allowance("prod", "<=2.0")
        client.promote("prod", "A")
        client.set_allowance("prod", "<=1.0")
        report = client.check(fix=True)
        assert [f.new for f in report.fixes] == ["A/1"]
        assert report.remaining == ()
        assert report.to_dict()["remaining"] == []


class TestPromoteEvaluatesFirst:
    """``promote(data=...)``: the orchestration the CLI's ``--evaluate`` had, now the client's."""

    def test_data_needs_a_metric_and_writes_nothing(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0")
        with nothing_written(fake), pytest.raises(InputError, match="needs a metric to promote on"):
            client.promote("prod", "A", data="holdout.csv")

    def test_a_target_without_data_is_refused(self, client: AllowanceClient, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0", metrics={"F1": 0.5})
        with nothing_written(fake), pytest.raises(InputError, match="a target column goes with data"):
            client.promote("prod", "A", metric="F1", target="label")

    def test_over_a_registry_without_mlflow_evaluate_is_refused(
        self, client: AllowanceClient, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", "1.0", metrics={"F1": 0.5})
        with nothing_written(fake), pytest.raises(InputError, match="needs a client over a tracking URI"):
            client.promote("prod", "A", metric="F1", data="holdout.csv", target="label")
