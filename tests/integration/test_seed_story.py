"""The seed article's PROD/INT workflow as one scenario, on each real backend."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from mlflow_allowance import AllowanceClient

from .conftest import MakeVersion, aliases_of

pytestmark = pytest.mark.integration


def test_prod_and_int_follow_their_allowances(
    api: AllowanceClient, make_version: MakeVersion, unique_name: str, mlflow_client: MlflowClient
) -> None:
    aimodel, mlmodel = f"AImodel-{unique_name}", f"MLmodel-{unique_name}"
    prod, int_ = f"prod-{unique_name[-8:]}", f"int-{unique_name[-8:]}"

    competing = [aimodel]

    def holder(env: str) -> str:
        for name in competing:
            version = aliases_of(mlflow_client, name).get(env)
            if version is not None:
                return f"{name}/{version}"
        raise AssertionError(f"nobody holds @{env}")

    # AImodel 1.0 runs in PROD, chosen by F1.
    api.set_allowance(prod, "<=1.0")
    first = make_version(aimodel, "1.0", {"F1": 0.73})
    assert api.promote(prod, aimodel, metric="F1").new == f"{aimodel}/{first}"

    # Periodic retraining adds more 1.0 versions; promotion keeps the best one in PROD.
    best = make_version(aimodel, "1.0", {"F1": 0.93})
    make_version(aimodel, "1.0", {"F1": 0.80})
    api.promote(prod, aimodel, metric="F1")
    assert holder(prod) == f"{aimodel}/{best}"

    # New code is registered as 2.0: INT (==2.0) takes it, PROD (<=1.0) keeps 1.0.
    two = make_version(aimodel, "2.0", {"F1": 0.98})
    api.set_allowance(int_, "=2.0")
    api.promote(int_, aimodel, metric="F1", stage="Staging")
    api.promote(prod, aimodel, metric="F1")
    assert (holder(int_), holder(prod)) == (f"{aimodel}/{two}", f"{aimodel}/{best}")

    # INT's tests passed: PROD's allowance is raised and promotion moves PROD to the better 2.0.
    assert "widened" in api.set_allowance(prod, "<=2.0").describe()
    api.promote(prod, aimodel, metric="F1")
    assert holder(prod) == f"{aimodel}/{two}"

    # Rollback returns PROD to the previous holder.
    api.rollback(prod, aimodel)
    assert holder(prod) == f"{aimodel}/{best}"
    api.promote(prod, aimodel, metric="F1")
    assert holder(prod) == f"{aimodel}/{two}"

    # A completely new model starts at 1.0 and competes for the PROD slot.
    challenger = make_version(mlmodel, "1.0", {"F1": 0.99})
    competing.append(mlmodel)
    promotion = api.promote(prod, [aimodel, mlmodel], metric="F1")
    assert promotion.new == f"{mlmodel}/{challenger}"
    assert holder(prod) == f"{mlmodel}/{challenger}"
    assert prod not in mlflow_client.get_registered_model(aimodel).aliases
    assert holder(int_) == f"{aimodel}/{two}"

    kinds = [(r.kind, r.new) for r in api.history(prod)]
    assert kinds[0] == ("promotion", f"{mlmodel}/{challenger}")
    assert ("rollback", f"{aimodel}/{best}") in kinds
    assert api.check(prod).ok
    assert api.check(int_).ok
