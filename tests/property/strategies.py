"""Hypothesis strategies for the pure core: version texts, allowances and candidates.

Numbers are kept small (mostly 0-3) and releases often carry trailing zeros (``2``, ``2.0``, ``2.0.0``) so
that sampled versions land on, just below and just above the boundaries the sampled allowances name, and
equal versions meet in different spellings; that is where parsers and comparisons go wrong.

Strategies are built once, at import: hypothesis validates a strategy the first time it is drawn from.
"""

from __future__ import annotations

import itertools
from typing import cast

from hypothesis import strategies as st
from packaging.version import Version

from mlflow_allowance import VersionAllowance
from mlflow_allowance.errors import InvalidAllowanceError
from mlflow_allowance.selection import Candidate, SelectionPolicy

__all__ = [
    "METRIC",
    "VERSION_POOL",
    "allowance_texts",
    "allowances",
    "candidate_lists",
    "candidates",
    "clauses",
    "colliding_clauses",
    "final_versions",
    "metric_values",
    "pep440_allowances",
    "pep440_clauses",
    "pep440_versions",
    "policies",
    "pool_allowances",
    "semver_versions",
    "specifier_allowances",
    "specifier_clauses",
    "unnormalised_versions",
    "version_samples",
    "versions",
]

METRIC = "F1"


def _weighted(*choices: tuple[int, st.SearchStrategy[str]]) -> st.SearchStrategy[str]:
    """Draw from one of ``choices``, each ``(weight, strategy)`` in proportion to its weight.

    Unlike ``one_of(a, a, b)`` this keeps the strategy's repr short, which hypothesis prints (and warns
    about past 30 kB) whenever a filter gives up.
    """
    branches = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(min_value=0, max_value=len(branches) - 1).flatmap(lambda index: branches[index])


def _segments(words: list[str], numbers: list[str], *, blanks: int) -> st.SearchStrategy[str]:
    """``blanks`` in ``blanks + 1`` times the empty string, else a word followed by a number.

    Few draws per segment keep generation cheap; the empty string comes first so that examples shrink
    towards plain releases.
    """
    pairs = st.sampled_from([word + number for word in words for number in numbers])
    return st.one_of([st.just("")] * blanks + [pairs])


_NUMBERS = ["0", "1", "2", "3", "10", "99"]
# '2', '2.0' and '2.0.0' all appear: equal versions meet in different spellings.
_STEMS = [".".join(map(str, stem)) for size in (1, 2, 3) for stem in itertools.product(range(4), repeat=size)]
_release = st.builds(str.__add__, st.sampled_from(_STEMS), st.sampled_from(["", "", ".0", ".0.0"]))
_epoch = st.sampled_from([""] * 7 + ["1!"])
_pre = _segments(["a", "b", "rc", "alpha", "beta", "c", "RC", "-rc.", ".a"], _NUMBERS, blanks=3)
_post = _segments([".post", "-", "post", ".r"], _NUMBERS, blanks=4)
_dev = _segments([".dev", "dev", "-dev."], _NUMBERS, blanks=4)
_local = st.one_of(
    [st.just("")] * 5 + [st.sampled_from(["+local", "+1", "+abc.2", "+0", "+build.5", "+zzz"])]
)


def _pep440(*, final: bool, local: bool) -> st.SearchStrategy[str]:
    parts = [
        _epoch,
        _release,
        st.just("") if final else _pre,
        _post,
        st.just("") if final else _dev,
        _local if local else st.just(""),
    ]
    return st.tuples(*parts).map("".join)


def pep440_versions(*, final: bool = False, local: bool = True) -> st.SearchStrategy[str]:
    """A PEP 440 version text: epoch, release, pre, post, dev and local segments, normalised or not."""
    return _PEP440[final, local]


_PEP440 = {(f, loc): _pep440(final=f, local=loc) for f in (False, True) for loc in (False, True)}

_semver_number = st.sampled_from(["0", "1", "2", "3", "10"])
_semver_core = st.tuples(_semver_number, _semver_number, _semver_number).map(".".join)
_semver_pre = _segments(["-alpha", "-beta", "-rc", "-dev"], ["", ".0", ".1", ".2", ".11"], blanks=1)
_build = st.one_of(
    [st.just("")] * 3 + [st.sampled_from(["+build.5", "+sha.abc123", "+001", "+exp.sha.5114f85"])]
)


def _semver(*, final: bool) -> st.SearchStrategy[str]:
    parts = [st.sampled_from(["", "v"]), _semver_core, st.just("") if final else _semver_pre, _build]
    return st.tuples(*parts).map("".join)


_SEMVER = {final: _semver(final=final) for final in (False, True)}


def semver_versions(*, final: bool = False) -> st.SearchStrategy[str]:
    """A SemVer 2.0 text with a ``v`` prefix, a pre-release PEP 440 can express, and build metadata."""
    return _SEMVER[final]


_VERSIONS = pep440_versions() | semver_versions()
_FINAL_VERSIONS = pep440_versions(final=True) | semver_versions(final=True)


