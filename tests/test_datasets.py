"""Examples for fixed external datasets, pure (no MLflow): references, records, metric names, and selection
judged on the scores recorded on one dataset digest."""

from __future__ import annotations

import json
import math
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlflow_allowance import DatasetRef, InputError, Selection, SelectionRequest, VersionAllowance
from mlflow_allowance.datasets import (
    EVALUATOR_METRICS,
    MAX_DATASET_NAME,
    METRIC_ALIASES,
    DatasetInfo,
    Score,
    evaluator_metric,
)
from mlflow_allowance.errors import InputTypeError
from mlflow_allowance.selection import Candidate, SelectionPolicy, rank_candidates

ROOT = Path(__file__).resolve().parent.parent
WINE = DatasetRef("wine-holdout", "0a64f9dd")


class MlflowDataset:
    """What ``mlflow.data.from_pandas`` returns, as far as a reference goes: a name and a digest."""

    def __init__(self, name: object, digest: object) -> None:
        self.name, self.digest = name, digest


def candidate(version: int, semver: str | None = "1.0", **kwargs: Any) -> Candidate:
    return Candidate(kwargs.pop("name", "AImodel"), version, semver, **kwargs)


def on_wine(allowance: str = "*", metric: str = "F1", **kwargs: Any) -> SelectionPolicy:
    return SelectionPolicy(VersionAllowance.parse(allowance), metric=metric, dataset=WINE, **kwargs)


def reasons(selection: Selection) -> dict[str, str]:
    return {verdict.candidate.key: verdict.reason for verdict in selection.candidates}


