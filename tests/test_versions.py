"""Examples for SemanticVersion and parse_version: PEP 440 and SemVer 2.0 in one order."""

from __future__ import annotations

import itertools
import pickle

import pytest

from mlflow_allowance import AllowanceError, BumpPart, InvalidVersionError, SemanticVersion, parse_version

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
    pytest.param("9" * 5000, id="number-past-int-limit"),
    pytest.param("1.0rc" + "1" * 5000, id="prerelease-number-past-int-limit"),
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
    pytest.param("2.0rc1", "major", "3.0", id="drops-prerelease"),
    pytest.param("1.0.post1", "patch", "1.0.1", id="drops-post"),
    pytest.param("v1.4.2+build.5", "patch", "1.4.3", id="drops-v-and-build"),
]


class TestSemanticVersion:
    @pytest.mark.parametrize(("text", "canonical", "prerelease"), VALID)
    def test_parse(self, text: str, canonical: str, prerelease: bool) -> None:
        version = parse_version(text)
        assert version.canonical == canonical
        assert version.is_prerelease is prerelease
        assert str(version) == text.strip()

    @pytest.mark.parametrize(("text", "canonical", "prerelease"), VALID)
    def test_parse_canonical_gives_an_equal_version(
        self, text: str, canonical: str, prerelease: bool
    ) -> None:
        assert parse_version(canonical) == parse_version(text)
        assert SemanticVersion.parse(text) == parse_version(text)

    @pytest.mark.parametrize("text", INVALID)
    def test_invalid(self, text: str) -> None:
        with pytest.raises(InvalidVersionError) as caught:
            parse_version(text)
        message = str(caught.value)
        assert message.startswith(f"Invalid version {text!r}: expected a PEP 440 version")
        assert "SemVer ('v2.0.0', '2.0.0-rc.1+build.5')" in message
        assert isinstance(caught.value, ValueError)
        assert isinstance(caught.value, AllowanceError)

    @pytest.mark.parametrize("value", [pytest.param(None, id="none"), pytest.param(2.0, id="float")])
    def test_not_text(self, value: object) -> None:
        with pytest.raises(InvalidVersionError, match=f"Invalid version {value!r}"):
            parse_version(value)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "chain",
        [pytest.param(SEMVER_CHAIN, id="semver-spec"), pytest.param(PEP440_CHAIN, id="pep440-spec")],
    )
    def test_order(self, chain: list[str]) -> None:
        versions = [parse_version(text) for text in chain]
        for lower, higher in itertools.pairwise(versions):
            assert lower < higher, (str(lower), str(higher))

    def test_semver_bare_prerelease_word_is_its_first(self) -> None:
        # SemVer orders '-alpha' before '-alpha.0'; PEP 440 reads both as 'a0'. Not a SemVer tie-break we
        # can express, so the two are equal rather than silently misordered.
        assert parse_version("1.0.0-alpha") == parse_version("1.0.0-alpha.0")

    def test_build_metadata_orders_after_the_plain_release(self) -> None:
        # SemVer leaves 1.0.0 and 1.0.0+build unordered; PEP 440 puts local labels after.
        assert parse_version("1.0.0") < parse_version("1.0.0+build.5")

    @pytest.mark.parametrize(
        ("left", "right"),
        [
            pytest.param("2.0", "v2.0.0", id="v-and-padding"),
            pytest.param("2.0rc1", "2.0.0-rc.1", id="semver-rc"),
            pytest.param("1.0.post1", "1.0-1", id="implicit-post"),
        ],
    )
    def test_equality_and_hash_follow_value(self, left: str, right: str) -> None:
        assert parse_version(left) == parse_version(right)
        assert hash(parse_version(left)) == hash(parse_version(right))
        assert str(parse_version(left)) == left

    def test_not_equal_to_its_text(self) -> None:
        text: object = "2.0"
        assert parse_version("2.0") != text

    @pytest.mark.parametrize(("text", "part", "bumped"), BUMPS)
    def test_bump(self, text: str, part: BumpPart, bumped: str) -> None:
        result = parse_version(text).bump(part)
        assert str(result) == bumped
        assert result > parse_version(text)
        assert not result.is_prerelease

    def test_bump_past_the_digit_limit_is_an_invalid_version(self) -> None:
        with pytest.raises(InvalidVersionError, match="Cannot bump"):
            parse_version("9" * 4300).bump("major")

    @pytest.mark.parametrize(("text", "canonical", "prerelease"), VALID)
    def test_pickle_round_trips(self, text: str, canonical: str, prerelease: bool) -> None:
        version = parse_version(text)
        again = pickle.loads(pickle.dumps(version))
        assert again == version
        assert str(again) == str(version)

    def test_immutable(self) -> None:
        version = parse_version("2.0")
        with pytest.raises(AttributeError):
            version.text = "3.0"  # type: ignore[misc]
