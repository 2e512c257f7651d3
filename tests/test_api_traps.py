"""The traps the old public API set, one class per type: each case failed before the rework.

From the issue "The public API as dependable as packaging's": value objects take what people type, compare
by one rule, pickle, copy, hash and cross process boundaries, and the fluent functions read like the
methods they stand for.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import math
import multiprocessing
import pickle
import pydoc
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

import mlflow_allowance
from mlflow_allowance import (
    AllowanceClient,
    AllowanceError,
    AuditRecord,
    CheckReport,
    InputError,
    Promotion,
    Selection,
    SelectionRequest,
    SemanticVersion,
    VersionAllowance,
)
from mlflow_allowance.allowance import AllowanceComparison
from mlflow_allowance.errors import InvalidVersionError
from mlflow_allowance.outcomes import Violation
from mlflow_allowance.selection import Candidate, SelectionPolicy, rank_candidates

FLUENT = [
    "check",
    "get_allowance",
    "get_version",
    "history",
    "list_allowances",
    "promote",
    "register_model",
    "rollback",
    "select",
    "set_allowance",
    "set_version",
    "unset_allowance",
]


def _selection(environment: str | None = "prod") -> Selection:
    candidates = [
        Candidate("AImodel", 1, "1.0", metrics={"F1": 0.93}, tags={"validated": "true"}, aliases=("prod",)),
        Candidate("AImodel", 2, "1.0", metrics={"F1": 0.98}, tags={"validated": "true"}),
        Candidate("AImodel", 3, "2.0", metrics={"F1": 0.99}, tags={"validated": "true"}),
    ]
    policy = SelectionPolicy(VersionAllowance("<=1.0"), metric="F1", required_tags={"validated": "true"})
    return rank_candidates(candidates, policy, environment=environment)


def _promotion(environment: str = "prod", old: str = "AImodel/1", new: str = "AImodel/2") -> Promotion:
    """A promotion as the client returns one: its selection, its audit record and the request."""
    selection = _selection(environment)
    request = SelectionRequest("AImodel", metric="F1", required_tags={"validated": "true"})
    details = {**selection.summary(), "request": request.to_dict(), "models": ["AImodel"]}
    record = AuditRecord(
        "promotion", environment, "AImodel", old, new, "ana", 1700000000000, "highest F1", details, "r1"
    )
    return Promotion(environment, old, new, True, selection=selection, record=record, request=request)


def promotion_in_child(environment: str, old: str, new: str) -> Promotion:
    """Run in a spawned worker process: a promotion built there, sent back by pickle."""
    return _promotion(environment, old, new)


def _check_report() -> CheckReport:
    violation = Violation("prod", "AImodel", 3, "2.0", VersionAllowance("<=1.0"), "2.0 is outside <=1.0")
    return CheckReport((violation,), (_promotion(),), checked=2)


# (version, allowance text, expected)
CONTAINS = [
    pytest.param("1.0", "<=2.0", True, id="inside"),
    pytest.param("3.0", "<=2.0", False, id="outside"),
    pytest.param(SemanticVersion("v1.0.0"), "<=2.0", True, id="semantic-version"),
    pytest.param("banana", "<=2.0", False, id="not-a-version"),
]


class TestVersionAllowance:
    @pytest.mark.parametrize(("version", "text", "expected"), CONTAINS)
    def test_in(self, version: str | SemanticVersion, text: str, expected: bool) -> None:
        assert (version in VersionAllowance.parse(text)) is expected

    def test_constructor_takes_text(self) -> None:
        assert VersionAllowance("<=2.0") == VersionAllowance.parse("<=2.0")
        assert VersionAllowance("<=2.0").canonical == "<=2.0"

    def test_and_takes_text(self) -> None:
        assert VersionAllowance("<=2.0") & "<=1.0" == VersionAllowance("<=1.0,<=2.0")
        both = VersionAllowance(">=0.5,<=2.0")
        assert VersionAllowance("<=2.0") & ">=0.5" == both
        assert ">=0.5" & VersionAllowance("<=2.0") == both

    def test_compare_takes_text(self) -> None:
        assert VersionAllowance("<=2.0").compare("<=2") is AllowanceComparison.EQUAL
        assert VersionAllowance("<=2.0").compare("<=1.0") is AllowanceComparison.WIDER

    def test_parse_of_an_allowance_is_itself(self) -> None:
        allowance = VersionAllowance("<=2.0")
        assert VersionAllowance.parse(allowance) is allowance

    def test_one_equality_rule(self) -> None:
        """``<=2`` and ``<=2.0`` are one clause, by packaging's rule, whether compared or repeated."""
        assert VersionAllowance("<=2") == VersionAllowance("<=2.0")
        assert hash(VersionAllowance("<=2")) == hash(VersionAllowance("<=2.0"))
        assert len(list(VersionAllowance("<=2,<=2.0"))) == 1

    @pytest.mark.parametrize(
        "value",
        [
            pytest.param(2.0, id="float"),
            pytest.param([1], id="list-of-int"),
            pytest.param(b"<=2.0", id="bytes"),
            pytest.param({"<=2.0": 1}, id="mapping"),
        ],
    )
    def test_anything_else_is_a_type_error(self, value: Any) -> None:
        with pytest.raises(TypeError, match=r"^VersionAllowance "):
            VersionAllowance(value)


