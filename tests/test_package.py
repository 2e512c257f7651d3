"""The package's face: what it exports, and what importing it costs."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import pkgutil
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

import mlflow_allowance
from mlflow_allowance import _deprecation, _fluent, _seam, errors, selection, testing, versions

ROOT = Path(__file__).resolve().parent.parent
CORE = [
    "mlflow_allowance.errors",
    "mlflow_allowance.versions",
    "mlflow_allowance.allowance",
    "mlflow_allowance.selection",
]
# Internal modules: importable (tests and the plugin use them) but private by name.
PRIVATE = ["_environments", "_fluent", "_frozen", "_registry", "_schema", "_seam"]
# Their names before the rework, which must not come back as public modules.
RETIRED = ["environments", "fluent", "registry", "schema"]
#: The most names the top level exports: what most code needs, not everything public.
MOST_EXPORTED = 32
#: Every name ``mlflow_allowance`` exported before the public surface was narrowed (issue 19): each still
#: resolves there, from ``__all__`` or, until ``_deprecation.REMOVED_IN``, through a deprecation shim.
EXPORTED_BEFORE = [
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


def _defined_in_package(value: object) -> bool:
    return getattr(value, "__module__", "").partition(".")[0] == "mlflow_allowance"


def _modules(public: bool) -> list[str]:
    """Every module of the package (subpackages' too) whose dotted name has (no) private part."""
    found = [
        info.name
        for info in pkgutil.walk_packages(mlflow_allowance.__path__, "mlflow_allowance.")
        if not info.name.endswith("__main__")
    ]
    return sorted(n for n in found if any(p.startswith("_") for p in n.split(".")[1:]) != public)


PUBLIC_MODULES = _modules(public=True)
PRIVATE_MODULES = _modules(public=False)


class TestPackage:
    def test_all_is_sorted_without_duplicates(self) -> None:
        assert mlflow_allowance.__all__ == sorted(set(mlflow_allowance.__all__))

    def test_all_is_small(self) -> None:
        assert len(mlflow_allowance.__all__) <= MOST_EXPORTED

    def test_every_exported_name_exists(self) -> None:
        missing = [name for name in mlflow_allowance.__all__ if not hasattr(mlflow_allowance, name)]
        assert missing == []

    def test_public_names_are_all(self) -> None:
        """Every name without a leading underscore that is not a submodule is in ``__all__``, and back."""
        public = {
            name
            for name, value in vars(mlflow_allowance).items()
            if not name.startswith("_") and not inspect.ismodule(value)
        }
        assert public == set(mlflow_allowance.__all__)

    def test_dir_shows_no_deprecated_name(self) -> None:
        assert set(dir(mlflow_allowance)) & set(mlflow_allowance._MOVED) == set()

    def test_every_module_function_is_exported(self) -> None:
        assert set(_fluent.__all__) <= set(mlflow_allowance.__all__)

    @pytest.mark.parametrize("name", sorted(set(mlflow_allowance.__all__) - set(_fluent.__all__)))
    def test_exported_name_is_its_modules(self, name: str) -> None:
        """A top-level class is the same object its own public module exports in its ``__all__``."""
        value = getattr(mlflow_allowance, name)
        home = importlib.import_module(value.__module__)
        assert not value.__module__.rpartition(".")[2].startswith("_"), value.__module__
        assert name in home.__all__
        assert getattr(home, name) is value

    @pytest.mark.parametrize("module", PUBLIC_MODULES)
    def test_public_module_has_its_own_all(self, module: str) -> None:
        names = importlib.import_module(module).__dict__.get("__all__")
        assert names is not None, f"{module} has no __all__"
        assert len(set(names)) == len(names), f"{module}.__all__ repeats a name"
        # Sorted plainly, or as ruff's RUF022 sorts it (CONSTANTS, then Classes, then functions).
        isort = sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2, n))
        assert list(names) in (sorted(names), isort), f"{module}.__all__ is not sorted"
        assert [n for n in names if not hasattr(importlib.import_module(module), n)] == []
        assert [n for n in names if n.startswith("_")] == []

    @pytest.mark.parametrize("module", CORE[1:])
    def test_core_modules_classes_are_in_their_all(self, module: str) -> None:
        """Each public class and function a core module defines is in its ``__all__``."""
        imported = importlib.import_module(module)
        defined = {
            name
            for name, value in vars(imported).items()
            if not name.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value))
            and value.__module__ == module
        }
        assert defined - set(imported.__all__) == set()

    def test_type_aliases_live_in_their_modules(self) -> None:
        assert typing.get_args(versions.BumpPart) == ("major", "minor", "patch")
        assert "BumpPart" in versions.__all__
        assert "BumpPart" not in mlflow_allowance.__all__

    def test_every_error_is_in_the_error_module_and_rooted(self) -> None:
        classes = [
            value for value in vars(errors).values() if inspect.isclass(value) and _defined_in_package(value)
        ]
        assert {cls.__name__ for cls in classes} == set(errors.__all__) - {"Hint"}
        assert all(issubclass(cls, mlflow_allowance.AllowanceError) for cls in classes)

    def test_exported_errors_are_the_trees(self) -> None:
        exported = [n for n in mlflow_allowance.__all__ if n.endswith("Error")]
        assert "AllowanceError" in exported
        assert all(getattr(mlflow_allowance, n) is getattr(errors, n) for n in exported)

    def test_registry_protocol_is_with_the_test_helpers(self) -> None:
        assert testing.RegistryProtocol is _seam.RegistryProtocol
        assert testing.RegisteredModel is _seam.RegisteredModel

    def test_finds_the_known_private_modules(self) -> None:
        """The discovery the next test relies on finds what it should (so it cannot pass on nothing)."""
        assert {f"mlflow_allowance.{name}" for name in PRIVATE} <= set(PRIVATE_MODULES)
        assert {"mlflow_allowance.client", "mlflow_allowance.selection"} <= set(PUBLIC_MODULES)

    @pytest.mark.parametrize("module", PRIVATE_MODULES)
    def test_internal_modules_are_private(self, module: str) -> None:
        """No public module binds the internal module under a public name or lists it in ``__all__``, and
        what it defines reaches the top level only through ``__all__``."""
        private = importlib.import_module(module)
        for public in ["mlflow_allowance", *PUBLIC_MODULES]:
            namespace = vars(importlib.import_module(public))
            exposed = [n for n, v in namespace.items() if v is private and not n.startswith("_")]
            assert exposed == [], f"{public} binds {module} publicly as {exposed}"
            listed = [n for n in namespace.get("__all__", ()) if inspect.ismodule(namespace.get(n))]
            assert listed == [], f"{public}.__all__ lists modules {listed}"
        leaked = {
            name
            for name, value in vars(mlflow_allowance).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module
        }
        assert leaked <= set(mlflow_allowance.__all__)

    @pytest.mark.parametrize("name", RETIRED)
    def test_retired_public_modules_are_gone(self, name: str) -> None:
        assert importlib.util.find_spec(f"mlflow_allowance.{name}") is None

    def test_version(self) -> None:
        assert mlflow_allowance.__version__ == importlib.metadata.version("mlflow-allowance")


