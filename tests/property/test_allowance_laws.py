"""Laws of VersionAllowance: parsing, canonical form, membership, intersection and comparison."""

from __future__ import annotations

import contextlib
import random
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from packaging.specifiers import Specifier, SpecifierSet
from packaging.version import Version

import mlflow_allowance.allowance as allowance_module
from mlflow_allowance import AllowanceError, SemanticVersion, VersionAllowance
from mlflow_allowance.allowance import AllowanceComparison
from mlflow_allowance.errors import InvalidAllowanceError, InvalidVersionError
from tests.packaging_rules import FILTER_PATHS, packaging_oracle

from .strategies import (
    allowance_texts,
    allowances,
    clauses,
    colliding_clauses,
    final_versions,
    pep440_allowances,
    pep440_clauses,
    specifier_allowances,
    specifier_clauses,
    version_samples,
)

# Text that gets past the first characters of the parser: operators, digits, separators, letters of the
# version grammar and the variable names of range forms.
_parser_text = st.text(alphabet="<>=!~*., vVxersion0123456789-+_abcdeprlost≤≥!", max_size=30)
# Shared within a test case with the '===' clauses of allowances(), which respell its items.
_version_lists = version_samples()
# Each example of these laws builds allowances (parsing probes each for emptiness) and checks a list of
# versions in several spellings: ~10 ms an example. Half the profile's examples keeps the fast lane within a
# minute; a deeper profile still scales them up.
_ACTIVE = settings.default
assert _ACTIVE is not None  # conftest loads a profile before the laws are collected
_COSTLY = settings(max_examples=max(1, _ACTIVE.max_examples // 2))
_final_version_lists = st.lists(final_versions(), min_size=1, max_size=8)


@given(st.text() | _parser_text)
@example("1" * 5000)
@example("<=" + "1" * 5000)
@example("1!" + "9" * 5000 + ".0")
def test_allowance_parser_raises_only_its_own_errors(text: str) -> None:
    """VersionAllowance.parse returns an allowance or raises InvalidAllowanceError, nothing else."""
    with contextlib.suppress(InvalidAllowanceError):
        VersionAllowance.parse(text)


@given(st.text() | _parser_text)
@example("1" * 5000)
@example("1.0rc" + "1" * 5000)
def test_version_parser_raises_only_its_own_errors(text: str) -> None:
    """SemanticVersion.parse returns a version or raises InvalidVersionError, nothing else."""
    with contextlib.suppress(InvalidVersionError):
        SemanticVersion.parse(text)


@given(allowances(), st.text() | _parser_text)
@example(VersionAllowance.parse("<=2.0"), "1" * 5000)
def test_allows_and_filter_raise_only_package_errors_on_arbitrary_text(
    allowance: VersionAllowance, text: str
) -> None:
    """On any text, allows() answers or raises an AllowanceError, and filter() never raises."""
    with contextlib.suppress(AllowanceError):
        allowance.allows(text)
    allowance.filter([text])


@given(allowance_texts())
def test_canonical_form_round_trips(text: str) -> None:
    """Parsing an allowance's canonical form gives an equal allowance with the same canonical form."""
    try:
        allowance = VersionAllowance.parse(text)
    except InvalidAllowanceError:
        return
    again = VersionAllowance.parse(allowance.canonical)
    assert again == allowance
    assert again.canonical == allowance.canonical
    assert hash(again) == hash(allowance)


@given(pep440_allowances(), _final_version_lists)
def test_allows_agrees_with_packaging_on_final_versions(
    allowance: VersionAllowance, sample: list[str]
) -> None:
    """For PEP 440 clauses, allows(v) is SpecifierSet.contains(v, prereleases=True) on final versions."""
    specifiers = SpecifierSet(allowance.canonical if not allowance.is_any else "")
    for version in sample:
        assert allowance.allows(version) == specifiers.contains(version, prereleases=True), version


@given(pep440_allowances(), _version_lists)
@_COSTLY
def test_allows_agrees_with_packaging_when_prereleases_are_opted_in(
    allowance: VersionAllowance, sample: list[str]
) -> None:
    """With prereleases=True, allows(v) is SpecifierSet.contains(v, prereleases=True) for every version,
    and so is every clause's own Specifier.contains(v, prereleases=True)."""
    specifiers = SpecifierSet(allowance.canonical if not allowance.is_any else "")
    specs = [Specifier(clause) for clause in allowance]
    for version in sample:
        expected = specifiers.contains(version, prereleases=True)
        assert expected == all(spec.contains(version, prereleases=True) for spec in specs), version
        assert allowance.allows(version, prereleases=True) == expected, version


@packaging_oracle
@given(pep440_allowances(), _version_lists)
@example(VersionAllowance.parse("<=2.0,!=2.0rc1"), ["1.5rc1"])
@_COSTLY
def test_prerelease_default_follows_packaging(allowance: VersionAllowance, sample: list[str]) -> None:
    """By default a pre-release is allowed exactly when some clause opts in, as SpecifierSet decides it."""
    specifiers = SpecifierSet(allowance.canonical if not allowance.is_any else "")
    assert allowance.prereleases == bool(specifiers.prereleases)
    for version in sample:
        expected = specifiers.contains(version, prereleases=bool(specifiers.prereleases))
        assert allowance.allows(version) == expected, version


@packaging_oracle
@given(specifier_allowances(), _version_lists)
@example(VersionAllowance.parse("===1.1"), ["1.01", "1.1"])
@example(VersionAllowance.parse("===1a1"), ["1.a1", "1A1"])
@example(VersionAllowance.parse("===1.0"), ["0!1.0", "01.0", "v1.0", "1.0.0"])
@example(VersionAllowance.parse("===1.0.post1"), ["1.0-1", "1.0.POST1"])
@example(VersionAllowance.parse("===1.0.dev1"), ["1.0.dev01", "1.0.DEV1"])
@_COSTLY
def test_allows_agrees_with_packaging_on_every_operator_and_spelling(
    allowance: VersionAllowance, sample: list[str]
) -> None:
    """allows(v) is SpecifierSet.contains(v) for every operator, ``===`` included, and any spelling of v,
    given as text, as a SemanticVersion or as a packaging Version, with pre-releases opted in, opted out,
    or left to the default.

    ``===`` compares text, case-insensitively: a text or a SemanticVersion as written, a packaging Version
    as ``str(version)``, its normal form. Two documented differences are reconciled here: by default a
    pre-release is allowed exactly when a clause names one, the set's own ``prereleases`` (packaging 26
    admits a lone pre-release, for want of others); and ``===`` ignores whitespace around the text, as a
    SemanticVersion keeps its text stripped, where packaging would compare the whitespace too.
    """
    specifiers = SpecifierSet(allowance.canonical if not allowance.is_any else "")
    assert allowance.prereleases == bool(specifiers.prereleases)
    for version in sample:
        parsed = Version(version)
        for prereleases in (True, False, None):
            pre = bool(specifiers.prereleases) if prereleases is None else prereleases
            expected = specifiers.contains(version, prereleases=pre)
            assert allowance.allows(version, prereleases=prereleases) == expected, (version, prereleases)
            assert allowance.allows(f" {version}\t", prereleases=prereleases) == expected, version
            semantic = SemanticVersion.parse(version)
            assert allowance.allows(semantic, prereleases=prereleases) == expected, (version, prereleases)
            expected = specifiers.contains(parsed, prereleases=pre)
            assert allowance.allows(parsed, prereleases=prereleases) == expected, (parsed, prereleases)


@packaging_oracle
@given(specifier_allowances(), _version_lists, st.booleans())
@_COSTLY
def test_filter_agrees_with_packaging_on_every_operator_and_spelling(
    allowance: VersionAllowance, sample: list[str], prereleases: bool
) -> None:
    """filter(vs, prereleases=p) keeps, in order, what SpecifierSet.filter(vs, prereleases=p) keeps, for
    every operator, ``===`` included, and any spelling, whether the items are texts, SemanticVersions or
    packaging Versions, and whether packaging's filter does the work or the allowance's own loop does.

    (With ``prereleases=None`` packaging keeps pre-releases when no final version is among the items, a
    rule of its own filter; ours keeps them by the allowance's default, as allows() does.)
    """
    specifiers = SpecifierSet(allowance.canonical if not allowance.is_any else "")
    expected = list(specifiers.filter(sample, prereleases=prereleases))
    parsed = [Version(v) for v in sample]
    expected_parsed = [str(v) for v in specifiers.filter(parsed, prereleases=prereleases)]
    semantic = [SemanticVersion.parse(v) for v in sample]
    for packaging_filters in FILTER_PATHS:
        with mock.patch.object(allowance_module, "_FILTER_TAKES_KEY", packaging_filters):
            assert allowance.filter(sample, prereleases=prereleases) == expected
            assert [str(v) for v in allowance.filter(parsed, prereleases=prereleases)] == expected_parsed
            assert [v.text for v in allowance.filter(semantic, prereleases=prereleases)] == expected


@pytest.mark.skipif(not hasattr(SpecifierSet, "is_unsatisfiable"), reason="needs packaging 26.1")
@given(st.lists(pep440_clauses() | colliding_clauses() | specifier_clauses(), min_size=1, max_size=4))
def test_parse_rejects_exactly_what_packaging_finds_unsatisfiable(parts: list[str]) -> None:
    """PEP 440 clauses, ``===`` included, are rejected as unsatisfiable exactly when
    SpecifierSet.is_unsatisfiable() says so (our check probes versions around each boundary and the text
    of each ``===``; packaging's intersects exact intervals and compares the ``===`` texts)."""
    text = ",".join(parts)
    try:
        VersionAllowance.parse(text)
    except InvalidAllowanceError:
        assert SpecifierSet(text).is_unsatisfiable()
    else:
        assert not SpecifierSet(text).is_unsatisfiable()


@given(allowances(), _version_lists, st.sampled_from([None, True, False]))
@_COSTLY
def test_filter_keeps_exactly_the_allowed_versions_in_order(
    allowance: VersionAllowance, sample: list[str], prereleases: bool | None
) -> None:
    """filter(vs) is [v for v in vs if allows(v)], for strings and parsed versions alike, whether
    packaging's filter does the work (packaging >= 26.1) or the allowance's own loop does."""
    expected = [v for v in sample if allowance.allows(v, prereleases=prereleases)]
    parsed = [SemanticVersion.parse(v) for v in sample]
    for packaging_filters in FILTER_PATHS:
        with mock.patch.object(allowance_module, "_FILTER_TAKES_KEY", packaging_filters):
            assert allowance.filter(sample, prereleases=prereleases) == expected
            assert [str(v) for v in allowance.filter(parsed, prereleases=prereleases)] == expected


@given(allowances(), _version_lists)
@_COSTLY
def test_highest_is_the_maximum_allowed_version(allowance: VersionAllowance, sample: list[str]) -> None:
    """highest(vs) is an allowed version no lower than any allowed version, or None if none is allowed."""
    allowed = [Version(v) for v in sample if allowance.allows(v)]
    highest = allowance.highest(sample)
    if not allowed:
        assert highest is None
    else:
        assert highest is not None
        assert allowance.allows(highest)
        assert Version(highest) == max(allowed)


@given(allowances(), allowances(), _final_version_lists)
@_COSTLY
def test_intersection_allows_what_both_allow_on_final_versions(
    a: VersionAllowance, b: VersionAllowance, sample: list[str]
) -> None:
    """On final versions, (a & b) allows v exactly when a and b both allow v."""
    try:
        both = a & b
    except InvalidAllowanceError:
        assert not any(a.allows(v) and b.allows(v) for v in sample)
        return
    for version in sample:
        assert both.allows(version) == (a.allows(version) and b.allows(version)), version


@given(allowances(), allowances(), _version_lists)
@_COSTLY
def test_intersection_allows_what_both_allow_with_prereleases(
    a: VersionAllowance, b: VersionAllowance, sample: list[str]
) -> None:
    """With prereleases=True, (a & b) allows v exactly when a and b both allow v; when a & b raises
    InvalidAllowanceError, no version is allowed by both."""
    try:
        both = a & b
    except InvalidAllowanceError:
        assert not any(a.allows(v, prereleases=True) and b.allows(v, prereleases=True) for v in sample)
        return
    for version in sample:
        expected = a.allows(version, prereleases=True) and b.allows(version, prereleases=True)
        assert both.allows(version, prereleases=True) == expected, version


@given(allowances(), allowances(), _version_lists)
@_COSTLY
def test_intersection_admits_prereleases_by_its_combined_clauses(
    a: VersionAllowance, b: VersionAllowance, sample: list[str]
) -> None:
    """By default, (a & b) allows v exactly when a and b both allow v under the pre-release default of
    a & b: pre-releases are admitted when a clause of either names one, as for packaging's SpecifierSet.

    This is the honest form of "a & b allows what both allow" for pre-releases: ``>=1.0rc1`` admits
    pre-releases and ``<2.0`` does not, yet ``>=1.0rc1,<2.0`` admits ``1.5rc1``, exactly as
    ``SpecifierSet(">=1.0rc1") & SpecifierSet("<2.0")`` does. Only for final versions, or with an explicit
    ``prereleases``, is the intersection the plain conjunction (the two laws above).
    """
    try:
        both = a & b
    except InvalidAllowanceError:
        return
    assert both.prereleases == (a.prereleases or b.prereleases)
    pre = both.prereleases
    for version in sample:
        expected = a.allows(version, prereleases=pre) and b.allows(version, prereleases=pre)
        assert both.allows(version) == expected, version


@given(allowances(), allowances(), _version_lists)
@_COSTLY
def test_compare_agrees_with_allows(a: VersionAllowance, b: VersionAllowance, sample: list[str]) -> None:
    """a.compare(b) agrees with allows() on every sampled version: WIDER means a allows all b allows,
    NARROWER the converse, EQUAL both, DISJOINT none in common."""
    relation = a.compare(b)
    for version in sample:
        mine, theirs = a.allows(version), b.allows(version)
        if relation is AllowanceComparison.EQUAL:
            assert mine == theirs, version
        elif relation is AllowanceComparison.WIDER:
            assert mine or not theirs, version
        elif relation is AllowanceComparison.NARROWER:
            assert theirs or not mine, version
        elif relation is AllowanceComparison.DISJOINT:
            assert not (mine and theirs), version


@given(allowances(), allowances())
@_COSTLY
def test_compare_is_antisymmetric(a: VersionAllowance, b: VersionAllowance) -> None:
    """b.compare(a) is the mirror of a.compare(b): WIDER and NARROWER swap, the others stay."""
    mirror = {
        AllowanceComparison.WIDER: AllowanceComparison.NARROWER,
        AllowanceComparison.NARROWER: AllowanceComparison.WIDER,
    }
    relation = a.compare(b)
    assert b.compare(a) is mirror.get(relation, relation)


@given(st.lists(colliding_clauses() | clauses(), min_size=1, max_size=4), st.randoms(use_true_random=False))
@example(["<=1.0", "<=1.0.0"], random.Random(0))
@example(["!=0.0.0.dev99+local", "!=0.dev99+local", ">=0.0.0"], random.Random(0))
@_COSTLY
def test_clause_order_never_changes_the_canonical_form(parts: list[str], rng: random.Random) -> None:
    """Reordering or repeating clauses never changes the allowance or its canonical form."""
    try:
        allowance = VersionAllowance.parse(",".join(parts))
    except InvalidAllowanceError:
        return
    shuffled = rng.sample(parts, len(parts))
    for reordered in (parts[::-1], parts + parts, shuffled):
        again = VersionAllowance.parse(",".join(reordered))
        assert again.canonical == allowance.canonical, reordered
        assert again == allowance
