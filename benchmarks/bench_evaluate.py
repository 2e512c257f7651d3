"""Benchmark ``AllowanceClient.evaluate`` and ``select(..., dataset=...)`` over a live ``mlflow server``.

Three parts, each next to the naive alternative measured in the same run:

1. **Scoring.** ``--versions`` N (default 100) versions of one registered model, each its own small
   scikit-learn pipeline (scaler and ``LogisticRegression`` on breast-cancer data, a different ``C`` each),
   logged with an input example (so it has a signature) and registered with
   ``mlflow_allowance.register_model(uri, name, semver=...)``. ``evaluate(..., jobs=1)`` on a holdout set
   against the **bare loop** (``mlflow.pyfunc.load_model("models:/NAME/V")``, ``predict``,
   ``sklearn.metrics.f1_score``, run before and after it) and the bare loop plus the least a recorded score
   needs (one run per version: ``create_run`` with the score's tags, ``log_batch``, ``set_terminated``);
   then ``evaluate(..., jobs=2)`` on the same rows in another order (a new digest: everything is scored
   again). Every version's F1 from ``evaluate`` is checked against the bare loop's. Where the time goes:
   wall time, CPU time of the client (with its workers) and of the server, the HTTP requests of each call
   by endpoint with their time, and a ``cProfile`` of ``evaluate`` on ``--profile-versions`` more versions.
   ``--what-if`` adds ``evaluate`` with ``MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT=true``.
2. **Nothing to score.** ``evaluate`` again on the same data against ``select(..., metric="F1",
   dataset=NAME)`` on the same versions, taking turns (and plain ``select`` on the training runs' ``F1``).
3. **Select on a dataset at scale.** ``select(..., dataset=NAME)`` over the stores of ``bench_select.py``
   (``--sizes``, default 1,000 and 10,000 versions, generated once and cached), plus one score run per
   version in the scores experiment shaped like the ones ``evaluate`` writes (its tags, the 13 metrics of
   MLflow's classifier evaluator, the dataset as run input; written straight into the sqlite store, cached
   too), against plain ``select`` on the training runs' ``F1``, ``bench_select``'s lower bound for that,
   and a lower bound for reading scores (the paginated version search plus one paginated ``search_runs`` of
   the scores experiment by digest, its id known). Requests of ``select --dataset`` are checked against
   N/100 + 10.

Requests are counted as ``bench_select.py`` counts them: in the client (``requests.Session.request``, here
with the endpoint, time and answer size of each) and in the server's access log. The default run takes
about 7 minutes on 2 CPUs once the stores of part 3 are cached (generating them takes about 10 minutes
more). Not part of CI; it asserts nothing about time::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_evaluate.py [--versions 100] [--sizes 1000 10000]
    PYTHONPATH=. .venv/bin/python benchmarks/bench_evaluate.py --quick
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import io
import json
import logging
import os
import pstats
import random
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Before the first ``import mlflow`` (bench_select sets the same): no telemetry, no silent HTTP retries.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("MLFLOW_REGISTRY_URI", None)

import bench_select
import requests

from mlflow_allowance import AllowanceClient, Evaluation, Selection, register_model
from mlflow_allowance._registry import quote
from mlflow_allowance._schema import (
    SCORE_DATASET,
    SCORE_DIGEST,
    SCORE_MODEL,
    SCORE_TARGET,
    SCORE_VERSION,
    SCORES_EXPERIMENT,
    dataset_tag,
)
from mlflow_allowance.datasets import EVALUATOR_METRICS
from mlflow_allowance.testing import local_server

#: Bump when the generated score fixture changes, so stale caches are not reused.
SCORES_FORMAT = 1
ENVIRONMENT = "bench"
ALLOWANCE = ">=1.0,<2.0"
MODEL = "bench-eval"
WARM_MODEL = "bench-warm"
PROFILE_MODEL = "bench-profile"
DATASET = "holdout"
TARGET = "target"
_TMPFS = Path("/dev/shm")


# Counting requests -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One HTTP request: its endpoint, wall time and the size of the answer's body."""

    endpoint: str
    seconds: float
    size: int


