"""mlflow-allowance: which model versions each environment may run, chosen safely and visibly.

The pure core (allowances, versions, selection) is importable without MLflow; the faces that talk to MLflow
import it lazily, so ``import mlflow_allowance`` stays cheap. ``__all__`` lists what most code needs: the
client and its module-level functions, the values people type, the records those functions return and the
errors worth catching by name. Everything else public lives in its module, each with its own ``__all__``:
the selection engine in :mod:`mlflow_allowance.selection`, the whole error tree in
:mod:`mlflow_allowance.errors`, ``RegistryProtocol`` in :mod:`mlflow_allowance.testing`, and so on. Modules
whose names start with ``_`` are internal.
"""

from __future__ import annotations as _annotations  # bound privately: the namespace is exactly __all__

import typing as _typing

from mlflow_allowance import _deprecation
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
from mlflow_allowance.allowance import VersionAllowance
from mlflow_allowance.audit import AuditRecord
from mlflow_allowance.client import AllowanceClient
from mlflow_allowance.datasets import DatasetRef
from mlflow_allowance.errors import AllowanceError, InputError, NoEligibleCandidateError, NotFoundError
from mlflow_allowance.outcomes import (
    AllowanceChange,
    CheckReport,
    EffectiveAllowance,
    Evaluation,
    ModelVersionInfo,
    Promotion,
)
from mlflow_allowance.request import SelectionRequest
from mlflow_allowance.selection import Selection
from mlflow_allowance.versions import SemanticVersion


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
    "AllowanceError",
    "AuditRecord",
    "CheckReport",
    "DatasetRef",
    "EffectiveAllowance",
    "Evaluation",
    "InputError",
    "ModelVersionInfo",
    "NoEligibleCandidateError",
    "NotFoundError",
    "Promotion",
    "Selection",
    "SelectionRequest",
    "SemanticVersion",
    "VersionAllowance",
    "check",
    "dashboard",
    "evaluate",
    "get_allowance",
    "get_version",
    "history",
    "list_allowances",
    "list_datasets",
    "promote",
    "register_model",
    "rollback",
    "select",
    "set_allowance",
    "set_version",
    "unset_allowance",
]

#: Names that left the top level after 0.1.0 → the module that exports them now. They still resolve here,
#: with a DeprecationWarning, until 0.3.0 removes them (``_deprecation.REMOVED_IN``; see CHANGELOG.md).
_MOVED = {
    "AllowanceComparison": "mlflow_allowance.allowance",
    "AllowanceSource": "mlflow_allowance.outcomes",
    "AuditKind": "mlflow_allowance.audit",
    "AuditState": "mlflow_allowance.audit",
    "BumpPart": "mlflow_allowance.versions",
    "Candidate": "mlflow_allowance.selection",
    "DatasetInfo": "mlflow_allowance.datasets",
    "EnvironmentBusyError": "mlflow_allowance.errors",
    "InvalidAllowanceError": "mlflow_allowance.errors",
    "InvalidEnvironmentError": "mlflow_allowance.errors",
    "InvalidModelNameError": "mlflow_allowance.errors",
    "InvalidVersionError": "mlflow_allowance.errors",
    "MissingExtraError": "mlflow_allowance.errors",
    "RegisteredModel": "mlflow_allowance.testing",
    "RegistryError": "mlflow_allowance.errors",
    "RegistryProtocol": "mlflow_allowance.testing",
    "RegistryUnavailableError": "mlflow_allowance.errors",
    "RollbackRefusedError": "mlflow_allowance.errors",
    "Score": "mlflow_allowance.datasets",
    "SelectionPolicy": "mlflow_allowance.selection",
    "Verdict": "mlflow_allowance.selection",
    "Violation": "mlflow_allowance.outcomes",
    "ViolationKind": "mlflow_allowance.outcomes",
    "rank_candidates": "mlflow_allowance.selection",
    "resolve_allowance": "mlflow_allowance.outcomes",
}

if not _typing.TYPE_CHECKING:  # type checkers see only the new spelling, so they point callers to it

    def __getattr__(name: str) -> object:
        """The objects that moved to a submodule, with a warning naming where (PEP 562)."""
        module = _MOVED.get(name)
        if module is None:
            raise AttributeError(f"module 'mlflow_allowance' has no attribute {name!r}")
        import importlib

        _deprecation.warn(f"mlflow_allowance.{name}", f"import it from {module}")
        return getattr(importlib.import_module(module), name)
