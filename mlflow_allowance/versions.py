"""Semantic versions of model versions: PEP 440 and SemVer 2.0 in one total order.

A registry version (``3``) counts registrations; a semantic version (``2.0``) names the code generation of
the model. Teams write the latter in either of two schemes, and both parse into one order:

>>> from mlflow_allowance import parse_version
>>> sorted(["2.0", "v2.0.0-rc.1", "1.0.post1", "1.0", "2.0.0-beta.2"], key=parse_version)
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

from mlflow_allowance.errors import InvalidVersionError

__all__ = ["BumpPart", "SemanticVersion", "parse_version"]

BumpPart = Literal["major", "minor", "patch"]

_EXPECTED = (
    "expected a PEP 440 version ('2.0', '1.0.post1', '2.0rc1', '1!1.0') "
    "or SemVer ('v2.0.0', '2.0.0-rc.1+build.5')"
)


@dataclass(frozen=True, order=True)
class SemanticVersion:
    """A parsed semantic version that remembers how it was written.

    Equality, hashing and order follow the version's value, so ``2.0`` equals ``v2.0.0``:

    >>> SemanticVersion.parse("2.0") == SemanticVersion.parse("v2.0.0")
    True
    >>> str(SemanticVersion.parse("v2.0.0-rc.1"))
    'v2.0.0-rc.1'
    >>> SemanticVersion.parse("v2.0.0-rc.1").canonical
    '2.0.0rc1'
    """

    value: Version
    text: str = field(compare=False)

    @classmethod
    def parse(cls, text: str) -> SemanticVersion:
        """Parse ``text``; raise :class:`InvalidVersionError` (a ``ValueError``) if it is not a version."""
        if not isinstance(text, str):
            raise InvalidVersionError(f"Invalid version {text!r}: {_EXPECTED}")
        stripped = text.strip()
        try:
            return cls(Version(stripped), stripped)
        except ValueError:  # InvalidVersion, or a number past int()'s 4300-digit limit
            raise InvalidVersionError(f"Invalid version {text!r}: {_EXPECTED}") from None

    @property
    def canonical(self) -> str:
        """The normalised PEP 440 spelling."""
        return str(self.value)

    @property
    def is_prerelease(self) -> bool:
        """True for alpha, beta, release-candidate and development versions."""
        return self.value.is_prerelease

    def bump(self, part: BumpPart) -> SemanticVersion:
        """The next final release after this one, raising ``part``.

        >>> [str(SemanticVersion.parse("1.4.2").bump(p)) for p in ("major", "minor", "patch")]
        ['2.0.0', '1.5.0', '1.4.3']
        >>> str(SemanticVersion.parse("1.0").bump("patch"))
        '1.0.1'
        """
        index = {"major": 0, "minor": 1, "patch": 2}[part]
        release = list(self.value.release) + [0] * max(0, index + 1 - len(self.value.release))
        release[index] += 1
        release[index + 1 :] = [0] * (len(release) - index - 1)
        epoch = f"{self.value.epoch}!" if self.value.epoch else ""
        try:
            text = epoch + ".".join(map(str, release))
        except ValueError:  # the raised number is past str()'s digit limit
            raise InvalidVersionError(f"Cannot bump {self.text!r}: its {part} number is too large") from None
        return SemanticVersion.parse(text)

    def __str__(self) -> str:
        return self.text


def parse_version(text: str) -> SemanticVersion:
    """Parse a semantic version written in PEP 440 or SemVer 2.0.

    >>> parse_version("2.0.0-rc.1+build.5").canonical
    '2.0.0rc1+build.5'
    >>> parse_version("abc")
    Traceback (most recent call last):
    ...
    mlflow_allowance.errors.InvalidVersionError: Invalid version 'abc': expected a PEP 440 version ...
    """
    return SemanticVersion.parse(text)
