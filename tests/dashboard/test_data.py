"""What the dashboard gathers, against the in-memory fake registry (no MLflow)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from mlflow_allowance import AllowanceClient
from mlflow_allowance._dashboard._data import MAX_POINTS, Dashboard, EnvironmentView, Point, gather, thin
from mlflow_allowance._writeahead import current_user
from tests.fakes import InMemoryRegistry

from .story import HOLDERS, play


@pytest.fixture
def fake() -> InMemoryRegistry:
    registry = InMemoryRegistry()

    def register(name: str, semver: str, f1: float, params: Mapping[str, str]) -> int:
        return registry.add_version(name, semver, metrics={"F1": f1}, params=params)

    play(AllowanceClient(registry=registry), register)
    return registry


class TestGather:
    def test_each_environment_shows_its_holder(self, fake: InMemoryRegistry) -> None:
        board = gather(AllowanceClient(registry=fake))
        holders = {view.name: [h.key for h in view.holders] for view in board.environments}
        assert holders == {env: [key] for env, key in HOLDERS.items()}

    def test_holder_says_who_moved_it_when_and_why(self, fake: InMemoryRegistry) -> None:
        client = AllowanceClient(registry=fake)
        prod = _view(gather(client), "prod")
        (holder,) = prod.holders
        assert (holder.semver, holder.metric, holder.kind) == ("1.0", 0.995, "promotion")
        assert holder.reason == "MLmodel competes"
        # The newest record of prod is the promotion that moved the alias to the holder: its user and time.
        (last,) = client.history("prod", limit=1)
        assert (last.kind, last.new, last.reason) == ("promotion", "MLmodel/1", "MLmodel competes")
        assert (holder.moved_by, holder.moved_at) == (current_user(), last.time)

    def test_allowances_default_and_override(self, fake: InMemoryRegistry) -> None:
        client = AllowanceClient(registry=fake)
        client.set_allowance("prod", "<=1.5", model="MLmodel")
        prod = _view(gather(client), "prod")
        assert str(prod.default.allowance) == "<=2.0"
        assert [(o.model, str(o.allowance)) for o in prod.overrides] == [("MLmodel", "<=1.5")]

    def test_no_violation_at_the_end_of_the_story(self, fake: InMemoryRegistry) -> None:
        board = gather(AllowanceClient(registry=fake))
        assert all(not view.violations for view in board.environments)

    def test_narrowed_allowance_is_a_violation(self, fake: InMemoryRegistry) -> None:
        client = AllowanceClient(registry=fake)
        client.set_allowance("int", "<=1.0")
        (violation,) = _view(gather(client), "int").violations
        assert (violation.model, violation.version, violation.kind) == ("AImodel", 4, "outside-allowance")

    def test_chart_has_a_point_per_version_with_a_metric(self, fake: InMemoryRegistry) -> None:
        prod = _view(gather(AllowanceClient(registry=fake)), "prod")
        assert sorted((p.model, p.version, p.inside, p.holder) for p in prod.points) == [
            ("AImodel", 1, True, False),
            ("AImodel", 2, True, False),
            ("AImodel", 3, True, False),
            ("AImodel", 4, True, False),
            ("MLmodel", 1, True, True),
        ]

    def test_versions_outside_the_allowance_are_apart(self, fake: InMemoryRegistry) -> None:
        int_ = _view(gather(AllowanceClient(registry=fake)), "int")
        assert {p.version: p.inside for p in int_.points} == {1: False, 2: False, 3: False, 4: True}

    def test_params_of_holder_best_outside_and_previous_holder(self, fake: InMemoryRegistry) -> None:
        client = AllowanceClient(registry=fake)
        client.set_allowance("int", "==2.0")
        int_ = _view(gather(client), "int")
        assert int_.params is not None
        assert [key for _, key in int_.params.columns] == ["AImodel/4", "AImodel/2", None]
        assert dict(int_.params.rows)["features"] == ("13", "6", None)

    def test_previous_holder_comes_from_the_audit_trail(self, fake: InMemoryRegistry) -> None:
        prod = _view(gather(AllowanceClient(registry=fake)), "prod")
        assert prod.params is not None
        assert [key for _, key in prod.params.columns] == ["MLmodel/1", None, "AImodel/4"]

    def test_params_are_read_in_one_batch(self, fake: InMemoryRegistry) -> None:
        fake.reset_calls()
        gather(AllowanceClient(registry=fake))
        assert fake.calls["run_params"] == 2  # one per environment, holders and comparisons together

    def test_versions_are_read_once_per_environment(self, fake: InMemoryRegistry) -> None:
        fake.reset_calls()
        gather(AllowanceClient(registry=fake))
        assert fake.calls["candidates"] == 2

    def test_reads_only(self, fake: InMemoryRegistry) -> None:
        before = fake.snapshot()
        fake.reset_calls()
        gather(AllowanceClient(registry=fake))
        assert fake.snapshot() == before
        assert not fake.writes

    def test_environment_and_model_filters(self, fake: InMemoryRegistry) -> None:
        board = gather(AllowanceClient(registry=fake), environments=["PROD"], models=["AImodel"])
        (prod,) = board.environments
        assert prod.name == "prod"
        assert prod.holders == ()  # MLmodel holds @prod; the page was asked about AImodel only
        assert {p.model for p in prod.points} == {"AImodel"}
        assert {r.environment for r in board.timeline} == {"prod"}

    def test_timeline_is_newest_first(self, fake: InMemoryRegistry) -> None:
        board = gather(AllowanceClient(registry=fake))
        kinds = [r.kind for r in board.timeline]
        assert kinds[0] == "promotion"
        assert {"allowance", "promotion", "rollback"} <= set(kinds)

    def test_empty_registry(self) -> None:
        board = gather(AllowanceClient(registry=InMemoryRegistry()))
        assert board.environments == ()

    def test_environment_with_allowance_only(self) -> None:
        client = AllowanceClient(registry=InMemoryRegistry())
        client.set_allowance("staging", "~=1.0")
        (view,) = gather(client).environments
        assert (view.name, view.selection, view.holders) == ("staging", None, ())


class TestThin:
    def test_few_points_untouched(self) -> None:
        points = [Point("m", v, 0, 0.5, "1.0", True, False) for v in range(10)]
        assert thin(points) == points

    def test_many_points_bounded_holders_kept_counts_add_up(self) -> None:
        points = [
            Point("m", v, 0, (v * 37 % 101) / 101, "1.0" if v % 3 else "2.0", v % 3 != 0, v == 7_777)
            for v in range(1, 10_001)
        ]
        kept = thin(points)
        assert len(kept) <= MAX_POINTS + 1
        assert [p.version for p in kept if p.holder] == [7_777]
        assert sum(p.count for p in kept) == 10_000
        assert {p.inside for p in kept} == {True, False}


def _view(board: Dashboard, env: str) -> EnvironmentView:
    return next(v for v in board.environments if v.name == env)