def versions() -> st.SearchStrategy[str]:
    """Any version text the package accepts: PEP 440 or SemVer."""
    return _VERSIONS


def final_versions() -> st.SearchStrategy[str]:
    """Version texts that are not pre-releases (no alpha, beta, rc or dev segment)."""
    return _FINAL_VERSIONS


# Spellings PEP 440 normalises away (as in packaging's test_specifiers_normalized): a 'v', a zero epoch,
# leading zeros, implicit numbers, '-N' for a post-release, other separators and words, and case. '==='
# compares text, so this is where it parts from '=='. Few stems, so spellings of one version meet.
_spelt_prefix = st.sampled_from(["", "", "", "v", "V"])
_spelt_epoch = st.sampled_from(["", "", "", "", "0!", "00!", "1!", "01!"])
_spelt_release = st.sampled_from(["1", "1.0", "01.0", "1.00", "1.0.0", "1.1", "1.01", "2.0", "02.0"])
_spelt_pre = st.sampled_from(
    [""] * 12 + ["a1", "A1", ".a1", "-alpha1", "a", "a01", "b1", "_BETA.1", "c1", "rc1", ".RC1", "-pre-1"]
)
_spelt_post = st.sampled_from(
    [""] * 9 + [".post1", ".post01", "-1", "-01", ".POST1", "_post1", "post", ".r1", "-rev1", ".post.1"]
)
_spelt_dev = st.sampled_from([""] * 7 + [".dev1", ".dev01", "dev1", "-dev1", ".DEV1", "_dev", ".dev.1"])
_spelt_local = st.sampled_from(
    [""] * 6 + ["+local", "+LOCAL", "+local.1", "+local-01", "+Local_1", "+abc.def"]
)


def _as_written(text: str) -> str:
    return text


def _spelt(*, local: bool) -> st.SearchStrategy[str]:
    segments = [_spelt_prefix, _spelt_epoch, _spelt_release, _spelt_pre, _spelt_post, _spelt_dev]
    text = st.tuples(*segments, _spelt_local if local else st.just("")).map("".join)
    case = st.sampled_from([_as_written, _as_written, _as_written, str.upper, str.lower])
    return st.builds(lambda written, recase: recase(written), text, case)


_UNNORMALISED = _spelt(local=True)


def unnormalised_versions() -> st.SearchStrategy[str]:
    """A PEP 440 version in a spelling its normal form differs from: ``01.0``, ``1.a1``, ``1.0-1``,
    ``0!1.0``, ``V1.0``, ``1.0.DEV01``, ``1.0+Local_1``..., or sometimes its normal form."""
    return _UNNORMALISED


# One sample per test case: the '===' clauses below respell its items, so that they meet it as written, in
# another case, or normalised (the spellings where '===' and '==' disagree).
_SAMPLE = st.shared(st.lists(_VERSIONS | _UNNORMALISED, min_size=1, max_size=8), key="version-sample")


def version_samples() -> st.SearchStrategy[list[str]]:
    """One to eight version texts in any spelling: within a test case, the very list whose items the
    ``===`` clauses of :func:`allowances` and :func:`specifier_allowances` respell."""
    return _SAMPLE


def _respellings(text: str) -> list[str]:
    """``text`` as written, in other cases, and normalised: what a ``===`` clause about it may say."""
    normalised = str(Version(text))
    return [text, text.upper(), text.swapcase(), normalised, normalised.upper(), "v" + normalised]


_arbitrary = _SAMPLE.flatmap(
    lambda sample: st.sampled_from([f"==={spelling}" for text in sample for spelling in _respellings(text)])
)


# Versions as they appear inside clauses: no local label (PEP 440 allows one only after == and !=).
_boundary = pep440_versions(local=False)
_ordered = st.builds(str.__add__, st.sampled_from(["<=", ">=", "<", ">"]), _boundary)
_compatible = st.builds(
    lambda epoch, stem, zeros: f"~={epoch}{stem}{zeros}",
    _epoch,
    st.sampled_from(_STEMS),
    st.sampled_from([".0", ".0", ".0.0"]),
)
_equality = st.builds(
    str.__add__,
    st.sampled_from(["==", "!="]),
    st.one_of(
        _boundary,
        st.builds(lambda epoch, release: f"{epoch}{release}.*", _epoch, _release),
        st.builds(lambda version: version + "+local", _boundary),
    ),
)
# Few boundaries in several spellings, so that equal clauses written differently meet in one allowance.
_colliding = st.builds(
    str.__add__,
    st.sampled_from(["<=", ">=", "<", ">", "==", "!=", "~="]),
    st.sampled_from(["1.0", "1.0.0", "2.0", "2.0.0", "2.00", "1.0rc1", "1.0.0-rc.1", "1.0.0rc1"]),
)
_PEP440_CLAUSES = _weighted((2, _ordered), (1, _compatible), (2, _equality), (1, _colliding))