# (version, part, bumped) as SemVer (and npm's semver) bump pre-releases
PRERELEASE_BUMPS = [
    pytest.param("2.1.0-rc.1", "patch", "2.1.0", id="rc-patch"),
    pytest.param("2.1.0-rc.1", "minor", "2.1.0", id="rc-minor"),
    pytest.param("2.1.0-rc.1", "major", "3.0.0", id="rc-major"),
    pytest.param("2.0.0-rc.1", "major", "2.0.0", id="rc-of-major"),
    pytest.param("2.1.1-rc.1", "minor", "2.2.0", id="rc-of-patch-minor"),
]


class TestSemanticVersion:
    def test_text_spelling_the_value(self) -> None:
        assert SemanticVersion("2.0", "2.0") < SemanticVersion.parse("3")
        assert str(SemanticVersion("2.0", "v2.0.0")) == "v2.0.0"

    def test_text_spelling_another_version(self) -> None:
        with pytest.raises(InvalidVersionError):
            SemanticVersion("2.0", "3.0")

    @pytest.mark.parametrize(
        "value", [pytest.param(3, id="int"), pytest.param(2.0, id="float"), pytest.param(None, id="none")]
    )
    def test_anything_else_is_a_type_error(self, value: Any) -> None:
        with pytest.raises(TypeError, match=r"^SemanticVersion takes a version string"):
            SemanticVersion(value)

    @pytest.mark.parametrize("part", [pytest.param("minr", id="typo"), pytest.param("", id="empty")])
    def test_unknown_bump_part(self, part: Any) -> None:
        with pytest.raises(InputError) as raised:
            SemanticVersion("1.0").bump(part)
        assert isinstance(raised.value, AllowanceError)
        assert isinstance(raised.value, ValueError)

    @pytest.mark.parametrize(("text", "part", "bumped"), PRERELEASE_BUMPS)
    def test_prerelease_bumps_to_its_release(self, text: str, part: Any, bumped: str) -> None:
        result = SemanticVersion(text).bump(part)
        assert result == SemanticVersion(bumped)
        assert str(result) == bumped


# (value, hashable): the records the API returns, as the client builds them.
RECORDS = [
    pytest.param(Candidate("AImodel", 1, "1.0", metrics={"F1": 0.9}, tags={"k": "v"}), id="Candidate"),
    pytest.param(
        SelectionPolicy(
            VersionAllowance("<=1.0"),
            metric="F1",
            required_tags={"k": "v"},
            model_allowances={"m": VersionAllowance("==5.0")},
        ),
        id="SelectionPolicy",
    ),
    pytest.param(_selection(), id="Selection"),
    pytest.param(_promotion(), id="Promotion"),
    pytest.param(_check_report(), id="CheckReport"),
]


