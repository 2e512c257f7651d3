"""The selection request: which models compete and how they are judged, in one typed value.

``select``, ``promote``, ``check --fix`` and the CLI all take one; a promotion stores it in its audit record,
so a later ``check --fix`` replays exactly what was asked.

>>> from mlflow_allowance import SelectionRequest
>>> request = SelectionRequest("AImodel", metric="F1", required_tags={"validated": "true"})
>>> request.models, request.describe()
(('AImodel',), 'highest F1 of AImodel, tags validated=true')
>>> SelectionRequest.from_dict(request.to_dict()) == request
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from mlflow_allowance._environments import validate_model_name
from mlflow_allowance._frozen import FrozenDict
from mlflow_allowance.allowance import VersionAllowance
from mlflow_allowance.datasets import DatasetRef
from mlflow_allowance.errors import InputError, shown
from mlflow_allowance.selection import _OPTION_FIELDS, SelectionPolicy, _judging_options

__all__ = ["SelectionRequest"]


@dataclass(frozen=True)
class SelectionRequest:
    """Which registered models compete, and how a winner is chosen among their versions.

    ``models`` is a name or a sequence of names (kept in order, each once). With ``metric``, the best by
    that metric of each version's training run (``maximize=False`` for losses); without, the highest
    semantic version. ``required_tags`` must all be on a version with exactly these values.
    ``prereleases`` overrides the allowance's pre-release default. ``version_run_tag`` names a run tag to
    read the semantic version from when a model version carries none. ``dataset`` (a name, ``name@digest``,
    a :class:`DatasetRef` or an ``mlflow.data`` dataset) judges ``metric`` on the scores recorded for that
    dataset (by ``evaluate``) instead of the training runs' metrics; a bare name means the content last
    evaluated under it. Checked on construction:

    >>> SelectionRequest([])
    Traceback (most recent call last):
    ...
    mlflow_allowance.errors.InputError: no model given: name at least one registered model
    """

    models: tuple[str, ...]
    metric: str | None = None
    maximize: bool = True
    required_tags: Mapping[str, str] = field(default_factory=FrozenDict)
    prereleases: bool | None = None
    version_run_tag: str | None = None
    dataset: DatasetRef | None = None

    def __init__(
        self,
        models: str | Iterable[str],
        *,
        metric: str | None = None,
        maximize: bool = True,
        required_tags: Mapping[str, str] | None = None,
        prereleases: bool | None = None,
        version_run_tag: str | None = None,
        dataset: DatasetRef | str | object | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "models", _model_names(models))
        options = _judging_options(metric, maximize, required_tags, prereleases, dataset)
        if options[0] is None and options[1] is False:
            raise InputError(
                "minimizing needs a metric: without one the latest semantic version wins", hints=("metric",)
            )
        for name, value in zip(_OPTION_FIELDS, options, strict=True):
            set_(self, name, value)
        if version_run_tag is not None and (
            not isinstance(version_run_tag, str) or not version_run_tag.strip()
        ):
            raise InputError(f"Invalid version run tag {shown(version_run_tag)}: expected a run tag's name")
        set_(self, "version_run_tag", version_run_tag)

    def policy(
        self,
        allowance: VersionAllowance,
        model_allowances: Mapping[str, VersionAllowance],
        dataset: DatasetRef | None = None,
    ) -> SelectionPolicy:
        """The policy that judges this request's candidates under the given allowances (and on ``dataset``,
        this request's dataset pinned to a digest, when it names one)."""
        options: tuple[str | None, bool, FrozenDict[str, str], bool | None, DatasetRef | None] = (
            self.metric,
            self.maximize,
            FrozenDict(self.required_tags),
            self.prereleases,
            dataset if dataset is not None else self.dataset,
        )
        return SelectionPolicy._checked(allowance, model_allowances, options)

    def options(self) -> dict[str, Any]:
        """The request's judging options (every field but ``models``), as keyword arguments."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "models"}

    @classmethod
    def build(cls, models: str | Iterable[str] | SelectionRequest, **options: Any) -> SelectionRequest:
        """The one request of a call: ``models`` given as a whole request (then no ``options`` may differ
        from their defaults), or built from the model names and ``options``.

        >>> SelectionRequest.build("AImodel", metric="F1") == SelectionRequest("AImodel", metric="F1")
        True
        >>> SelectionRequest.build(SelectionRequest("AImodel"), metric="F1")
        Traceback (most recent call last):
        ...
        mlflow_allowance.errors.InputError: give the selection options either in the SelectionRequest or ...
        """
        if isinstance(models, SelectionRequest):
            given = sorted(k for k, v in options.items() if v not in (_DEFAULTS.get(k), None, {}))
            if given:
                raise InputError(
                    "give the selection options either in the SelectionRequest or as arguments, not "
                    f"both ({', '.join(given)})"
                )
            return models
        return cls(models, **options)

    def describe(self) -> str:
        """One line for people: ``highest F1 of AImodel, tags validated=true``."""
        how = (
            "latest semantic version"
            if self.metric is None
            else (f"{'highest' if self.maximize else 'lowest'} {self.metric}")
        )
        if self.dataset is not None:
            how += f" on {self.dataset}"
        text = f"{how} of {', '.join(self.models)}"
        if self.required_tags:
            text += ", tags " + ", ".join(f"{k}={v}" for k, v in sorted(self.required_tags.items()))
        if self.prereleases is not None:
            text += ", pre-releases " + ("allowed" if self.prereleases else "excluded")
        if self.version_run_tag is not None:
            text += f", semantic version from run tag {self.version_run_tag}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; :meth:`from_dict` gives an equal request back."""
        return {
            "models": list(self.models),
            "metric": self.metric,
            "maximize": self.maximize,
            "required_tags": dict(self.required_tags),
            "prereleases": self.prereleases,
            "version_run_tag": self.version_run_tag,
            "dataset": None if self.dataset is None else str(self.dataset),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SelectionRequest:
        """The request :meth:`to_dict` described; :class:`InputError` if it is not one."""
        if not isinstance(data, Mapping) or "models" not in data:
            raise InputError(f"Invalid selection request {shown(data)}: expected a dict with 'models'")
        try:
            return cls(
                data["models"],
                metric=data.get("metric"),
                maximize=data.get("maximize", True),
                required_tags=data.get("required_tags") or None,
                prereleases=data.get("prereleases"),
                version_run_tag=data.get("version_run_tag"),
                dataset=data.get("dataset"),
            )
        except TypeError as exc:
            raise InputError(f"Invalid selection request {shown(data)}: {exc}") from None


#: Each option's default, read off the dataclass: "an option was given" means "differs from this".
_DEFAULTS: dict[str, object] = {
    f.name: f.default for f in fields(SelectionRequest) if f.default is not MISSING and f.name != "models"
}


def _model_names(models: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(models, str):
        names = [models]
    elif isinstance(models, Iterable) and not isinstance(models, Mapping | bytes):
        names = list(models)
    else:
        raise TypeError(f"models must be a model name or a sequence of names, not {type(models).__name__}")
    if not names:
        raise InputError("no model given: name at least one registered model")
    return tuple(dict.fromkeys(validate_model_name(name) for name in names))
