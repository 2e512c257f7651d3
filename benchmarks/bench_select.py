"""Benchmark ``AllowanceClient.select`` over a live ``mlflow server`` against two baselines.

For each size N it measures, side by side against the same server:

* ``naive``: one paginated ``search_model_versions`` plus one ``get_run`` per version;
* ``lower bound``: one paginated ``search_model_versions`` plus ``search_runs`` batched by 100 run ids,
  experiment ids known, nothing else;
* ``ours``: ``AllowanceClient(tracking_uri=uri).select("prod", models, metric="F1")``; its winner is
  checked against the one computed from the lower bound's data;
* two floors for a selection that would cache run metrics between calls (not built): ``versions only``
  (the paginated ``search_model_versions`` alone) and ``newest 100`` (one page of the most recently
  changed versions).

It prints a Markdown table of the best wall time of ``--repeat`` runs and the HTTP requests each made.
Requests are counted in the client (``requests.Session.request``) and checked against the access log of
the server; a mismatch is reported.

The fixture (N model versions, each with its own finished training run that logged ``F1``, and a semantic
version tag) is written straight into a sqlite store, cached under ``--fixture-dir`` and reused by later
runs; 10,000 versions take a few minutes. The server always runs on a copy of it. Not part of CI::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_select.py --sizes 1000 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Before the first ``import mlflow``: no telemetry, and no silent HTTP retries that would hide requests.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("MLFLOW_REGISTRY_URI", None)

import requests

from mlflow_allowance import AllowanceClient, VersionAllowance
from mlflow_allowance._registry import RUN_BATCH, VERSION_PAGE, quote
from mlflow_allowance._schema import VERSION_TAG
from mlflow_allowance.testing import local_server

#: Bump when the generated fixture changes, so stale caches are not reused.
FIXTURE_FORMAT = 1
ENVIRONMENT = "prod"
ALLOWANCE = ">=2.0,<3.0"
METRIC = "F1"
METHODS = ("naive", "lower bound", "ours")
#: Not ways to select, floors for a selection that would cache run metrics between calls (not built):
#: list every version and nothing else, or read only the 100 most recently changed versions.
FLOORS = ("versions only", "newest 100")
_TMPFS = Path("/dev/shm")
# An access-log line of uvicorn for an API call (``/health`` polls are not counted).
_ACCESS_LINE = re.compile(rb'"(?:GET|POST|PATCH|PUT|DELETE) /(?:ajax-)?api/')


# Fixture ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    """A generated sqlite store and what the baselines need to know about it."""

    db: Path
    size: int
    models: tuple[str, ...]
    experiment_ids: tuple[str, ...]
    seconds: float


def semver_of(index: int) -> str:
    """The semantic version tag of the ``index``-th version: majors 1, 2, 3 in turn, minors and patches
    growing, so about a third of the versions fall within :data:`ALLOWANCE`."""
    return f"{1 + index % 3}.{(index // 3) % 20}.{index // 60}"


def fixture(root: Path, size: int, n_models: int) -> Fixture:
    """The cached fixture of ``size`` versions spread over ``n_models`` models, generated if missing."""
    directory = root / f"n{size}-m{n_models}-v{FIXTURE_FORMAT}"
    meta_path = directory / "meta.json"
    if not meta_path.exists():
        partial = root / f"{directory.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        # sqlite fsyncs every commit (six per version); on tmpfs that costs nothing. Same rows either way.
        scratch = Path(tempfile.mkdtemp(prefix="bench-select-gen-", dir=_TMPFS if _TMPFS.is_dir() else None))
        try:
            meta = _generate(scratch / "mlflow.db", directory / "artifacts", size, n_models)
            shutil.copyfile(scratch / "mlflow.db", partial / "mlflow.db")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        (partial / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        shutil.rmtree(directory, ignore_errors=True)
        partial.rename(directory)  # a directory without .partial is complete
    else:
        print(f"reusing fixture {directory}", flush=True)
    meta = json.loads(meta_path.read_text())
    return Fixture(
        directory / "mlflow.db",
        meta["size"],
        tuple(meta["models"]),
        tuple(meta["experiment_ids"]),
        meta["seconds"],
    )


def _generate(db: Path, artifacts: Path, size: int, n_models: int) -> dict[str, Any]:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, RunStatus, RunTag
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

    started = time.perf_counter()
    uri = f"sqlite:///{db}"
    print(f"generating {size} model versions into {uri}", flush=True)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)  # creates and migrates the store
    experiment_id = client.create_experiment("training", artifact_location=artifacts.as_uri())
    models = [f"bench-model-{i}" for i in range(n_models)]
    for name in models:
        client.create_registered_model(name)
    AllowanceClient(tracking_uri=uri).set_allowance(ENVIRONMENT, ALLOWANCE, reason="benchmark fixture")
    # The rows the server would write, through MLflow's own stores; MlflowClient resolves its store again
    # on every call (about 10 ms each), so the loop holds the two stores instead.
    tracking: Any = TrackingStore(uri, artifacts.as_uri())  # type: ignore[no-untyped-call]
    registry: Any = RegistryStore(uri)  # type: ignore[no-untyped-call]
    rng = random.Random(size)
    step = max(1, size // 10)
    for index in range(size):
        now = int(time.time() * 1000)
        run = tracking.create_run(experiment_id, "bench", now, [RunTag("mlflow.user", "bench")], f"r{index}")
        run_id = run.info.run_id
        f1 = round(rng.uniform(0.5, 0.99), 4)
        tracking.log_batch(run_id, metrics=[Metric(METRIC, f1, now, 0)], params=[], tags=[])
        tracking.update_run_info(run_id, RunStatus.FINISHED, now, None)
        registry.create_model_version(
            models[index % n_models],
            f"{run.info.artifact_uri}/model",
            run_id=run_id,
            tags=[_version_tag(semver_of(index))],
        )
        if (index + 1) % step == 0 or index + 1 == size:
            elapsed = time.perf_counter() - started
            print(f"  {index + 1:>7}/{size} versions, {elapsed:6.1f} s", flush=True)
    seconds = time.perf_counter() - started
    print(f"generated {size} versions in {seconds:.1f} s", flush=True)
    return {
        "format": FIXTURE_FORMAT,
        "size": size,
        "models": models,
        "experiment_ids": [experiment_id],
        "seconds": round(seconds, 1),
    }


def _version_tag(value: str) -> Any:
    from mlflow.entities.model_registry import ModelVersionTag

    return ModelVersionTag(VERSION_TAG, value)  # type: ignore[no-untyped-call]


# Counting requests -----------------------------------------------------------------------------------


class RequestCounter:
    """Counts every HTTP request made through ``requests`` (MLflow's REST client uses a ``Session``)."""

    def __init__(self) -> None:
        self.count = 0
        self._original: Callable[..., Any] = requests.Session.request

    @contextmanager
    def installed(self) -> Iterator[None]:
        original = self._original

        def counting(session: requests.Session, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(session, *args, **kwargs)

        requests.Session.request = counting  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            requests.Session.request = original  # type: ignore[method-assign]


def server_requests(log: Path) -> int:
    """API requests the server has logged so far."""
    return sum(1 for line in log.read_bytes().splitlines() if _ACCESS_LINE.search(line))


# The three methods -----------------------------------------------------------------------------------


def _versions(client: Any, models: Sequence[str]) -> list[Any]:
    names = ", ".join(quote(name) for name in models)
    found: list[Any] = []
    token = None
    while True:
        page = client.search_model_versions(
            filter_string=f"name IN ({names})", max_results=VERSION_PAGE, page_token=token
        )
        found.extend(page)
        token = page.token
        if not token:
            return found


def naive(uri: str, fx: Fixture) -> dict[str, float]:
    """F1 of every version's run: one paginated version search, then one ``get_run`` per version."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    return {
        f"{mv.name}/{mv.version}": client.get_run(mv.run_id).data.metrics[METRIC]
        for mv in _versions(client, fx.models)
    }


def lower_bound(uri: str, fx: Fixture) -> dict[str, float]:
    """F1 of every version's run: one paginated version search, ``search_runs`` by 100 run ids."""
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = _versions(client, fx.models)
    run_ids = sorted({mv.run_id for mv in versions})
    f1: dict[str, float] = {}
    for start in range(0, len(run_ids), RUN_BATCH):
        batch = run_ids[start : start + RUN_BATCH]
        runs = client.search_runs(
            list(fx.experiment_ids),
            filter_string=f"attributes.run_id IN ({', '.join(quote(r) for r in batch)})",
            run_view_type=ViewType.ALL,
            max_results=len(batch),
        )
        assert runs.token is None, "a batch did not fit one page"
        f1.update((run.info.run_id, run.data.metrics[METRIC]) for run in runs)
    return {f"{mv.name}/{mv.version}": f1[mv.run_id] for mv in versions}


def versions_only(uri: str, fx: Fixture) -> int:
    """How many versions one paginated ``search_model_versions`` lists (and nothing else)."""
    from mlflow import MlflowClient

    return len(_versions(MlflowClient(tracking_uri=uri, registry_uri=uri), fx.models))


def newest_versions(uri: str, fx: Fixture) -> int:
    """How many versions the first page of the 100 most recently changed ones holds."""
    from mlflow import MlflowClient

    names = ", ".join(quote(name) for name in fx.models)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    page = client.search_model_versions(
        filter_string=f"name IN ({names})", max_results=100, order_by=["last_updated_timestamp DESC"]
    )
    return len(page)


def ours(uri: str, fx: Fixture) -> str | None:
    """The key (``name/version``) of the version ``select`` picks."""
    selection = AllowanceClient(tracking_uri=uri).select(ENVIRONMENT, list(fx.models), metric=METRIC)
    return None if selection.winner is None else selection.winner.candidate.key


def expected_winner(f1: dict[str, float], fx: Fixture) -> str:
    """The winner computed from the baseline's data: the best F1 among versions the allowance allows."""
    allowance = VersionAllowance.parse(ALLOWANCE)
    allowed = {}
    for index in range(fx.size):
        # Versions are created round-robin over the models, so each model numbers its own from 1.
        key = f"{fx.models[index % len(fx.models)]}/{index // len(fx.models) + 1}"
        if allowance.allows(semver_of(index)):
            allowed[key] = f1[key]
    return max(allowed, key=lambda key: allowed[key])


# Measuring -------------------------------------------------------------------------------------------


@dataclass
class Measurement:
    method: str
    times: list[float] = field(default_factory=list)
    requests: int = -1
    server_requests: int = -1

    @property
    def seconds(self) -> float:
        """The best time: the least disturbed by whatever else the machine was doing."""
        return min(self.times)


def measure(fx: Fixture, repeat: int, methods: Sequence[str]) -> list[Measurement]:
    """Best-of-``repeat`` wall time and the request counts of each method, against one server."""
    results = {method: Measurement(method) for method in methods}
    counter = RequestCounter()
    with tempfile.TemporaryDirectory(prefix="bench-select-") as tmp:
        root = Path(tmp)
        db = root / "mlflow.db"
        shutil.copyfile(fx.db, db)  # the server migrates and may write; keep the cached fixture pristine
        with local_server(root, backend_store_uri=f"sqlite:///{db}", timeout=120) as uri, counter.installed():
            log = root / "server.log"
            # Warm both sides up (lazy imports, sqlite page cache, connection pool); know the right answer.
            expected = expected_winner(lower_bound(uri, fx), fx)
            time.sleep(0.5)
            for round_ in range(repeat):
                for method in methods:
                    seconds, count, logged, outcome = _one(method, uri, fx, counter, log)
                    if method == "ours" and outcome != f", winner {expected}":
                        raise SystemExit(f"select picked the wrong version{outcome}; expected {expected}")
                    result = results[method]
                    if result.requests not in (-1, count):
                        print(f"  note: {method} made {count} requests, earlier {result.requests}")
                    result.times.append(seconds)
                    result.requests, result.server_requests = count, logged
                    print(
                        f"  N={fx.size} round {round_ + 1}/{repeat} {method:<13} {seconds:8.2f} s "
                        f"{count:>6} requests (server logged {logged}){outcome}",
                        flush=True,
                    )
    return [results[m] for m in methods]


def _one(
    method: str, uri: str, fx: Fixture, counter: RequestCounter, log: Path
) -> tuple[float, int, int, str]:
    logged_before = server_requests(log)
    counter.count = 0
    started = time.perf_counter()
    if method == "naive":
        naive(uri, fx)
        outcome = ""
    elif method == "lower bound":
        outcome = f", {len(lower_bound(uri, fx))} metrics"
    elif method == "versions only":
        outcome = f", {versions_only(uri, fx)} versions"
    elif method == "newest 100":
        outcome = f", {newest_versions(uri, fx)} versions"
    else:
        outcome = f", winner {ours(uri, fx)}"
    seconds = time.perf_counter() - started
    count = counter.count
    time.sleep(0.3)  # let the server flush its access log
    return seconds, count, server_requests(log) - logged_before, outcome


def table(rows: Sequence[tuple[int, Sequence[Measurement]]]) -> str:
    lines = [
        "| versions | method | seconds (best) | median | requests | x lower bound | speed-up vs naive |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size, results in rows:
        by_method = {r.method: r for r in results}
        bound = by_method.get("lower bound")
        slow = by_method.get("naive")
        for r in results:
            ratio = f"{r.seconds / bound.seconds:.2f}" if bound else "-"
            speedup = f"{slow.seconds / r.seconds:.1f}x" if slow else "-"
            requests_text = str(r.requests)
            if r.server_requests != r.requests:
                requests_text += f" (server: {r.server_requests})"
            lines.append(
                f"| {size:,} | {r.method} | {r.seconds:.2f} | {statistics.median(r.times):.2f} "
                f"| {requests_text} | {ratio} | {speedup} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000], help="model versions")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method; the best counts")
    parser.add_argument("--models", type=int, default=2, help="registered models the versions spread over")
    parser.add_argument(
        "--fixture-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "mlflow-allowance-bench",
        help="where generated stores are cached (default: %(default)s)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS + FLOORS,
        default=list(METHODS + FLOORS),
        help="what to measure (default: all)",
    )
    args = parser.parse_args(argv)
    rows = []
    loads = []
    for size in args.sizes:
        fx = fixture(args.fixture_dir, size, args.models)
        print(f"N={size}: fixture generated in {fx.seconds:.0f} s, measuring {', '.join(args.methods)}")
        loads.append(os.getloadavg()[0])
        rows.append((size, measure(fx, args.repeat, args.methods)))
        loads.append(os.getloadavg()[0])
    print()
    print(table(rows))
    print()
    print(
        f"Python {sys.version.split()[0]}, MLflow {_mlflow_version()}, {os.cpu_count()} CPUs, "
        f"best of {args.repeat}, {args.models} registered model(s), "
        f"1-minute load average {min(loads):.1f}-{max(loads):.1f} during the runs"
    )
    return 0


def _mlflow_version() -> str:
    from importlib.metadata import version

    return version("mlflow")


if __name__ == "__main__":
    sys.exit(main())
