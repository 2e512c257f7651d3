"""The package on production backends: a real ``mlflow server`` with two workers on PostgreSQL and on
MariaDB/MySQL (fixtures ``postgresql_server`` / ``mysql_server`` of tests/conftest.py; skipped when the
database is not reachable, failed with ``MLFLOW_ALLOWANCE_REQUIRE_BACKENDS=1``).

What these backends do that sqlite does not: they enforce MLflow's column lengths (a registered-model tag
value holds at most 5,000 characters, an experiment name 256), MariaDB/MySQL compare names with their
default collation (case- and accent-insensitively), and two server workers write at once.

``tracking_uri`` is overridden here, so the fixtures of tests/integration/conftest.py (``api``,
``mlflow_client``, ``make_version``, ``env``) run against these servers.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from mlflow_allowance import AllowanceClient, AllowanceError, InputError, NotFoundError
from mlflow_allowance._environments import MAX_ENVIRONMENT_LENGTH, MAX_MODEL_NAME_LENGTH
from mlflow_allowance._registry import Registry
from mlflow_allowance._schema import TAG_VALUE_LIMIT, VERSION_TAG, allowance_tag
from mlflow_allowance.errors import InvalidModelNameError
from tests.conftest import Backend, DatabaseServer, DatabaseServers

from .conftest import MakeVersion, aliases_of, registry_state
from .test_concurrency import WORKER, _chain_breaks, writer_environment

pytestmark = pytest.mark.integration

#: MLflow's column for registered-model tag values: VARCHAR(5000) on PostgreSQL and MySQL.
RM_TAG_COLUMN = 5000
#: The longest allowance text the package parses.
MAX_ALLOWANCE_LENGTH = 1000
#: MLflow's column for experiment names: VARCHAR(256).
EXPERIMENT_NAME_COLUMN = 256
#: Seeds of the concurrent writers (processes): both start by promoting, so two processes promote the same
#: environment at once; then 4 sets <=1.0 and rolls back, 2 promotes twice more (see concurrent_writer.py).
SEEDS = (4, 2)
#: Operations of each writer: enough to overlap, few enough for the time budget.
OPERATIONS = 3


@pytest.fixture(params=[pytest.param("postgresql", id="postgresql"), pytest.param("mysql", id="mysql")])
def backend(request: pytest.FixtureRequest, database_servers: DatabaseServers) -> DatabaseServer:
    """The session's ``mlflow server`` on PostgreSQL, or on MariaDB/MySQL.

    The first test starts the servers of every backend this session's tests of this module use, at once.
    """
    wanted: list[Backend] = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if item.path == request.path and callspec is not None and "backend" in callspec.params:
            wanted.append(callspec.params["backend"])
    database_servers.start(*wanted)
    return database_servers.get(request.param)


@pytest.fixture
def tracking_uri(backend: DatabaseServer) -> str:
    """Overrides the sqlite/server ``tracking_uri``: the fixtures of tests/integration run on ``backend``."""
    return backend.uri


# The seed story ------------------------------------------------------------------------------------------


def test_seed_story(
    api: AllowanceClient, mlflow_client: MlflowClient, make_version: MakeVersion, unique_name: str, env: str
) -> None:
    aimodel, prod, int_ = f"AImodel-{unique_name}", env, f"int-{env[-8:]}"
    assert api.set_allowance(prod, "<=1.0").changed
    assert api.set_allowance(int_, "==2.0").changed
    v1 = make_version(aimodel, "1.0", {"F1": 0.93})
    v2 = make_version(aimodel, "1.0", {"F1": 0.98})
    v3 = make_version(aimodel, "2.0", {"F1": 0.99})

    selection = api.select(prod, aimodel, metric="F1")
    verdicts = {v.candidate.version: v for v in selection.candidates}
    assert selection.winner is not None
    assert selection.winner.candidate.version == v2
    assert verdicts[v2].reason == "winner: highest F1 (0.98) within <=1.0"
    assert verdicts[v1].eligible
    assert not verdicts[v3].eligible
    assert "outside <=1.0" in verdicts[v3].reason

    assert api.promote(prod, aimodel, metric="F1").new == f"{aimodel}/{v2}"
    assert api.promote(int_, aimodel, metric="F1").new == f"{aimodel}/{v3}"
    assert aliases_of(mlflow_client, aimodel) == {prod: v2, int_: v3}

    # INT's tests passed: PROD's allowance is widened and PROD moves to 2.0; then it is rolled back.
    assert "widened" in api.set_allowance(prod, "<=2.0").describe()
    moved = api.promote(prod, aimodel, metric="F1")
    assert (moved.old, moved.new, moved.changed) == (f"{aimodel}/{v2}", f"{aimodel}/{v3}", True)
    back = api.rollback(prod, aimodel)
    assert (back.old, back.new) == (f"{aimodel}/{v3}", f"{aimodel}/{v2}")
    assert aliases_of(mlflow_client, aimodel) == {prod: v2, int_: v3}

    history = api.history(prod)
    assert [(r.kind, r.old, r.new) for r in history] == [
        ("rollback", f"{aimodel}/{v3}", f"{aimodel}/{v2}"),
        ("promotion", f"{aimodel}/{v2}", f"{aimodel}/{v3}"),
        ("allowance", "<=1.0", "<=2.0"),
        ("promotion", None, f"{aimodel}/{v2}"),
        ("allowance", None, "<=1.0"),
    ]
    assert [r.seq for r in history] == [5, 4, 3, 2, 1]
    assert {r.state for r in history} == {"complete"}
    for environment in (prod, int_):
        report = api.check(environment)
        assert report.ok, report.to_dict()["violations"]
        assert report.checked == 1


# Limits the database enforces ------------------------------------------------------------------------------


def test_registered_model_tag_values_stay_within_the_column(
    backend: DatabaseServer, mlflow_client: MlflowClient, make_version: MakeVersion, unique_name: str
) -> None:
    make_version(unique_name, "1.0")
    # What the database does: 5,000 characters fit (4-byte ones too: utf8mb4), 5,001 are refused.
    mlflow_client.set_registered_model_tag(unique_name, "full", "😀" * RM_TAG_COLUMN)
    assert mlflow_client.get_registered_model(unique_name).tags["full"] == "😀" * RM_TAG_COLUMN
    # MLflow 3 leaves the check to the database; 2.9 servers refuse it themselves.
    with pytest.raises(MlflowException, match=r"too long|exceeded length limit"):
        mlflow_client.set_registered_model_tag(unique_name, "over", "x" * (RM_TAG_COLUMN + 1))
    assert "over" not in mlflow_client.get_registered_model(unique_name).tags

    # What the package does: its longest value is stored whole; one more is refused before MLflow is asked.
    assert TAG_VALUE_LIMIT <= RM_TAG_COLUMN
    registry = Registry(backend.uri, backend.uri)
    longest = "é" * (TAG_VALUE_LIMIT - 1)
    registry.set_model_tag(unique_name, "mlflow_allowance.longest", longest)
    assert mlflow_client.get_registered_model(unique_name).tags["mlflow_allowance.longest"] == longest
    before = registry_state(mlflow_client, unique_name)
    with pytest.raises(InputError, match=f"the limit is {TAG_VALUE_LIMIT - 1}"):
        registry.set_model_tag(unique_name, "mlflow_allowance.longer", "x" * TAG_VALUE_LIMIT)
    assert registry_state(mlflow_client, unique_name) == before


def test_long_values_round_trip_through_the_api(
    api: AllowanceClient,
    mlflow_client: MlflowClient,
    make_version: MakeVersion,
    unique_name: str,
    env: str,
) -> None:
    # The longest model name MLflow allows, and an allowance so long that the promotion's details (the
    # policy and the candidate table) are split over several audit tags.
    name = (f"{unique_name}-" * 40)[:MAX_MODEL_NAME_LENGTH]
    versions = [make_version(name, "1.0", {"F1": 0.5 + i / 100}) for i in range(3)]
    clauses = [">=1.0"]
    while len(",".join([*clauses, f"!=1.0.{len(clauses)}"])) <= MAX_ALLOWANCE_LENGTH:
        clauses.append(f"!=1.0.{len(clauses)}")
    allowance = ",".join(clauses)  # the longest the package parses
    assert api.set_allowance(env, allowance, model=name).changed
    stored = mlflow_client.get_registered_model(name).tags[allowance_tag(env)]
    assert stored == api.get_allowance(env, model=name).allowance.canonical
    assert len(stored) > MAX_ALLOWANCE_LENGTH - 10

    reason = "é😀" * TAG_VALUE_LIMIT  # longer than the limit: cut to it, not refused by the database
    promotion = api.promote(env, name, metric="F1", reason=reason)
    assert promotion.new == f"{name}/{versions[-1]}"
    assert aliases_of(mlflow_client, name) == {env: versions[-1]}

    [record, allowance_record] = api.history(env)
    assert record.reason == reason[:TAG_VALUE_LIMIT]
    assert record.model == name
    assert allowance_record.new == stored
    assert record.details.get("unreadable_details") is None
    assert len(record.details["candidates"]) == len(versions)
    assert record.record_id is not None
    tags = mlflow_client.get_run(record.record_id).data.tags
    chunks = [key for key in tags if key.startswith("mlflow_allowance.details.")]
    assert len(chunks) >= 2
    assert max(len(value) for value in tags.values()) <= TAG_VALUE_LIMIT
    assert api.check(env, models=[name]).ok


def test_model_names_beyond_ascii(
    backend: DatabaseServer,
    api: AllowanceClient,
    mlflow_client: MlflowClient,
    make_version: MakeVersion,
    unique_name: str,
    env: str,
) -> None:
    """Names with 2-, 3- and 4-byte characters (utf8mb4 on MySQL) are found, promoted and checked."""
    name = f"modèle-模型-😀-{unique_name}"
    first = make_version(name, "1.0", {"F1": 0.9})
    second = make_version(name, "1.1", {"F1": 0.8})
    assert mlflow_client.get_registered_model(name).name == name
    selection = api.select(env, name, metric="F1")
    assert [(v.candidate.name, v.candidate.version) for v in selection.candidates] == [
        (name, first),
        (name, second),
    ]
    assert api.promote(env, name, metric="F1").new == f"{name}/{first}"
    assert aliases_of(mlflow_client, name) == {env: first}
    assert api.history(env, model=name)[0].new == f"{name}/{first}"
    assert api.check(env, models=[name]).ok


def test_every_accepted_environment_name_can_be_changed(
    api: AllowanceClient, make_version: MakeVersion, unique_name: str
) -> None:
    version = make_version(unique_name, "1.0", {"F1": 0.9})
    env = f"e{uuid.uuid4().hex}".ljust(MAX_ENVIRONMENT_LENGTH, "x")
    assert api.set_allowance(env, "<=1.0").changed
    assert api.promote(env, unique_name).new == f"{unique_name}/{version}"


# Names that differ only in case --------------------------------------------------------------------------


def test_names_differing_in_case(
    backend: DatabaseServer,
    api: AllowanceClient,
    mlflow_client: MlflowClient,
    make_version: MakeVersion,
    unique_name: str,
    env: str,
) -> None:
    """PostgreSQL keeps ``AImodel`` and ``aimodel`` apart; MariaDB/MySQL's default collation makes them one
    registered model (MLflow refuses to create the second and finds the first under either name). Either
    way the package never moves an alias or applies an allowance across two models."""
    upper, lower = f"AImodel-{unique_name}", f"aimodel-{unique_name}"
    one = make_version(upper, "1.0", {"F1": 0.90})
    two = make_version(upper, "2.0", {"F1": 0.99})
    api.set_allowance(env, "<=1.0", model=upper)

    if not backend.case_insensitive:
        other = make_version(lower, "2.0", {"F1": 0.95})
        assert mlflow_client.get_registered_model(lower).name == lower
        assert api.get_allowance(env, model=lower).source == "unset"
        promotion = api.promote(env, [upper, lower], metric="F1")
        assert promotion.new == f"{lower}/{other}"  # upper's 2.0 (F1 0.99) is outside its own <=1.0
        assert aliases_of(mlflow_client, lower) == {env: other}
        assert aliases_of(mlflow_client, upper) == {}
        api.set_allowance(env, "<=1.0", model=lower)  # now lower's 2.0 is outside too
        assert api.promote(env, [upper, lower], metric="F1").new == f"{upper}/{one}"
        assert (aliases_of(mlflow_client, upper), aliases_of(mlflow_client, lower)) == ({env: one}, {})
        assert api.check(env).ok
        return

    # MariaDB/MySQL: one registered model under two spellings.
    with pytest.raises(MlflowException, match="already exists"):
        mlflow_client.create_registered_model(lower)
    assert mlflow_client.get_registered_model(lower).name == upper
    # MLflow's searches compare with BINARY, so no version is found under the other spelling ...
    assert mlflow_client.search_model_versions(f"name = '{lower}'") == []
    # ... and the package, asked for the other spelling, refuses (today: "no eligible candidate") and
    # moves nothing.
    with pytest.raises(AllowanceError):
        api.promote(env, lower, metric="F1")
    assert aliases_of(mlflow_client, upper) == {}
    # Under its own spelling, the model's selection obeys its allowance.
    assert api.promote(env, upper, metric="F1").new == f"{upper}/{one}"
    assert aliases_of(mlflow_client, upper) == {env: one}
    assert two not in aliases_of(mlflow_client, upper).values()
    assert api.check(env).ok


def test_a_name_in_the_wrong_case_gets_a_clear_error(
    backend: DatabaseServer,
    api: AllowanceClient,
    make_version: MakeVersion,
    unique_name: str,
    env: str,
) -> None:
    upper, lower = f"AImodel-{unique_name}", f"aimodel-{unique_name}"
    make_version(upper, "1.0", {"F1": 0.9})
    expected = NotFoundError if not backend.case_insensitive else InvalidModelNameError
    named = lower if not backend.case_insensitive else upper
    with pytest.raises(expected, match=named):
        api.select(env, lower, metric="F1")
    with pytest.raises(expected, match=named):
        api.set_allowance(env, "<=1.0", model=lower)


def test_a_registration_in_the_wrong_case_cannot_bypass_the_allowance(
    backend: DatabaseServer,
    api: AllowanceClient,
    mlflow_client: MlflowClient,
    make_version: MakeVersion,
    unique_name: str,
    env: str,
) -> None:
    upper, lower = f"AImodel-{unique_name}", f"aimodel-{unique_name}"
    one = make_version(upper, "1.0", {"F1": 0.9})
    api.set_allowance(env, "<=1.0", model=upper)
    assert api.promote(env, upper).new == f"{upper}/{one}"
    try:
        try:
            registered = api.register_model(f"models:/{upper}/{one}", lower, semver="2.0")
            promotion = api.promote(env, [upper, lower])
        except AllowanceError:
            registered = None  # refused, with an error of the package's own: fine
        if registered is None or backend.case_insensitive:
            # One registered model: its @env stays on a version its allowance <=1.0 allows.
            served = aliases_of(mlflow_client, upper).get(env)
            assert served is not None, f"nothing holds @{env} of {upper}"
            assert mlflow_client.get_model_version(upper, str(served)).tags[VERSION_TAG] == "1.0"
        else:
            # Two models: the new one has no override, so its 2.0 wins, and the alias moves to it.
            assert promotion.new == f"{lower}/{registered.version}"
            assert aliases_of(mlflow_client, lower) == {env: registered.version}
            assert aliases_of(mlflow_client, upper) == {}
        if backend.case_insensitive:
            assert registered is None  # the other spelling was refused before anything was written
            assert mlflow_client.search_model_versions(f"name = '{lower}'") == []
            assert api.check(env, models=[upper]).ok
            with pytest.raises(InvalidModelNameError, match=upper):
                api.check(env, models=[upper, lower])
        else:
            assert api.check(env, models=[upper, lower]).ok
    finally:
        if backend.case_insensitive:
            # A version stored under the other spelling breaks MLflow's search_registered_models for the
            # whole server (KeyError): remove it, or every later unscoped check on this server fails.
            for ghost in mlflow_client.search_model_versions(f"name = '{lower}'"):
                mlflow_client.delete_model_version(ghost.name, ghost.version)


# Concurrent writers ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_moves_leave_alias_and_trail_in_agreement(
    backend: DatabaseServer,
    api: AllowanceClient,
    mlflow_client: MlflowClient,
    make_version: MakeVersion,
    env: str,
) -> None:
    """Processes promoting, rolling back and re-allowing one environment at once, through two server
    workers (tests/integration/concurrent_writer.py): afterwards the registry's alias is where the trail's
    newest completed move put it, and the trail is an unbroken chain without duplicate numbers."""
    suffix = env[-8:]
    model, other = f"model-{suffix}", f"other-{suffix}"
    # <=1.0 picks other/1 (F1 0.97), <=2.0 and >=1.0 pick model/2 (0.99), ==2.0 model/2 too.
    make_version(model, "1.0", {"F1": 0.90})
    make_version(model, "2.0", {"F1": 0.99})
    make_version(other, "1.0", {"F1": 0.97})
    environment = writer_environment()
    writers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), backend.uri, env, model, other, str(seed), str(OPERATIONS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for seed in SEEDS
    ]
    outputs = [writer.communicate(timeout=300) for writer in writers]
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err[-3000:]
        assert len(out.splitlines()) == OPERATIONS
    lines = [line for out, _ in outputs for line in out.splitlines()]
    assert sum(line.startswith("ok ") for line in lines) >= OPERATIONS  # real work got done

    records = api.history(env)
    numbers = [r.seq for r in records]
    assert None not in numbers
    assert len(numbers) == len(set(numbers)), "a change number was recorded twice"
    assert [r for r in records if r.state == "pending"] == []
    done = sorted((r for r in records if r.done), key=lambda r: r.seq or 0)
    assert _chain_breaks([r for r in done if r.kind != "allowance"]) == []
    assert _chain_breaks([r for r in done if r.kind == "allowance"]) == []

    holders = {
        f"{name}/{version}"
        for name in (model, other)
        for alias, version in aliases_of(mlflow_client, name).items()
        if alias == env
    }
    last_move = next((r for r in reversed(done) if r.kind != "allowance"), None)
    assert holders == ({last_move.new} if last_move is not None and last_move.new else set())
    # The alias and the trail agree. The alias may be outside the allowance, by design: an allowance
    # change moves no alias (and one completing during a promotion is not seen by it); check --fix repairs.
    report = api.check(env, models=[model, other])
    assert {v.kind for v in report.violations} <= {"outside-allowance"}, report.to_dict()["violations"]
    api.check(env, models=[model, other], fix=True)
    report = api.check(env, models=[model, other])
    assert report.ok, report.to_dict()["violations"]