_flipped = st.builds(
    lambda version, operator, variable, space: f"{version}{space}{operator}{space}{variable}",
    _boundary,
    st.sampled_from(["<=", "<", ">=", ">"]),
    st.sampled_from(["v", "version", "x"]),
    st.sampled_from(["", " "]),
)
_CLAUSES = _weighted(
    (3, _PEP440_CLAUSES),
    (1, st.builds(str.__add__, st.sampled_from(["=", "≤", "≥", ""]), _boundary)),
    (1, _flipped),
    (1, st.sampled_from(["===2.0-custom", "===1.0", "===2.0", "===1.0rc1"])),
    (1, _arbitrary),
)
# Every PEP 440 operator, '===' included, on versions in spellings PEP 440 normalises away.
_spelt_prefix_match = st.builds(
    lambda operator, prefix, epoch, release: f"{operator}{prefix}{epoch}{release}.*",
    st.sampled_from(["==", "!="]),
    _spelt_prefix,
    _spelt_epoch,
    _spelt_release,
)
_spelt_clauses = _weighted(
    (3, st.builds(str.__add__, st.sampled_from(["<=", ">=", "<", ">", "==", "!="]), _spelt(local=False))),
    (1, st.builds(str.__add__, st.sampled_from(["==", "!="]), _spelt(local=True))),
    (1, _spelt_prefix_match),
)
_SPECIFIER_CLAUSES = _weighted((2, _PEP440_CLAUSES), (2, _spelt_clauses), (2, _arbitrary))


def pep440_clauses() -> st.SearchStrategy[str]:
    """One PEP 440 specifier clause (no ``===``): ``<=2.0``, ``~=1.4``, ``==2.*``, ``!=1.3+local``..."""
    return _PEP440_CLAUSES


def specifier_clauses() -> st.SearchStrategy[str]:
    """One PEP 440 clause, every operator and ``===`` included, often on a spelling PEP 440 normalises
    (``<=01.0``, ``==V1.0.*``, ``!=1.0-1``); a ``===`` clause respells an item of :func:`version_samples`."""
    return _SPECIFIER_CLAUSES


def colliding_clauses() -> st.SearchStrategy[str]:
    """Clauses on a few boundaries in several spellings (``<=1.0``, ``<=1.0.0``, ``<=1.0.0-rc.1``...)."""
    return _colliding


def clauses() -> st.SearchStrategy[str]:
    """One clause in any spelling people type: PEP 440, ``=2.0``, ``≤2.0``, ``1.0<=v``, ``===2.0-custom``."""
    return _CLAUSES


