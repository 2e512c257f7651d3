"""Semantic versions of model versions: PEP 440 and SemVer 2.0 in one total order.

A registry version (``3``) counts registrations; a semantic version (``2.0``) names the code generation of
the model. Teams write the latter in either of two schemes, and both parse into one order:

>>> from mlflow_allowance import SemanticVersion
>>> sorted(["2.0", "v2.0.0-rc.1", "1.0.post1", "1.0", "2.0.0-beta.2"], key=SemanticVersion)
['1.0', '1.0.post1', '2.0.0-beta.2', 'v2.0.0-rc.1', '2.0']

SemVer maps onto PEP 440: ``v`` prefixes are dropped, ``-alpha.N``/``-beta.N``/``-rc.N`` become
``aN``/``bN``/``rcN``, ``-dev.N`` becomes ``.devN`` and ``+build`` becomes a local label. Where the two
schemes agree (releases, alpha < beta < rc < final) this order is theirs. SemVer ignores build metadata
for precedence; PEP 440 orders local labels after the plain release, and so do we, which only breaks ties
SemVer leaves open. SemVer pre-release words without a PEP 440 meaning (``-SNAPSHOT``, ``-x.7``) are
rejected rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from packaging.version import Version

from mlflow_allowance.errors import InputError, InvalidVersionError, VersionTypeError, shown

__all__ = ["BumpPart", "SemanticVersion", "version_key"]

BumpPart = Literal["major", "minor", "patch"]
_BUMP_INDEX = {"major": 0, "minor": 1, "patch": 2}
#: Longer text is rejected before it is parsed (real versions are a few dozen characters).
MAX_VERSION_LENGTH = 200

_EXPECTED = (
    "expected a PEP 440 version ('2.0', '1.0.post1', '2.0rc1', '1!1.0') "
    "or SemVer ('v2.0.0', '2.0.0-rc.1+build.5')"
)


def version_key(name: str, version: int | str) -> str:
    """``name/version``: how people, audit records and ``Candidate.key`` refer to a registry version.

    >>> version_key("AImodel", 3)
    'AImodel/3'
    """
    return f"{name}/{version}"


@dataclass(frozen=True, eq=False, init=False)
class SemanticVersion:
    """A parsed semantic version that remembers how it was written.

    Built from what people type (a string), a ``packaging`` :class:`~packaging.version.Version` or another
    ``SemanticVersion``; anything else is a ``TypeError`` (:class:`VersionTypeError`). Equality, hashing
    and order follow one key, the version's value (as packaging's ``Version`` follows its ``_key``), so
    ``2.0`` equals ``v2.0.0`` and a ``packaging`` ``Version`` compares and sorts with it:

    >>> SemanticVersion("2.0") == SemanticVersion.parse("v2.0.0")
    True
    >>> SemanticVersion("1.0") < Version("2.0"), sorted([Version("2.0"), SemanticVersion("1.0")])
    (True, [SemanticVersion('1.0'), <Version('2.0')>])
    >>> str(SemanticVersion("v2.0.0-rc.1")), SemanticVersion("v2.0.0-rc.1").canonical
    ('v2.0.0-rc.1', '2.0.0rc1')
    >>> SemanticVersion("2.0") < SemanticVersion(Version("3"))
    True

    ``text``, when given, must spell the same version as ``value``:

    >>> SemanticVersion("2.0", "3.0")
    Traceback (most recent call last):
    ...
    mlflow_allowance.errors.InvalidVersionError: Invalid version text '3.0': it spells 3.0, not 2.0
    """

    value: Version
    text: str = field(compare=False)

    def __init__(self, value: str | Version | SemanticVersion, text: str | None = None) -> None:
        if isinstance(value, SemanticVersion):
            parsed, written = value.value, value.text
        elif isinstance(value, Version):
            parsed, written = value, str(value)
        elif isinstance(value, str):
            parsed, written = _parse(value), value.strip()
        else:
            raise VersionTypeError(
                f"SemanticVersion takes a version string, a packaging Version or a SemanticVersion, "
                f"not {type(value).__name__}"
            )
        if text is not None:
            if not isinstance(text, str):
                raise VersionTypeError(f"SemanticVersion text must be a string, not {type(text).__name__}")
            spelled = _parse(text)
            if spelled != parsed:
                raise InvalidVersionError(
                    f"Invalid version text {shown(text)}: it spells {spelled}, not {parsed}"
                )
            written = text.strip()
        object.__setattr__(self, "value", parsed)
        object.__setattr__(self, "text", written)

    @classmethod
    def parse(cls, text: str | Version | SemanticVersion) -> SemanticVersion:
        """Parse ``text``; raise :class:`InvalidVersionError` (a ``ValueError``) if it is not a version.

        Anything that is not text or a version (``None``, a number) is a :class:`VersionTypeError`: both
        an :class:`InvalidVersionError` and a ``TypeError``, so a caller handling user input catches one
        error, as the constructor's callers catch the ``TypeError``.

        >>> SemanticVersion.parse("2.0.0-rc.1+build.5").canonical
        '2.0.0rc1+build.5'
        >>> SemanticVersion.parse("abc")
        Traceback (most recent call last):
        ...
        mlflow_allowance.errors.InvalidVersionError: Invalid version 'abc': expected a PEP 440 version ...
        """
        if isinstance(text, SemanticVersion):
            return text
        if not isinstance(text, str | Version):
            raise VersionTypeError(f"Invalid version {shown(text)}: {_EXPECTED}, not {type(text).__name__}")
        return cls(text)

    @property
    def canonical(self) -> str:
        """The normalised PEP 440 spelling."""
        return str(self.value)

    @property
    def is_prerelease(self) -> bool:
        """True for alpha, beta, release-candidate and development versions."""
        return self.value.is_prerelease

    def bump(self, part: BumpPart) -> SemanticVersion:
        """The next final release after this one, raising ``part``, as SemVer (and npm's ``semver``) do.

        >>> [str(SemanticVersion("1.4.2").bump(p)) for p in ("major", "minor", "patch")]
        ['2.0.0', '1.5.0', '1.4.3']
        >>> str(SemanticVersion("1.0").bump("patch"))
        '1.0.1'

        A pre-release bumps to the release it precedes when that release already has the part's shape:

        >>> [str(SemanticVersion("2.1.0-rc.1").bump(p)) for p in ("major", "minor", "patch")]
        ['3.0.0', '2.1.0', '2.1.0']
        >>> SemanticVersion("1.0").bump("minr")
        Traceback (most recent call last):
        ...
        mlflow_allowance.errors.InputError: Invalid bump 'minr': expected 'major', 'minor' or 'patch'
        """
        if part not in _BUMP_INDEX:
            raise InputError(f"Invalid bump {shown(part)}: expected 'major', 'minor' or 'patch'")
        index = _BUMP_INDEX[part]
        release = list(self.value.release) + [0] * max(0, index + 1 - len(self.value.release))
        # SemVer: a pre-release of a release with nothing below the part bumps to that release.
        epoch = f"{self.value.epoch}!" if self.value.epoch else ""
        below = release[: index + 1] + [0] * (len(release) - index - 1)
        if not (release == below and self.value < Version(epoch + ".".join(map(str, release)))):
            release[index] += 1
        release[index + 1 :] = [0] * (len(release) - index - 1)
        try:
            text = epoch + ".".join(map(str, release))
        except ValueError:  # the raised number is past str()'s digit limit
            raise InvalidVersionError(f"Cannot bump {self.text!r}: its {part} number is too large") from None
        return SemanticVersion(text)

    def __eq__(self, other: object) -> bool:
        key = _key(other)
        return NotImplemented if key is None else self.value == key

    def __hash__(self) -> int:
        return hash(self.value)  # as the Version it equals

    def __lt__(self, other: object) -> bool:
        key = _key(other)
        return NotImplemented if key is None else self.value < key

    def __le__(self, other: object) -> bool:
        key = _key(other)
        return NotImplemented if key is None else self.value <= key

    def __gt__(self, other: object) -> bool:
        key = _key(other)
        return NotImplemented if key is None else self.value > key

    def __ge__(self, other: object) -> bool:
        key = _key(other)
        return NotImplemented if key is None else self.value >= key

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"SemanticVersion({self.text!r})"

    def __reduce__(self) -> tuple[type[SemanticVersion], tuple[str]]:
        return (SemanticVersion, (self.text,))


def _key(other: object) -> Version | None:
    """What ``other`` compares by: a version's value, or ``None`` when it is not a version."""
    if isinstance(other, SemanticVersion):
        return other.value
    return other if isinstance(other, Version) else None


def _parse(text: str) -> Version:
    stripped = text.strip()
    if len(stripped) > MAX_VERSION_LENGTH:
        raise InvalidVersionError(
            f"Invalid version {shown(text)}: longer than {MAX_VERSION_LENGTH} characters"
        )
    try:
        return Version(stripped)
    except ValueError:  # InvalidVersion, or a number past int()'s 4300-digit limit
        raise InvalidVersionError(f"Invalid version {shown(text)}: {_EXPECTED}") from None


def _parse_or_none(text: str | None) -> SemanticVersion | None:
    """``text`` parsed, or ``None`` when it is missing or not a version (a tag read back, say)."""
    if text is None:
        return None
    try:
        return SemanticVersion.parse(text)
    except InvalidVersionError:
        return None