def test_this_module_never_imports_mlflow() -> None:
    """The pure dataset types and these examples need no MLflow (``evaluate`` alone does)."""
    code = """
import sys
import tests.test_datasets
from mlflow_allowance import DatasetRef
from mlflow_allowance.selection import SelectionPolicy
SelectionPolicy(metric="F1", dataset=DatasetRef.parse("wine@0a64f9dd")).describe()
print(",".join(sorted(m for m in sys.modules if m.partition(".")[0] in {"mlflow", "pandas", "sklearn"})))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


class TestDatasetRef:
    @pytest.mark.parametrize(
        ("text", "name", "digest"),
        [
            pytest.param("wine-holdout", "wine-holdout", None, id="name"),
            pytest.param("wine-holdout@0a64f9dd", "wine-holdout", "0a64f9dd", id="pinned"),
            pytest.param("  wine-holdout@0a64f9dd\n", "wine-holdout", "0a64f9dd", id="outer-blanks"),
            pytest.param("wine holdout.v2_final@ABC123", "wine holdout.v2_final", "ABC123", id="space-dot"),
            pytest.param("x" * MAX_DATASET_NAME, "x" * MAX_DATASET_NAME, None, id="longest-name"),
            pytest.param("w@" + "f" * 64, "w", "f" * 64, id="longest-digest"),
            pytest.param("vin-été@1", "vin-été", "1", id="unicode-letters"),
            pytest.param(" wine @ abc ", "wine", "abc", id="blanks-around-the-at-sign"),
            pytest.param("wine\t@\tabc", "wine", "abc", id="tabs-around-the-at-sign"),
            pytest.param("holdout v2 @0a64f9dd", "holdout v2", "0a64f9dd", id="blank-after-a-spaced-name"),
        ],
    )
    def test_parse(self, text: str, name: str, digest: str | None) -> None:
        ref = DatasetRef.parse(text)
        assert (ref.name, ref.digest, ref.pinned) == (name, digest, digest is not None)
        assert ref == DatasetRef(name, digest)
        assert str(ref) == (name if digest is None else f"{name}@{digest}")

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            pytest.param("", "Invalid dataset name ''", id="empty"),
            pytest.param("   ", "Invalid dataset name ''", id="blank"),
            pytest.param("@0a64f9dd", "Invalid dataset name ''", id="digest-only"),
            pytest.param("wine@", "Invalid dataset digest ''", id="empty-digest"),
            pytest.param("wine@hold@0a64f9dd", "Invalid dataset name 'wine@hold'", id="two-at-signs"),
            pytest.param("wine@0a64-f9dd", "Invalid dataset digest '0a64-f9dd'", id="digest-dash"),
            pytest.param("wine@0a64 f9dd", "Invalid dataset digest '0a64 f9dd'", id="digest-space"),
            pytest.param("wine@" + "f" * 65, "Invalid dataset digest 'fffff", id="digest-too-long"),
            pytest.param("wine  holdout", "Invalid dataset name 'wine  holdout'", id="double-space"),
            pytest.param("wine/holdout", "Invalid dataset name 'wine/holdout'", id="slash"),
            pytest.param("wine:holdout", "Invalid dataset name 'wine:holdout'", id="colon"),
            pytest.param("wine\tholdout", "Invalid dataset name", id="tab"),
            pytest.param("x" * (MAX_DATASET_NAME + 1), "at most 200 characters", id="name-too-long"),
        ],
    )
    def test_parse_rejects(self, text: str, problem: str) -> None:
        with pytest.raises(InputError) as raised:
            DatasetRef.parse(text)
        assert problem in str(raised.value)

    @pytest.mark.parametrize(
        ("name", "digest"),
        [
            pytest.param(" wine", None, id="leading-space"),
            pytest.param("wine ", None, id="trailing-space"),
            pytest.param("wine@holdout", None, id="at-in-name"),
            pytest.param(7, None, id="name-not-text"),
            pytest.param(None, None, id="name-none"),
            pytest.param("wine", "", id="empty-digest"),
            pytest.param("wine", 0x0A64F9DD, id="digest-not-text"),
            pytest.param("wine", "0a64f9dd!", id="digest-punctuation"),
        ],
    )
    def test_constructor_checks_both_fields(self, name: Any, digest: Any) -> None:
        with pytest.raises(InputError, match=r"Invalid dataset (name|digest)"):
            DatasetRef(name, digest)

    @pytest.mark.parametrize(
        ("name", "digest"),
        [
            pytest.param("wine\n", None, id="name-newline"),
            pytest.param("wine", "0a64f9dd\n", id="digest-newline"),
        ],
    )
    def test_a_trailing_newline_is_rejected(self, name: str, digest: str | None) -> None:
        """A newline is none of the characters a dataset name or digest may have, even at the end (else
        ``evaluate(dataset="wine\\n")`` records a name that ``select(dataset="wine\\n")``, which strips what
        it parses, can never find)."""
        with pytest.raises(InputError, match=r"Invalid dataset (name|digest)"):
            DatasetRef(name, digest)

    @pytest.mark.parametrize(
        "value",
        [
            pytest.param(None, id="none"),
            pytest.param(7, id="int"),
            pytest.param(b"wine", id="bytes"),
            pytest.param(["wine"], id="list"),
        ],
    )
    def test_parse_needs_text(self, value: Any) -> None:
        """A wrong type is one error, as for ``SemanticVersion.parse``: an InputError and a TypeError."""
        with pytest.raises(InputTypeError) as raised:
            DatasetRef.parse(value)
        assert isinstance(raised.value, InputError)
        assert isinstance(raised.value, TypeError)
        assert str(raised.value) == (
            f"Invalid dataset reference {value!r}: expected text NAME or NAME@DIGEST, "
            f"not {type(value).__name__}"
        )

    @pytest.mark.parametrize(
        ("refs", "ordered"),
        [
            pytest.param([DatasetRef("a", "x"), DatasetRef("a")], ["a", "a@x"], id="unpinned-sorts-first"),
            pytest.param(
                [DatasetRef("b"), DatasetRef("a", "y"), DatasetRef("a", "x")],
                ["a@x", "a@y", "b"],
                id="name-then-digest",
            ),
        ],
    )
    def test_sorting_mixes_pinned_and_unpinned(self, refs: list[DatasetRef], ordered: list[str]) -> None:
        assert [str(ref) for ref in sorted(refs)] == ordered
        assert DatasetRef("a") < DatasetRef("a", "x") <= DatasetRef("a", "x") < DatasetRef("b")
        assert max(refs) == sorted(refs)[-1]

    def test_ordering_against_another_type_is_a_type_error(self) -> None:
        with pytest.raises(TypeError):
            _ = DatasetRef("a") < "a"

    def test_of_takes_a_reference_text_or_an_mlflow_dataset(self) -> None:
        assert DatasetRef.of(WINE) is WINE
        assert DatasetRef.of("wine-holdout@0a64f9dd") == WINE
        assert DatasetRef.of("wine-holdout") == DatasetRef("wine-holdout")
        assert DatasetRef.of(MlflowDataset("wine-holdout", "0a64f9dd")) == WINE

    @pytest.mark.parametrize(
        "value",
        [
            pytest.param(None, id="none"),
            pytest.param({"name": "wine", "digest": "0a64f9dd"}, id="dict"),
            pytest.param(MlflowDataset("wine", None), id="no-digest"),
            pytest.param(MlflowDataset(None, "0a64f9dd"), id="no-name"),
            pytest.param(3.5, id="number"),
        ],
    )
    def test_of_rejects_anything_else(self, value: Any) -> None:
        with pytest.raises(TypeError, match="dataset must be a name, 'name@digest', a DatasetRef or an"):
            DatasetRef.of(value)

    def test_of_checks_an_mlflow_datasets_fields(self) -> None:
        with pytest.raises(InputError, match="Invalid dataset digest"):
            DatasetRef.of(MlflowDataset("wine", "not a digest"))

    @pytest.mark.parametrize("ref", [WINE, DatasetRef("wine-holdout")], ids=["pinned", "unpinned"])
    def test_dict_round_trip(self, ref: DatasetRef) -> None:
        data = json.loads(json.dumps(ref.to_dict()))
        assert data == {"name": ref.name, "digest": ref.digest}
        assert DatasetRef.from_dict(data) == ref
        assert DatasetRef.from_dict(str(ref)) == ref
        assert DatasetRef.from_dict(None) is None

    def test_a_value(self) -> None:
        assert hash(DatasetRef.parse("wine-holdout@0a64f9dd")) == hash(WINE)
        assert DatasetRef("wine-holdout") != WINE
        assert DatasetRef("wine-holdout", "0A64F9DD") != WINE  # digests are compared as written
        with pytest.raises(AttributeError):
            WINE.digest = None  # type: ignore[misc]


class TestDatasetInfo:
    INFO = DatasetInfo(WINE, "/data/wine.csv", "target", 45, "classifier", 1_700_000_000_000)

    def test_json_round_trip(self) -> None:
        text = self.INFO.to_json()
        assert " " not in text.replace("/data/wine.csv", "")  # compact: it is one tag value
        assert json.loads(text) == {
            "name": "wine-holdout",
            "digest": "0a64f9dd",
            "source": "/data/wine.csv",
            "target": "target",
            "rows": 45,
            "model_type": "classifier",
            "saved_at": 1_700_000_000_000,
        }
        assert DatasetInfo.from_json(text) == self.INFO
        assert DatasetInfo.from_dict(self.INFO.to_dict()) == self.INFO

    def test_missing_optional_fields_take_defaults(self) -> None:
        info = DatasetInfo.from_dict({"name": "wine-holdout", "digest": "0a64f9dd"})
        assert info == DatasetInfo(WINE, "", "", 0, "", 0)

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("not json", id="not-json"),
            pytest.param("null", id="null"),
            pytest.param("[]", id="list"),
            pytest.param("{}", id="empty"),
            pytest.param('{"name": "wine-holdout"}', id="no-digest-key"),
            pytest.param('{"name": "wine@x", "digest": "0a64f9dd"}', id="bad-name"),
            pytest.param('{"name": "wine", "digest": "0a64f9dd", "rows": "many"}', id="rows-not-a-number"),
        ],
    )
    def test_a_damaged_record_is_an_input_error(self, text: str) -> None:
        with pytest.raises(InputError, match=r"Invalid dataset (record|name)"):
            DatasetInfo.from_json(text)


class TestScore:
    def test_dict_round_trip(self) -> None:
        score = Score("AImodel", 3, WINE, {"f1_score": 0.9, "example_count": 45}, None, "ab12")
        data = json.loads(json.dumps(score.to_dict(), allow_nan=False))
        assert data["dataset"] == {"name": "wine-holdout", "digest": "0a64f9dd"}
        assert Score.from_dict(data) == score
        assert not score.failed
        assert score.metrics["example_count"] == 45.0
        assert isinstance(score.metrics["example_count"], float)

    def test_a_failure_round_trips_with_its_error(self) -> None:
        score = Score("AImodel", 3, WINE, error="cannot load models:/AImodel/3: gone")
        assert score.failed
        again = Score.from_dict(json.loads(json.dumps(score.to_dict())))
        assert (again, again.failed, dict(again.metrics)) == (score, True, {})

    @pytest.mark.parametrize(
        ("value", "written"),
        [
            pytest.param(math.nan, "NaN", id="nan"),
            pytest.param(math.inf, "Infinity", id="inf"),
            pytest.param(-math.inf, "-Infinity", id="minus-inf"),
        ],
    )
    def test_a_non_finite_metric_crosses_strict_json_as_its_name(self, value: float, written: str) -> None:
        """One spelling of non-finite numbers, as Candidate writes them; the score comes back equal."""
        score = Score("AImodel", 3, WINE, {"log_loss": value, "f1_score": 0.5})
        data = json.loads(json.dumps(score.to_dict(), allow_nan=False))
        assert data["metrics"] == {"log_loss": written, "f1_score": 0.5}
        again = Score.from_dict(data)
        assert again == score
        assert hash(again) == hash(score)

    def test_null_as_0_2_wrote_a_non_finite_metric_reads_as_nan(self) -> None:
        data = {**Score("AImodel", 3, WINE).to_dict(), "metrics": {"log_loss": None, "f1_score": 0.5}}
        again = Score.from_dict(data)
        assert math.isnan(again.metrics["log_loss"])
        assert again.metrics["f1_score"] == 0.5

    def test_a_nan_score_equals_its_pickle(self) -> None:
        score = Score("AImodel", 3, WINE, {"log_loss": math.nan})
        again = pickle.loads(pickle.dumps(score))
        assert again == score
        assert hash(again) == hash(score)

    def test_metrics_are_frozen(self) -> None:
        score = Score("AImodel", 3, WINE, {"f1_score": 0.9})
        with pytest.raises(TypeError):
            score.metrics["f1_score"] = 1.0  # type: ignore[index]
        assert hash(score) == hash(Score("AImodel", 3, WINE, {"f1_score": 0.9}))


class TestEvaluatorMetric:
    @pytest.mark.parametrize(
        ("typed", "logged"),
        [
            ("F1", "f1_score"),
            ("f1", "f1_score"),
            ("f1_score", "f1_score"),
            ("Accuracy", "accuracy_score"),
            ("AUC", "roc_auc"),
            ("logloss", "log_loss"),
            ("RMSE", "root_mean_squared_error"),
            ("mae", "mean_absolute_error"),
            ("R2", "r2_score"),
            ("mape", "mean_absolute_percentage_error"),
            ("my_metric", "my_metric"),
            ("My_Metric", "My_Metric"),  # an unknown name is left exactly as typed
        ],
    )
    def test_maps_what_people_type_to_mlflows_key(self, typed: str, logged: str) -> None:
        assert evaluator_metric(typed) == logged

    def test_every_alias_names_a_metric_an_evaluator_logs(self) -> None:
        logged = EVALUATOR_METRICS["classifier"] | EVALUATOR_METRICS["regressor"]
        assert set(METRIC_ALIASES.values()) <= logged
        assert all(alias == alias.lower() for alias in METRIC_ALIASES)


class TestPolicyAndRequestOnADataset:
    @pytest.mark.parametrize(
        "build",
        [
            pytest.param(lambda: SelectionPolicy("*", dataset="wine-holdout"), id="policy"),
            pytest.param(lambda: SelectionRequest("AImodel", dataset="wine-holdout"), id="request"),
        ],
    )
    def test_a_dataset_needs_a_metric(self, build: Any) -> None:
        with pytest.raises(InputError, match=r"a dataset needs a metric to judge by: name one, e\.g\. "):
            build()

    @pytest.mark.parametrize(
        "given",
        [
            pytest.param("wine-holdout@0a64f9dd", id="text"),
            pytest.param(WINE, id="ref"),
            pytest.param(MlflowDataset("wine-holdout", "0a64f9dd"), id="mlflow-dataset"),
        ],
    )
    def test_any_form_of_the_dataset_is_one_reference(self, given: object) -> None:
        assert SelectionPolicy(metric="F1", dataset=given).dataset == WINE  # type: ignore[arg-type]
        assert SelectionRequest("AImodel", metric="F1", dataset=given).dataset == WINE

    @pytest.mark.parametrize("dataset", [WINE, DatasetRef("wine-holdout")], ids=["pinned", "unpinned"])
    def test_policy_round_trips_with_its_dataset(self, dataset: DatasetRef) -> None:
        policy = SelectionPolicy("<=1.0", metric="F1", maximize=False, dataset=dataset)
        data = json.loads(json.dumps(policy.to_dict()))
        assert data["dataset"] == {"name": "wine-holdout", "digest": dataset.digest}
        assert SelectionPolicy.from_dict(data) == policy
        assert SelectionPolicy.from_dict({**data, "dataset": None}) != policy

    @pytest.mark.parametrize("dataset", [WINE, DatasetRef("wine-holdout")], ids=["pinned", "unpinned"])
    def test_request_round_trips_with_its_dataset(self, dataset: DatasetRef) -> None:
        request = SelectionRequest(["AImodel", "BImodel"], metric="F1", dataset=dataset)
        data = json.loads(json.dumps(request.to_dict()))
        assert data["dataset"] == str(dataset)  # as the audit record keeps it
        assert SelectionRequest.from_dict(data) == request

    def test_describe_names_the_dataset(self) -> None:
        assert on_wine("<=1.0").describe() == "highest F1 on wine-holdout@0a64f9dd within <=1.0"
        assert on_wine(metric="log_loss", maximize=False).describe() == (
            "lowest log_loss on wine-holdout@0a64f9dd within *"
        )
        request = SelectionRequest("AImodel", metric="F1", dataset="wine-holdout")
        assert request.describe() == "highest F1 on wine-holdout of AImodel"

    def test_the_request_judges_on_the_pinned_dataset_it_is_given(self) -> None:
        request = SelectionRequest("AImodel", metric="F1", dataset="wine-holdout")
        allowance = VersionAllowance.parse("<=1.0")
        assert request.policy(allowance, {}).dataset == DatasetRef("wine-holdout")
        assert request.policy(allowance, {}, WINE).dataset == WINE

    def test_metric_of_looks_under_mlflows_key_only_on_a_dataset(self) -> None:
        scored = candidate(1, metrics={"f1_score": 0.8})
        assert on_wine().metric_of(scored) == 0.8
        assert SelectionPolicy(metric="F1").metric_of(scored) is None
        both = candidate(2, metrics={"F1": 0.5, "f1_score": 0.8})
        assert on_wine().metric_of(both) == 0.5  # the name as typed comes first


class TestRankingOnADataset:
    def test_reasons(self) -> None:
        candidates = [
            candidate(1, "1.0", metrics={"f1_score": 0.91}),
            candidate(2, "1.1", metrics={"f1_score": 0.84}),
            candidate(3, "1.2"),
            candidate(4, "1.3", failure="cannot load models:/AImodel/4: no such file"),
            candidate(5, "2.0", metrics={"f1_score": 0.99}, failure="boom"),
        ]
        selection = rank_candidates(candidates, on_wine("<2.0"), environment="prod")
        assert reasons(selection) == {
            "AImodel/1": "winner: highest F1 (0.91) on wine-holdout@0a64f9dd within <2.0",
            "AImodel/2": "F1 0.84 is worse than the winner's 0.91",
            "AImodel/3": "no F1 on wine-holdout@0a64f9dd",
            "AImodel/4": "failed on wine-holdout@0a64f9dd: cannot load models:/AImodel/4: no such file",
            "AImodel/5": "2.0 is outside <2.0",  # the allowance is judged before the score
        }

    def test_a_failed_score_never_wins_even_with_the_best_metric(self) -> None:
        failed = candidate(2, "1.1", metrics={"f1_score": 1.0}, failure="ValueError: boom")
        selection = rank_candidates([candidate(1, "1.0", metrics={"f1_score": 0.2}), failed], on_wine())
        assert selection.winner is not None
        assert selection.winner.candidate.key == "AImodel/1"
        (loser,) = [v for v in selection.candidates if not v.eligible]
        assert (loser.candidate.key, loser.reason) == (
            "AImodel/2",
            "failed on wine-holdout@0a64f9dd: ValueError: boom",
        )

    def test_only_failures_leave_no_winner(self) -> None:
        failed = [candidate(v, failure="boom", metrics={"f1_score": 1.0}) for v in (1, 2)]
        assert rank_candidates(failed, on_wine()).winner is None

    def test_without_a_dataset_mlflows_key_is_not_the_typed_metric(self) -> None:
        candidates = [candidate(1, metrics={"f1_score": 0.9})]
        assert reasons(rank_candidates(candidates, SelectionPolicy(metric="F1"))) == {
            "AImodel/1": "no metric 'F1'"
        }
        assert rank_candidates(candidates, on_wine()).winner is not None

    def test_a_non_finite_score_is_not_eligible(self) -> None:
        candidates = [candidate(1, metrics={"f1_score": math.nan}), candidate(2, metrics={"f1_score": 0.1})]
        selection = rank_candidates(candidates, on_wine())
        assert reasons(selection)["AImodel/1"] == "metric 'F1' is nan"
        assert selection.winner is not None
        assert selection.winner.candidate.key == "AImodel/2"

    def test_unscored_are_the_versions_that_would_compete_with_a_score(self) -> None:
        candidates = [
            candidate(1, metrics={"f1_score": 0.9}),
            candidate(2, "1.1"),
            candidate(3, "1.2", failure="boom"),
            candidate(4, "2.0"),
            candidate(5, None),
        ]
        selection = rank_candidates(candidates, on_wine("<2.0"))
        assert [v.candidate.key for v in selection.unscored] == ["AImodel/2"]
        assert selection.to_dict()["unscored"] == ["AImodel/2"]
        trained = rank_candidates(candidates, SelectionPolicy("<2.0", metric="F1"))
        assert trained.unscored == ()
        assert "unscored" not in trained.to_dict()

    def test_the_selection_records_its_dataset_and_round_trips(self) -> None:
        candidates = [
            candidate(1, metrics={"f1_score": 0.9}),
            candidate(2, "1.1", failure="boom"),
        ]
        selection = rank_candidates(candidates, on_wine(), environment="prod")
        data = json.loads(json.dumps(selection.to_dict(), allow_nan=False))
        assert data["dataset"] == {"name": "wine-holdout", "digest": "0a64f9dd"}
        assert data["winner"]["metric"] == 0.9
        assert data["candidates"][1]["candidate"]["failure"] == "boom"
        assert Selection.from_dict(data) == selection
        assert selection.summary()["dataset"] == data["dataset"]