def allowance_texts(clause: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[str]:
    """One to three clauses joined by commas with stray whitespace, or ``*``."""
    return st.just("*") | st.builds(
        lambda parts, comma, edge: edge + comma.join(parts) + edge,
        st.lists(_CLAUSES if clause is None else clause, min_size=1, max_size=3),
        st.sampled_from([",", ", ", " , ", ",  "]),
        st.sampled_from(["", "", " ", "\t"]),
    )


def _parse_or_none(text: str) -> VersionAllowance | None:
    try:
        return VersionAllowance.parse(text)
    except InvalidAllowanceError:
        return None


def _parsed(texts: st.SearchStrategy[str]) -> st.SearchStrategy[VersionAllowance]:
    """The allowances among ``texts`` that parse (unsatisfiable ones are filtered out, not rejected:
    a rejection raised through a draw makes hypothesis render the whole strategy tree)."""
    parsed = texts.map(_parse_or_none).filter(lambda allowance: allowance is not None)
    return cast("st.SearchStrategy[VersionAllowance]", parsed)


_ALLOWANCES = _parsed(allowance_texts())
_PEP440_ALLOWANCES = _parsed(allowance_texts(_PEP440_CLAUSES))
# Two in three lead with a '===' clause: drawn among the others, few would survive the satisfiability filter.
_led_by_arbitrary = st.builds(
    lambda first, rest: ",".join([first, *rest]), _arbitrary, st.lists(_SPECIFIER_CLAUSES, max_size=2)
)
_SPECIFIER_ALLOWANCES = _parsed(_weighted((1, allowance_texts(_SPECIFIER_CLAUSES)), (2, _led_by_arbitrary)))


def allowances() -> st.SearchStrategy[VersionAllowance]:
    """Satisfiable allowances in any spelling; their ``===`` clauses may respell :func:`version_samples`."""
    return _ALLOWANCES


def pep440_allowances() -> st.SearchStrategy[VersionAllowance]:
    """Satisfiable allowances made of PEP 440 clauses only, so packaging's SpecifierSet can judge them."""
    return _PEP440_ALLOWANCES


def specifier_allowances() -> st.SearchStrategy[VersionAllowance]:
    """Satisfiable allowances of PEP 440 clauses with every operator, ``===`` included, on versions in
    spellings PEP 440 normalises; their ``===`` clauses respell the items of :func:`version_samples`."""
    return _SPECIFIER_ALLOWANCES


_METRIC_VALUES = st.sampled_from([0.5, 0.9, 0.9, 0.98, 1.0, 0.0, -0.0]) | st.floats(
    allow_nan=True, allow_infinity=True
)


def metric_values() -> st.SearchStrategy[float]:
    """Metric values that tie often, plus NaN, infinities and signed zeros."""
    return _METRIC_VALUES


# Selection laws draw many candidates per example; these fixed pools keep each draw to one choice while
# still straddling the boundaries of the pooled clauses (pre-, post-, local and SemVer spellings included).
VERSION_POOL = (
    "0.9", "1.0", "1.0.0", "v1.0.0", "1.0.post1", "1.0rc1", "1.0.0-rc.1", "1.0.0-rc.1+build.5", "1.0+local",
    "1.3", "1.4", "1.4.2", "v1.5.0", "1.9.9", "2.0.dev0", "2.0.0-beta.2", "2.0rc1", "2.0", "2.0.0",
    "v2.0.0+build.5", "2.0.post1", "2.1.0", "2.5", "3", "1!1.0",
)  # fmt: skip
_POOL_CLAUSES = st.sampled_from(
    [f"{op}{v}" for op in ("<=", ">=", "<", ">", "==", "!=") for v in ("1.0", "1.4", "2.0", "2", "2.0rc1")]
    + ["~=1.4", "~=1.0", "==2.*", "!=1.*", "*"]
)
_POOL_ALLOWANCES = _parsed(st.lists(_POOL_CLAUSES, min_size=1, max_size=3).map(",".join))

_MODEL_NAMES = st.sampled_from(["AImodel", "BImodel", "churn"])
_CANDIDATES = st.builds(
    Candidate,
    name=_MODEL_NAMES,
    version=st.integers(min_value=1, max_value=12),
    semver=st.sampled_from([*VERSION_POOL, None, "abc", "2.0.0-SNAPSHOT", ""]),
    metrics=st.fixed_dictionaries({}, optional={METRIC: _METRIC_VALUES, "loss": _METRIC_VALUES}),
    tags=st.fixed_dictionaries({}, optional={"stage": st.sampled_from(["approved", "draft"])}),
    status=st.sampled_from(["READY"] * 6 + ["FAILED_REGISTRATION", "PENDING_REGISTRATION"]),
)


def pool_allowances() -> st.SearchStrategy[VersionAllowance]:
    """Satisfiable allowances of one to three clauses on the boundaries of :data:`VERSION_POOL`."""
    return _POOL_ALLOWANCES


def candidates() -> st.SearchStrategy[Candidate]:
    """A registry version: maybe no or a bad version tag, maybe no, NaN or infinite metric, maybe failed."""
    return _CANDIDATES


def candidate_lists(*, max_size: int = 6) -> st.SearchStrategy[list[Candidate]]:
    """Candidates with distinct ``name/version`` keys, as a registry has them."""
    return st.lists(_CANDIDATES, max_size=max_size, unique_by=lambda c: c.key)


def policies(
    *,
    allowance: st.SearchStrategy[VersionAllowance] | None = None,
    prereleases: st.SearchStrategy[bool | None] | None = None,
    metric: st.SearchStrategy[str | None] | None = None,
) -> st.SearchStrategy[SelectionPolicy]:
    """A policy: maybe a metric (maximised or minimised), required tags, a pre-release choice, and an
    allowance of its own for one of the models."""
    return st.builds(
        SelectionPolicy,
        allowance=_POOL_ALLOWANCES if allowance is None else allowance,
        metric=st.sampled_from([METRIC, METRIC, None]) if metric is None else metric,
        maximize=st.booleans(),
        required_tags=st.sampled_from([{}, {}, {"stage": "approved"}]),
        prereleases=st.sampled_from([None, True, False]) if prereleases is None else prereleases,
        model_allowances=st.dictionaries(_MODEL_NAMES, _POOL_ALLOWANCES, max_size=1),
    )


# =========================================================================================================
# Value objects: records as the API builds and returns them, for the pickle, copy, hash and JSON laws of
# test_value_object_laws.py. Candidates, scores and audit details carry NaN and the infinities too: they
# cross JSON as "NaN", "Infinity" and "-Infinity" and compare NaN as equal to NaN. Selections rank finite
# metrics only: a verdict keeps its metric as a bare float, and NaN != NaN. Text is any Unicode, lone
# surrogates included, where the package does not restrict it.
# =========================================================================================================

# This section's own imports, kept with it so that it can be read (and moved) as one piece.
import dataclasses  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from mlflow_allowance import (  # noqa: E402
    AllowanceChange,
    AuditRecord,
    CheckReport,
    EffectiveAllowance,
    InputError,
    ModelVersionInfo,
    Promotion,
    Selection,
    SelectionRequest,
)
from mlflow_allowance._environments import validate_environment, validate_model_name  # noqa: E402
from mlflow_allowance.audit import AuditKind  # noqa: E402
from mlflow_allowance.outcomes import Violation  # noqa: E402
from mlflow_allowance.selection import rank_candidates  # noqa: E402

__all__ += [
    "allowance_changes",
    "any_metric_values",
    "audit_records",
    "candidates_",
    "check_reports",
    "effective_allowances",
    "environment_names",
    "finite_metric_values",
    "json_details",
    "model_names",
    "model_version_infos",
    "promotions",
    "selection_policies",
    "selection_requests",
    "selections",
    "violations",
]


def _accepted_by(validate: Callable[[str], str]) -> Callable[[str], bool]:
    def accepted(text: str) -> bool:
        try:
            validate(text)
        except InputError:
            return False
        return True

    return accepted


_TEXT = st.text(max_size=12)
_NAME_TEXT = st.text(min_size=1, max_size=12).filter(str.strip)
_MODEL_NAME_TEXT = _weighted(
    (3, st.sampled_from(["AImodel", "BImodel", "churn", "fraud-detector"])),
    (1, st.text(min_size=1, max_size=12).filter(_accepted_by(validate_model_name))),
)
# Environments as the client hands them on: already validated, so lower-case alias names.
_ENVIRONMENT_NAMES = _weighted(
    (3, st.sampled_from(["prod", "staging", "int", "dev-2"])),
    (1, st.from_regex(r"[a-z0-9_-]{1,12}", fullmatch=True).filter(_accepted_by(validate_environment))),
)
_FINITE_METRICS = st.sampled_from(
    [0.0, -0.0, 0.5, 0.98, 1.0, sys.float_info.max, -sys.float_info.max, sys.float_info.min, 5e-324]
) | st.floats(allow_nan=False, allow_infinity=False)
# Any float: the finite ones above, NaN (of any sign and payload) and the infinities.
_ANY_METRICS = _FINITE_METRICS | st.sampled_from([math.nan, -math.nan, math.inf, -math.inf]) | st.floats()
_METRIC_NAMES = st.sampled_from([METRIC, "loss"]) | _NAME_TEXT
_REQUIRED_TAGS = st.dictionaries(_NAME_TEXT, _TEXT, max_size=2)


# Candidates mostly carry the metrics policies mostly name, and policies mostly require no tag, so that
# some selections have a winner (and a winner's allowance in their dict).
def _candidate_metrics(values: st.SearchStrategy[float]) -> st.SearchStrategy[dict[str, float]]:
    return st.builds(
        lambda common, extra: {**extra, **common},
        st.fixed_dictionaries({}, optional={METRIC: values, "loss": values}),
        st.dictionaries(_NAME_TEXT, values, max_size=1),
    )


_CANDIDATE_METRICS = _candidate_metrics(_FINITE_METRICS)
_POLICY_TAGS: st.SearchStrategy[dict[str, str]] = st.one_of(st.just({}), st.just({}), _REQUIRED_TAGS)
_HEX = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _ANY_METRICS | _TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=8,
)
_JSON_DETAILS = st.dictionaries(_TEXT, _JSON_VALUES, max_size=4)
# Records hold allowances mostly on the pool's boundaries (cheap to draw: their probes are cached), now and
# then one in any spelling.
_RECORD_ALLOWANCES = st.one_of(_POOL_ALLOWANCES, _POOL_ALLOWANCES, _POOL_ALLOWANCES, _ALLOWANCES)


