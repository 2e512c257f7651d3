"""Examples for the selection engine: who is excluded and why, who wins, and what the record looks like."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from mlflow_allowance import Selection, VersionAllowance
from mlflow_allowance._frozen import FrozenDict
from mlflow_allowance.selection import Candidate, SelectionPolicy, rank_candidates

F1 = "F1"


def policy(allowance: str = "*", metric: str | None = F1, **kwargs: Any) -> SelectionPolicy:
    return SelectionPolicy(VersionAllowance.parse(allowance), metric=metric, **kwargs)


def candidate(version: int, semver: str | None = "1.0", f1: float | None = 0.9, **kwargs: Any) -> Candidate:
    metrics = {} if f1 is None else {F1: f1}
    return Candidate(kwargs.pop("name", "AImodel"), version, semver, metrics=metrics, **kwargs)


def winner_key(selection: Selection) -> str | None:
    return None if selection.winner is None else selection.winner.candidate.key


# (candidate, policy, reason)
EXCLUSIONS = [
    pytest.param(candidate(1, "2.1.0"), policy("<=2.0"), "2.1.0 is outside <=2.0", id="outside-allowance"),
    pytest.param(candidate(1, "v2.1.0"), policy("<=2.0"), "v2.1.0 is outside <=2.0", id="outside-as-written"),
    pytest.param(candidate(1, "1.0", f1=None), policy(), "no metric 'F1'", id="missing-metric"),
    pytest.param(candidate(1, "1.0", f1=math.nan), policy(), "metric 'F1' is nan", id="nan-metric"),
    pytest.param(candidate(1, "1.0", f1=math.inf), policy(), "metric 'F1' is inf", id="infinite-metric"),
    pytest.param(candidate(1, "1.0", f1=-math.inf), policy(), "metric 'F1' is -inf", id="minus-infinite"),
    pytest.param(
        candidate(1, "abc"), policy(), "version tag 'abc' is not a valid version", id="invalid-version-tag"
    ),
    pytest.param(
        candidate(1, "2.0.0-SNAPSHOT"),
        policy(),
        "version tag '2.0.0-SNAPSHOT' is not a valid version",
        id="semver-word-pep440-lacks",
    ),
    pytest.param(candidate(1, None), policy(), "no semantic version", id="no-version-tag"),
    pytest.param(
        candidate(1, status="FAILED_REGISTRATION"), policy(), "status FAILED_REGISTRATION", id="failed"
    ),
    pytest.param(
        candidate(1, status="PENDING_REGISTRATION"), policy(), "status PENDING_REGISTRATION", id="pending"
    ),
    pytest.param(
        candidate(1),
        policy(required_tags={"stage": "approved"}),
        "tag 'stage' is missing, not 'approved'",
        id="required-tag-missing",
    ),
    pytest.param(
        candidate(1, tags={"stage": "draft"}),
        policy(required_tags={"stage": "approved"}),
        "tag 'stage' is 'draft', not 'approved'",
        id="required-tag-wrong",
    ),
    pytest.param(
        candidate(1, "2.0rc1"),
        policy("<=2.0"),
        "2.0rc1 is a pre-release; <=2.0 does not name one",
        id="prerelease-not-named",
    ),
    pytest.param(
        candidate(1, "2.0.0-rc.1"),
        policy(">=2.0rc1", prereleases=False),
        "2.0.0-rc.1 is a pre-release; the policy excludes pre-releases",
        id="prerelease-opted-out",
    ),
    pytest.param(
        candidate(1, "3.0rc1"),
        policy("<=2.0", prereleases=True),
        "3.0rc1 is outside <=2.0",
        id="prerelease-opted-in-but-outside",
    ),
    pytest.param(
        candidate(1, "1.0", f1=math.nan, status="FAILED_REGISTRATION"),
        policy(),
        "status FAILED_REGISTRATION",
        id="status-is-checked-first",
    ),
]

# (candidates, policy, winning key)
WINNERS = [
    pytest.param(
        [candidate(1, f1=0.93), candidate(2, f1=0.98), candidate(3, f1=0.95)],
        policy(),
        "AImodel/2",
        id="metric-max",
    ),
    pytest.param(
        [candidate(1, f1=0.93), candidate(2, f1=0.98), candidate(3, f1=0.95)],
        policy(maximize=False),
        "AImodel/1",
        id="metric-min",
    ),
    pytest.param(
        [candidate(1, "1.0"), candidate(2, "2.0"), candidate(3, "1.5")],
        policy(metric=None),
        "AImodel/2",
        id="latest",
    ),
    pytest.param(
        [candidate(1, "1.0", f1=None), candidate(2, "2.0rc1", f1=None), candidate(3, "1.5", f1=math.nan)],
        policy(metric=None),
        "AImodel/3",
        id="latest-ignores-metrics",
    ),
    pytest.param(
        [candidate(1, "1.0"), candidate(2, "2.0rc1")],
        policy(metric=None, prereleases=True),
        "AImodel/2",
        id="latest-with-prereleases",
    ),
    pytest.param(
        [candidate(1, "1.0"), candidate(2, "1.1")], policy(), "AImodel/2", id="tie-higher-semver-wins"
    ),
    pytest.param(
        [candidate(2, "1.1"), candidate(1, "1.1")],
        policy(),
        "AImodel/2",
        id="tie-higher-registry-version-wins",
    ),
    pytest.param(
        [candidate(1, "1.0", name="BImodel"), candidate(1, "1.0.0", name="AImodel")],
        policy(),
        "AImodel/1",
        id="tie-model-name-first-alphabetically-wins",
    ),
    pytest.param(
        [candidate(1, "1.0", f1=0.9), candidate(2, "1.0", f1=math.nan), candidate(3, "1.0", f1=math.inf)],
        policy(),
        "AImodel/1",
        id="nan-and-inf-never-win",
    ),
    pytest.param(
        [candidate(1, "1.0", f1=0.9), candidate(2, "1.0", f1=-math.inf)],
        policy(maximize=False),
        "AImodel/1",
        id="minus-inf-never-wins-a-minimum",
    ),
    pytest.param(
        [candidate(1, "1.0", f1=0.0), candidate(2, "1.0", f1=-0.0)],
        policy(),
        "AImodel/2",
        id="signed-zeros-tie",
    ),
    pytest.param(
        [candidate(1, "2.0", f1=0.99), candidate(2, "1.0", f1=0.98), candidate(3, "1.0", f1=0.93)],
        policy("<=1.0"),
        "AImodel/2",
        id="best-within-allowance",
    ),
    pytest.param(
        [candidate(1, tags={"stage": "approved"}, f1=0.5), candidate(2, f1=0.9)],
        policy(required_tags={"stage": "approved"}),
        "AImodel/1",
        id="required-tags",
    ),
]

PER_MODEL = [
    pytest.param(
        [candidate(1, "2.0", name="AImodel", f1=0.99), candidate(1, "1.0", name="BImodel", f1=0.9)],
        policy("<=1.0", model_allowances={"AImodel": VersionAllowance.parse("<=2.0")}),
        "AImodel/1",
        id="override-widens-one-model",
    ),
    pytest.param(
        [candidate(1, "1.0", name="AImodel", f1=0.99), candidate(1, "1.0", name="BImodel", f1=0.9)],
        policy("*", model_allowances={"AImodel": VersionAllowance.parse(">=2.0")}),
        "BImodel/1",
        id="override-narrows-one-model",
    ),
]

NO_WINNER = [
    pytest.param([], policy(), id="no-candidates"),
    pytest.param([candidate(1, "3.0")], policy("<=2.0"), id="all-outside"),
    pytest.param([candidate(1, f1=math.nan), candidate(2, f1=None)], policy(), id="no-usable-metric"),
    pytest.param([candidate(1, "abc"), candidate(2, None)], policy(metric=None), id="no-valid-version"),
    pytest.param([candidate(1, "2.0rc1")], policy(metric=None), id="only-prereleases"),
]


class TestCandidate:
    def test_key(self) -> None:
        assert candidate(3).key == "AImodel/3"

    def test_frozen_with_read_only_mappings(self) -> None:
        aliases: Any = ["prod"]  # as a caller might pass them, straight from JSON
        record = Candidate(
            "AImodel", 1, "1.0", metrics={F1: 0.9}, tags={"stage": "approved"}, aliases=aliases
        )
        assert isinstance(record.metrics, FrozenDict)
        assert isinstance(record.tags, FrozenDict)
        assert record.aliases == ("prod",)
        with pytest.raises(AttributeError):
            record.version = 2  # type: ignore[misc]
        with pytest.raises(TypeError):
            record.metrics[F1] = 1.0  # type: ignore[index]

    def test_does_not_share_the_callers_dict(self) -> None:
        metrics = {F1: 0.9}
        record = Candidate("AImodel", 1, "1.0", metrics=metrics)
        metrics[F1] = 0.1
        assert record.metrics[F1] == 0.9


class TestSelectionPolicy:
    @pytest.mark.parametrize(
        ("chosen", "strategy", "description"),
        [
            pytest.param(policy("<=1.0"), "metric", "highest F1 within <=1.0", id="max"),
            pytest.param(policy("<=1.0", maximize=False), "metric", "lowest F1 within <=1.0", id="min"),
            pytest.param(policy("*", metric=None), "latest", "latest semantic version within *", id="latest"),
        ],
    )
    def test_strategy_and_description(self, chosen: SelectionPolicy, strategy: str, description: str) -> None:
        assert chosen.strategy == strategy
        assert chosen.describe() == description

    def test_default_allows_any_final_version_and_picks_the_latest(self) -> None:
        default = SelectionPolicy()
        assert default.allowance.is_any
        assert default.strategy == "latest"
        assert default.allowance_for("AImodel") is default.allowance

    def test_allowance_for_a_model_with_its_own(self) -> None:
        own = VersionAllowance.parse("==2.*")
        chosen = policy("<=1.0", model_allowances={"AImodel": own})
        assert chosen.allowance_for("AImodel") is own
        assert chosen.allowance_for("BImodel") == VersionAllowance.parse("<=1.0")
        with pytest.raises(TypeError):
            chosen.model_allowances["BImodel"] = own  # type: ignore[index]


class TestSelection:
    @pytest.mark.parametrize(("excluded", "chosen", "reason"), EXCLUSIONS)
    def test_exclusion_reason(self, excluded: Candidate, chosen: SelectionPolicy, reason: str) -> None:
        selection = rank_candidates([excluded], chosen)
        (verdict,) = selection.candidates
        assert verdict.eligible is False
        assert verdict.reason == reason
        assert selection.winner is None

    @pytest.mark.parametrize(("candidates", "chosen", "key"), WINNERS)
    def test_winner(self, candidates: list[Candidate], chosen: SelectionPolicy, key: str) -> None:
        assert winner_key(rank_candidates(candidates, chosen)) == key

    @pytest.mark.parametrize(("candidates", "chosen", "key"), WINNERS)
    def test_winner_does_not_depend_on_order(
        self, candidates: list[Candidate], chosen: SelectionPolicy, key: str
    ) -> None:
        assert winner_key(rank_candidates(reversed(candidates), chosen)) == key

    @pytest.mark.parametrize(("candidates", "chosen", "key"), PER_MODEL)
    def test_per_model_allowance_replaces_the_environments(
        self, candidates: list[Candidate], chosen: SelectionPolicy, key: str
    ) -> None:
        assert winner_key(rank_candidates(candidates, chosen)) == key

    def test_per_model_allowance_is_named_in_the_reason(self) -> None:
        chosen = policy("*", model_allowances={"AImodel": VersionAllowance.parse(">=2.0")})
        (verdict,) = rank_candidates([candidate(1, "1.0")], chosen).candidates
        assert verdict.reason == "1.0 is outside >=2.0"

    @pytest.mark.parametrize(("candidates", "chosen"), NO_WINNER)
    def test_no_eligible_candidate_means_no_winner(
        self, candidates: list[Candidate], chosen: SelectionPolicy
    ) -> None:
        selection = rank_candidates(candidates, chosen)
        assert selection.winner is None
        assert selection.eligible == ()
        assert selection.to_dict()["winner"] is None
        assert len(selection.candidates) == len(candidates)

    def test_verdict_order_and_reasons(self) -> None:
        candidates = [
            candidate(1, "1.0", f1=0.93),
            candidate(2, "3.0", f1=0.99),
            candidate(3, "1.0", f1=0.98),
            candidate(4, "0.9", f1=None),
            candidate(5, "0.9", f1=0.98),
            candidate(6, "1.0", f1=0.98),
        ]
        selection = rank_candidates(candidates, policy("<=1.0"))
        tie = "ties with the winner on F1; "
        assert [(v.candidate.version, v.eligible, v.reason) for v in selection.candidates] == [
            (6, True, "winner: highest F1 (0.98) within <=1.0"),
            (3, True, tie + "same semantic version; the tie breaks on registry version, then model name"),
            (5, True, tie + "0.9 is older than the winner's 1.0"),
            (1, True, "F1 0.93 is worse than the winner's 0.98"),
            (2, False, "3.0 is outside <=1.0"),
            (4, False, "no metric 'F1'"),
        ]
        assert [v.candidate.version for v in selection.eligible] == [6, 3, 5, 1]

    def test_latest_reasons(self) -> None:
        selection = rank_candidates(
            [candidate(1, "1.0"), candidate(2, "v2.0.0")], policy("<=2.0", metric=None)
        )
        assert [v.reason for v in selection.candidates] == [
            "winner: latest within <=2.0 (v2.0.0)",
            "1.0 is older than the winner's v2.0.0",
        ]

    def test_lowest_reason(self) -> None:
        selection = rank_candidates([candidate(1, f1=0.2), candidate(2, f1=0.1)], policy(maximize=False))
        assert [v.reason for v in selection.candidates] == [
            "winner: lowest F1 (0.1) within *",
            "F1 0.2 is worse than the winner's 0.1",
        ]

    def test_evaluate_takes_any_iterable(self) -> None:
        assert winner_key(rank_candidates(iter([candidate(1), candidate(2)]), policy())) == "AImodel/2"

    def test_to_dict_shape(self) -> None:
        candidates = [
            candidate(1, "1.0", f1=0.93),
            candidate(2, "1.0", f1=math.nan),
            candidate(3, "2.0", f1=0.99),
            candidate(4, "1.0", f1=None),
        ]
        record = rank_candidates(candidates, policy("<=1.0"), environment="prod").summary()
        assert record.pop("policy") == policy("<=1.0").to_dict()
        assert record == {
            "environment": "prod",
            "allowance": "<=1.0",
            "allowances": {},
            "metric": "F1",
            "maximize": True,
            "dataset": None,
            "winner": {"name": "AImodel", "version": "1", "semver": "1.0", "metric": 0.93},
            "candidates": [
                {
                    "name": "AImodel",
                    "version": "1",
                    "semver": "1.0",
                    "metric": 0.93,
                    "eligible": True,
                    "reason": "winner: highest F1 (0.93) within <=1.0",
                },
                {
                    "name": "AImodel",
                    "version": "2",
                    "semver": "1.0",
                    "metric": None,
                    "eligible": False,
                    "reason": "metric 'F1' is nan",
                },
                {
                    "name": "AImodel",
                    "version": "3",
                    "semver": "2.0",
                    "metric": 0.99,
                    "eligible": False,
                    "reason": "2.0 is outside <=1.0",
                },
                {
                    "name": "AImodel",
                    "version": "4",
                    "semver": "1.0",
                    "metric": None,
                    "eligible": False,
                    "reason": "no metric 'F1'",
                },
            ],
        }
        # Strict JSON: no NaN or Infinity tokens.
        assert json.loads(json.dumps(record, allow_nan=False)) == record

    @pytest.mark.parametrize(
        ("value", "shown"),
        [
            pytest.param(0.5, 0.5, id="number"),
            pytest.param(math.nan, None, id="nan"),
            pytest.param(math.inf, None, id="inf"),
            pytest.param(-math.inf, None, id="minus-inf"),
            pytest.param(None, None, id="missing"),
        ],
    )
    def test_verdict_metric_is_a_number_or_null(self, value: float | None, shown: float | None) -> None:
        (verdict,) = rank_candidates([candidate(1, f1=value)], policy()).candidates
        assert verdict.to_dict()["metric"] == shown
        assert verdict.to_dict()["version"] == "1"
        json.dumps(verdict.to_dict(), allow_nan=False)

    def test_latest_policy_records_null_metric(self) -> None:
        record = rank_candidates([candidate(1)], policy(metric=None)).to_dict()
        assert record["metric"] is None
        assert record["winner"] == {"name": "AImodel", "version": "1", "semver": "1.0", "metric": None}
