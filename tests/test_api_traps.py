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
import re
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from packaging.version import Version

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
from mlflow_allowance.datasets import DatasetRef
from mlflow_allowance.errors import (
    AllowanceTypeError,
    InputTypeError,
    InvalidAllowanceError,
    InvalidVersionError,
    VersionTypeError,
)
from mlflow_allowance.outcomes import EffectiveAllowance, Violation
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


# (allowance text, other text, equal)
EQUAL_TO_TEXT = [
    pytest.param("<=2", "<=2", True, id="same-text"),
    pytest.param("<=2.0", "<=2", True, id="packaging-equal-clause"),
    pytest.param(">=1.0,<=2.0", "1.0 <= v <= 2.0", True, id="range-form"),
    pytest.param("*", "*", True, id="any"),
    pytest.param("<=2.0", "<2.0", False, id="other-allowance"),
    pytest.param("<=2.0", "banana", False, id="not-an-allowance"),
    pytest.param("<=2.0", "", False, id="empty-text"),
]

# (allowance text, number of clauses)
LENGTHS = [
    pytest.param("*", 0, id="any"),
    pytest.param("<=2.0", 1, id="one"),
    pytest.param(">=1.0,<=2.0", 2, id="two"),
    pytest.param("1.0<=v<=2.0", 2, id="range-form-is-two"),
    pytest.param("<=2,<=2.0", 1, id="a-repeated-clause-counts-once"),
]

NOT_VERSION_TYPES = [
    pytest.param(2.0, id="float"),
    pytest.param(2, id="int"),
    pytest.param(None, id="none"),
    pytest.param(b"2.0", id="bytes"),
    pytest.param(["2.0"], id="list"),
]

# (text, where the message says the empty clause is)
EMPTY_CLAUSES = [
    pytest.param(">=1.0,", "an empty clause after the last comma (a trailing comma)", id="trailing-comma"),
    pytest.param(",>=1.0", "an empty clause before the first comma (a leading comma)", id="leading-comma"),
    pytest.param(">=1.0,,<2.0", "an empty clause between two commas", id="two-commas"),
    pytest.param(">=1.0, ,<2.0", "an empty clause between two commas", id="blank-between-commas"),
]

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

    @pytest.mark.parametrize(("text", "other", "equal"), EQUAL_TO_TEXT)
    def test_equal_to_the_text_of_an_equal_allowance(self, text: str, other: str, equal: bool) -> None:
        """As packaging's ``SpecifierSet("<=2") == "<=2"``: the text is parsed, from either side."""
        allowance = VersionAllowance(text)
        assert (allowance == other) is equal
        assert (other == allowance) is equal
        assert (allowance != other) is not equal

    def test_hash_follows_the_clauses(self) -> None:
        """Equal allowances hash alike however written; the text is not a key for them (as packaging's)."""
        assert hash(VersionAllowance("<=2")) == hash(VersionAllowance("<=2.0.0"))
        assert VersionAllowance("<=2") in {VersionAllowance("<=2.0")}

    @pytest.mark.parametrize(("text", "length"), LENGTHS)
    def test_len_counts_the_clauses(self, text: str, length: int) -> None:
        allowance = VersionAllowance(text)
        assert len(allowance) == length == len(list(allowance))
        assert allowance  # '*' has no clause, yet it is an allowance: truthiness does not follow len()

    @pytest.mark.parametrize("version", NOT_VERSION_TYPES)
    def test_allows_anything_else_is_a_type_error(self, version: Any) -> None:
        with pytest.raises(VersionTypeError) as raised:
            VersionAllowance("<=2.0").allows(version)
        error = raised.value
        assert isinstance(error, TypeError)
        assert isinstance(error, InvalidVersionError)
        assert str(error).startswith(
            "allows() needs a version string, a SemanticVersion or a packaging Version, "
            f"not {type(version).__name__}"
        )
        assert "iterable" not in str(error)

    def test_no_instance_dict_to_desynchronise_text_and_equality(self) -> None:
        """The text, equality and hash all come from the clauses; nothing else can be stored."""
        allowance = VersionAllowance("<=2.0")
        with pytest.raises(AttributeError):
            allowance.__dict__["canonical"] = "hacked"
        with pytest.raises(AttributeError):
            object.__setattr__(allowance, "canonical", "hacked")
        assert (str(allowance), allowance) == ("<=2.0", VersionAllowance("<=2.0"))

    @pytest.mark.parametrize(("text", "where"), EMPTY_CLAUSES)
    def test_an_empty_clause_is_named(self, text: str, where: str) -> None:
        with pytest.raises(InvalidAllowanceError) as raised:
            VersionAllowance(text)
        message = str(raised.value)
        assert message.startswith(f"Invalid allowance {text!r}: {where}; ")
        assert "(in '')" not in message


