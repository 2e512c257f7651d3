"""The walkthrough's PROD/INT story for the dashboard tests, on any client (fake or real MLflow).

``register(name, semver, f1, params)`` adds one version backed by a stand-in training run; the story then
sets allowances, promotes, rolls back and lets MLmodel compete, as examples/walkthrough.py does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mlflow_allowance import AllowanceClient

#: register(name, semver, F1, params) -> registry version
Register = Callable[[str, str, float, Mapping[str, str]], int]

#: (model, semantic version, F1, logged params), in registration order.
VERSIONS: tuple[tuple[str, str, float, dict[str, str]], ...] = (
    ("AImodel", "1.0", 0.93, {"n_estimators": "10", "max_features": "0.5", "features": "6"}),
    ("AImodel", "1.0", 0.98, {"n_estimators": "50", "max_features": "0.5", "features": "6"}),
    ("AImodel", "1.0", 0.95, {"n_estimators": "20", "max_features": "0.8", "features": "6"}),
    ("AImodel", "2.0", 0.99, {"n_estimators": "50", "max_features": "0.5", "features": "13"}),
    ("MLmodel", "1.0", 0.995, {"C": "1.0", "features": "13"}),
)
#: Where the story ends: each environment's holder.
HOLDERS = {"prod": "MLmodel/1", "int": "AImodel/4"}


def play(client: AllowanceClient, register: Register) -> None:
    """Play the story on ``client``."""
    versions = iter(VERSIONS)

    def add() -> int:
        name, semver, f1, params = next(versions)
        return register(name, semver, f1, params)

    client.set_allowance("prod", "<=1.0", reason="AImodel 1.0 runs in PROD")
    add()
    client.promote("prod", "AImodel", metric="F1", reason="first model")
    add()
    add()
    client.promote("prod", "AImodel", metric="F1", reason="retrained on more data")
    add()
    client.set_allowance("int", "==2.0", reason="new code on the int branch")
    client.promote("int", "AImodel", metric="F1", reason="INT tests 2.0")
    client.promote("prod", "AImodel", metric="F1", reason="nightly")
    client.set_allowance("prod", "<=2.0", reason="INT tests of 2.0 passed")
    client.promote("prod", "AImodel", metric="F1", reason="2.0 allowed")
    client.rollback("prod", "AImodel", reason="2.0 misbehaves in PROD")
    client.promote("prod", "AImodel", metric="F1", reason="fixed upstream, roll forward")
    add()
    client.promote("prod", ["AImodel", "MLmodel"], metric="F1", reason="MLmodel competes")
