"""Version allowances: which semantic versions an environment may use.

>>> from mlflow_allowance import VersionAllowance
>>> prod = VersionAllowance.parse("<=1.0")
>>> prod.allows("1.0"), prod.allows("2.0")
(True, False)
>>> VersionAllowance.parse("1.0 <= v <= 2.0")
VersionAllowance('>=1.0,<=2.0')
>>> VersionAllowance.parse("<=2.0").compare(prod)
<AllowanceComparison.WIDER: 'wider'>

Pre-releases (``2.0rc1``, ``2.0.0-rc.1``) are left out unless the allowance itself names one or the caller
opts in:

>>> VersionAllowance.parse("<=2.0").allows("2.0rc1")
False
>>> VersionAllowance.parse("<=2.0").allows("2.0rc1", prereleases=True)
True
>>> VersionAllowance.parse(">=2.0rc1").allows("2.0rc2")
True
"""

from __future__ import annotations

import enum
import functools
import inspect
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar

from packaging.specifiers import Specifier, SpecifierSet
from packaging.version import Version

from mlflow_allowance.errors import (
    AllowanceTypeError,
    InvalidAllowanceError,
    InvalidVersionError,
    VersionTypeError,
    shown,
)
from mlflow_allowance.versions import SemanticVersion

__all__ = ["AllowanceComparison", "VersionAllowance"]

#: Longer text is rejected before it is parsed; real allowances are a few dozen characters.
MAX_ALLOWANCE_LENGTH = 1000

_V = TypeVar("_V", bound=str | SemanticVersion | Version)

_EXPECTED = (
    "expected PEP 440 specifiers like '<=2.0', '>=1.0,<2.0', '~=1.4', '==2.*', '!=1.3', "
    "a range like '1.0<=v<=2.0', or '*' for any version"
)
# A variable standing for the version in range forms: '1.0<=v<=2.0', '1.0 <= version < 2.0'.
_VARIABLE = re.compile(r"(?:(?<=^)|(?<=[<>=]))(?:v|ver|version|x)(?=$|[<>=!])", re.IGNORECASE)
# Whitespace between two characters of versions ('1.0 2.0', '1 .0'): dropping it would glue them together.
_SPLIT_VERSION = re.compile(r"[\w.*+!]\s+[\w.*+!]")
_LEADING_OP = re.compile(r"^(===|~=|==|!=|<=|>=|<|>|=)")
_TRAILING_OP = re.compile(r"(===|==|<=|>=|<|>|=)$")
_FLIPPED = {"<=": ">=", "<": ">", ">=": "<=", ">": "<", "=": "==", "==": "==", "===": "==="}
_OP_RANK = {"===": 0, "==": 1, "~=": 2, ">=": 3, ">": 4, "<=": 5, "<": 6, "!=": 7}


class AllowanceComparison(enum.Enum):
    """How one allowance relates to another: ``a.compare(b)`` reads "a is ... than b"."""

    EQUAL = "equal"
    WIDER = "wider"
    NARROWER = "narrower"
    OVERLAPPING = "overlapping"
    DISJOINT = "disjoint"