# (left, right, -1/0/1 as left is below, equal to or above right)
MIXED_ORDER = [
    pytest.param("1.0", "2.0", -1, id="lower"),
    pytest.param("v2.0.0", "2.0", 0, id="equal-spelt-otherwise"),
    pytest.param("2.0.0-rc.1", "2.0rc1", 0, id="semver-prerelease"),
    pytest.param("2.0", "2.0rc1", 1, id="final-above-its-rc"),
]

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

    @pytest.mark.parametrize(("left", "right", "order"), MIXED_ORDER)
    def test_compares_with_a_packaging_version(self, left: str, right: str, order: int) -> None:
        """One key, the version's value: a SemanticVersion and a packaging Version compare either way."""
        for mine, theirs in (
            (SemanticVersion(left), Version(right)),
            (Version(left), SemanticVersion(right)),
        ):
            assert (mine < theirs, mine == theirs, mine > theirs) == (order < 0, order == 0, order > 0)
            assert (mine <= theirs, mine >= theirs, mine != theirs) == (order <= 0, order >= 0, order != 0)
        if order == 0:
            assert hash(SemanticVersion(left)) == hash(Version(right))

    def test_sorting_a_mix_of_semantic_and_packaging_versions(self) -> None:
        mixed: list[Version | SemanticVersion] = [
            Version("2.0"),
            SemanticVersion("v1.0.0"),
            Version("1.0rc1"),
            SemanticVersion("1.5"),
        ]
        assert [str(v) for v in sorted(mixed)] == ["1.0rc1", "v1.0.0", "1.5", "2.0"]
        assert str(max(mixed)) == "2.0"

    @pytest.mark.parametrize("value", [pytest.param("2.0", id="text"), pytest.param(2.0, id="float")])
    def test_other_types_are_not_ordered(self, value: Any) -> None:
        assert SemanticVersion("2.0") != value
        with pytest.raises(TypeError):
            _ = SemanticVersion("2.0") < value

    @pytest.mark.parametrize("value", NOT_VERSION_TYPES)
    def test_parse_of_anything_else(self, value: Any) -> None:
        with pytest.raises(VersionTypeError, match=rf"^Invalid version {re.escape(repr(value))}: expected"):
            SemanticVersion.parse(value)


# (parse, value of the wrong type, the family the error belongs to)
WRONG_TYPES = [
    pytest.param(SemanticVersion.parse, None, InvalidVersionError, id="SemanticVersion.parse-None"),
    pytest.param(SemanticVersion.parse, 3, InvalidVersionError, id="SemanticVersion.parse-int"),
    pytest.param(SemanticVersion, None, InvalidVersionError, id="SemanticVersion-None"),
    pytest.param(VersionAllowance.parse, 2.0, InvalidAllowanceError, id="VersionAllowance.parse-float"),
    pytest.param(VersionAllowance, 2.0, InvalidAllowanceError, id="VersionAllowance-float"),
    pytest.param(DatasetRef.parse, 3, InputError, id="DatasetRef.parse-int"),
    pytest.param(DatasetRef.parse, None, InputError, id="DatasetRef.parse-None"),
    pytest.param(DatasetRef, 3, InputError, id="DatasetRef-int"),
]


WRONG_TYPE_CLASSES = [
    pytest.param(InputTypeError, id="InputTypeError"),
    pytest.param(VersionTypeError, id="VersionTypeError"),
    pytest.param(AllowanceTypeError, id="AllowanceTypeError"),
]


class TestWrongTypes:
    """One rule for a wrong type at the door, whatever the type: a ``TypeError`` that is also an
    ``InputError`` of the value's family (``InputTypeError``), so one ``except`` catches user input."""

    @pytest.mark.parametrize(("parse", "value", "family"), WRONG_TYPES)
    def test_a_type_error_in_the_tree(self, parse: Any, value: Any, family: type[Exception]) -> None:
        with pytest.raises(InputTypeError) as raised:
            parse(value)
        assert isinstance(raised.value, TypeError)
        assert isinstance(raised.value, family)
        assert type(value).__name__ in str(raised.value)

    @pytest.mark.parametrize("kind", WRONG_TYPE_CLASSES)
    def test_every_wrong_type_error_is_both(self, kind: type[Exception]) -> None:
        assert issubclass(kind, TypeError)
        assert issubclass(kind, InputError)
        assert issubclass(kind, AllowanceError)