class TestValueObjects:
    """Candidate, SelectionPolicy, Selection, Promotion and CheckReport are plain, frozen values."""

    @pytest.mark.parametrize("value", RECORDS)
    def test_hash(self, value: object) -> None:
        assert hash(value) == hash(copy.deepcopy(value))

    @pytest.mark.parametrize("value", RECORDS)
    def test_pickle(self, value: object) -> None:
        assert pickle.loads(pickle.dumps(value)) == value

    @pytest.mark.parametrize("value", RECORDS)
    def test_deepcopy(self, value: object) -> None:
        assert copy.deepcopy(value) == value

    @pytest.mark.parametrize("value", RECORDS)
    def test_asdict(self, value: Any) -> None:
        data = dataclasses.asdict(value)
        assert list(data) == [field.name for field in dataclasses.fields(value)]

    @pytest.mark.parametrize("value", RECORDS)
    def test_immutable(self, value: Any) -> None:
        field = dataclasses.fields(value)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, field, getattr(value, field))

    def test_promotion_crosses_a_process_boundary(self) -> None:
        """A worker process (spawned: a fresh interpreter, as Ray or Airflow have) returns a Promotion."""
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            result = pool.submit(promotion_in_child, "staging", "AImodel/1", "AImodel/2").result(timeout=120)
        assert result == _promotion("staging", "AImodel/1", "AImodel/2")
        assert result.record is not None
        assert result.record.request == result.request


NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "F1": 0.5}


class TestNonFiniteMetrics:
    """NaN and infinite metrics cross strict JSON (``allow_nan=False``) and come back as they were."""

    def test_candidate(self) -> None:
        candidate = Candidate("AImodel", 1, "1.0", metrics=NON_FINITE)
        again = Candidate.from_dict(json.loads(json.dumps(candidate.to_dict(), allow_nan=False)))
        assert math.isnan(again.metrics["nan"])
        assert {k: v for k, v in again.metrics.items() if k != "nan"} == {
            "inf": math.inf,
            "-inf": -math.inf,
            "F1": 0.5,
        }

    @pytest.mark.parametrize("metric", ["nan", "inf", "-inf"])
    def test_selection_and_promotion(self, metric: str) -> None:
        candidates = [
            Candidate("AImodel", 1, "1.0", metrics=NON_FINITE),
            Candidate("AImodel", 2, "1.0", metrics={"F1": 0.9}),
        ]
        selection = rank_candidates(candidates, SelectionPolicy(metric=metric), environment="prod")
        assert selection.winner is None
        text = json.dumps(selection.to_dict(), allow_nan=False)
        again = Selection.from_dict(json.loads(text))
        assert [v.reason for v in again.candidates] == [v.reason for v in selection.candidates]
        assert math.isnan(again.candidates[0].candidate.metrics["nan"])
        promotion = Promotion("prod", None, None, False, selection=selection)
        json.dumps(CheckReport(fixes=(promotion,)).to_dict(), allow_nan=False)


# (keyword arguments, error)
INVALID_POLICIES = [
    pytest.param({"maximize": "no"}, TypeError, id="maximize-text"),
    pytest.param({"metric": 3}, TypeError, id="metric-number"),
    pytest.param({"required_tags": {"a": 1}}, InputError, id="tag-value-number"),
    pytest.param({"allowance": 2.0}, TypeError, id="allowance-number"),
    pytest.param({"allowance": "banana"}, InputError, id="allowance-invalid"),
    pytest.param({"prereleases": "yes"}, TypeError, id="prereleases-text"),
]


