"""mlflow-allowance: which model versions each environment may run, chosen safely and visibly.

The pure core (allowances, versions, selection) is importable without MLflow; the faces that talk to MLflow
are imported lazily, so ``import mlflow_allowance`` stays cheap.
"""

from __future__ import annotations

from mlflow_allowance.allowance import AllowanceComparison, VersionAllowance
from mlflow_allowance.audit import AuditKind, AuditRecord
from mlflow_allowance.client import AllowanceClient
from mlflow_allowance.errors import (
    AllowanceError,
    InputError,
    InvalidAllowanceError,
    InvalidEnvironmentError,
    InvalidModelNameError,
    InvalidVersionError,
    NoEligibleCandidateError,
    NotFoundError,
    RegistryError,
    RegistryUnavailableError,
    RollbackRefusedError,
)
from mlflow_allowance.fluent import (
    check,
    get_allowance,
    get_version,
    history,
    list_allowances,
    promote,
    register_model,
    rollback,
    select,
    set_allowance,
    set_version,
    unset_allowance,
)
from mlflow_allowance.outcomes import (
    AllowanceChange,
    AllowanceSource,
    CheckReport,
    EffectiveAllowance,
    ModelVersionInfo,
    Promotion,
    Violation,
)
from mlflow_allowance.selection import Candidate, Selection, SelectionPolicy, Verdict, evaluate
from mlflow_allowance.versions import BumpPart, SemanticVersion, parse_version

__version__ = "0.1.0"

__all__ = [
    "AllowanceChange",
    "AllowanceClient",
    "AllowanceComparison",
    "AllowanceError",
    "AllowanceSource",
    "AuditKind",
    "AuditRecord",
    "BumpPart",
    "Candidate",
    "CheckReport",
    "EffectiveAllowance",
    "InputError",
    "InvalidAllowanceError",
    "InvalidEnvironmentError",
    "InvalidModelNameError",
    "InvalidVersionError",
    "ModelVersionInfo",
    "NoEligibleCandidateError",
    "NotFoundError",
    "Promotion",
    "RegistryError",
    "RegistryUnavailableError",
    "RollbackRefusedError",
    "Selection",
    "SelectionPolicy",
    "SemanticVersion",
    "Verdict",
    "VersionAllowance",
    "Violation",
    "check",
    "evaluate",
    "get_allowance",
    "get_version",
    "history",
    "list_allowances",
    "parse_version",
    "promote",
    "register_model",
    "rollback",
    "select",
    "set_allowance",
    "set_version",
    "unset_allowance",
]
