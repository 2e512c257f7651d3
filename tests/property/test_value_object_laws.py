"""Laws of the value objects: they pickle, copy, hash and cross JSON as the values they are, and the
allowance and version types take what people type the way ``parse`` does."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from packaging.version import Version

from mlflow_allowance import (
    AllowanceChange,
    AuditRecord,
    CheckReport,
    DatasetRef,
    EffectiveAllowance,
    Evaluation,
    ModelVersionInfo,
    Promotion,
    Selection,
    SelectionRequest,
    SemanticVersion,
    VersionAllowance,
)
from mlflow_allowance.datasets import DatasetInfo, Score
from mlflow_allowance.errors import InvalidAllowanceError, InvalidVersionError
from mlflow_allowance.outcomes import Violation
from mlflow_allowance.selection import Candidate, SelectionPolicy

from .strategies import (
    allowance_changes,
    allowance_texts,
    allowances,
    audit_records,
    candidates_,
    check_reports,
    clauses,
    dataset_infos,
    dataset_policy_values,
    dataset_refs,
    dataset_request_values,
    dataset_selections,
    effective_allowances,
    evaluations,
    model_version_infos,
    promotions,
    scores,
    selection_policies,
    selection_requests,
    selections,
    unnormalised_versions,
    version_samples,
    versions,
    violations,
)

# Records draw many parts (a promotion: a ranked selection, a record and a request), so fewer examples
# keep the file to a few seconds; the laws are simple enough that this still finds what breaks them. The
# deep profile (conftest.py) scales them up with its own count.
RECORDS = settings(max_examples=max(30, settings().max_examples // 10))
TEXT = settings(max_examples=max(80, settings().max_examples // 4))

# (type, strategy): every type with to_dict()/from_dict().
SERIALISABLE: list[Any] = [
    pytest.param(Candidate, candidates_(), id="Candidate"),
    pytest.param(SelectionPolicy, selection_policies(), id="SelectionPolicy"),
    pytest.param(SelectionRequest, selection_requests(), id="SelectionRequest"),
    pytest.param(Selection, selections(), id="Selection"),
    pytest.param(AuditRecord, audit_records(), id="AuditRecord"),
    pytest.param(ModelVersionInfo, model_version_infos(), id="ModelVersionInfo"),
    pytest.param(EffectiveAllowance, effective_allowances(), id="EffectiveAllowance"),
    pytest.param(AllowanceChange, allowance_changes(), id="AllowanceChange"),
    pytest.param(Violation, violations(), id="Violation"),
    pytest.param(Promotion, promotions(), id="Promotion"),
    pytest.param(CheckReport, check_reports(), id="CheckReport"),
    pytest.param(DatasetRef, dataset_refs(), id="DatasetRef"),
    pytest.param(DatasetInfo, dataset_infos(), id="DatasetInfo"),
    pytest.param(Score, scores(), id="Score"),
    pytest.param(Evaluation, evaluations(), id="Evaluation"),
    pytest.param(SelectionPolicy, dataset_policy_values(), id="SelectionPolicy-dataset"),
    pytest.param(SelectionRequest, dataset_request_values(), id="SelectionRequest-dataset"),
    pytest.param(Selection, dataset_selections(), id="Selection-dataset"),
]
# Every value type, those without to_dict() included.
VALUES: list[Any] = [
    *SERIALISABLE,
    pytest.param(VersionAllowance, allowances(), id="VersionAllowance"),
    pytest.param(SemanticVersion, versions().map(SemanticVersion), id="SemanticVersion"),
]
# Every value type hashes: mappings are FrozenDicts and sequences tuples all the way down.
HASHABLE = VALUES


def _json_copy(value: Any) -> Any:
    """``value`` sent through strict JSON (no NaN or infinity) and rebuilt by its type's ``from_dict``."""
    return type(value).from_dict(json.loads(json.dumps(value.to_dict(), allow_nan=False)))


# Pickle, copy and JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "values"), VALUES)
@RECORDS
@given(data=st.data(), protocol=st.integers(min_value=0, max_value=pickle.HIGHEST_PROTOCOL))
def test_pickle_round_trips(
    kind: type, values: st.SearchStrategy[Any], data: st.DataObject, protocol: int
) -> None:
    """Unpickling a pickled value gives an equal value of the same type, with any pickle protocol."""
    value = data.draw(values)
    again = pickle.loads(pickle.dumps(value, protocol=protocol))
    assert type(again) is kind
    assert again == value


@pytest.mark.parametrize(("kind", "values"), VALUES)
@RECORDS
@given(data=st.data())
def test_deepcopy_is_equal(kind: type, values: st.SearchStrategy[Any], data: st.DataObject) -> None:
    """A deep copy (and a shallow one) of a value is equal to it."""
    value = data.draw(values)
    assert copy.deepcopy(value) == value
    assert copy.copy(value) == value


@pytest.mark.parametrize(("kind", "values"), SERIALISABLE)
@RECORDS
@given(data=st.data())
def test_json_round_trips(kind: type, values: st.SearchStrategy[Any], data: st.DataObject) -> None:
    """``from_dict`` of ``to_dict`` sent through strict JSON gives an equal value of the same type."""
    value = data.draw(values)
    again = _json_copy(value)
    assert type(again) is kind
    assert again == value