class TestSelectionPolicy:
    def test_allowance_text_is_converted(self) -> None:
        # Text is taken at run time, as the docstring shows, though the fields are typed as allowances.
        policy = SelectionPolicy(
            allowance="<=1.0",
            model_allowances={"other": "==5.0"},
        )
        assert policy.allowance == VersionAllowance("<=1.0")
        assert isinstance(policy.allowance, VersionAllowance)
        assert policy.model_allowances == {"other": VersionAllowance("==5.0")}
        assert isinstance(policy.model_allowances["other"], VersionAllowance)

    @pytest.mark.parametrize(("kwargs", "error"), INVALID_POLICIES)
    def test_invalid_fields(self, kwargs: dict[str, Any], error: type[Exception]) -> None:
        with pytest.raises(error):
            SelectionPolicy(**kwargs)


class TestSelection:
    def test_per_model_allowance_is_the_winners(self) -> None:
        """With a model-specific ``==5.0`` beside a default ``<=2.0``, the record names the winner's."""
        candidates = [
            Candidate("AImodel", 1, "1.0", metrics={"F1": 0.90}),
            Candidate("AImodel", 2, "2.0", metrics={"F1": 0.80}),
            Candidate("other", 1, "5.0", metrics={"F1": 0.95}),
            Candidate("other", 2, "6.0", metrics={"F1": 0.99}),
        ]
        policy = SelectionPolicy(
            VersionAllowance("<=2.0"),
            metric="F1",
            model_allowances={"AImodel": VersionAllowance("<=2.0"), "other": VersionAllowance("==5.0")},
        )
        selection = rank_candidates(candidates, policy, environment="prod")
        data = selection.to_dict()
        assert selection.winner is not None
        assert selection.winner.candidate.key == "other/1"
        assert data["allowance"] == "==5.0"
        assert data["allowances"] == {"AImodel": "<=2.0", "other": "==5.0"}
        assert "==5.0" in selection.winner.reason
        assert "<=2.0" not in selection.winner.reason
        assert {v.candidate.key: v.reason for v in selection.candidates}["other/2"] == "6.0 is outside ==5.0"

    def test_environment_is_kept(self) -> None:
        assert _selection("prod").to_dict()["environment"] == "prod"
        assert Selection.from_dict(_selection("prod").to_dict()).environment == "prod"


class TestPromotion:
    def test_round_trip_keeps_a_selection_ranked_without_environment(self) -> None:
        """A Promotion's own environment must not overwrite its selection's when they differ."""
        promotion = Promotion("prod", "AImodel/1", "AImodel/2", True, selection=_selection(None))
        assert Promotion.from_dict(json.loads(json.dumps(promotion.to_dict()))) == promotion


class TestFluentFunctions:
    def test_rollback_signature(self) -> None:
        parameters = list(inspect.signature(mlflow_allowance.rollback).parameters)
        assert "self" not in parameters
        assert parameters[0] == "environment"

    @pytest.mark.parametrize("name", FLUENT)
    def test_signature_is_the_methods_without_self(self, name: str) -> None:
        method = inspect.signature(getattr(AllowanceClient, name))
        function = inspect.signature(getattr(mlflow_allowance, name))
        assert next(iter(method.parameters)) == "self"
        assert list(function.parameters.values()) == list(method.parameters.values())[1:]
        assert function.return_annotation == method.return_annotation

    @pytest.mark.parametrize("name", FLUENT)
    def test_help_names_every_parameter(self, name: str) -> None:
        function = getattr(mlflow_allowance, name)
        text = pydoc.plain(pydoc.render_doc(function))
        assert f"\n{name}{inspect.signature(function)}\n" in text
        missing = [p for p in inspect.signature(function).parameters if p not in text]
        assert missing == []

    def test_every_fluent_function_is_exported(self) -> None:
        assert set(FLUENT) <= set(mlflow_allowance.__all__)
        assert all(getattr(mlflow_allowance, name).__module__ == "mlflow_allowance" for name in FLUENT)
