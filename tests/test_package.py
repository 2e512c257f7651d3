"""The package's face: what it exports, and what importing it costs."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import subprocess
import sys
import typing
from pathlib import Path

import pytest

import mlflow_allowance
from mlflow_allowance import errors

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


def _defined_in_package(value: object) -> bool:
    return getattr(value, "__module__", "").partition(".")[0] == "mlflow_allowance"


class TestPackage:
    def test_all_is_sorted_without_duplicates(self) -> None:
        assert mlflow_allowance.__all__ == sorted(set(mlflow_allowance.__all__))

    def test_every_exported_name_exists(self) -> None:
        missing = [name for name in mlflow_allowance.__all__ if not hasattr(mlflow_allowance, name)]
        assert missing == []

    def test_every_public_class_and_function_is_exported(self) -> None:
        public = {
            name
            for name, value in vars(mlflow_allowance).items()
            if not name.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value))
            and _defined_in_package(value)
        }
        assert public - set(mlflow_allowance.__all__) == set()

    @pytest.mark.parametrize("module", CORE[1:])
    def test_core_modules_all_is_reexported(self, module: str) -> None:
        names = importlib.import_module(module).__all__
        assert set(names) <= set(mlflow_allowance.__all__)
        for name in names:
            assert getattr(mlflow_allowance, name) is getattr(importlib.import_module(module), name)

    def test_type_aliases_are_exported(self) -> None:
        assert typing.get_args(mlflow_allowance.BumpPart) == ("major", "minor", "patch")

    def test_every_error_is_exported_and_rooted(self) -> None:
        classes = [
            value for value in vars(errors).values() if inspect.isclass(value) and _defined_in_package(value)
        ]
        assert {cls.__name__ for cls in classes} <= set(mlflow_allowance.__all__)
        assert all(issubclass(cls, mlflow_allowance.AllowanceError) for cls in classes)

    def test_public_names_are_all(self) -> None:
        """Every name without a leading underscore that is not a submodule is in ``__all__``, and back."""
        public = {
            name
            for name, value in vars(mlflow_allowance).items()
            if not name.startswith("_") and not inspect.ismodule(value)
        }
        exported = {
            name for name in mlflow_allowance.__all__ if not (name.startswith("__") and name.endswith("__"))
        }
        assert public == exported

    @pytest.mark.parametrize("name", PRIVATE)
    def test_internal_modules_are_private(self, name: str) -> None:
        assert importlib.util.find_spec(f"mlflow_allowance.{name}") is not None

    @pytest.mark.parametrize("name", RETIRED)
    def test_retired_public_modules_are_gone(self, name: str) -> None:
        assert importlib.util.find_spec(f"mlflow_allowance.{name}") is None

    def test_version(self) -> None:
        assert mlflow_allowance.__version__ == importlib.metadata.version("mlflow-allowance")


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
