"""mlflow-allowance: which model versions each environment may run, chosen safely and visibly.

The pure core (allowances, versions, selection) is importable without MLflow; the faces that talk to MLflow
import it lazily, so ``import mlflow_allowance`` stays cheap. Everything public is listed in ``__all__``;
modules whose names start with ``_`` are internal.
"""

from __future__ import annotations as _annotations  # bound privately: the namespace is exactly __all__

from mlflow_allowance._fluent import (
    check,
    dashboard,
    evaluate,
    get_allowance,
    get_version,
    history,
    list_allowances,
    list_datasets,
    promote,
    register_model,
    rollback,
    select,
    set_allowance,
    set_version,
    unset_allowance,
)
from mlflow_allowance._seam import RegisteredModel, RegistryProtocol
from mlflow_allowance.allowance import AllowanceComparison, VersionAllowance
from mlflow_allowance.audit import AuditKind, AuditRecord, AuditState
from mlflow_allowance.client import AllowanceClient
from mlflow_allowance.datasets import DatasetInfo, DatasetRef, Score
from mlflow_allowance.errors import (
    AllowanceError,
    EnvironmentBusyError,
    InputError,
    InvalidAllowanceError,
    InvalidEnvironmentError,
    InvalidModelNameError,
    InvalidVersionError,
    MissingExtraError,
    NoEligibleCandidateError,
    NotFoundError,
    RegistryError,
    RegistryUnavailableError,
    RollbackRefusedError,
)
from mlflow_allowance.outcomes import (
    AllowanceChange,
    AllowanceSource,
    CheckReport,
    EffectiveAllowance,
    Evaluation,
    ModelVersionInfo,
    Promotion,
    Violation,
    ViolationKind,
    resolve_allowance,
)
from mlflow_allowance.request import SelectionRequest
from mlflow_allowance.selection import Candidate, Selection, SelectionPolicy, Verdict, rank_candidates
from mlflow_allowance.versions import BumpPart, SemanticVersion


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlflow-allowance")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"


__version__ = _version()

__all__ = [
    "AllowanceChange",
    "AllowanceClient",
    "AllowanceComparison",
    "AllowanceError",
    "AllowanceSource",
    "AuditKind",
    "AuditRecord",
    "AuditState",
    "BumpPart",
    "Candidate",
    "CheckReport",
    "DatasetInfo",
    "DatasetRef",
    "EffectiveAllowance",
    "EnvironmentBusyError",
    "Evaluation",
    "InputError",
    "InvalidAllowanceError",
    "InvalidEnvironmentError",
    "InvalidModelNameError",
    "InvalidVersionError",
    "MissingExtraError",
    "ModelVersionInfo",
    "NoEligibleCandidateError",
    "NotFoundError",
    "Promotion",
    "RegisteredModel",
    "RegistryError",
    "RegistryProtocol",
    "RegistryUnavailableError",
    "RollbackRefusedError",
    "Score",
    "Selection",
    "SelectionPolicy",
    "SelectionRequest",
    "SemanticVersion",
    "Verdict",
    "VersionAllowance",
    "Violation",
    "ViolationKind",
    "__version__",
    "check",
    "dashboard",
    "evaluate",
    "get_allowance",
    "get_version",
    "history",
    "list_allowances",
    "list_datasets",
    "promote",
    "rank_candidates",
    "register_model",
    "resolve_allowance",
    "rollback",
    "select",
    "set_allowance",
    "set_version",
    "unset_allowance",
]
