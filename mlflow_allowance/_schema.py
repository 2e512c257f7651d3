"""Every name the package writes into MLflow, in one place (see docs/storage-schema.md).

All tag keys share the prefix ``mlflow_allowance.``; the only other names written are environment aliases
(``@prod``), the legacy stage when asked to mirror one, and the audit experiment.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "AUDIT_EXPERIMENT",
    "LEASE_PREFIX",
    "LEASE_SECONDS",
    "PREFIX",
    "SCORES_EXPERIMENT",
    "SCORE_DATASET",
    "SCORE_DIGEST",
    "SCORE_ERROR",
    "SCORE_MODEL",
    "SCORE_TARGET",
    "SCORE_VERSION",
    "TAG_VALUE_LIMIT",
    "VERSION_TAG",
    "allowance_tag",
    "dataset_of_tag",
    "dataset_tag",
    "environment_of_allowance_tag",
    "environments_of",
    "lease_experiment",
]

PREFIX = "mlflow_allowance."
#: Model-version tag holding the semantic version (``2.0``).
VERSION_TAG = PREFIX + "version"
#: Experiment whose tags hold workspace-wide default allowances and whose runs are the audit trail.
AUDIT_EXPERIMENT = "mlflow-allowance"
#: PostgreSQL's limit for registered-model tag values; every value we write stays below it.
TAG_VALUE_LIMIT = 5000

#: Lease experiments: creating ``<prefix><env>.<seq>`` claims the right to write the environment's change
#: number ``seq``; MLflow refuses a second experiment of the same name, even a deleted one, atomically.
LEASE_PREFIX = AUDIT_EXPERIMENT + ".lease."
#: Seconds a claimed lease or a pending record counts as held; after that the next writer settles it.
LEASE_SECONDS = 120

_ALLOWANCE = PREFIX + "allowance."

#: Experiment whose runs are the scores ``evaluate`` recorded (one run per model version and dataset digest)
#: and whose tags name each dataset's current content (``mlflow_allowance.dataset.<name>``).
SCORES_EXPERIMENT = AUDIT_EXPERIMENT + ".scores"
#: Tags of a score run: which model version, on which dataset (name and digest), and the target column.
SCORE_MODEL = PREFIX + "score.model"
SCORE_VERSION = PREFIX + "score.version"
SCORE_DATASET = PREFIX + "score.dataset"
SCORE_DIGEST = PREFIX + "score.digest"
SCORE_TARGET = PREFIX + "score.target"
#: Set (and the run marked FAILED) when the version could not be loaded or scored on the dataset.
SCORE_ERROR = PREFIX + "score.error"
_DATASET = PREFIX + "dataset."


def dataset_tag(name: str) -> str:
    """Tag key, on the scores experiment, of the dataset ``name``'s current content.

    >>> dataset_tag("wine-holdout")
    'mlflow_allowance.dataset.wine-holdout'
    """
    return _DATASET + name


def dataset_of_tag(key: str) -> str | None:
    """The dataset a :func:`dataset_tag` key names, or ``None`` for any other key."""
    return key[len(_DATASET) :] if key.startswith(_DATASET) else None


def allowance_tag(environment: str) -> str:
    """Tag key of an environment's allowance: on the audit experiment (default) or a registered model.

    >>> allowance_tag("prod")
    'mlflow_allowance.allowance.prod'
    """
    return _ALLOWANCE + environment


def lease_experiment(environment: str, seq: int) -> str:
    """Name of the experiment whose creation claims change number ``seq`` of ``environment``.

    >>> lease_experiment("prod", 42)
    'mlflow-allowance.lease.prod.000000000042'
    """
    return f"{LEASE_PREFIX}{environment}.{seq:012d}"


def environment_of_allowance_tag(key: str) -> str | None:
    """The environment an allowance tag key belongs to, or ``None`` for any other key.

    >>> environment_of_allowance_tag("mlflow_allowance.allowance.int"), environment_of_allowance_tag("x")
    ('int', None)
    """
    return key[len(_ALLOWANCE) :] if key.startswith(_ALLOWANCE) else None


def environments_of(tags: Mapping[str, str]) -> list[str]:
    """The environments whose allowance ``tags`` hold, in the tags' order.

    >>> environments_of({"mlflow_allowance.allowance.prod": "<=1.0", "owner": "ml"})
    ['prod']
    """
    return [env for env in map(environment_of_allowance_tag, tags) if env is not None]
