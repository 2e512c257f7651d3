"""Rules of the scoring seam that need no MLflow: which failures are MLflow's dataset race."""

from __future__ import annotations

import pytest

from mlflow_allowance._evaluator import _lost_dataset_race


@pytest.mark.parametrize(
    "message",
    [
        "(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.experiment_id, datasets.name, "
        "datasets.digest",
        '(psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "dataset_pk"'
        " DETAIL: Key (experiment_id, name, digest)=(3, wine, 0a64f9dd) already exists. [SQL: INSERT INTO "
        "datasets ...]",
        "(pymysql.err.IntegrityError) (1062, \"Duplicate entry '3-wine-0a64f9dd' for key 'PRIMARY'\") "
        "[SQL: INSERT INTO datasets ...]",
    ],
    ids=["sqlite", "postgresql", "mysql"],
)
def test_a_duplicate_dataset_insert_is_a_race_to_retry(message: str) -> None:
    assert _lost_dataset_race(RuntimeError(message))


@pytest.mark.parametrize(
    "message",
    [
        "ValueError: X has 13 features, but LogisticRegression is expecting 6 features as input.",
        "(sqlite3.IntegrityError) UNIQUE constraint failed: runs.run_uuid",
        "cannot load models:/m/1: OSError: No such file or directory: datasets/model.pkl",
    ],
    ids=["model-failure", "other-table", "path-with-datasets"],
)
def test_other_failures_are_the_versions_own(message: str) -> None:
    assert not _lost_dataset_race(RuntimeError(message))