def model_names() -> st.SearchStrategy[str]:
    """A registered-model name: mostly a few fixed ones (so that they meet), else any valid text."""
    return _MODEL_NAME_TEXT


def environment_names() -> st.SearchStrategy[str]:
    """A validated environment name (an MLflow alias): ``prod``, ``dev-2``, ..."""
    return _ENVIRONMENT_NAMES


def finite_metric_values() -> st.SearchStrategy[float]:
    """Any finite float, signed zeros, subnormals and MLflow's stand-in for infinity included."""
    return _FINITE_METRICS


def any_metric_values() -> st.SearchStrategy[float]:
    """Any float: :func:`finite_metric_values`, NaN (any sign and payload) and the infinities."""
    return _ANY_METRICS


def json_details() -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object of up to four keys: nested lists and objects of text, numbers (NaN and the infinities
    included), booleans and null."""
    return _JSON_DETAILS


# Mostly the pool's versions and READY, so that drawn allowances let some candidates win.
_CANDIDATE_SEMVERS = st.sampled_from([*VERSION_POOL, None, "abc", "2.0.0-SNAPSHOT", ""]) | _VERSIONS


def _candidate_values(metrics: st.SearchStrategy[dict[str, float]]) -> st.SearchStrategy[Candidate]:
    return st.builds(
        Candidate,
        name=_MODEL_NAME_TEXT,
        version=st.integers(min_value=1, max_value=2**63),
        semver=_CANDIDATE_SEMVERS,
        metrics=metrics,
        tags=st.dictionaries(_TEXT, _TEXT, max_size=3),
        status=st.sampled_from(["READY"] * 6 + ["FAILED_REGISTRATION", "PENDING_REGISTRATION"]),
        created_at=st.integers(min_value=0, max_value=2**53),
        aliases=st.lists(_ENVIRONMENT_NAMES, max_size=2, unique=True).map(tuple),
        run_id=st.none() | _HEX,
        stage=st.sampled_from([None, "None", "Staging", "Production", "Archived"]),
    )


# Finite metrics: what selections rank (see the note at the top of this section).
_CANDIDATE_VALUES = _candidate_values(_CANDIDATE_METRICS)
_ANY_CANDIDATE_VALUES = _candidate_values(_candidate_metrics(_ANY_METRICS))


def candidates_() -> st.SearchStrategy[Candidate]:
    """A registry version with every field drawn, NaN and infinite metrics included."""
    return _ANY_CANDIDATE_VALUES


_POLICY_VALUES = st.builds(
    SelectionPolicy,
    allowance=_RECORD_ALLOWANCES,
    metric=st.none() | _METRIC_NAMES,
    maximize=st.booleans(),
    required_tags=_POLICY_TAGS,
    prereleases=st.sampled_from([None, True, False]),
    model_allowances=st.dictionaries(_MODEL_NAME_TEXT, _RECORD_ALLOWANCES, max_size=2),
)


def selection_policies() -> st.SearchStrategy[SelectionPolicy]:
    """A policy with every field drawn: any allowance, any metric name, tags and per-model allowances."""
    return _POLICY_VALUES


def _request(models: Any, *, metric: str | None, maximize: bool, **options: Any) -> SelectionRequest:
    """A request as a caller can make one: minimizing only with a metric to minimize."""
    return SelectionRequest(models, metric=metric, maximize=maximize or metric is None, **options)


_REQUEST_VALUES = st.builds(
    _request,
    _MODEL_NAME_TEXT | st.lists(_MODEL_NAME_TEXT, min_size=1, max_size=3),
    metric=st.none() | _METRIC_NAMES,
    maximize=st.booleans(),
    required_tags=st.none() | _REQUIRED_TAGS,
    prereleases=st.sampled_from([None, True, False]),
    version_run_tag=st.none() | _NAME_TEXT,
)


def selection_requests() -> st.SearchStrategy[SelectionRequest]:
    """A selection request: one or more models, maybe a metric, tags, a pre-release choice, a run tag."""
    return _REQUEST_VALUES


# Ranked, not built by hand: a verdict's parsed version and metric are the candidate's, as from_dict
# recomputes them.
_SELECTION_VALUES = st.builds(
    lambda candidates, policy, environment: rank_candidates(candidates, policy, environment=environment),
    st.lists(_CANDIDATE_VALUES, max_size=4, unique_by=lambda c: c.key),
    _POLICY_VALUES,
    st.none() | _ENVIRONMENT_NAMES,
)


def selections() -> st.SearchStrategy[Selection]:
    """A selection ranked from up to four candidates under a drawn policy, with or without environment."""
    return _SELECTION_VALUES


def _record(
    kind: AuditKind, request: SelectionRequest | None, details: dict[str, object], **fields: Any
) -> AuditRecord:
    if request is not None:
        details = {**details, "request": request.to_dict()}
    return AuditRecord(kind, details=details, **fields)


_RECORD_VALUES = st.builds(
    _record,
    st.sampled_from(["allowance", "promotion", "rollback"]),
    st.none() | _REQUEST_VALUES,
    _JSON_DETAILS,
    environment=_ENVIRONMENT_NAMES,
    model=st.none() | _MODEL_NAME_TEXT,
    old=st.none() | _NAME_TEXT,
    new=st.none() | _NAME_TEXT,
    user=_TEXT,
    # Milliseconds since the epoch, up to the end of year 9999 (as far as datetime goes).
    time=st.integers(min_value=0, max_value=253_402_300_799_999),
    reason=_TEXT,
    record_id=st.none() | _HEX,
)


def audit_records() -> st.SearchStrategy[AuditRecord]:
    """An audit record of any kind; ``model``, ``old`` and ``new`` are ``None`` or non-empty, and some
    carry a selection request in their details, as a promotion's do."""
    return _RECORD_VALUES