class RequestLog:
    """Every HTTP request made through ``requests`` (as ``bench_select.RequestCounter`` counts them), with
    its endpoint, wall time and answer size."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._original: Callable[..., Any] = requests.Session.request

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        original = self._original

        def logging_request(session: requests.Session, method: str, url: str, *args: Any, **kw: Any) -> Any:
            started = time.perf_counter()
            size = 0
            try:
                response = original(session, method, url, *args, **kw)
                # A streamed download's body is the caller's to read: its declared length instead.
                size = (
                    int(response.headers.get("Content-Length") or 0)
                    if kw.get("stream")
                    else len(response.content)
                )
                return response
            finally:
                self.calls.append(Call(endpoint(method, url), time.perf_counter() - started, size))

        requests.Session.request = logging_request  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            requests.Session.request = original  # type: ignore[method-assign]


def endpoint(method: str, url: str) -> str:
    """``POST runs/create``; artifact downloads and listings and logged-model ids folded together."""
    path = re.sub(r"^.*?/(?:ajax-)?api/\d+\.\d+/", "", urlsplit(url).path)
    if path.startswith("mlflow-artifacts/artifacts/"):
        return f"{method} artifacts (download)"
    if path == "mlflow-artifacts/artifacts":
        return f"{method} artifacts (list)"
    path = re.sub(r"logged-models/[^/]+$", "logged-models/ID", path.removeprefix("mlflow/"))
    return f"{method} {path}"


@dataclass
class Sample:
    """One timed call: wall time, the requests the client made, what the server logged, and the CPU time
    of this process with its finished children (worker processes) and of the server's processes."""

    seconds: float
    calls: list[Call]
    server: int
    result: Any = None
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.calls)

    @property
    def megabytes(self) -> float:
        return sum(call.size for call in self.calls) / 1e6


def timed(call: Callable[[], object], log: RequestLog, server_log: Path) -> Sample:
    logged_before = bench_select.server_requests(server_log)
    mark = len(log.calls)
    cpu_before = (client_cpu(), server_cpu())
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    cpu = (client_cpu() - cpu_before[0], server_cpu() - cpu_before[1])
    time.sleep(0.3)  # let the server flush its access log
    logged = bench_select.server_requests(server_log) - logged_before
    return Sample(seconds, log.calls[mark:], logged, result, *cpu)


def client_cpu() -> float:
    """CPU seconds of this process and of its children that have ended (``evaluate``'s workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def server_cpu() -> float:
    """CPU seconds so far of the running ``mlflow server`` processes this process started: the sessions
    (``local_server`` starts one per server) led by a child of this process. From /proc; 0 without it."""
    me = os.getpid()
    ticks = os.sysconf("SC_CLK_TCK")
    stats: list[tuple[int, int, int, float]] = []  # pid, parent, session, CPU seconds
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            # proc(5): ppid, pgrp, session are fields 4-6; utime, stime, cutime, cstime 14-17
            cpu = sum(int(value) for value in fields[11:15]) / ticks
            stats.append((int(stat.parent.name), int(fields[1]), int(fields[3]), cpu))
    servers = {pid for pid, parent, session, _ in stats if parent == me and session == pid}
    return sum(cpu for _, _, session, cpu in stats if session in servers)


@contextlib.contextmanager
def stdout_captured(lines: list[str]) -> Iterator[None]:
    """Collect what is written to stdout, by this process and by the worker processes it starts (fd 1)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            text = buffer.getvalue() + sink.read().decode(errors="replace")
            lines.extend(line for line in text.splitlines() if line.strip())


# Part 1 and 2: scoring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Data:
    train_x: Any
    train_y: Any
    valid_x: Any
    valid_y: Any
    holdout: Any  # features and the target column

    @property
    def x(self) -> Any:
        return self.holdout.drop(columns=[TARGET])

    @property
    def y(self) -> Any:
        return self.holdout[TARGET]


def load_data() -> Data:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    train_x, rest_x, train_y, rest_y = train_test_split(x, y, test_size=0.5, random_state=0, stratify=y)
    valid_x, hold_x, valid_y, hold_y = train_test_split(
        rest_x, rest_y, test_size=0.5, random_state=0, stratify=rest_y
    )
    return Data(train_x, train_y, valid_x, valid_y, hold_x.assign(**{TARGET: hold_y}))


def log_models(count: int, data: Data, experiment_id: str) -> list[str]:
    """``count`` fitted pipelines, each logged in its own training run (with its validation ``F1``)."""
    import mlflow
    import mlflow.sklearn
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = random.Random(count)
    uris = []
    started = time.perf_counter()
    for index in range(count):
        pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=10 ** rng.uniform(-3.5, 1)))
        pipeline.fit(data.train_x, data.train_y)
        with mlflow.start_run(experiment_id=experiment_id):
            mlflow.log_metric("F1", float(f1_score(data.valid_y, pipeline.predict(data.valid_x))))
            # Explicit requirements: inferring them starts a subprocess per model (~8 s each).
            info = mlflow.sklearn.log_model(
                pipeline,
                name="model",
                input_example=data.train_x.head(3),
                pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
            )
        uris.append(info.model_uri)
        if (index + 1) % 25 == 0 or index + 1 == count:
            print(f"  logged {index + 1}/{count} models, {time.perf_counter() - started:.0f} s", flush=True)
    return uris


def register(uris: Sequence[str], name: str) -> list[int]:
    return [register_model(uri, name, semver=f"1.{index}").version for index, uri in enumerate(uris)]


