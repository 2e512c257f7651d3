"""Laws of fixed external datasets: references as written, and selection judged on recorded scores."""

from __future__ import annotations

import dataclasses

from hypothesis import example, given
from hypothesis import strategies as st

from mlflow_allowance import DatasetRef, InputError
from mlflow_allowance.datasets import MAX_DATASET_NAME
from mlflow_allowance.selection import Candidate, SelectionPolicy, rank_candidates

from .strategies import (
    METRIC,
    MLFLOW_METRIC,
    dataset_names,
    dataset_policies,
    dataset_refs,
    digests,
    scored_candidate_lists,
)


def _documented_name(text: str) -> bool:
    """What DatasetRef's message promises: letters, digits, '_', '-', '.' and single spaces, at most 200."""
    words = text.split(" ")
    return 0 < len(text) <= MAX_DATASET_NAME and all(
        word and all(c.isalnum() or c in "_.-" for c in word) for word in words
    )


def _documented_digest(text: str) -> bool:
    """MLflow's digests: 1 to 64 ASCII letters and digits."""
    return 0 < len(text) <= 64 and text.isascii() and text.isalnum()


def _ranking(candidates: list[Candidate], policy: SelectionPolicy) -> list[tuple[str, bool, str]]:
    return [(v.candidate.key, v.eligible, v.reason) for v in rank_candidates(candidates, policy).candidates]


def _winner_key(candidates: list[Candidate], policy: SelectionPolicy) -> str | None:
    winner = rank_candidates(candidates, policy).winner
    return None if winner is None else winner.candidate.key


@given(dataset_refs())
def test_parse_of_the_text_is_the_reference(ref: DatasetRef) -> None:
    """``DatasetRef.parse(str(ref))`` is ``ref``, pinned or not."""
    assert DatasetRef.parse(str(ref)) == ref


@given(
    dataset_names().map(lambda n: f" {n}")
    | st.text(max_size=12)
    | st.builds("{}@{}".format, st.text(), st.text())
)
@example("wine@")
@example("@0a64f9dd")
@example("a@b@c")
@example(" wine @ abc ")
@example("0@\r0")  # found by the deep profile once parse stripped around the '@'
def test_parse_rejects_or_spells_the_text(text: str) -> None:
    """For any text, ``parse`` raises :class:`InputError` or gives a reference written as the text without
    the blanks around its name and its digest."""
    try:
        ref = DatasetRef.parse(text)
    except InputError:
        return
    name, at, digest = text.rpartition("@")
    assert str(ref) == (f"{name.strip()}@{digest.strip()}" if at else text.strip())


@given(dataset_names() | st.text(max_size=12) | dataset_names().map(lambda n: n + "\n"))
@example("wine\n")
def test_a_name_is_accepted_exactly_when_documented(text: str) -> None:
    """``DatasetRef(name)`` accepts exactly the names its message documents: words of letters, digits,
    ``_``, ``.`` and ``-`` joined by single spaces, at most 200 characters."""
    try:
        DatasetRef(text)
    except InputError:
        assert not _documented_name(text)
        return
    assert _documented_name(text)


@given(digests() | st.text(max_size=12) | digests().map(lambda d: d + "\n"))
@example("0a64f9dd\n")
def test_a_digest_is_accepted_exactly_when_documented(text: str) -> None:
    """``DatasetRef(name, digest)`` accepts exactly digests of 1 to 64 ASCII letters and digits."""
    try:
        DatasetRef("wine", text)
    except InputError:
        assert not _documented_digest(text)
        return
    assert _documented_digest(text)


@given(scored_candidate_lists(), dataset_policies())
def test_a_failed_candidate_never_wins(candidates: list[Candidate], policy: SelectionPolicy) -> None:
    """On a dataset, a candidate whose score failed is never eligible, whatever its metric."""
    for verdict in rank_candidates(candidates, policy).eligible:
        assert verdict.candidate.failure is None


@given(scored_candidate_lists(), dataset_policies())
def test_a_failure_counts_as_absence(candidates: list[Candidate], policy: SelectionPolicy) -> None:
    """On a dataset, the winner is the winner among the candidates that did not fail."""
    unfailed = [c for c in candidates if c.failure is None]
    assert _winner_key(candidates, policy) == _winner_key(unfailed, policy)


@given(scored_candidate_lists(), dataset_policies())
def test_the_typed_name_and_mlflows_key_rank_alike(
    candidates: list[Candidate], policy: SelectionPolicy
) -> None:
    """On a dataset, a metric recorded under MLflow's key (``f1_score``) ranks exactly as under the name
    typed (``F1``): the same order, eligibility and reasons."""
    typed = [dataclasses.replace(c, metrics=_renamed(c, MLFLOW_METRIC, METRIC)) for c in candidates]
    logged = [dataclasses.replace(c, metrics=_renamed(c, METRIC, MLFLOW_METRIC)) for c in candidates]
    assert _ranking(typed, policy) == _ranking(logged, policy)


def _renamed(candidate: Candidate, old: str, new: str) -> dict[str, float]:
    metrics = dict(candidate.metrics)
    if old in metrics:
        metrics[new] = metrics.pop(old)
    return metrics