def _promotion(selection: Selection | None, **fields: Any) -> Promotion:
    # The client ranks for the promotion's environment; Promotion.to_dict keeps one environment for both.
    if selection is not None:
        selection = dataclasses.replace(selection, environment=fields["environment"])
    return Promotion(selection=selection, **fields)


_PROMOTION_VALUES = st.builds(
    _promotion,
    st.none() | _SELECTION_VALUES,
    environment=_ENVIRONMENT_NAMES,
    old=st.none() | _NAME_TEXT,
    new=st.none() | _NAME_TEXT,
    changed=st.booleans(),
    dry_run=st.booleans(),
    stage=st.sampled_from([None, "Staging", "Production"]),
    record=st.none() | _RECORD_VALUES,
    request=st.none() | _REQUEST_VALUES,
)


def promotions() -> st.SearchStrategy[Promotion]:
    """A promotion or rollback, maybe with a selection (ranked for its environment), a record and a
    request."""
    return _PROMOTION_VALUES


_VIOLATION_VALUES = st.builds(
    Violation,
    environment=_ENVIRONMENT_NAMES,
    model=_MODEL_NAME_TEXT,
    version=st.integers(min_value=1, max_value=2**63),
    semver=st.none() | _VERSIONS | _TEXT,
    allowance=_RECORD_ALLOWANCES,
    problem=_TEXT,
)


