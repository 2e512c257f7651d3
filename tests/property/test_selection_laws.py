"""Laws of the selection engine: who may win, who does win, and what cannot change that."""

from __future__ import annotations

import dataclasses
import math
import sys

from hypothesis import assume, example, given
from hypothesis import strategies as st
from packaging.version import InvalidVersion, Version

from mlflow_allowance import VersionAllowance
from mlflow_allowance.errors import InvalidAllowanceError
from mlflow_allowance.selection import Candidate, SelectionPolicy, rank_candidates

from .strategies import METRIC, VERSION_POOL, candidate_lists, candidates, policies, pool_allowances


def _winner_key(candidates: list[Candidate], policy: SelectionPolicy) -> str | None:
    winner = rank_candidates(candidates, policy).winner
    return None if winner is None else winner.candidate.key


def _oracle(candidates: list[Candidate], policy: SelectionPolicy) -> str | None:
    """The winner by brute force: every candidate that passes every check, then the best by a total order."""
    best: tuple[tuple[float, Version, int], Candidate] | None = None
    for candidate in candidates:
        if candidate.status != "READY" or candidate.semver is None:
            continue
        try:
            version = Version(candidate.semver)
        except InvalidVersion:
            continue
        allowance = policy.model_allowances.get(candidate.name, policy.allowance)
        if not allowance.allows(candidate.semver, prereleases=policy.prereleases):
            continue
        if any(candidate.tags.get(tag) != value for tag, value in policy.required_tags.items()):
            continue
        score = 0.0
        if policy.metric is not None:
            value = candidate.metrics.get(policy.metric)
            # MLflow stores +-inf as +-sys.float_info.max: as infinite as the value logged, never a winner.
            if value is None or not math.isfinite(value) or abs(value) >= sys.float_info.max:
                continue
            score = value if policy.maximize else -value
        rank = (score, version, candidate.version)
        if best is None or rank > best[0] or (rank == best[0] and candidate.name < best[1].name):
            best = (rank, candidate)
    return None if best is None else best[1].key


@given(candidate_lists(), policies())
def test_winner_satisfies_the_policy(candidates: list[Candidate], policy: SelectionPolicy) -> None:
    """The winner is READY, allowed by its model's allowance, carries the required tags and a finite
    metric."""
    winner = rank_candidates(candidates, policy).winner
    if winner is None:
        return
    chosen = winner.candidate
    assert chosen.status == "READY"
    assert chosen.semver is not None
    assert policy.allowance_for(chosen.name).allows(chosen.semver, prereleases=policy.prereleases)
    assert all(chosen.tags.get(tag) == value for tag, value in policy.required_tags.items())
    if policy.metric is not None:
        assert winner.metric is not None
        assert math.isfinite(winner.metric)


@given(candidate_lists(), policies())
@example(
    [
        Candidate("BImodel", 1, "1.0", metrics={METRIC: 0.9}),
        Candidate("AImodel", 1, "1.0.0", metrics={METRIC: 0.9}),
    ],
    SelectionPolicy(VersionAllowance.parse("*"), metric=METRIC),
)
# Found with 3,000 examples: MLflow's stored +inf is excluded (as rank_candidates documents), not a winner.
@example(
    [Candidate("AImodel", 1, "1.0", metrics={METRIC: sys.float_info.max})],
    SelectionPolicy(VersionAllowance.parse("*"), metric=METRIC, maximize=False),
)
@example(
    [
        Candidate("AImodel", 1, "1.0", metrics={METRIC: -sys.float_info.max}),
        Candidate("AImodel", 2, "1.0", metrics={METRIC: 0.5}),
    ],
    SelectionPolicy(VersionAllowance.parse("*"), metric=METRIC, maximize=False),
)
@example(
    [
        Candidate("AImodel", 1, "1.0", metrics={METRIC: sys.float_info.max}),
        Candidate("AImodel", 2, "1.0", metrics={METRIC: 0.5}),
    ],
    SelectionPolicy(VersionAllowance.parse("*"), metric=METRIC, maximize=True),
)
def test_winner_is_the_brute_force_winner(candidates: list[Candidate], policy: SelectionPolicy) -> None:
    """The winner is the best eligible candidate by metric, then semantic version, then registry version,
    then (alphabetically first) model name; found here by a brute-force scan. A metric at MLflow's stored
    infinity (+-sys.float_info.max) is as ineligible as an infinite one."""
    assert _winner_key(candidates, policy) == _oracle(candidates, policy)


@given(st.data(), candidate_lists(), policies())
def test_order_of_candidates_never_changes_the_winner(
    data: st.DataObject, candidates: list[Candidate], policy: SelectionPolicy
) -> None:
    """Shuffling the candidates never changes the winner (nor the ranking of the eligible ones)."""
    shuffled = data.draw(st.permutations(candidates))
    first, second = rank_candidates(candidates, policy), rank_candidates(shuffled, policy)
    assert _winner_key(candidates, policy) == _winner_key(shuffled, policy)
    assert [v.candidate.key for v in first.eligible] == [v.candidate.key for v in second.eligible]


@given(candidate_lists(), policies(prereleases=st.booleans(), metric=st.just(METRIC)), pool_allowances())
def test_widening_the_allowance_never_makes_the_winner_worse(
    candidates: list[Candidate], policy: SelectionPolicy, narrowing: VersionAllowance
) -> None:
    """Widening the allowance never makes the winner's metric worse (nor loses the winner).

    The narrow policy uses ``allowance & narrowing`` (per-model allowances stay as they are); the
    pre-release choice is explicit on both, since by default an intersection may admit pre-releases its
    parts do not (see the intersection laws).
    """
    try:
        narrow_allowance = policy.allowance & narrowing
    except InvalidAllowanceError:  # an empty intersection has no winner to compare
        return
    narrow = dataclasses.replace(policy, allowance=narrow_allowance)
    wide_winner, narrow_winner = (
        rank_candidates(candidates, policy).winner,
        rank_candidates(candidates, narrow).winner,
    )
    if narrow_winner is None:
        return
    assert wide_winner is not None
    assert wide_winner.metric is not None
    assert narrow_winner.metric is not None
    if policy.maximize:
        assert wide_winner.metric >= narrow_winner.metric
    else:
        assert wide_winner.metric <= narrow_winner.metric


@given(st.data(), candidate_lists(), policies(), candidates())
def test_a_candidate_outside_the_allowance_never_changes_the_winner(
    data: st.DataObject, candidates: list[Candidate], policy: SelectionPolicy, outsider: Candidate
) -> None:
    """Adding a candidate whose version its model's allowance does not allow never changes the winner."""
    allowance = policy.allowance_for(outsider.name)
    outside = [v for v in VERSION_POOL if not allowance.allows(v, prereleases=policy.prereleases)]
    assume(outside)
    semver = data.draw(st.sampled_from(outside), label="semver")
    outsider = dataclasses.replace(outsider, version=100, semver=semver)
    assert _winner_key([*candidates, outsider], policy) == _winner_key(candidates, policy)


@given(candidate_lists(), policies(metric=st.just(METRIC)))
def test_nan_never_wins(candidates: list[Candidate], policy: SelectionPolicy) -> None:
    """A candidate whose metric is NaN (or infinite, or missing) never wins, and is never eligible."""
    for verdict in rank_candidates(candidates, policy).eligible:
        assert verdict.metric is not None
        assert not math.isnan(verdict.metric)
        assert not math.isinf(verdict.metric)