class VersionAllowance:
    """An immutable set of allowed semantic versions, parsed from what people type.

    Equality and hashing follow packaging's rule for each clause (``<=2`` is ``<=2.0``); parsing the
    canonical form gives an equal allowance. As packaging's ``SpecifierSet``, an allowance equals the text
    of an equal allowance, and ``len()`` counts its clauses:

    >>> VersionAllowance("<=2") == "<=2.0", len(VersionAllowance(">=1.0,<=2.0")), len(VersionAllowance("*"))
    (True, 2, 0)

    Its text, equality and hash all follow from its clauses, the one thing it stores.
    """

    # No __dict__: nothing can be stored beside the clauses that the text, equality and hash come from.
    __slots__ = ("_arbitrary_cache", "_key", "_prereleases_cache", "_specs", "_standard_cache")
    _specs: tuple[Specifier, ...]
    _key: frozenset[object]
    # Computed on first use (a slot left empty until then).
    _prereleases_cache: bool
    _standard_cache: SpecifierSet | None
    _arbitrary_cache: tuple[str, ...]

    def __init__(self, clauses: str | VersionAllowance | Iterable[str | Specifier] = ()) -> None:
        """Build an allowance from what people type: a string, an iterable of clauses, or an allowance.

        ``VersionAllowance("<=2.0")`` is ``VersionAllowance.parse("<=2.0")``; ``VersionAllowance(["<=2.0",
        ">=1.0"])`` joins the clauses; no argument allows any final version. Anything else is a
        ``TypeError`` (an :class:`AllowanceTypeError`); text that is not an allowance an
        :class:`InvalidAllowanceError`.

        >>> VersionAllowance("<=2.0") == VersionAllowance.parse("<=2.0") == VersionAllowance(["<=2"])
        True
        >>> VersionAllowance(2.0)
        Traceback (most recent call last):
        ...
        mlflow_allowance.errors.AllowanceTypeError: VersionAllowance takes a string, an iterable of ...
        """
        if isinstance(clauses, VersionAllowance):
            specs: tuple[Specifier, ...] = clauses._specs
        elif isinstance(clauses, str):
            specs = _parse_text(clauses)
        elif isinstance(clauses, Iterable) and not isinstance(clauses, bytes | bytearray | Mapping):
            items = list(clauses)
            bad = next((item for item in items if not isinstance(item, str | Specifier)), None)
            if bad is not None:
                raise AllowanceTypeError(
                    f"VersionAllowance clauses must be strings, not {type(bad).__name__}"
                )
            specs = tuple(
                spec
                for item in items
                for spec in (_parse_text(item) if isinstance(item, str) else (_normalized(item),))
            )
            shown_text = ",".join(str(item) for item in items)
            _reject_if_empty(specs, shown_text)
        else:
            raise AllowanceTypeError(
                "VersionAllowance takes a string, an iterable of clauses or a VersionAllowance, "
                f"not {type(clauses).__name__}"
            )
        self._store(_unique(specs))

    @classmethod
    def _of(cls, specs: Iterable[Specifier]) -> VersionAllowance:
        """An allowance of already-normalised clauses (no emptiness check)."""
        allowance = cls.__new__(cls)
        allowance._store(_unique(specs))
        return allowance

    def _store(self, specs: tuple[Specifier, ...]) -> None:
        """Keep the (sorted, unique) clauses and the key that equality and hashing compare."""
        object.__setattr__(self, "_specs", specs)
        object.__setattr__(self, "_key", frozenset(_clause_key(spec) for spec in specs))

    @classmethod
    def parse(cls, text: str | VersionAllowance) -> VersionAllowance:
        """Parse an allowance; raise :class:`InvalidAllowanceError` (a ``ValueError``) if invalid.

        Idempotent: an allowance is returned as it is. Anything but a string or an allowance is an
        :class:`AllowanceTypeError`, both an :class:`InvalidAllowanceError` and a ``TypeError``, so a
        caller handling user input catches one error.

        >>> VersionAllowance.parse("=2.0").canonical
        '==2.0'
        >>> VersionAllowance.parse("2.0 ≥ version > 1.0").canonical
        '>1.0,<=2.0'
        >>> a = VersionAllowance.parse("<=2.0")
        >>> VersionAllowance.parse(a) is a
        True
        >>> VersionAllowance.parse("<=2.0,>3")
        Traceback (most recent call last):
        ...
        mlflow_allowance.errors.InvalidAllowanceError: Invalid allowance '<=2.0,>3': no version can ...
        """
        if isinstance(text, VersionAllowance):
            return text
        if not isinstance(text, str):
            raise AllowanceTypeError(
                f"Invalid allowance {shown(text)}: {_EXPECTED}; not {type(text).__name__}"
            )
        return cls(text)

    @property
    def canonical(self) -> str:
        """The normalised text: sorted clauses, no spaces, ``*`` for any version."""
        return ",".join(str(spec) for spec in self._specs) or "*"

    @property
    def prereleases(self) -> bool:
        """Whether pre-releases are allowed by default: true when a clause other than ``!=`` names one.

        Excluding a pre-release does not invite the others, as in packaging's ``SpecifierSet``:

        >>> VersionAllowance.parse("<=2.0rc1").prereleases, VersionAllowance.parse("!=2.0rc1").prereleases
        (True, False)
        """
        try:
            return self._prereleases_cache
        except AttributeError:
            found = any(_names_prerelease(spec) for spec in self._specs)
            object.__setattr__(self, "_prereleases_cache", found)
            return found

    @property
    def is_any(self) -> bool:
        """True for ``*``, the allowance that allows every final version."""
        return not self._specs

    def allows(self, version: str | SemanticVersion | Version, *, prereleases: bool | None = None) -> bool:
        """Whether ``version`` is allowed.

        ``prereleases`` overrides the default of :attr:`prereleases`. A string that is not a version raises
        :class:`InvalidVersionError`, unless an arbitrary-equality clause (``===``) names it exactly.

        ``===`` compares text, case-insensitively, as PEP 440 says: a string or a :class:`SemanticVersion`
        as written (stripped), a ``packaging`` ``Version`` as ``str(version)``, its normalised form.

        >>> VersionAllowance.parse("===1.0").allows("1.0"), VersionAllowance.parse("===1.0").allows("01.0")
        (True, False)

        Anything but those three is a :class:`~mlflow_allowance.errors.VersionTypeError` (a ``TypeError``
        and an :class:`InvalidVersionError`):

        >>> VersionAllowance("<=2.0").allows(2.0)
        Traceback (most recent call last):
        ...
        mlflow_allowance.errors.VersionTypeError: allows() needs a version string, a SemanticVersion or ...
        """
        if isinstance(version, SemanticVersion):
            return self._allows_value(version.value, version.text, prereleases)
        if isinstance(version, Version):
            return self._allows_value(version, str(version), prereleases)
        if not isinstance(version, str):
            raise VersionTypeError(
                "allows() needs a version string, a SemanticVersion or a packaging Version, "
                f"not {type(version).__name__} ({shown(version)})"
            )
        value = _version(version)
        if value is not None:
            return self._allows_value(value, version, prereleases)
        if self._specs and len(self._specs) == len(self._arbitrary):
            return all(wanted == version.strip().lower() for wanted in self._arbitrary)
        return self._allows_value(SemanticVersion.parse(version).value, version, prereleases)

    def filter(self, versions: Iterable[_V], *, prereleases: bool | None = None) -> list[_V]:
        """The allowed items of ``versions``, in their order; strings that are not versions are skipped.

        Items may be strings, :class:`SemanticVersion` or ``packaging`` ``Version`` objects, judged as
        :meth:`allows` judges them.

        >>> VersionAllowance.parse("==2.*").filter(["1.0", "2.0", "2.1", "banana", "3.0"])
        ['2.0', '2.1']
        """
        pre = self.prereleases if prereleases is None else prereleases
        if self._arbitrary:
            return [item for item in versions if self._filter_slowly(item, pre)]
        if self._standard is not None and _FILTER_TAKES_KEY:
            # packaging's own loop over its precomputed bounds, one parse per item: as fast as it gets.
            return list(self._standard.filter(versions, prereleases=pre, key=_filter_key))
        contains = self._standard.contains if self._standard is not None else None
        kept: list[_V] = []
        for item in versions:
            value = _filter_key(item)
            if not isinstance(value, Version):  # not a version: skipped
                continue
            if not pre and value.is_prerelease:
                continue
            if contains is None or contains(value, prereleases=True):
                kept.append(item)
        return kept

    def highest(self, versions: Iterable[_V], *, prereleases: bool | None = None) -> _V | None:
        """The highest allowed item of ``versions``, or ``None``.

        >>> VersionAllowance.parse("<=1.0").highest(["0.9", "1.0", "1.0.post1", "2.0"])
        '1.0'
        """
        allowed = self.filter(versions, prereleases=prereleases)
        return max(allowed, key=_order_key, default=None)

    def __contains__(self, version: object) -> bool:
        """``version in allowance``: :meth:`allows` with the default pre-release rule, as packaging's
        ``"1.4" in SpecifierSet("<=2.0")``; text that is not a version is simply not in it.

        >>> prod = VersionAllowance("<=2.0")
        >>> "1.0" in prod, "3.0" in prod, "banana" in prod
        (True, False, False)
        """
        if not isinstance(version, str | SemanticVersion | Version):
            raise VersionTypeError(
                f"'in <VersionAllowance>' needs a version string, not {type(version).__name__}"
            )
        try:
            return self.allows(version)
        except InvalidVersionError:
            return False

    def __and__(self, other: object) -> VersionAllowance:
        """The allowance of versions both allow; :class:`InvalidAllowanceError` if none can satisfy both.

        ``other`` may be an allowance or the text of one:

        >>> VersionAllowance.parse("<=2.0") & ">=1.0"
        VersionAllowance('>=1.0,<=2.0')
        """
        if isinstance(other, str):
            other = VersionAllowance.parse(other)
        if not isinstance(other, VersionAllowance):
            return NotImplemented
        specs = (*self._specs, *other._specs)
        _reject_if_empty(specs, f"{self.canonical} & {other.canonical}")
        return VersionAllowance._of(specs)

    def __rand__(self, other: object) -> VersionAllowance:
        if isinstance(other, str):
            return VersionAllowance.parse(other) & self
        return NotImplemented

    def compare(self, other: VersionAllowance | str) -> AllowanceComparison:
        """How this allowance relates to ``other`` (wider, narrower, equal, overlapping or disjoint).

        Decided on probe versions around every boundary either allowance names (just below, at, and just
        above each, with pre-, post-, dev- and local variants), which is where any difference must show.

        >>> a = VersionAllowance.parse("<=2.0")
        >>> a.compare(VersionAllowance.parse("==2.0")).value, a.compare(VersionAllowance.parse(">=3")).value
        ('wider', 'disjoint')
        >>> a.compare(">=1.0").value
        'overlapping'
        """
        if isinstance(other, str):
            other = VersionAllowance.parse(other)
        if not isinstance(other, VersionAllowance):
            raise AllowanceTypeError(
                f"compare() needs a VersionAllowance or its text, not {type(other).__name__}"
            )
        only_self = only_other = both = False
        for probe in _probes((*self._specs, *other._specs)):
            mine, theirs = self._allows_probe(probe), other._allows_probe(probe)
            only_self |= mine and not theirs
            only_other |= theirs and not mine
            both |= mine and theirs
        if not only_self and not only_other:
            return AllowanceComparison.EQUAL
        if not only_other:
            return AllowanceComparison.WIDER
        if not only_self:
            return AllowanceComparison.NARROWER
        return AllowanceComparison.OVERLAPPING if both else AllowanceComparison.DISJOINT

    def is_wider_than(self, other: VersionAllowance | str) -> bool:
        """True when this allows everything ``other`` allows, and more."""
        return self.compare(other) is AllowanceComparison.WIDER

    def is_narrower_than(self, other: VersionAllowance | str) -> bool:
        """True when ``other`` allows everything this allows, and more."""
        return self.compare(other) is AllowanceComparison.NARROWER

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"VersionAllowance is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"VersionAllowance is immutable; cannot delete {name!r}")

    def __iter__(self) -> Iterator[str]:
        """The canonical clauses."""
        return (str(spec) for spec in self._specs)

    def __len__(self) -> int:
        """The number of clauses, as packaging's ``SpecifierSet``; ``*`` has none."""
        return len(self._specs)

    def __bool__(self) -> bool:
        """Always true: every allowance allows some version (``*`` has no clauses and allows them all), so
        ``if allowance:`` reads "if there is one", unlike an empty ``SpecifierSet``."""
        return True

    def __eq__(self, other: object) -> bool:
        """Equal when the clauses are, by packaging's rule for each (``<=2`` is ``<=2.0``, ``==2.*`` is not
        ``==2.0.*``): the same rule that drops a repeated clause.

        Text is parsed first, as packaging's ``SpecifierSet.__eq__`` does; text that is no allowance is
        simply not equal. The hash is the clauses' alone (as packaging's): an allowance and its text are
        equal, but a set or dict keyed by allowances is not looked up by text.
        """
        if isinstance(other, str):
            try:
                other = VersionAllowance(other)
            except InvalidAllowanceError:
                return NotImplemented
        if not isinstance(other, VersionAllowance):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __str__(self) -> str:
        return self.canonical

    def __repr__(self) -> str:
        return f"VersionAllowance({self.canonical!r})"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (VersionAllowance, (self.canonical,))

    @property
    def _standard(self) -> SpecifierSet | None:
        """The clauses other than ``===``, as one set that packaging answers from precomputed bounds."""
        try:
            return self._standard_cache
        except AttributeError:
            standard = [spec for spec in self._specs if spec.operator != "==="]
            # One comma-joined string: packaging before 24 takes no list of specifiers.
            found = SpecifierSet(",".join(str(spec) for spec in standard)) if standard else None
            object.__setattr__(self, "_standard_cache", found)
            return found

    @property
    def _arbitrary(self) -> tuple[str, ...]:
        """The lower-cased strings that ``===`` clauses name."""
        try:
            return self._arbitrary_cache
        except AttributeError:
            found = tuple(spec.version.lower() for spec in self._specs if spec.operator == "===")
            object.__setattr__(self, "_arbitrary_cache", found)
            return found

    def _allows_value(self, value: Version, text: str, prereleases: bool | None) -> bool:
        """Whether the version ``value``, written ``text``, is allowed; ``===`` judges ``text`` alone."""
        pre = self.prereleases if prereleases is None else prereleases
        if value.is_prerelease and not pre:
            return False
        if self._standard is not None and not self._standard.contains(value, prereleases=True):
            return False
        if not self._arbitrary:
            return True
        # PEP 440: '===' is a plain string comparison, so '01.0' is not '1.0' even though it parses to it.
        written = text.strip().lower()
        return all(wanted == written for wanted in self._arbitrary)

    def _filter_slowly(self, item: str | SemanticVersion | Version, pre: bool) -> bool:
        if isinstance(item, SemanticVersion):
            return self._allows_value(item.value, item.text, pre)
        if isinstance(item, Version):
            return self._allows_value(item, str(item), pre)
        value = _version(item)
        return value is not None and self._allows_value(value, item, pre)

    def _allows_probe(self, probe: str, prereleases: bool | None = None) -> bool:
        value = _probe_version(probe)
        if value is not None:
            return self._allows_value(value, probe, prereleases)
        try:
            return self.allows(probe, prereleases=prereleases)
        except InvalidVersionError:
            return False