class TestDeprecatedNames:
    """Names that left the top level keep working there, with a warning, until ``REMOVED_IN``."""

    def test_every_name_exported_before_still_resolves(self) -> None:
        assert set(EXPORTED_BEFORE) - set(mlflow_allowance.__all__) == set(mlflow_allowance._MOVED)

    @pytest.mark.parametrize("name", sorted(mlflow_allowance._MOVED))
    def test_moved_name_warns_and_is_the_object(self, name: str) -> None:
        module = mlflow_allowance._MOVED[name]
        message = (
            rf"^mlflow_allowance\.{name} is deprecated and will be removed in {_deprecation.REMOVED_IN}; "
            rf"import it from {re.escape(module)}$"
        )
        with pytest.warns(DeprecationWarning, match=message) as caught:
            value = getattr(mlflow_allowance, name)
        assert value is getattr(importlib.import_module(module), name)
        assert name in importlib.import_module(module).__all__
        assert caught[0].filename == __file__  # the warning points at the caller's line

    def test_from_import_warns_too(self) -> None:
        with pytest.warns(DeprecationWarning, match="import it from mlflow_allowance.selection"):
            from mlflow_allowance import rank_candidates  # type: ignore[attr-defined]
        assert rank_candidates is selection.rank_candidates

    def test_unknown_name_is_an_attribute_error(self) -> None:
        with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
            mlflow_allowance.nonsense  # type: ignore[attr-defined]  # noqa: B018

    def test_star_import_takes_no_deprecated_name(self) -> None:
        namespace: dict[str, object] = {}
        exec("from mlflow_allowance import *", namespace)
        assert set(namespace) - {"__builtins__"} == set(mlflow_allowance.__all__)


@pytest.mark.parametrize("module", ["mlflow_allowance", *CORE])
def test_import_does_not_import_mlflow(module: str) -> None:
    """Importing the package (or any core module) in a fresh interpreter leaves mlflow unimported."""
    code = (
        "import sys\n"
        f"import {module}\n"
        "loaded = sorted(m for m in sys.modules if m == 'mlflow' or m.startswith('mlflow.'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_core_imports_only_the_standard_library_and_packaging() -> None:
    """The ground floor needs nothing beyond the standard library and packaging."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        f"import {', '.join(CORE)}\n"
        "roots = {m.partition('.')[0] for m in set(sys.modules) - before}\n"
        "print(','.join(sorted(roots - set(sys.stdlib_module_names))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.strip().split(",")) <= {"mlflow_allowance", "packaging"}