# (text, name, digest)
DATASET_TEXTS = [
    pytest.param(" wine @ abc ", "wine", "abc", id="blanks-around-the-at-sign"),
    pytest.param("wine@abc", "wine", "abc", id="no-blanks"),
    pytest.param("  wine  ", "wine", None, id="unpinned"),
]


class TestDatasetRef:
    @pytest.mark.parametrize(("text", "name", "digest"), DATASET_TEXTS)
    def test_parse_strips_name_and_digest(self, text: str, name: str, digest: str | None) -> None:
        assert DatasetRef.parse(text) == DatasetRef(name, digest)

    def test_sorting_pinned_and_unpinned(self) -> None:
        """Declared ordered, so sorting must work when one digest is ``None``: unpinned sorts first."""
        refs = [DatasetRef("a", "x"), DatasetRef("a"), DatasetRef("0", "y")]
        assert sorted(refs) == [DatasetRef("0", "y"), DatasetRef("a"), DatasetRef("a", "x")]


NAN_CANDIDATE = Candidate("AImodel", 1, "1.0", metrics={"F1": math.nan, "loss": math.inf})

# (candidate, repr)
CANDIDATE_REPRS = [
    pytest.param(Candidate("AImodel", 1), "Candidate('AImodel', 1)", id="bare"),
    pytest.param(
        Candidate("AImodel", 2, "1.0", metrics={"F1": 0.9}, tags={"k": "v"}),
        "Candidate('AImodel', 2, '1.0', metrics={'F1': 0.9}, tags={'k': 'v'})",
        id="metrics-and-tags",
    ),
    pytest.param(
        NAN_CANDIDATE,
        "Candidate('AImodel', 1, '1.0', metrics={'F1': float('nan'), 'loss': float('inf')})",
        id="non-finite",
    ),
    pytest.param(
        Candidate("m", 3, None, status="FAILED_REGISTRATION", aliases=("prod",), run_id="r", failure="boom"),
        "Candidate('m', 3, status='FAILED_REGISTRATION', aliases=('prod',), run_id='r', failure='boom')",
        id="other-fields",
    ),
]

# (metrics, error, message)
BAD_METRICS = [
    pytest.param(
        {"F1": "high"}, InputError, "Invalid metric 'F1' of AImodel/1: 'high' is not a number", id="word"
    ),
    pytest.param({"F1": ""}, InputError, "Invalid metric 'F1' of AImodel/1: '' is not a number", id="empty"),
    pytest.param(
        {"F1": None},
        InputTypeError,
        "Invalid metric 'F1' of AImodel/1: None is not a number (NoneType)",
        id="none",
    ),
    pytest.param(
        {"F1": [0.9]},
        InputTypeError,
        "Invalid metric 'F1' of AImodel/1: [0.9] is not a number (list)",
        id="list",
    ),
]


class TestCandidate:
    @pytest.mark.parametrize(("candidate", "text"), CANDIDATE_REPRS)
    def test_repr_is_the_call_that_builds_it(self, candidate: Candidate, text: str) -> None:
        assert repr(candidate) == text
        assert "FrozenDict" not in repr(candidate)
        assert eval(repr(candidate), {"Candidate": Candidate}) == candidate

    @pytest.mark.parametrize(("metrics", "error", "message"), BAD_METRICS)
    def test_a_metric_that_is_not_a_number(self, metrics: Any, error: type[Exception], message: str) -> None:
        with pytest.raises(error) as raised:
            Candidate("AImodel", 1, metrics=metrics)
        assert isinstance(raised.value, InputError)
        assert str(raised.value) == message

    @pytest.mark.parametrize(
        "copied",
        [
            pytest.param(lambda c: pickle.loads(pickle.dumps(c)), id="pickle"),
            pytest.param(copy.copy, id="copy"),
            pytest.param(copy.deepcopy, id="deepcopy"),
            pytest.param(lambda c: Candidate.from_dict(json.loads(json.dumps(c.to_dict()))), id="json"),
            pytest.param(
                lambda c: dataclasses.replace(c, metrics={"F1": math.nan, "loss": math.inf}), id="rebuilt"
            ),
        ],
    )
    def test_a_nan_metric_equals_itself_in_every_copy(self, copied: Any) -> None:
        again = copied(NAN_CANDIDATE)
        assert again == NAN_CANDIDATE
        assert hash(again) == hash(NAN_CANDIDATE)
        assert again != dataclasses.replace(NAN_CANDIDATE, metrics={"F1": 0.5, "loss": math.inf})