def _parse_text(text: str) -> tuple[Specifier, ...]:
    """The normalised clauses of allowance ``text``; :class:`InvalidAllowanceError` if it is not one."""
    if len(text) > MAX_ALLOWANCE_LENGTH:  # before any parsing, which is linear but not free
        raise InvalidAllowanceError(
            f"Invalid allowance {shown(text)}: longer than {MAX_ALLOWANCE_LENGTH} characters"
        )
    if _SPLIT_VERSION.search(text):
        raise InvalidAllowanceError(
            f"Invalid allowance {shown(text)}: a space inside a version or between two versions; "
            "separate clauses with ',' (e.g. '>=1.0,<2.0')"
        )
    compact = "".join(text.replace("≤", "<=").replace("≥", ">=").split())
    if not compact:
        raise InvalidAllowanceError(f"Invalid allowance {shown(text)}: it is empty; {_EXPECTED}")
    clauses = compact.split(",")
    if "" in clauses:
        raise InvalidAllowanceError(f"Invalid allowance {shown(text)}: {_empty_clause(clauses)}")
    specs: list[Specifier] = []
    for clause in clauses:
        specs.extend(_parse_clause(text, clause))
    _reject_if_empty(tuple(specs), text)
    return tuple(specs)


def _empty_clause(clauses: list[str]) -> str:
    """Where the empty clause between commas is, in words."""
    if clauses[-1] == "":
        where = "an empty clause after the last comma (a trailing comma)"
    elif clauses[0] == "":
        where = "an empty clause before the first comma (a leading comma)"
    else:
        where = "an empty clause between two commas"
    return f"{where}; remove the comma or put a clause there, e.g. '>=1.0,<=2.0'"