def bare_loop(name: str, versions: Sequence[int], data: Data) -> dict[int, float]:
    """The naive alternative: load each version, predict, ``f1_score``; record nothing."""
    import mlflow.pyfunc
    from sklearn.metrics import f1_score

    x, y = data.x, data.y
    return {
        v: float(f1_score(y, mlflow.pyfunc.load_model(f"models:/{name}/{v}").predict(x))) for v in versions
    }


def bare_and_record(
    uri: str, experiment_id: str, name: str, versions: Sequence[int], data: Data, digest: str
) -> dict[int, float]:
    """The bare loop plus the least a recorded score needs: one run with the score's tags, its metric, and
    the run ended (three requests; the URL line, and the ``get_run`` it costs, turned off)."""
    import mlflow.pyfunc
    from mlflow import MlflowClient
    from mlflow.entities import Metric
    from sklearn.metrics import f1_score

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    x, y = data.x, data.y
    found = {}
    with _environ(MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT="true"):
        for v in versions:
            f1 = float(f1_score(y, mlflow.pyfunc.load_model(f"models:/{name}/{v}").predict(x)))
            tags = {SCORE_MODEL: name, SCORE_VERSION: str(v), SCORE_DATASET: "bare", SCORE_DIGEST: digest}
            run = client.create_run(experiment_id, tags=tags)
            client.log_batch(run.info.run_id, metrics=[Metric("f1_score", f1, int(time.time() * 1000), 0)])
            client.set_terminated(run.info.run_id)
            found[v] = f1
    return found


