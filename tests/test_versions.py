"""Examples for SemanticVersion: PEP 440 and SemVer 2.0 in one order."""

from __future__ import annotations

import itertools
import pickle

import pytest

from mlflow_allowance import AllowanceError, SemanticVersion
from mlflow_allowance.errors import InvalidVersionError
from mlflow_allowance.versions import BumpPart

# (text, canonical, is a pre-release)
VALID = [
    pytest.param("2.0", "2.0", False, id="pep440-release"),
    pytest.param("1.0.post1", "1.0.post1", False, id="pep440-post"),
    pytest.param("2.0rc1", "2.0rc1", True, id="pep440-rc"),
    pytest.param("1.0a1", "1.0a1", True, id="pep440-alpha"),
    pytest.param("1.0.dev3", "1.0.dev3", True, id="pep440-dev"),
    pytest.param("1!1.0", "1!1.0", False, id="pep440-epoch"),
    pytest.param("1.0+local.7", "1.0+local.7", False, id="pep440-local"),
    pytest.param("1.0-1", "1.0.post1", False, id="pep440-implicit-post"),
    pytest.param("1.0.0.0.1", "1.0.0.0.1", False, id="pep440-long-release"),
    pytest.param("v2.0.0", "2.0.0", False, id="semver-v-prefix"),
    pytest.param("V2.0.0", "2.0.0", False, id="semver-capital-v"),
    pytest.param("2.0.0", "2.0.0", False, id="semver-release"),
    pytest.param("2.0.0-rc.1", "2.0.0rc1", True, id="semver-rc"),
    pytest.param("2.0.0-rc.1+build.5", "2.0.0rc1+build.5", True, id="semver-rc-build"),
    pytest.param("2.0.0-RC.1", "2.0.0rc1", True, id="semver-upper-case"),
    pytest.param("1.0.0-alpha", "1.0.0a0", True, id="semver-alpha"),
    pytest.param("1.0.0-beta.11", "1.0.0b11", True, id="semver-beta"),
    pytest.param("1.0.0-dev.1", "1.0.0.dev1", True, id="semver-dev"),
    pytest.param("1.0.0+20130313144700", "1.0.0+20130313144700", False, id="semver-build-only"),
    pytest.param(" 2.0 ", "2.0", False, id="surrounding-whitespace"),
]

INVALID = [
    pytest.param("abc", id="word"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("1..0", id="empty-part"),
    pytest.param("2.0.0-SNAPSHOT", id="semver-snapshot"),
    pytest.param("1.0.0-x.7.z.92", id="semver-unknown-words"),
    pytest.param("1.0.0-alpha.beta", id="semver-word-after-word"),
    pytest.param("1.0.0-0.3.7", id="semver-numeric-prerelease"),
    pytest.param("2.0+", id="empty-local"),
    pytest.param("2.0 rc1 x", id="trailing-words"),
    pytest.param("^1.2", id="npm-range"),
]

# The SemVer 2.0 spec's precedence example (section 11), less the one identifier PEP 440 cannot express
# ('1.0.0-alpha.beta'), which is rejected (see INVALID).
SEMVER_CHAIN = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
]

# PEP 440's own ordering example ("Summary of permitted suffixes and relative ordering").
PEP440_CHAIN = [
    "1.0.dev456",
    "1.0a1",
    "1.0a2.dev456",
    "1.0a12.dev456",
    "1.0a12",
    "1.0b1.dev456",
    "1.0b2",
    "1.0b2.post345.dev456",
    "1.0b2.post345",
    "1.0rc1.dev456",
    "1.0rc1",
    "1.0",
    "1.0+abc.5",
    "1.0+abc.7",
    "1.0+5",
    "1.0.post456.dev34",
    "1.0.post456",
    "1.0.15",
    "1.1.dev1",
]

# (text, part, bumped)
BUMPS = [
    pytest.param("1.4.2", "major", "2.0.0", id="major"),
    pytest.param("1.4.2", "minor", "1.5.0", id="minor"),
    pytest.param("1.4.2", "patch", "1.4.3", id="patch"),
    pytest.param("1.0", "patch", "1.0.1", id="pads-short-release"),
    pytest.param("2", "minor", "2.1", id="pads-to-the-part"),
    pytest.param("1.2.3.4", "minor", "1.3.0.0", id="zeroes-everything-below"),
    pytest.param("1!2.0", "major", "1!3.0", id="keeps-epoch"),
    pytest.param("2.0rc1", "major", "2.0", id="prerelease-bumps-to-its-release"),
    pytest.param("2.1.0-rc.1", "patch", "2.1.0", id="semver-prerelease-patch"),
    pytest.param("2.1.0-rc.1", "minor", "2.1.0", id="semver-prerelease-minor"),
    pytest.param("1.2.0-rc.1", "major", "2.0.0", id="semver-prerelease-of-a-minor-major"),
    pytest.param("2.1.1-rc.1", "minor", "2.2.0", id="semver-prerelease-of-a-patch-minor"),
    pytest.param("1.0.dev3", "patch", "1.0.0", id="dev-release-bumps-to-its-release"),
    pytest.param("1.0.post1", "patch", "1.0.1", id="drops-post"),
    pytest.param("v1.4.2+build.5", "patch", "1.4.3", id="drops-v-and-build"),
]