def _unique(specs: Iterable[Specifier]) -> tuple[Specifier, ...]:
    """The clauses sorted, each once by packaging's equality (of ``<=2`` and ``<=2.0`` the first sorted)."""
    # Sort before dropping duplicates: of equal clauses spelled differently the same one is kept whatever
    # the input order, so the canonical form does not depend on it. A set keeps this linear.
    seen: set[object] = set()
    unique: list[Specifier] = []
    for spec in sorted(specs, key=_sort_key):
        key = _clause_key(spec)
        if key not in seen:
            seen.add(key)
            unique.append(spec)
    return tuple(unique)


def _clause_key(spec: Specifier) -> object:
    """What makes two clauses the same: packaging's equality, but ``===`` by its text alone (case aside), as
    PEP 440 says; packaging before 26 also normalised the version of a ``===`` clause (``===01.0`` was
    ``===1.0``)."""
    return ("===", spec.version.lower()) if spec.operator == "===" else spec


def _normalized(spec: Specifier) -> Specifier:
    """A packaging ``Specifier`` given directly, normalised as a parsed clause would be."""
    return _specifier(str(spec), str(spec), str(spec))


def _reject_if_empty(specs: tuple[Specifier, ...], text: str) -> None:
    whole = VersionAllowance._of(specs)
    if any(whole._allows_probe(p, True) for p in _probes(whole._specs)):
        return
    culprits = whole._specs
    for i, first in enumerate(whole._specs):
        for second in whole._specs[i + 1 :]:
            pair = VersionAllowance._of((first, second))
            if not any(pair._allows_probe(p, True) for p in _probes(pair._specs)):
                culprits = (first, second)
                break
        else:
            continue
        break
    listed = ", ".join(repr(str(spec)) for spec in culprits)
    raise InvalidAllowanceError(f"Invalid allowance {shown(text)}: no version can satisfy all of {listed}")