@contextlib.contextmanager
def _current_uris(uri: str) -> Iterator[None]:
    """Make ``uri`` MLflow's current tracking and registry URI, then put back what was there before.

    (``mlflow_allowance._registry.current_uris`` does the same under a lock that ``evaluate`` and
    ``register_model`` take themselves.)
    """
    import mlflow
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved = (tracking_utils._tracking_uri, registry_utils._registry_uri)
    with _environ():
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        try:
            yield
        finally:
            tracking_utils._tracking_uri, registry_utils._registry_uri = saved


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Set ``values`` in the environment; afterwards restore these and the URI variables as they were."""
    saved = {key: os.environ.get(key) for key in (*values, "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class Evaluated:
    evaluation: Evaluation
    printed: int  # lines written to stdout while evaluating


def evaluate(uri: str, name: str, frame: Any, dataset: str, jobs: int) -> Evaluated:
    lines: list[str] = []
    with stdout_captured(lines):
        evaluation = AllowanceClient(uri, uri).evaluate(
            ENVIRONMENT, name, frame, target=TARGET, dataset=dataset, jobs=jobs
        )
    return Evaluated(evaluation, len(lines))


def select(uri: str, name: str, dataset: str | None) -> Selection:
    return AllowanceClient(uri, uri).select(ENVIRONMENT, name, metric="F1", dataset=dataset)


@dataclass
class Row:
    label: str
    short: str = ""
    samples: list[Sample] = field(default_factory=list)

    @property
    def best(self) -> Sample:
        return min(self.samples, key=lambda s: s.seconds)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)


@dataclass
class ScoringResult:
    versions: int
    scoring: list[Row]
    again: list[Row]
    profile: list[tuple[str, float]]  # (what, seconds per version under cProfile)
    profile_versions: int
    profile_wall: float
    printed: dict[str, int]


def scoring(
    versions: int, repeat: int, profile_versions: int, what_if: bool, store_dir: Path | None
) -> ScoringResult:
    from mlflow import MlflowClient

    from mlflow_allowance import _evaluator

    data = load_data()
    # The same rows in other orders: other digests, so that everything is scored afresh.
    frames = [
        data.holdout,
        data.holdout.iloc[::-1],
        data.holdout.iloc[[*range(1, len(data.holdout)), 0]],
    ]
    digests = [
        str(_evaluator.prepare(frame, target=TARGET, name=DATASET, model_type=None).info.ref.digest)
        for frame in frames
    ]
    assert len(set(digests)) == len(digests), digests
    log = RequestLog()
    with (
        contextlib.ExitStack() as stack,
        tempfile.TemporaryDirectory(prefix="bench-evaluate-", dir=store_dir) as tmp,
        _server_log_on_error(Path(tmp)),
        local_server(Path(tmp), timeout=120) as uri,
        log.installed(),
    ):
        server_log = Path(tmp) / "server.log"
        # The fluent calls (register_model, load_model) use MLflow's current URIs; the clients get both
        # URIs (a client given only a tracking URI takes the current registry URI, as MlflowClient does).
        stack.enter_context(_current_uris(uri))
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        AllowanceClient(uri, uri).set_allowance(ENVIRONMENT, ALLOWANCE, reason="benchmark")
        print(f"logging {versions} models, registering them as {MODEL} 1.0 to 1.{versions - 1}", flush=True)
        started = time.perf_counter()
        # MLflow's chatter about runs and registrations stays out of the benchmark's output.
        with (
            _environ(MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT="true"),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            uris = log_models(versions, data, client.create_experiment("training"))
            numbers = register(uris, MODEL)
            register(uris[:2], WARM_MODEL)
            register(uris[:profile_versions], PROFILE_MODEL)
        print(f"  set up in {time.perf_counter() - started:.0f} s", flush=True)
        bare_experiment = client.create_experiment("bare-records")

        # Warm up both sides (imports, MLflow's evaluator registry, the server's caches).
        bare_loop(WARM_MODEL, [1, 2], data)
        evaluate(uri, WARM_MODEL, data.holdout, "warm-up", 1)
        select(uri, WARM_MODEL, "warm-up")
        time.sleep(0.5)

        def measure(row: Row, call: Callable[[], object]) -> Any:
            row.samples.append(timed(call, log, server_log))
            _progress(row)
            return row.samples[-1].result

        def scored_again(row: Row, frame: Any, dataset: str, jobs: int) -> None:
            evaluated = measure(row, lambda: evaluate(uri, MODEL, frame, dataset, jobs))
            _check_scores(evaluated.evaluation, expected, versions)
            printed[row.label] = evaluated.printed

        print("measuring the bare loop, the bare loop recording runs, evaluate with jobs=1, and again")
        bare = Row("bare loop: load_model + predict + f1_score", "bare loop")
        recorded = Row("bare loop + a run per version (3 requests)", "bare loop + run")
        ours = Row("evaluate, jobs=1", "evaluate")
        printed: dict[str, int] = {}
        expected: dict[int, float] = measure(bare, lambda: bare_loop(MODEL, numbers, data))
        measure(recorded, lambda: bare_and_record(uri, bare_experiment, MODEL, numbers, data, digests[0]))
        scored_again(ours, frames[0], DATASET, 1)
        measure(bare, lambda: bare_loop(MODEL, numbers, data))
        measure(recorded, lambda: bare_and_record(uri, bare_experiment, MODEL, numbers, data, digests[1]))
        rows = [bare, recorded, ours]
        if what_if:
            print("what if: evaluate with MLflow's run-URL line turned off (another digest)", flush=True)
            quiet = Row("evaluate, jobs=1, MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT=true", "URL line off")
            with _environ(MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT="true"):
                scored_again(quiet, frames[2], f"{DATASET}-c", 1)
            rows.append(quiet)

        print("measuring evaluate with nothing to score against select", flush=True)
        again = Row("evaluate again (nothing to score)")
        on_dataset = Row("select(metric='F1', dataset=...)")
        on_training = Row("select(metric='F1'), training runs")

        def evaluate_again() -> None:
            evaluated = measure(again, lambda: evaluate(uri, MODEL, data.holdout, DATASET, 1))
            assert len(evaluated.evaluation.kept) == versions, evaluated.evaluation
            assert not evaluated.evaluation.scored, evaluated.evaluation
            printed[again.label] = evaluated.printed

        def select_on_dataset() -> None:
            winner = measure(on_dataset, lambda: select(uri, MODEL, DATASET)).winner
            assert winner is not None, "select on the dataset found no winner"
            assert abs(winner.metric - max(expected.values())) < 1e-12, winner

        # Cheap calls with a wide spread: more rounds, and the two compared calls take turns going first.
        for round_ in range(max(7, repeat)):
            for call in (evaluate_again, select_on_dataset)[:: 1 if round_ % 2 == 0 else -1]:
                call()
            measure(on_training, lambda: select(uri, MODEL, None))

        print("measuring evaluate with jobs=2 (the rows reordered: a new digest)", flush=True)
        parallel = Row("evaluate, jobs=2", "evaluate, jobs=2")
        scored_again(parallel, frames[1], f"{DATASET}-b", 2)

        print(f"profiling evaluate on {profile_versions} more versions", flush=True)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        profiled = evaluate(uri, PROFILE_MODEL, data.holdout, DATASET, 1).evaluation
        profiler.disable()
        profile_wall = time.perf_counter() - started
        assert len(profiled.scored) == profile_versions, profiled
        profile = breakdown(pstats.Stats(profiler), profile_versions)

    return ScoringResult(
        versions,
        [*rows, parallel],
        [again, on_dataset, on_training],
        profile,
        profile_versions,
        profile_wall,
        printed,
    )


@contextlib.contextmanager
def _server_log_on_error(root: Path) -> Iterator[None]:
    """On an error, show the end of the server's log (the server's directory goes away with it)."""
    try:
        yield
    except BaseException:
        log = root / "server.log"
        if log.exists():
            tail = log.read_text(errors="replace").splitlines()[-40:]
            print("server log (last 40 lines):", *tail, sep="\n  ", file=sys.stderr)
        raise


def _progress(row: Row) -> None:
    sample = row.samples[-1]
    print(
        f"  {row.label:<55} {sample.seconds:8.2f} s {sample.requests:>6} requests (server logged "
        f"{sample.server})",
        flush=True,
    )


def _check_scores(evaluation: Evaluation, expected: dict[int, float], versions: int) -> None:
    assert not evaluation.failed, evaluation.failed
    assert len(evaluation.scored) == versions, (len(evaluation.scored), versions)
    for score in evaluation.scored:
        f1 = score.metrics["f1_score"]
        assert abs(f1 - expected[score.version]) < 1e-12, (score.version, f1, expected[score.version])


@dataclass(frozen=True)
class Profiled:
    """A row of the profile: the cumulative time of ``function`` in ``file`` (only where called by
    ``caller`` in ``caller_file``, when given); indentation in ``label`` shows what it is part of."""

    label: str
    file: str = ""
    function: str = ""
    caller_file: str = ""
    caller: str = ""


_BASE = "mlflow/models/evaluation/base.py"
_CLASSIFIER = "mlflow/models/evaluation/evaluators/classifier.py"
#: What the profile attributes time to, outermost first. The row without a function is the whole call
#: minus the scoring.
_PROFILED = (
    Profiled("evaluate (the whole call)", "mlflow_allowance/client.py", "evaluate"),
    Profiled("  selection, reading scores, dataset record"),
    Profiled("  scoring (_score_one)", "mlflow_allowance/_evaluator.py", "_score_one"),
    Profiled("    mlflow.start_run", "mlflow/tracking/fluent.py", "start_run"),
    Profiled("    mlflow.pyfunc.load_model", "mlflow/pyfunc/__init__.py", "load_model"),
    Profiled("    mlflow.models.evaluate", _BASE, "evaluate"),
    Profiled("      activate the logged model", "mlflow/tracking/fluent.py", "_set_active_model"),
    Profiled("      evaluation dataset", "mlflow/data/pandas_dataset.py", "to_evaluation_dataset"),
    Profiled("      dataset as run input", "mlflow/tracking/client.py", "log_inputs", _BASE, "evaluate"),
    Profiled("      mlflow.datasets tag", "mlflow/data/evaluation_dataset.py", "_log_dataset_tag"),
    Profiled("      predict", _CLASSIFIER, "_generate_model_predictions"),
    Profiled("      compute the metrics", _CLASSIFIER, "_compute_builtin_metrics"),
    Profiled("      log the metrics", "mlflow/models/evaluation/default_evaluator.py", "log_metrics"),
    Profiled(
        "      autologging set-up",
        "mlflow/models/evaluation/utils/trace.py",
        "configure_autologging_for_evaluation",
    ),
    Profiled("    mlflow.end_run", "mlflow/tracking/fluent.py", "end_run"),
    Profiled("HTTP requests, all of them", "requests/sessions.py", "request"),
)


def breakdown(stats: pstats.Stats, versions: int) -> list[tuple[str, float]]:
    """Seconds per version of each :data:`_PROFILED` row (cumulative time of the outermost call)."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    seconds: dict[str, float] = {}
    for row in _PROFILED:
        found = 0.0
        for (filename, _line, name), (_cc, _nc, _tt, cumulative, callers) in table.items():
            if not row.function or name != row.function or not _posix(filename).endswith(row.file):
                continue
            if not row.caller:
                found = max(found, cumulative)
                continue
            for (caller_file, _caller_line, caller), entry in callers.items():
                if caller == row.caller and _posix(caller_file).endswith(row.caller_file):
                    found = max(found, entry[3])
        seconds[row.label] = found
    whole, scoring = seconds[_PROFILED[0].label], seconds[_PROFILED[2].label]
    seconds[_PROFILED[1].label] = whole - scoring
    return [(row.label, seconds[row.label] / versions) for row in _PROFILED]


