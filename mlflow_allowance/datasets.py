"""Fixed external datasets: which data a score was computed on, and how metric names map to MLflow's.

A :class:`DatasetRef` names a dataset (``wine-holdout``) and, once pinned, the digest of its content
(``wine-holdout@0a64f9dd``): a hash of the whole data, which ``evaluate`` also gives MLflow as the dataset's
digest, so the MLflow UI shows the same identity. A score counts for a selection only when it was computed
on the digest the selection is judged on.

>>> from mlflow_allowance import DatasetRef
>>> ref = DatasetRef.parse("wine-holdout@0a64f9dd")
>>> ref.name, ref.digest, str(ref)
('wine-holdout', '0a64f9dd', 'wine-holdout@0a64f9dd')
>>> DatasetRef.parse("wine-holdout").pinned
False

People type metric names as they know them (``F1``); MLflow's evaluators log them under their own keys:

>>> evaluator_metric("F1"), evaluator_metric("rmse"), evaluator_metric("f1_score")
('f1_score', 'root_mean_squared_error', 'f1_score')
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlflow_allowance._frozen import FrozenDict
from mlflow_allowance._numbers import decode_number, encode_number, number_key
from mlflow_allowance.errors import InputError, InputTypeError, shown

__all__ = ["EVALUATOR_METRICS", "METRIC_ALIASES", "DatasetInfo", "DatasetRef", "Score", "evaluator_metric"]

#: Dataset names go into a tag key (``mlflow_allowance.dataset.<name>``): MLflow's tag-key characters.
_NAME = re.compile(r"^[\w.\-]+(?: [\w.\-]+)*$")
MAX_DATASET_NAME = 200
#: Digests are short hex strings (``evaluate``'s, or MLflow's); anything of letters and digits is accepted.
_DIGEST = re.compile(r"^[0-9A-Za-z]{1,64}$")

#: The metric names people type (case-insensitive) → the key MLflow's classifier/regressor evaluators log.
METRIC_ALIASES: Mapping[str, str] = {
    "f1": "f1_score",
    "accuracy": "accuracy_score",
    "precision": "precision_score",
    "recall": "recall_score",
    "auc": "roc_auc",
    "roc_auc": "roc_auc",
    "log_loss": "log_loss",
    "logloss": "log_loss",
    "rmse": "root_mean_squared_error",
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "r2": "r2_score",
    "mape": "mean_absolute_percentage_error",
}


#: The metrics MLflow's built-in evaluators log, by model type (MLflow 2.9 to 3.x).
EVALUATOR_METRICS: Mapping[str, frozenset[str]] = {
    "classifier": frozenset(
        {
            "accuracy_score",
            "example_count",
            "f1_score",
            "log_loss",
            "precision_recall_auc",
            "precision_score",
            "recall_score",
            "roc_auc",
            "score",
            "true_negatives",
            "false_positives",
            "false_negatives",
            "true_positives",
        }
    ),
    "regressor": frozenset(
        {
            "example_count",
            "max_error",
            "mean_absolute_error",
            "mean_absolute_percentage_error",
            "mean_on_target",
            "mean_squared_error",
            "r2_score",
            "root_mean_squared_error",
            "score",
            "sum_on_target",
        }
    ),
}


def evaluator_metric(name: str) -> str:
    """The key MLflow's evaluator logs metric ``name`` under (``F1`` → ``f1_score``); other names as given."""
    return METRIC_ALIASES.get(name.lower(), name)