def _parse_clause(text: str, clause: str) -> list[Specifier]:
    if clause == "*":
        return []
    parts = _VARIABLE.split(clause)
    if len(parts) == 2:
        left, right = parts
        specs = []
        if left:
            match = _TRAILING_OP.search(left)
            if not match:
                raise _invalid(text, clause)
            specs.append(_specifier(text, clause, _FLIPPED[match.group(1)] + left[: match.start()]))
        if right:
            specs.append(_specifier(text, clause, right))
        if not specs:
            raise _invalid(text, clause)
        return specs
    if len(parts) > 2:
        raise _invalid(text, clause)
    match = _LEADING_OP.match(clause)
    if not match:
        return [_specifier(text, clause, "==" + clause)]  # a bare version means exactly that version
    if match.group(1) == "=":
        return [_specifier(text, clause, "=" + clause)]
    return [_specifier(text, clause, clause)]


def _specifier(text: str, clause: str, spec_text: str) -> Specifier:
    match = _LEADING_OP.match(spec_text)
    if match and match.group(1) == "=":
        spec_text = "=" + spec_text
    try:
        spec = Specifier(spec_text)
        if spec.operator == "===":
            return spec
        version = spec.version
        suffix = ".*" if version.endswith(".*") else ""
        return Specifier(spec.operator + str(Version(version.removesuffix(".*"))) + suffix)
    except ValueError:  # InvalidSpecifier, InvalidVersion, or a number past int()'s digit limit
        raise _invalid(text, clause) from None