def _posix(path: str) -> str:
    return path.replace(os.sep, "/")


# Part 3: select on a dataset at scale ----------------------------------------------------------------


@dataclass(frozen=True)
class ScoresFixture:
    db: Path
    fx: bench_select.Fixture
    digest: str
    scores_experiment_id: str
    f1: dict[str, float]
    seconds: float


def scores_fixture(root: Path, fx: bench_select.Fixture, data: Data) -> ScoresFixture:
    """``fx``'s store plus one finished score of every version on :data:`DATASET`, generated if missing."""
    directory = root / f"scores-n{fx.size}-m{len(fx.models)}-v{SCORES_FORMAT}"
    meta_path = directory / "meta.json"
    if not meta_path.exists():
        partial = root / f"{directory.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        scratch = Path(tempfile.mkdtemp(prefix="bench-eval-gen-", dir=_TMPFS if _TMPFS.is_dir() else None))
        try:
            shutil.copyfile(fx.db, scratch / "mlflow.db")
            meta = _generate_scores(scratch / "mlflow.db", fx, data)
            shutil.copyfile(scratch / "mlflow.db", partial / "mlflow.db")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        (partial / "meta.json").write_text(json.dumps(meta) + "\n")
        shutil.rmtree(directory, ignore_errors=True)
        partial.rename(directory)
    else:
        print(f"reusing score fixture {directory}", flush=True)
    meta = json.loads(meta_path.read_text())
    return ScoresFixture(
        directory / "mlflow.db", fx, meta["digest"], meta["experiment_id"], meta["f1"], meta["seconds"]
    )