class TestSemanticVersion:
    @pytest.mark.parametrize(("text", "canonical", "prerelease"), VALID)
    def test_parse(self, text: str, canonical: str, prerelease: bool) -> None:
        version = SemanticVersion.parse(text)
        assert version.canonical == canonical
        assert version.is_prerelease is prerelease
        assert str(version) == text.strip()

    @pytest.mark.parametrize(("text", "canonical", "prerelease"), VALID)
    def test_parse_canonical_gives_an_equal_version(
        self, text: str, canonical: str, prerelease: bool
    ) -> None:
        assert SemanticVersion.parse(canonical) == SemanticVersion.parse(text)
        assert SemanticVersion.parse(text) == SemanticVersion.parse(text)

    @pytest.mark.parametrize("text", INVALID)
    def test_invalid(self, text: str) -> None:
        with pytest.raises(InvalidVersionError) as caught:
            SemanticVersion.parse(text)
        message = str(caught.value)
        assert message.startswith(f"Invalid version {text!r}: expected a PEP 440 version")
        assert "SemVer ('v2.0.0', '2.0.0-rc.1+build.5')" in message
        assert isinstance(caught.value, ValueError)
        assert isinstance(caught.value, AllowanceError)

    @pytest.mark.parametrize("value", [pytest.param(None, id="none"), pytest.param(2.0, id="float")])
    def test_not_text(self, value: object) -> None:
        with pytest.raises(InvalidVersionError, match=f"Invalid version {value!r}"):
            SemanticVersion.parse(value)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "chain",
        [pytest.param(SEMVER_CHAIN, id="semver-spec"), pytest.param(PEP440_CHAIN, id="pep440-spec")],
    )
    def test_order(self, chain: list[str]) -> None:
        versions = [SemanticVersion.parse(text) for text in chain]
        for lower, higher in itertools.pairwise(versions):
            assert lower < higher, (str(lower), str(higher))

    def test_semver_bare_prerelease_word_is_its_first(self) -> None:
        # SemVer orders '-alpha' before '-alpha.0'; PEP 440 reads both as 'a0'. Not a SemVer tie-break we
        # can express, so the two are equal rather than silently misordered.
        assert SemanticVersion.parse("1.0.0-alpha") == SemanticVersion.parse("1.0.0-alpha.0")

    def test_build_metadata_orders_after_the_plain_release(self) -> None:
        # SemVer leaves 1.0.0 and 1.0.0+build unordered; PEP 440 puts local labels after.
        assert SemanticVersion.parse("1.0.0") < SemanticVersion.parse("1.0.0+build.5")

    @pytest.mark.parametrize(
        ("left", "right"),
        [
            pytest.param("2.0", "v2.0.0", id="v-and-padding"),
            pytest.param("2.0rc1", "2.0.0-rc.1", id="semver-rc"),
            pytest.param("1.0.post1", "1.0-1", id="implicit-post"),
        ],
    )
    def test_equality_and_hash_follow_value(self, left: str, right: str) -> None:
        assert SemanticVersion.parse(left) == SemanticVersion.parse(right)
        assert hash(SemanticVersion.parse(left)) == hash(SemanticVersion.parse(right))
        assert str(SemanticVersion.parse(left)) == left

    def test_not_equal_to_its_text(self) -> None:
        text: object = "2.0"
        assert SemanticVersion.parse("2.0") != text

    @pytest.mark.parametrize(("text", "part", "bumped"), BUMPS)
    def test_bump(self, text: str, part: BumpPart, bumped: str) -> None:
        result = SemanticVersion.parse(text).bump(part)
        assert str(result) == bumped
        assert result > SemanticVersion.parse(text)
        assert not result.is_prerelease

    @pytest.mark.parametrize("part", ["minr", "Major", "", None, 1])
    def test_bump_rejects_unknown_parts_with_the_package_error(self, part: object) -> None:
        with pytest.raises(AllowanceError, match="Invalid bump"):
            SemanticVersion.parse("1.0").bump(part)  # type: ignore[arg-type]

    def test_long_input_is_rejected_before_parsing_and_not_echoed_whole(self) -> None:
        with pytest.raises(InvalidVersionError) as caught:
            SemanticVersion.parse("9" * 5000)
        assert "longer than 200 characters" in str(caught.value)
        assert len(str(caught.value)) < 200

    @pytest.mark.parametrize(("text", "canonical", "prerelease"), VALID)
    def test_pickle_round_trips(self, text: str, canonical: str, prerelease: bool) -> None:
        version = SemanticVersion.parse(text)
        again = pickle.loads(pickle.dumps(version))
        assert again == version
        assert str(again) == str(version)

    def test_immutable(self) -> None:
        version = SemanticVersion.parse("2.0")
        with pytest.raises(AttributeError):
            version.text = "3.0"  # type: ignore[misc]
