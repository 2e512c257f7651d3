"""mlflow-allowance: which model versions each environment may run, chosen safely and visibly.

The pure core (allowances, versions, selection) is importable without MLflow; the faces that talk to MLflow
are imported lazily, so ``import mlflow_allowance`` stays cheap.
"""

from __future__ import annotations

from mlflow_allowance.allowance import AllowanceComparison, VersionAllowance
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
from mlflow_allowance.selection import Candidate, Selection, SelectionPolicy, Verdict, evaluate
from mlflow_allowance.versions import BumpPart, SemanticVersion, parse_version

__version__ = "0.1.0"

__all__ = [
    "AllowanceComparison",
    "AllowanceError",
    "BumpPart",
    "Candidate",
    "InputError",
    "InvalidAllowanceError",
    "InvalidEnvironmentError",
    "InvalidModelNameError",
    "InvalidVersionError",
    "NoEligibleCandidateError",
    "NotFoundError",
    "RegistryError",
    "RegistryUnavailableError",
    "RollbackRefusedError",
    "Selection",
    "SelectionPolicy",
    "SemanticVersion",
    "Verdict",
    "VersionAllowance",
    "evaluate",
    "parse_version",
]