def _generate_scores(db: Path, fx: bench_select.Fixture, data: Data) -> dict[str, Any]:
    from mlflow.data.pandas_dataset import from_pandas
    from mlflow.entities import DatasetInput, ExperimentTag, Metric, RunStatus, RunTag
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

    from mlflow_allowance import _evaluator

    started = time.perf_counter()
    uri = f"sqlite:///{db}"
    print(f"adding a score for each of {fx.size} versions into {uri}", flush=True)
    info = _evaluator.prepare(data.holdout, target=TARGET, name=DATASET, model_type=None).info
    digest = str(info.ref.digest)
    # The dataset input evaluate logs with each score (its schema makes it ~2.5 kB).
    with _evaluator._quiet():
        entity = from_pandas(data.holdout, targets=TARGET, name=DATASET, digest=digest)._to_mlflow_entity()
    artifacts = fx.db.parent / "artifacts"
    tracking: Any = TrackingStore(uri, artifacts.as_uri())  # type: ignore[no-untyped-call]
    experiment_id = tracking.create_experiment(
        SCORES_EXPERIMENT,
        artifacts.as_uri(),
        [ExperimentTag("mlflow.note.content", "Scores of model versions on fixed datasets.")],
    )
    tracking.set_experiment_tag(experiment_id, ExperimentTag(dataset_tag(DATASET), info.to_json()))
    rng = random.Random(fx.size + 1)
    f1: dict[str, float] = {}
    metric_names = sorted(EVALUATOR_METRICS["classifier"] - {"f1_score"})
    step = max(1, fx.size // 10)
    for index in range(fx.size):
        name, version = fx.models[index % len(fx.models)], index // len(fx.models) + 1
        key = f"{name}/{version}"
        now = int(time.time() * 1000)
        run_name = f"{key} on {DATASET}@{digest}"
        tags = {
            "mlflow.user": "bench",
            "mlflow.source.name": "bench_evaluate.py",
            "mlflow.source.type": "LOCAL",
            "mlflow.runName": run_name,
            SCORE_MODEL: name,
            SCORE_VERSION: str(version),
            SCORE_DATASET: DATASET,
            SCORE_DIGEST: digest,
            SCORE_TARGET: TARGET,
        }
        run = tracking.create_run(
            experiment_id, "bench", now, [RunTag(k, v) for k, v in tags.items()], run_name
        )
        run_id = run.info.run_id
        f1[key] = rng.uniform(0.5, 0.99)
        metrics = [Metric("f1_score", f1[key], now, 0)]
        metrics += [Metric(metric, rng.uniform(0, 1), now, 0) for metric in metric_names]
        datasets_tag = json.dumps([{"name": DATASET, "hash": digest, "model": f"m-{index:032x}"}])
        tracking.log_batch(run_id, metrics=metrics, params=[], tags=[RunTag("mlflow.datasets", datasets_tag)])
        tracking.log_inputs(run_id, datasets=[DatasetInput(entity, [])])
        tracking.update_run_info(run_id, RunStatus.FINISHED, now, None)
        if (index + 1) % step == 0 or index + 1 == fx.size:
            print(f"  {index + 1:>7}/{fx.size} scores, {time.perf_counter() - started:6.1f} s", flush=True)
    seconds = time.perf_counter() - started
    return {
        "format": SCORES_FORMAT,
        "digest": digest,
        "experiment_id": str(experiment_id),
        "f1": f1,
        "seconds": round(seconds, 1),
    }


def scores_lower_bound(uri: str, sf: ScoresFixture) -> dict[str, float]:
    """F1 on the dataset of every version: the paginated version search, then one paginated
    ``search_runs`` of the scores experiment by digest (its id known), nothing else."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = bench_select._versions(client, sf.fx.models)
    found: dict[str, float] = {}
    token = None
    while True:
        page = client.search_runs(
            [sf.scores_experiment_id],
            filter_string=f"tags.`{SCORE_DIGEST}` = {quote(sf.digest)}",
            max_results=50_000,
            page_token=token,
        )
        for run in page:
            tags = run.data.tags
            found.setdefault(f"{tags[SCORE_MODEL]}/{tags[SCORE_VERSION]}", run.data.metrics["f1_score"])
        token = page.token
        if not token:
            break
    return {f"{mv.name}/{mv.version}": found[f"{mv.name}/{mv.version}"] for mv in versions}


SCALE_METHODS = ("lower bound", "select", "scores lower bound", "select --dataset")


def at_scale(sf: ScoresFixture, repeat: int) -> list[Row]:
    """Best-of-``repeat`` of each of :data:`SCALE_METHODS` against one server on a copy of the fixture."""
    fx = sf.fx
    rows = {method: Row(method) for method in SCALE_METHODS}
    expected_training = expected_dataset = ""
    log = RequestLog()
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-") as tmp:
        root = Path(tmp)
        db = root / "mlflow.db"
        shutil.copyfile(sf.db, db)
        with (
            _server_log_on_error(root),
            local_server(root, backend_store_uri=f"sqlite:///{db}", timeout=120) as uri,
            log.installed(),
        ):
            server_log = root / "server.log"
            expected_training = bench_select.expected_winner(bench_select.lower_bound(uri, fx), fx)
            expected_dataset = bench_select.expected_winner(sf.f1, fx)
            assert scores_lower_bound(uri, sf) == sf.f1
            time.sleep(0.5)
            calls: dict[str, Callable[[], object]] = {
                "lower bound": lambda: len(bench_select.lower_bound(uri, fx)),
                "select": lambda: _winner(uri, fx, None),
                "scores lower bound": lambda: len(scores_lower_bound(uri, sf)),
                "select --dataset": lambda: _winner(uri, fx, DATASET),
            }
            for round_ in range(repeat):
                for method in SCALE_METHODS:
                    sample = timed(calls[method], log, server_log)
                    want = {"select": expected_training, "select --dataset": expected_dataset}.get(method)
                    if want is not None and sample.result != want:
                        raise SystemExit(f"{method} picked {sample.result}; expected {want}")
                    rows[method].samples.append(sample)
                    print(
                        f"  N={fx.size} round {round_ + 1}/{repeat} {method:<18} {sample.seconds:8.2f} s "
                        f"{sample.requests:>6} requests (server logged {sample.server}), {sample.result}",
                        flush=True,
                    )
    return [rows[m] for m in SCALE_METHODS]


def _winner(uri: str, fx: bench_select.Fixture, dataset: str | None) -> str | None:
    selection = AllowanceClient(uri, uri).select(
        bench_select.ENVIRONMENT, list(fx.models), metric=bench_select.METRIC, dataset=dataset
    )
    return None if selection.winner is None else selection.winner.candidate.key


# Tables ----------------------------------------------------------------------------------------------


def _requests_text(sample: Sample) -> str:
    text = str(sample.requests)
    if sample.server != sample.requests:
        text += f" (server: {sample.server})"
    return text


def scoring_table(result: ScoringResult) -> str:
    n = result.versions
    bare = result.scoring[0].best
    bare_cpu = bare.client_cpu + bare.server_cpu
    lines = [
        f"| {n} versions | seconds (each run) | ms per version (best) | requests | client CPU (s) "
        "| server CPU (s) | x bare loop: time | x bare loop: CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result.scoring:
        times = " / ".join(f"{s.seconds:.1f}" for s in row.samples)
        best = row.best
        cpu = best.client_cpu + best.server_cpu
        lines.append(
            f"| {row.label} | {times} | {best.seconds / n * 1000:.0f} | {_requests_text(best)} "
            f"| {best.client_cpu:.1f} | {best.server_cpu:.1f} | {best.seconds / bare.seconds:.2f} "
            f"| {cpu / bare_cpu:.2f} |"
        )
    return "\n".join(lines)


def again_table(result: ScoringResult) -> str:
    select_best = result.again[1].best.seconds
    lines = [
        f"| {result.versions} versions, all scored | best (s) | median (s) | requests "
        "| x select on the dataset |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in result.again:
        lines.append(
            f"| {row.label} | {row.best.seconds:.3f} | {row.median:.3f} | {_requests_text(row.best)} "
            f"| {row.best.seconds / select_best:.2f} |"
        )
    return "\n".join(lines)


def endpoint_table(result: ScoringResult) -> str:
    """Requests and their time per version, by endpoint, in the first run of each client-side row."""
    n = result.versions
    rows = [row for row in result.scoring if row.short and "jobs=2" not in row.label]
    per: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        grouped: dict[str, list[float]] = collections.defaultdict(list)
        for call in row.samples[0].calls:
            grouped[call.endpoint].append(call.seconds)
        per[row.short] = grouped
    names = sorted({name for grouped in per.values() for name in grouped}, key=lambda k: (k.split()[1], k))
    lines = [
        "| endpoint | " + " | ".join(f"{row.short}: requests, ms per version" for row in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for name in [*names, ""]:
        cells = []
        for row in rows:
            grouped = per[row.short]
            times = grouped.get(name, []) if name else [t for ts in grouped.values() for t in ts]
            cells.append(f"{len(times) / n:.2f}, {sum(times) / n * 1000:.1f}" if times else "")
        lines.append(f"| {f'`{name}`' if name else '**all**'} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def profile_table(result: ScoringResult) -> str:
    whole = result.profile[0][1]
    lines = [
        f"| where `evaluate` spends its time (cProfile, {result.profile_versions} versions) "
        "| ms per version | share |",
        "|---|---:|---:|",
    ]
    for label, seconds in result.profile:
        indent = len(label) - len(label.lstrip())
        text = "&nbsp;" * indent + label.strip()
        lines.append(f"| {text} | {seconds * 1000:.0f} | {seconds / whole:.0%} |")
    return "\n".join(lines)


def scale_table(rows: Sequence[tuple[int, Sequence[Row]]]) -> str:
    lines = [
        "| versions | method | seconds (best) | median | requests | MB received | x its lower bound "
        "| requests ≤ N/100 + 10 |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for size, results in rows:
        by = {row.label: row for row in results}
        bounds = {"select": "lower bound", "select --dataset": "scores lower bound"}
        for row in results:
            bound = by.get(bounds.get(row.label, row.label))
            ratio = f"{row.best.seconds / bound.best.seconds:.2f}" if bound is not None else "-"
            limit = size // 100 + 10
            check = ""
            if row.label == "select --dataset":
                check = f"{'yes' if row.best.requests <= limit else 'NO'} ({row.best.requests} ≤ {limit})"
            lines.append(
                f"| {size:,} | {row.label} | {row.best.seconds:.2f} | {row.median:.2f} "
                f"| {_requests_text(row.best)} | {row.best.megabytes:.1f} | {ratio} | {check} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--versions", type=int, default=100, help="versions scored in parts 1 and 2")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10_000], help="versions in part 3")
    parser.add_argument("--repeat", type=int, default=2, help="runs of the cheap calls; the best counts")
    parser.add_argument("--profile-versions", type=int, default=5, help="versions scored under cProfile")
    parser.add_argument("--models", type=int, default=2, help="registered models of part 3's stores")
    parser.add_argument(
        "--fixture-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "mlflow-allowance-bench",
        help="where part 3's stores are cached, shared with bench_select.py (default: %(default)s)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 versions, 1,000, one repeat")
    parser.add_argument("--skip-scoring", action="store_true", help="only part 3")
    parser.add_argument(
        "--store-dir",
        type=Path,
        default=None,
        help="where the server of parts 1 and 2 keeps its sqlite store (default: the temporary directory)",
    )
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="also evaluate with MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT=true (a proposed change)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.versions, args.sizes, args.repeat, args.profile_versions = 10, [1000], 1, 2
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    loads = [os.getloadavg()[0]]
    started = time.perf_counter()
    result = (
        None
        if args.skip_scoring
        else scoring(args.versions, args.repeat, args.profile_versions, args.what_if, args.store_dir)
    )
    loads.append(os.getloadavg()[0])
    scale: list[tuple[int, list[Row]]] = []
    for size in args.sizes:
        fx = bench_select.fixture(args.fixture_dir, size, args.models)
        sf = scores_fixture(args.fixture_dir, fx, load_data())
        print(f"N={size}: measuring {', '.join(SCALE_METHODS)}", flush=True)
        loads.append(os.getloadavg()[0])
        scale.append((size, at_scale(sf, args.repeat)))
        loads.append(os.getloadavg()[0])
    print()
    if result is not None:
        print(scoring_table(result))
        print()
        print(again_table(result))
        print()
        print(endpoint_table(result))
        print()
        print(profile_table(result))
        print()
        wall = result.profile_wall / result.profile_versions * 1000
        printed = ", ".join(f"{label}: {count}" for label, count in result.printed.items())
        print(f"evaluate under cProfile: {wall:.0f} ms per version (whole call); lines on stdout: {printed}")
        print()
    if scale:
        print(scale_table(scale))
        print()
    print(
        f"Python {sys.version.split()[0]}, MLflow {_version('mlflow')}, "
        f"scikit-learn {_version('scikit-learn')}, {os.cpu_count()} CPUs, "
        f"1-minute load average {min(loads):.1f}-{max(loads):.1f} during the runs, "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    return 0


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    sys.exit(main())