@pytest.mark.parametrize(("kind", "values"), HASHABLE)
@RECORDS
@given(data=st.data())
def test_copies_hash_alike(kind: type, values: st.SearchStrategy[Any], data: st.DataObject) -> None:
    """A value and its pickled, deep-copied and JSON copies have one hash."""
    value = data.draw(values)
    copies = [pickle.loads(pickle.dumps(value)), copy.deepcopy(value)]
    if hasattr(value, "to_dict"):
        copies.append(_json_copy(value))
    assert {hash(value)} == {hash(again) for again in copies}


@RECORDS
@given(audit_records())
def test_audit_record_round_trips_through_tags(record: AuditRecord) -> None:
    """``AuditRecord.from_tags`` of ``to_tags`` (with its id) gives the record back."""
    assert AuditRecord.from_tags(record.to_tags(), record_id=record.record_id) == record


@RECORDS
@given(audit_records(), selection_requests())
def test_record_request_is_the_stored_request(record: AuditRecord, request: SelectionRequest) -> None:
    """A record whose details hold a request's dict gives that request back from ``request``."""
    data = record.to_dict()
    data["details"] = {**data["details"], "request": request.to_dict()}
    stored = AuditRecord.from_dict(json.loads(json.dumps(data)))
    assert stored.request == request


# What people type ---------------------------------------------------------------------------------------

_NOT_VERSIONS = st.sampled_from(
    ["2.0-custom", "1.0-custom", "banana", "", " ", "1.0 rc", "==2.0", "*"]
) | st.text(max_size=12)


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except ValueError:  # InvalidVersion, or a number past int()'s digit limit
        return False
    return True


@TEXT
@given(allowances(), versions() | version_samples().flatmap(st.sampled_from) | unnormalised_versions())
def test_in_is_allows(allowance: VersionAllowance, text: str) -> None:
    """For a version string, ``text in allowance`` is ``allowance.allows(text)``."""
    assert (text in allowance) is allowance.allows(text)


@TEXT
@given(allowances(), _NOT_VERSIONS.filter(lambda text: not _is_version(text)))
@example(VersionAllowance("===2.0-custom"), "2.0-custom")
@example(VersionAllowance("<=2.0"), "banana")
def test_in_never_raises_on_text(allowance: VersionAllowance, text: str) -> None:
    """For text that is no version, ``in`` never raises; it is true only for an allowance of ``===``
    clauses that allows the text as written."""
    found = text in allowance
    assert isinstance(found, bool)
    if found:
        assert all(clause.startswith("===") for clause in allowance)
        assert allowance.allows(text)


@TEXT
@given(allowance_texts() | st.text(max_size=16))
@example("<=2,<=2.0")
@example("")
def test_constructor_is_parse(text: str) -> None:
    """``VersionAllowance(text)`` equals ``VersionAllowance.parse(text)``, and raises
    :class:`InvalidAllowanceError` exactly when ``parse`` does."""
    try:
        parsed = VersionAllowance.parse(text)
    except InvalidAllowanceError:
        with pytest.raises(InvalidAllowanceError):
            VersionAllowance(text)
        return
    assert VersionAllowance(text) == parsed


@TEXT
@given(st.lists(clauses(), min_size=1, max_size=3))
@example(["<=2", "<=2.0"])
@example(["*", "<=2"])
def test_clause_list_is_joined_text(items: list[str]) -> None:
    """An allowance built from a list of clauses equals the one parsed from them joined by commas (and
    one raises :class:`InvalidAllowanceError` exactly when the other does)."""
    try:
        joined = VersionAllowance(",".join(items))
    except InvalidAllowanceError:
        with pytest.raises(InvalidAllowanceError):
            VersionAllowance(items)
        return
    assert VersionAllowance(items) == joined


@TEXT
@given(allowances())
def test_an_allowance_equals_its_text_and_counts_its_clauses(allowance: VersionAllowance) -> None:
    """An allowance equals its canonical text, from either side (as packaging's ``SpecifierSet`` equals its
    string), and ``len`` counts the clauses of that text (``*`` has none)."""
    assert allowance == allowance.canonical
    assert allowance.canonical == allowance
    assert len(allowance) == (0 if allowance.is_any else allowance.canonical.count(",") + 1)


@RECORDS
@given(allowances())
def test_parse_of_an_allowance_is_itself(allowance: VersionAllowance) -> None:
    """``VersionAllowance.parse`` returns an allowance it is given as it is."""
    assert VersionAllowance.parse(allowance) is allowance


@TEXT
@given(versions() | unnormalised_versions() | st.text(max_size=12))
@example("v2.0.0")
@example("abc")
def test_semantic_version_constructor_is_parse(text: str) -> None:
    """``SemanticVersion(text)`` equals ``SemanticVersion.parse(text)`` and is written alike, and raises
    :class:`InvalidVersionError` exactly when ``parse`` does."""
    try:
        parsed = SemanticVersion.parse(text)
    except InvalidVersionError:
        with pytest.raises(InvalidVersionError):
            SemanticVersion(text)
        return
    built = SemanticVersion(text)
    assert built == parsed
    assert str(built) == str(parsed)


@TEXT
@given(unnormalised_versions(), unnormalised_versions())
@example("2.0", "v2.0.0")
@example("2.0", "3.0")
def test_semantic_version_text_must_spell_the_value(value: str, text: str) -> None:
    """``SemanticVersion(value, text)`` succeeds exactly when ``text`` spells the same version, and then
    equals ``SemanticVersion(value)`` and is written as ``text``."""
    if Version(value) != Version(text):
        with pytest.raises(InvalidVersionError):
            SemanticVersion(value, text)
        return
    built = SemanticVersion(value, text)
    assert built == SemanticVersion(value)
    assert str(built) == text.strip()