def violations() -> st.SearchStrategy[Violation]:
    """An alias outside its allowance."""
    return _VIOLATION_VALUES


_CHECK_REPORT_VALUES = st.builds(
    CheckReport,
    violations=st.lists(_VIOLATION_VALUES, max_size=2).map(tuple),
    fixes=st.lists(_PROMOTION_VALUES, max_size=2).map(tuple),
    checked=st.integers(min_value=0, max_value=10_000),
)


def check_reports() -> st.SearchStrategy[CheckReport]:
    """A check report of up to two violations and two fixing promotions."""
    return _CHECK_REPORT_VALUES


_MODEL_VERSION_INFO_VALUES = st.builds(
    ModelVersionInfo,
    name=_MODEL_NAME_TEXT,
    version=st.integers(min_value=1, max_value=2**63),
    semver=st.none() | _VERSIONS,
)
_EFFECTIVE_ALLOWANCE_VALUES = st.builds(
    EffectiveAllowance,
    environment=_ENVIRONMENT_NAMES,
    model=st.none() | _MODEL_NAME_TEXT,
    allowance=_RECORD_ALLOWANCES,
    source=st.sampled_from(["model", "default", "unset"]),
)
_ALLOWANCE_CHANGE_VALUES = st.builds(
    AllowanceChange,
    environment=_ENVIRONMENT_NAMES,
    model=st.none() | _MODEL_NAME_TEXT,
    old=st.none() | _RECORD_ALLOWANCES,
    new=st.none() | _RECORD_ALLOWANCES,
    changed=st.booleans(),
)


def model_version_infos() -> st.SearchStrategy[ModelVersionInfo]:
    """A registry version and the semantic version it carries, if any."""
    return _MODEL_VERSION_INFO_VALUES


def effective_allowances() -> st.SearchStrategy[EffectiveAllowance]:
    """An allowance, the environment and model it applies to, and where it came from."""
    return _EFFECTIVE_ALLOWANCE_VALUES


def allowance_changes() -> st.SearchStrategy[AllowanceChange]:
    """An allowance set or unset: old and new, each maybe ``None``."""
    return _ALLOWANCE_CHANGE_VALUES


# =========================================================================================================
# Datasets: references to fixed external datasets, what evaluate records, and selection judged on scores
# (test_dataset_laws.py, and the value-object laws above). Names are mostly a few fixed ones, else words of
# any Unicode letters and digits joined by single spaces, as DatasetRef documents; digests any of MLflow's
# letters and digits.
# =========================================================================================================

from mlflow_allowance import DatasetRef, Evaluation  # noqa: E402
from mlflow_allowance.datasets import MAX_DATASET_NAME, DatasetInfo, Score, evaluator_metric  # noqa: E402  # noqa: E402

__all__ += [
    "MLFLOW_METRIC",
    "WINE",
    "dataset_infos",
    "dataset_names",
    "dataset_policies",
    "dataset_policy_values",
    "dataset_refs",
    "dataset_request_values",
    "dataset_selections",
    "digests",
    "evaluations",
    "pinned_refs",
    "scored_candidate_lists",
    "scores",
]

#: The key MLflow's classifier evaluator logs :data:`METRIC` under.
MLFLOW_METRIC = evaluator_metric(METRIC)
WINE = DatasetRef("wine-holdout", "0a64f9dd")

_DATASET_WORD = st.text(
    alphabet=st.characters(categories=["L", "N"]) | st.sampled_from("_.-"), min_size=1, max_size=6
)
_DATASET_NAMES = _weighted(
    (3, st.sampled_from(["wine-holdout", "wine", "holdout v2", "iris.test_2", "x" * MAX_DATASET_NAME])),
    (2, st.lists(_DATASET_WORD, min_size=1, max_size=3).map(" ".join)),
)
_DIGESTS = st.sampled_from(["0a64f9dd", "bbc53a5e", "0", "F" * 64]) | st.text(
    alphabet="0123456789abcdefABCDEFXYZxyz", min_size=1, max_size=64
)
_PINNED = st.builds(DatasetRef, _DATASET_NAMES, _DIGESTS)
_DATASET_REFS = st.builds(DatasetRef, _DATASET_NAMES, st.none() | _DIGESTS)


def dataset_names() -> st.SearchStrategy[str]:
    """A valid dataset name: words of letters, digits, ``_``, ``.`` and ``-`` joined by single spaces."""
    return _DATASET_NAMES


def digests() -> st.SearchStrategy[str]:
    """A valid digest: 1 to 64 ASCII letters and digits (MLflow's are 8 hex digits)."""
    return _DIGESTS


def dataset_refs() -> st.SearchStrategy[DatasetRef]:
    """A valid dataset reference, pinned to a digest or not."""
    return _DATASET_REFS


def pinned_refs() -> st.SearchStrategy[DatasetRef]:
    """A valid dataset reference pinned to a digest (what scores and dataset records hold)."""
    return _PINNED


