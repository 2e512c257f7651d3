"""Laws of semantic versions: one order for PEP 440 and SemVer, canonical spellings and bumps."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from packaging.version import Version

from mlflow_allowance import SemanticVersion
from mlflow_allowance.versions import BumpPart

from .strategies import versions

_WORDS = ("alpha", "beta", "rc")
_PARTS: tuple[BumpPart, ...] = ("major", "minor", "patch")
_semver_precedence_texts = st.builds(
    lambda prefix, release, pre: prefix + ".".join(map(str, release)) + pre,
    st.sampled_from(["", "v"]),
    st.tuples(*[st.integers(0, 3)] * 3),
    st.just("") | st.builds(lambda word, n: f"-{word}.{n}", st.sampled_from(_WORDS), st.integers(0, 12)),
)


def _semver_precedence(text: str) -> tuple[tuple[int, ...], tuple[int, object]]:
    """SemVer 2.0 precedence (section 11) for ``X.Y.Z`` and ``X.Y.Z-word.N``, written from the spec.

    A release without pre-release sorts after every pre-release of it; identifiers compare word first
    (ASCII order: alpha < beta < rc), then number.
    """
    core, _, pre = text.removeprefix("v").partition("-")
    release = tuple(int(part) for part in core.split("."))
    if not pre:
        return release, (1, ())
    word, number = pre.split(".")
    return release, (0, (word, int(number)))


@given(_semver_precedence_texts, _semver_precedence_texts)
@example("1.0.0-beta.2", "1.0.0-beta.11")
def test_order_matches_semver_precedence(left: str, right: str) -> None:
    """For SemVer texts with alpha/beta/rc pre-releases orders as SemVer precedence does."""
    ours = (SemanticVersion.parse(left) > SemanticVersion.parse(right)) - (
        SemanticVersion.parse(left) < SemanticVersion.parse(right)
    )
    a, b = _semver_precedence(left), _semver_precedence(right)
    theirs = (a > b) - (a < b)
    assert ours == theirs


@given(versions(), versions())
def test_order_is_pep440_order(left: str, right: str) -> None:
    """SemanticVersion.parse orders every accepted text as PEP 440 (packaging's Version) orders it."""
    assert (SemanticVersion.parse(left) < SemanticVersion.parse(right)) == (Version(left) < Version(right))
    assert (SemanticVersion.parse(left) == SemanticVersion.parse(right)) == (Version(left) == Version(right))


@given(st.lists(st.tuples(versions(), st.booleans()), max_size=6))
@example([("2.0", True), ("v1.0.0", False), ("1.0rc1", True)])
def test_a_mix_with_packaging_versions_sorts_by_value(items: list[tuple[str, bool]]) -> None:
    """A list mixing SemanticVersion and packaging's Version sorts (it never raises) into the order of
    their values, and each equals, and hashes as, the Version of its text."""
    mixed = [SemanticVersion.parse(text) if ours else Version(text) for text, ours in items]
    ordered = sorted(mixed)
    assert [Version(str(item)) for item in ordered] == sorted(Version(text) for text, _ in items)
    for (text, _), item in zip(items, mixed, strict=True):
        assert item == Version(text)
        assert hash(item) == hash(Version(text))


@given(versions())
def test_canonical_spelling_round_trips(text: str) -> None:
    """Parsing a version's canonical spelling gives an equal version with the same canonical spelling."""
    version = SemanticVersion.parse(text)
    again = SemanticVersion.parse(version.canonical)
    assert again == version
    assert hash(again) == hash(version)
    assert again.canonical == version.canonical
    assert str(version) == text


@given(versions(), st.sampled_from(_PARTS))
def test_bump_gives_a_later_final_release(text: str, part: BumpPart) -> None:
    """bump() gives a final release later than the version, keeping the epoch and the parts above."""
    version = SemanticVersion.parse(text)
    bumped = version.bump(part)
    assert bumped > version
    assert not bumped.is_prerelease
    assert bumped.value.epoch == version.value.epoch
    index = _PARTS.index(part)
    padded = version.value.release + (0,) * 3
    assert bumped.value.release[:index] == padded[:index]


@given(versions(), st.sampled_from(_PARTS))
def test_bump_raises_the_part_by_one_unless_a_prerelease_precedes_that_release(
    text: str, part: BumpPart
) -> None:
    """bump() raises the part by one, except that a version before a release whose lower parts are all zero
    bumps to that release (SemVer: 2.1.0-rc.1 bumps its patch or minor to 2.1.0)."""
    version = SemanticVersion.parse(text)
    bumped = version.bump(part)
    index = _PARTS.index(part)
    padded = version.value.release + (0,) * 3
    epoch = f"{version.value.epoch}!" if version.value.epoch else ""
    release = Version(epoch + ".".join(map(str, padded)))
    precedes = not any(padded[index + 1 :]) and version.value < release
    assert bumped.value.release[index] == padded[index] + (0 if precedes else 1)