def _invalid(text: str, clause: str) -> InvalidAllowanceError:
    where = "" if clause == "".join(text.split()) else f" (in {shown(clause)})"
    return InvalidAllowanceError(f"Invalid allowance {shown(text)}{where}: {_EXPECTED}")


# ``SpecifierSet.filter(..., key=...)`` arrived in packaging 26.1; older releases take the slower loop.
_FILTER_TAKES_KEY = "key" in inspect.signature(SpecifierSet.filter).parameters


def _filter_key(item: str | SemanticVersion | Version) -> Version | str:
    """The version ``SpecifierSet.filter`` should judge ``item`` by; ``""`` (skipped) if it has none."""
    if isinstance(item, SemanticVersion):
        return item.value
    if isinstance(item, Version):
        return item
    try:
        return Version(item)
    except ValueError:  # InvalidVersion, or a number past int()'s digit limit
        return ""


def _version(text: str) -> Version | None:
    """``Version(text)``, or ``None`` when ``text`` is not a version."""
    try:
        return Version(text)
    except ValueError:  # InvalidVersion, or a number past int()'s digit limit
        return None


def _names_prerelease(spec: Specifier) -> bool:
    if spec.operator == "!=":
        return False
    version = _version(spec.version.removesuffix(".*"))
    return version is not None and version.is_prerelease