def _with_failure(candidate: Candidate, failure: str | None, under_mlflow_key: bool) -> Candidate:
    metrics = dict(candidate.metrics)
    if under_mlflow_key and METRIC in metrics:
        metrics[MLFLOW_METRIC] = metrics.pop(METRIC)
    return dataclasses.replace(candidate, metrics=metrics, failure=failure)


_SCORED_CANDIDATES = st.builds(
    _with_failure,
    _CANDIDATES,
    st.sampled_from([None, None, None, "boom", "cannot load models:/AImodel/1: gone"]),
    st.booleans(),
)
_DATASET_POLICIES = policies(metric=st.just(METRIC)).map(lambda p: dataclasses.replace(p, dataset=WINE))


def scored_candidate_lists(*, max_size: int = 6) -> st.SearchStrategy[list[Candidate]]:
    """Candidates as read on a dataset: :data:`METRIC` as typed or under MLflow's key, some failed."""
    return st.lists(_SCORED_CANDIDATES, max_size=max_size, unique_by=lambda c: c.key)


def dataset_policies() -> st.SearchStrategy[SelectionPolicy]:
    """A policy as :func:`policies` draws it, judging :data:`METRIC` on :data:`WINE`."""
    return _DATASET_POLICIES


_DATASET_INFOS = st.builds(
    DatasetInfo,
    _PINNED,
    _TEXT,
    _NAME_TEXT,
    st.integers(min_value=1, max_value=2**40),
    st.sampled_from(["classifier", "regressor"]),
    st.integers(min_value=0, max_value=253_402_300_799_999),
)
_SCORES = st.builds(
    Score,
    _MODEL_NAME_TEXT,
    st.integers(min_value=1, max_value=2**31 - 1),
    _PINNED,
    st.dictionaries(
        st.sampled_from([MLFLOW_METRIC, "accuracy_score", "log_loss"]) | _NAME_TEXT, _ANY_METRICS
    ),
    st.none() | _TEXT,
    st.none() | _HEX,
)
_SKIPPED = st.tuples(_MODEL_NAME_TEXT, st.integers(min_value=1, max_value=2**31 - 1), _TEXT)
_EVALUATIONS = st.builds(
    Evaluation,
    _ENVIRONMENT_NAMES,
    _DATASET_INFOS,
    st.lists(_SCORES, max_size=2).map(tuple),
    st.lists(_SCORES, max_size=2).map(tuple),
    st.lists(_SCORES, max_size=2).map(tuple),
    st.lists(_SKIPPED, max_size=2).map(tuple),
)
_DATASET_POLICY_VALUES = st.builds(
    SelectionPolicy,
    allowance=_RECORD_ALLOWANCES,
    metric=_METRIC_NAMES,
    maximize=st.booleans(),
    required_tags=_POLICY_TAGS,
    prereleases=st.sampled_from([None, True, False]),
    model_allowances=st.dictionaries(_MODEL_NAME_TEXT, _RECORD_ALLOWANCES, max_size=2),
    dataset=_DATASET_REFS,
)
_DATASET_REQUEST_VALUES = st.builds(
    SelectionRequest,
    _MODEL_NAME_TEXT | st.lists(_MODEL_NAME_TEXT, min_size=1, max_size=3),
    metric=_METRIC_NAMES,
    maximize=st.booleans(),
    required_tags=st.none() | _REQUIRED_TAGS,
    prereleases=st.sampled_from([None, True, False]),
    version_run_tag=st.none() | _NAME_TEXT,
    dataset=_DATASET_REFS,
)
_SCORED_CANDIDATE_VALUES = st.builds(_with_failure, _CANDIDATE_VALUES, st.none() | _TEXT, st.booleans())
_DATASET_SELECTIONS = st.builds(
    lambda candidates, policy, environment: rank_candidates(candidates, policy, environment=environment),
    st.lists(_SCORED_CANDIDATE_VALUES, max_size=4, unique_by=lambda c: c.key),
    _DATASET_POLICY_VALUES,
    st.none() | _ENVIRONMENT_NAMES,
)


def dataset_infos() -> st.SearchStrategy[DatasetInfo]:
    """A dataset record: a pinned reference, any source and target, rows, model type and time."""
    return _DATASET_INFOS


def scores() -> st.SearchStrategy[Score]:
    """A score of a model version on a pinned dataset: any metrics (NaN included), maybe an error and a run
    id."""
    return _SCORES


def evaluations() -> st.SearchStrategy[Evaluation]:
    """What evaluate returns: a dataset record and up to two scores of each kind and skipped versions."""
    return _EVALUATIONS


def dataset_policy_values() -> st.SearchStrategy[SelectionPolicy]:
    """A policy with every field drawn (as :func:`selection_policies`), a metric and a dataset."""
    return _DATASET_POLICY_VALUES


def dataset_request_values() -> st.SearchStrategy[SelectionRequest]:
    """A selection request with every field drawn (as :func:`selection_requests`), a metric and a dataset."""
    return _DATASET_REQUEST_VALUES


def dataset_selections() -> st.SearchStrategy[Selection]:
    """A selection ranked on a dataset from up to four candidates, some failed, some scored under
    MLflow's key."""
    return _DATASET_SELECTIONS
