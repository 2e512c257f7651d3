"""Hatchling build hook: ship ``mlflow_allowance.pth`` at the root of site-packages.

The ``.pth`` file attaches ``mlflow allowance`` to MLflow's own ``mlflow`` command (docs/cli-plugin.md).
Hatchling can only put a file outside the package directory through ``force-include``; this hook adds
the mapping for both kinds of wheel:

* standard wheels read ``build_data["force_include"]``;
* editable wheels (``pip install -e``) read ``build_data["force_include_editable"]`` and, when it is
  non-empty, use it *instead of* the configured ``force-include``, so the hook seeds it with what the
  editable wheel would otherwise have included before adding the ``.pth`` file.

Registered in pyproject.toml under ``[tool.hatch.build.targets.wheel.hooks.custom]``, so it runs for the
wheel target only (an sdist simply carries this file and the ``.pth`` source).
"""

from __future__ import annotations

import os
from typing import Any

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PTH_SOURCE = os.path.join("mlflow_allowance", "_pth", "mlflow_allowance.pth")
PTH_TARGET = "mlflow_allowance.pth"


class MlflowCliPluginHook(BuildHookInterface[BuilderConfig]):
    """Adds ``mlflow_allowance.pth`` to the root of standard and editable wheels."""

    PLUGIN_NAME = "mlflow-allowance-pth"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        source = os.path.join(self.root, PTH_SOURCE)
        _check_pth(source)
        if version == "editable":
            editable: dict[str, str] = build_data.setdefault("force_include_editable", {})
            if not editable:
                editable.update(self.build_config.get_force_include())
                editable.update(build_data.get("force_include", {}))
            editable[source] = PTH_TARGET
        else:
            build_data.setdefault("force_include", {})[source] = PTH_TARGET


def _check_pth(path: str) -> None:
    """Refuse a .pth that is not one ``import`` line: ``site`` would take any other line for a path."""
    with open(path, encoding="ascii") as handle:
        lines = handle.read().splitlines()
    if len(lines) != 1 or not lines[0].startswith("import "):
        raise ValueError(f"{PTH_SOURCE} must be exactly one line starting with 'import '")
    compile(lines[0], PTH_SOURCE, "exec")