# (details, what the message names)
NOT_JSON_DETAILS = [
    pytest.param({"s": {1, 2}}, "details['s'] is a set", id="set"),
    pytest.param({"b": b"x"}, "details['b'] is a bytes", id="bytes"),
    pytest.param(
        {"deep": [{"v": VersionAllowance("<=1.0")}]},
        "details['deep'][0]['v'] is a VersionAllowance",
        id="object",
    ),
    pytest.param({"m": {1: "x"}}, "details['m'] has the key 1 (int)", id="int-key"),
]


class TestAuditRecord:
    @pytest.mark.parametrize(("details", "named"), NOT_JSON_DETAILS)
    def test_details_that_json_cannot_hold_are_refused_at_construction(
        self, details: Any, named: str
    ) -> None:
        with pytest.raises(InputTypeError) as raised:
            AuditRecord("allowance", "prod", None, None, "<=1.0", "ana", 0, details=details)
        assert isinstance(raised.value, TypeError)
        assert named in str(raised.value)

    def test_non_finite_numbers_are_stored_as_their_names(self) -> None:
        record = AuditRecord(
            "allowance",
            "prod",
            None,
            None,
            "<=1.0",
            "ana",
            0,
            details={"x": [math.nan, math.inf, -math.inf, 1.5]},
        )
        assert record.details == {"x": ("NaN", "Infinity", "-Infinity", 1.5)}
        text = json.dumps(record.to_dict(), allow_nan=False)
        assert json.loads(text)["details"] == {"x": ["NaN", "Infinity", "-Infinity", 1.5]}
        assert AuditRecord.from_dict(json.loads(text)) == record
        assert AuditRecord.from_tags(record.to_tags()) == record


class TestViolation:
    def test_an_unknown_kind_lists_the_kinds(self) -> None:
        with pytest.raises(InputError) as raised:
            Violation("prod", "A", 1, "1.0", VersionAllowance("<=1.0"), "p", kind="bogus")  # type: ignore[arg-type]
        assert str(raised.value) == (
            "Invalid violation kind 'bogus': expected one of 'outside-allowance', 'pending', 'alias-drift', "
            "'two-holders', 'stage-behind', 'allowance-drift'"
        )


class TestEffectiveAllowance:
    def test_an_unknown_source_is_an_input_error_not_an_invalid_allowance(self) -> None:
        data = {"environment": "prod", "model": None, "allowance": "<=1.0", "source": "bogus"}
        with pytest.raises(InputError) as raised:
            EffectiveAllowance.from_dict(data)
        assert not isinstance(raised.value, InvalidAllowanceError)
        assert (
            str(raised.value)
            == "Invalid allowance source 'bogus': expected one of 'model', 'default', 'unset'"
        )


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
        """``dataclasses.asdict`` reads the same data from a record and from its copies, and building the
        record again from its own fields (through its checks and normalisation) gives an equal record."""
        data = dataclasses.asdict(value)
        assert dataclasses.asdict(pickle.loads(pickle.dumps(value))) == data
        assert dataclasses.asdict(copy.deepcopy(value)) == data
        own = {field.name: getattr(value, field.name) for field in dataclasses.fields(value) if field.init}
        rebuilt = dataclasses.replace(value, **own)
        assert rebuilt == value
        assert dataclasses.asdict(rebuilt) == data

    def test_asdict_of_a_candidate_is_its_plain_fields(self) -> None:
        candidate = Candidate("AImodel", 1, "1.0", metrics={"F1": 0.9}, tags={"k": "v"}, aliases=("prod",))
        assert dataclasses.asdict(candidate) == {
            "name": "AImodel",
            "version": 1,
            "semver": "1.0",
            "metrics": {"F1": 0.9},
            "tags": {"k": "v"},
            "status": "READY",
            "created_at": 0,
            "aliases": ("prod",),
            "run_id": None,
            "stage": None,
            "failure": None,
        }

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
        report = json.loads(json.dumps(CheckReport(fixes=(promotion,)).to_dict(), allow_nan=False))
        (fix,) = report["fixes"]
        assert [verdict["candidate"]["metrics"] for verdict in fix["candidates"]] == [
            {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity", "F1": 0.5},
            {"F1": 0.9},
        ]
        (fixed,) = CheckReport.from_dict(report).fixes
        assert fixed.selection is not None
        assert [v.candidate for v in fixed.selection.candidates] == candidates


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