@dataclass(frozen=True)
class DatasetRef:
    """A named external dataset, optionally pinned to the digest of its content.

    Unpinned (``wine-holdout``) means the dataset's current content: the digest last evaluated under that
    name. Checked on construction (a name or digest that is not text is an
    :class:`~mlflow_allowance.errors.InputTypeError`, an ``InputError`` and a ``TypeError``):

    >>> DatasetRef("wine@holdout")
    Traceback (most recent call last):
    ...
    mlflow_allowance.errors.InputError: Invalid dataset name 'wine@holdout': use letters, digits, ...

    References order by one key, name then digest, an unpinned reference first:

    >>> [str(ref) for ref in sorted([DatasetRef("wine", "0a64f9dd"), DatasetRef("wine"), DatasetRef("iris")])]
    ['iris', 'wine', 'wine@0a64f9dd']
    """

    name: str
    digest: str | None = None

    def __post_init__(self) -> None:
        name, digest = self.name, self.digest
        if not isinstance(name, str) or (digest is not None and not isinstance(digest, str)):
            part, value = ("name", name) if not isinstance(name, str) else ("digest", digest)
            raise InputTypeError(
                f"Invalid dataset {part} {shown(value)}: expected text, not {type(value).__name__}"
            )
        if not _NAME.fullmatch(name) or len(name) > MAX_DATASET_NAME:
            raise InputError(
                f"Invalid dataset name {shown(self.name)}: use letters, digits, '_', '-', '.' and single "
                f"spaces (at most {MAX_DATASET_NAME} characters)"
            )
        if digest is not None and not _DIGEST.fullmatch(digest):
            raise InputError(
                f"Invalid dataset digest {shown(self.digest)}: expected letters and digits, e.g. 0a64f9dd"
            )

    @classmethod
    def parse(cls, text: str) -> DatasetRef:
        """``NAME`` or ``NAME@DIGEST``; space around the name and the digest is dropped.

        Text that names no dataset is an :class:`InputError`; anything but text an
        :class:`~mlflow_allowance.errors.InputTypeError` (an ``InputError`` and a ``TypeError``), the rule
        ``SemanticVersion.parse`` and ``VersionAllowance.parse`` follow too.

        >>> DatasetRef.parse(" wine @ 0a64f9dd ")
        DatasetRef(name='wine', digest='0a64f9dd')
        >>> DatasetRef.parse(3)
        Traceback (most recent call last):
        ...
        mlflow_allowance.errors.InputTypeError: Invalid dataset reference 3: expected text NAME or ...
        """
        if not isinstance(text, str):
            raise InputTypeError(
                f"Invalid dataset reference {shown(text)}: expected text NAME or NAME@DIGEST, "
                f"not {type(text).__name__}"
            )
        name, sep, digest = text.rpartition("@")
        if not sep:
            return cls(digest.strip())
        return cls(name.strip(), digest.strip())

    @classmethod
    def of(cls, value: object) -> DatasetRef:
        """A reference from text, a :class:`DatasetRef`, or an ``mlflow.data`` dataset (its name and digest).

        >>> class Dataset:  # what mlflow.data.from_pandas returns, as far as a reference goes
        ...     name, digest = "wine-holdout", "0a64f9dd"
        >>> DatasetRef.of(Dataset())
        DatasetRef(name='wine-holdout', digest='0a64f9dd')
        """
        if isinstance(value, DatasetRef):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        name, digest = getattr(value, "name", None), getattr(value, "digest", None)
        if isinstance(name, str) and isinstance(digest, str):
            return cls(name, digest)
        raise InputTypeError(
            f"dataset must be a name, 'name@digest', a DatasetRef or an mlflow.data dataset, "
            f"not {type(value).__name__}"
        )

    @property
    def pinned(self) -> bool:
        """Whether the digest is known."""
        return self.digest is not None

    def __str__(self) -> str:
        return self.name if self.digest is None else f"{self.name}@{self.digest}"

    def _key(self) -> tuple[str, bool, str]:
        return (self.name, self.digest is not None, self.digest or "")

    def __lt__(self, other: object) -> bool:
        return self._key() < other._key() if isinstance(other, DatasetRef) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self._key() <= other._key() if isinstance(other, DatasetRef) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self._key() > other._key() if isinstance(other, DatasetRef) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self._key() >= other._key() if isinstance(other, DatasetRef) else NotImplemented

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., "digest": ...}``."""
        return {"name": self.name, "digest": self.digest}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str | None) -> DatasetRef | None:
        """The reference :meth:`to_dict` (or ``str``) described; ``None`` stays ``None``."""
        if data is None:
            return None
        if isinstance(data, str):
            return cls.parse(data)
        return cls(data["name"], data.get("digest"))


@dataclass(frozen=True)
class DatasetInfo:
    """What ``evaluate`` recorded about a dataset's content: the pinned reference, where the data came from
    (``source``), the ``target`` column, the number of ``rows``, the ``model_type`` it was scored as and
    when (``saved_at``, ms since the epoch).

    >>> info = DatasetInfo(DatasetRef("wine", "0a64f9dd"), "wine.csv", "target", 45, "classifier", 0)
    >>> DatasetInfo.from_json(info.to_json()) == info
    True
    """

    ref: DatasetRef
    source: str
    target: str
    rows: int
    model_type: str
    saved_at: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "name": self.ref.name,
            "digest": self.ref.digest,
            "source": self.source,
            "target": self.target,
            "rows": self.rows,
            "model_type": self.model_type,
            "saved_at": self.saved_at,
        }

    def to_json(self) -> str:
        """The tag value that stores it (compact JSON)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DatasetInfo:
        """The record :meth:`to_json` wrote; :class:`InputError` if ``text`` is not one."""
        try:
            return cls.from_dict(json.loads(text))
        except (ValueError, TypeError) as exc:
            raise InputError(f"Invalid dataset record {shown(text)}: {exc}") from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetInfo:
        """The record :meth:`to_dict` described; :class:`InputError` if ``data`` is not one."""
        try:
            return cls(
                DatasetRef(data["name"], data["digest"]),
                str(data.get("source", "")),
                str(data.get("target", "")),
                int(data.get("rows", 0)),
                str(data.get("model_type", "")),
                int(data.get("saved_at", 0)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"Invalid dataset record {shown(data)}: {exc}") from None


@dataclass(frozen=True, eq=False)
class Score:
    """A model version's recorded evaluation on one dataset digest: its ``metrics`` (MLflow's evaluator
    keys, ``f1_score``, ...), or the ``error`` that kept it from being scored; ``run_id`` is the run that
    holds it. Metrics compare with NaN equal to NaN, so a score equals its own copies."""

    model: str
    version: int
    dataset: DatasetRef
    metrics: Mapping[str, float] = field(default_factory=FrozenDict)
    error: str | None = None
    run_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", FrozenDict({str(k): float(v) for k, v in self.metrics.items()}))

    def _key(self) -> tuple[object, ...]:
        metrics = frozenset((name, number_key(value)) for name, value in self.metrics.items())
        return (self.model, self.version, self.dataset, metrics, self.error, self.run_id)

    def __eq__(self, other: object) -> bool:
        return self._key() == other._key() if isinstance(other, Score) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def failed(self) -> bool:
        """Whether the version could not be scored."""
        return self.error is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (non-finite metrics as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``)."""
        return {
            "model": self.model,
            "version": self.version,
            "dataset": self.dataset.to_dict(),
            "metrics": {k: encode_number(v) for k, v in self.metrics.items()},
            "error": self.error,
            "run_id": self.run_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Score:
        """The score :meth:`to_dict` described (``None``, as 0.2 wrote any non-finite metric, as NaN)."""
        dataset = DatasetRef.from_dict(data["dataset"])
        assert dataset is not None
        metrics = {
            k: float("nan") if v is None else decode_number(v) for k, v in (data.get("metrics") or {}).items()
        }
        version, error, run_id = int(data["version"]), data.get("error"), data.get("run_id")
        return cls(data["model"], version, dataset, metrics, error, run_id)