def _sort_key(spec: Specifier) -> tuple[int, Version | None, str, int]:
    version = _version(spec.version.removesuffix(".*"))
    return (0 if version is not None else 1, version, spec.version, _OP_RANK[spec.operator])


def _order_key(item: str | SemanticVersion | Version) -> Version:
    if isinstance(item, SemanticVersion):
        return item.value
    return item if isinstance(item, Version) else Version(item)


_SUFFIXES = ("", ".dev0", "a0", "a1.dev1", "b2", "rc1", "rc9999", ".post0.dev0", ".post1", ".post9999")
_LOCALS = ("", "+probe")


_BASE_PROBES = frozenset({"0", "0.dev0", "0.0.1", "1", "99999", "99999.post1", "1!0", "1!99999"})


def _probes(specs: Iterable[Specifier]) -> set[str]:
    """Versions just below, at and just above every boundary the clauses name."""
    probes = set(_BASE_PROBES)
    for spec in specs:
        probes |= _boundary_probes(spec.version)
    return probes


@functools.lru_cache(maxsize=1024)
def _boundary_probes(raw: str) -> frozenset[str]:
    """The probes around one clause's version; cached, as parse, ``&`` and compare ask again and again."""
    probes = {raw, raw + "+probe" if "+" not in raw else raw}
    version = _version(raw.removesuffix(".*"))
    if version is None:
        return frozenset(probes)
    try:
        probes.update(_family(version))
        for release in _neighbour_releases(version.release):
            epoch = f"{version.epoch}!" if version.epoch else ""
            base = epoch + ".".join(map(str, release))
            probes.update(base + suffix + local for suffix in _SUFFIXES for local in _LOCALS)
    except ValueError:  # a neighbour's number is past str()'s digit limit; such a clause gets fewer probes
        pass
    return frozenset(probes)


@functools.lru_cache(maxsize=16384)
def _probe_version(probe: str) -> Version | None:
    return _version(probe)


def _family(version: Version) -> set[str]:
    """The version itself and its immediate pre/post/dev neighbours, with and without a local label."""
    found = {str(version), version.public, version.public + "+probe", version.public + "+zzz.9"}
    public = version.public
    if version.dev is not None:
        found.update({public.rsplit(".dev", 1)[0] + f".dev{version.dev + d}" for d in (1,)})
        if version.dev > 0:
            found.add(public.rsplit(".dev", 1)[0] + f".dev{version.dev - 1}")
    if version.post is not None:
        found.update({public + ".dev0", public + ".post" + str(version.post + 1)})
    if version.pre is not None:
        letter, number = version.pre
        head = public.split(letter, 1)[0]
        found.update({f"{head}{letter}{number + 1}", f"{head}{letter}{number}.post1"})
        if number > 0:
            found.add(f"{head}{letter}{number - 1}")
    found.update({public + ".post1", public + ".post1.dev0"} if version.post is None else set())
    return {probe for probe in found if _valid(probe)}


def _neighbour_releases(release: tuple[int, ...]) -> set[tuple[int, ...]]:
    found = {release, (*release, 0, 1), (*release, 1), (*release, 0), release[:1]}
    for size in range(1, len(release) + 1):
        head = release[:size]
        found.add((*head[:-1], head[-1] + 1))
        found.add((*head[:-1], head[-1] + 1, 0))
        if head[-1] > 0:
            found.add((*head[:-1], head[-1] - 1))
            found.add((*head[:-1], head[-1] - 1, 99999))
    return found


def _valid(text: str) -> bool:
    return _version(text) is not None
