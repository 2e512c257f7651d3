"""Throwaway virtual environments where ``mlflow allowance`` is installed the way users install it.

The wheel is built once from this checkout (``pip wheel``). Each venv is a plain ``python -m venv
--without-pip`` of the interpreter running the tests; pip from that interpreter installs the package into it
(``pip --python VENV install --no-deps``): the wheel, or ``pip install -e`` of this checkout.

Both builds are isolated, so pip fetches hatchling (and editables) from the package index or its cache, as it
did when ``scripts/dev.py`` installed the main venv. Offline, with hatchling and editables installed in the
main venv, ``PIP_NO_BUILD_ISOLATION=false`` (pip's spelling of "no isolation") builds without the index.

The venvs:

* ``wheel``: the wheel;
* ``editable``: the editable install;
* ``broken-cli``: the wheel, then ``mlflow_allowance/cli.py`` replaced by a module that raises;
* ``missing-package``: the wheel, then the ``mlflow_allowance`` directory deleted, the ``.pth`` left behind.

MLflow and every other dependency are borrowed from the test interpreter's site-packages: after the
install, ``zzz_borrow_main_venv.pth`` adds that directory to ``sys.path`` (after the venv's own, and without
running the ``.pth`` files there, so the main venv's editable install of this package stays out of sight).
``bin/mlflow`` is the console script pip generated for MLflow in the main venv, copied with its shebang
pointed at the new venv: that is the file pip would write there, and reinstalling MLflow into every venv
would download and unpack tens of megabytes for it.

Every process runs with a clean environment (no ``MLFLOW_*``, ``PYTHON*`` or ``PYTEST_*`` of the test
process; the venv's ``bin`` first on ``PATH``), in a directory of its own. Starting ``mlflow`` imports
``mlflow.cli``, seconds of CPU, so the slow tests submit their processes to a small :class:`Pool` up front
(one worker per core) and only check the results.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

REPO = Path(__file__).resolve().parents[2]
USER = "plugin-tester"
#: The plugin's one-line help, as ``mlflow --help`` lists it.
SHORT_HELP = "Version allowances per environment (mlflow-allowance)."
#: Venv kinds with a working plugin: the commands' tests run in each.
INSTALLS = ("wheel", "editable")
#: Seeded model versions: (semantic version, F1). Within '<=2.0' the best F1 is 1.5's (registry version 2).
SEED_VERSIONS = (("1.0", 0.90), ("1.5", 0.95), ("2.0", 0.93), ("2.1", 0.99))
SEED_MODEL = "M"
#: The seed's one workspace allowance: nothing is eligible for staging.
SEED_STAGING = ">=5"

#: sysconfig's scheme for a venv: "venv" from Python 3.11; before, the prefix scheme is what venv uses.
_VENV_SCHEME = "venv" if "venv" in sysconfig.get_scheme_names() else sysconfig.get_preferred_scheme("prefix")
_PROCESS_TIMEOUT_S = 180
_INSTALL_TIMEOUT_S = 300

T = TypeVar("T")


# Processes --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A finished process: what a shell would have seen."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        command = " ".join(self.args)
        return f"$ {command}\nexit {self.returncode}\n--- stdout\n{self.stdout}--- stderr\n{self.stderr}"

    def error_line(self) -> str:
        """stderr's one line (the contract for every failure): no traceback, no log lines, no warnings."""
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self
        assert "Traceback" not in self.stderr, self
        return lines[0]


def clean_environ(venv: Venv | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without anything that would leak into the child, plus ``extra``."""
    dropped = ("MLFLOW_", "PYTHON", "PYTEST_", "VIRTUAL_ENV", "COLUMNS", "LINES", "__PYVENV_LAUNCHER__")
    environ = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    environ.update(
        MLFLOW_DISABLE_TELEMETRY="true",
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
        MLFLOW_HTTP_REQUEST_TIMEOUT="30",
        MLFLOW_ALLOWANCE_USER=USER,
    )
    if venv is not None:
        environ["VIRTUAL_ENV"] = str(venv.root)
        environ["PATH"] = os.pathsep.join([str(venv.bin), environ.get("PATH", "")])
    environ.update(extra or {})
    return environ


def run(
    args: Sequence[str | Path],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = _PROCESS_TIMEOUT_S,
) -> Run:
    argv = tuple(str(arg) for arg in args)
    done = subprocess.run(
        argv,
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
    )
    return Run(argv, done.returncode, done.stdout, done.stderr)


class Pool:
    """Runs callables (each typically one or a few processes) on one thread per core."""

    def __init__(self, workers: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plugin-test")

    def submit(self, function: Callable[[], T]) -> Future[T]:
        return self._executor.submit(function)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def pool() -> Iterator[Pool]:
    pool = Pool(workers=max(2, min(4, os.cpu_count() or 2)))
    yield pool
    pool.close()


# Venvs ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Venv:
    """One throwaway virtual environment."""

    kind: str
    root: Path

    @property
    def bin(self) -> Path:
        return Path(sysconfig.get_path("scripts", scheme=_VENV_SCHEME, vars={"base": str(self.root)}))

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def purelib(self) -> Path:
        return Path(sysconfig.get_path("purelib", scheme=_VENV_SCHEME, vars={"base": str(self.root)}))

    def run(self, *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None) -> Run:
        """Run ``args`` (the first one a program) as if this venv were activated."""
        return run(args, cwd=cwd, env=clean_environ(self, env))

    def mlflow(self, *args: str, cwd: Path, env: Mapping[str, str] | None = None) -> Run:
        """Run ``mlflow ARGS...``: MLflow's own console script of this venv."""
        return self.run(self.bin / "mlflow", *args, cwd=cwd, env=env)


@dataclass(frozen=True)
class Venvs:
    """The built wheel and the venvs of every kind (see the module docstring)."""

    wheel_file: Path
    by_kind: Mapping[str, Venv]

    def __getitem__(self, kind: str) -> Venv:
        return self.by_kind[kind]


def _check(args: Sequence[str | Path], cwd: Path) -> None:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    environ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = run(args, cwd=cwd, env=environ, timeout=_INSTALL_TIMEOUT_S)
    if done.returncode:
        pytest.fail(f"setting up the plugin venvs failed:\n{done}", pytrace=False)


def _pip(venv: Venv | None, *args: str | Path, cwd: Path) -> None:
    target: tuple[str | Path, ...] = ("--python", venv.python) if venv is not None else ()
    _check([sys.executable, "-m", "pip", *target, *args, "--no-deps", "--no-input", "--quiet"], cwd=cwd)


def _make_venv(root: Path, kind: str) -> Venv:
    venv = Venv(kind, root / kind)
    _check([sys.executable, "-m", "venv", "--without-pip", venv.root], cwd=root)
    return venv


def _finish(venv: Venv) -> Venv:
    """Borrow the main venv's site-packages and give the venv MLflow's ``mlflow`` console script."""
    borrowed = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (venv.purelib / "zzz_borrow_main_venv.pth").write_text("".join(f"{path}\n" for path in borrowed))
    source = Path(sysconfig.get_path("scripts")) / "mlflow"
    if not source.is_file():
        pytest.fail(f"no {source}: the plugin tests need MLflow's console script (the dev extra)")
    _, _, body = source.read_text().partition("\n")
    script = venv.bin / "mlflow"
    script.write_text(f"#!{venv.python}\n{body}")
    script.chmod(0o755)
    return venv


def _break(venv: Venv) -> Venv:
    package = venv.purelib / "mlflow_allowance"
    if venv.kind == "broken-cli":
        (package / "cli.py").write_text('raise RuntimeError("cli.py broken on purpose by tests/plugin")\n')
        for cached in (package / "__pycache__").glob("cli.*.pyc"):
            cached.unlink()
    elif venv.kind == "missing-package":
        shutil.rmtree(package)
    return venv


def _install_wheel(root: Path, kind: str, wheel_file: Future[Path]) -> Venv:
    venv = _make_venv(root, kind)
    _pip(venv, "install", wheel_file.result(), cwd=root)
    return _break(_finish(venv))


def _install_editable(root: Path) -> Venv:
    venv = _make_venv(root, "editable")
    _pip(venv, "install", "--editable", REPO, cwd=root)
    return _finish(venv)


def _build_wheel(root: Path) -> Path:
    dist = root / "dist"
    _pip(None, "wheel", "--wheel-dir", dist, REPO, cwd=root)
    (wheel_file,) = dist.glob("mlflow_allowance-*.whl")
    return wheel_file


@pytest.fixture(scope="session")
def venvs(tmp_path_factory: pytest.TempPathFactory) -> Venvs:
    """The wheel and every venv, built side by side (10 to 15 s of wall time on two busy cores)."""
    if os.name == "nt":
        pytest.skip("the venvs' mlflow script is a POSIX script with a shebang")
    root = tmp_path_factory.mktemp("plugin-venvs")
    with ThreadPoolExecutor(max_workers=4) as executor:
        wheel_file = executor.submit(_build_wheel, root)
        editable = executor.submit(_install_editable, root)
        from_wheel = {
            kind: executor.submit(_install_wheel, root, kind, wheel_file)
            for kind in ("wheel", "broken-cli", "missing-package")
        }
        by_kind = {kind: future.result() for kind, future in from_wheel.items()}
        by_kind["editable"] = editable.result()
        return Venvs(wheel_file.result(), by_kind)


# Stores -----------------------------------------------------------------------------------------------------


def sqlite_uri(path: Path) -> str:
    return f"sqlite:///{path}"


def dump(db: Path) -> list[str]:
    """Every row of every table, as SQL: equal dumps mean nothing was written."""
    with closing(sqlite3.connect(db)) as conn:
        return list(conn.iterdump())


def seed_versions(uri: str, model: str, experiment: str) -> None:
    """Register ``model`` with :data:`SEED_VERSIONS`, each from a finished run that logged its F1."""
    from mlflow import MlflowClient

    from mlflow_allowance._schema import VERSION_TAG

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment(experiment)
    client.create_registered_model(model)
    for semver, f1 in SEED_VERSIONS:
        run_id = client.create_run(experiment_id).info.run_id
        client.log_metric(run_id, "F1", f1)
        client.set_terminated(run_id)
        client.create_model_version(
            model, source=f"runs:/{run_id}/model", run_id=run_id, tags={VERSION_TAG: semver}
        )


@pytest.fixture(scope="session")
def seed_db(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sqlite store with model :data:`SEED_MODEL` and a workspace allowance ``staging: >=5``."""
    from mlflow_allowance import AllowanceClient

    folder = tmp_path_factory.mktemp("plugin-seed")
    db = folder / "seed.db"
    shutil.copyfile(_sqlite_template, db)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # MLflow resolves ./mlruns against the cwd
        patch.setenv("MLFLOW_ALLOWANCE_USER", USER)
        seed_versions(sqlite_uri(db), SEED_MODEL, "training")
        AllowanceClient(sqlite_uri(db), sqlite_uri(db)).set_allowance("staging", SEED_STAGING)
    return db


def store_copy(seed_db: Path, folder: Path) -> Path:
    """A fresh copy of the seed, as ``mlflow.db`` alone in ``folder`` (the process's working directory)."""
    folder.mkdir(parents=True, exist_ok=False)
    db = folder / "mlflow.db"
    shutil.copyfile(seed_db, db)
    return db


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# Venvs for one module ---------------------------------------------------------------------------------------


def make_venv(root: Path, kind: str) -> Venv:
    """An empty venv ``root/kind``: ``python -m venv --without-pip`` of the test interpreter's base Python."""
    return _make_venv(root, kind)


def borrow_mlflow(venv: Venv) -> Venv:
    """Give ``venv`` the test interpreter's MLflow (and everything else installed there) and MLflow's
    ``mlflow`` console script, as the ``venvs`` fixture does."""
    return _finish(venv)


def pip(venv: Venv | None, *args: str | Path, cwd: Path) -> None:
    """``pip [--python VENV] ARGS...`` with the test interpreter's pip, dependencies included (the ``venvs``
    fixture installs ``--no-deps``); fails the test with pip's output when pip fails."""
    target: tuple[str | Path, ...] = ("--python", venv.python) if venv is not None else ()
    _check([sys.executable, "-m", "pip", *target, *args, "--no-input", "--quiet"], cwd=cwd)


@pytest.fixture(scope="session")
def index_venvs(venvs: Venvs, tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Venv]:
    """Venvs whose every package comes from the package index, nothing borrowed, built side by side:

    * ``skinny``: ``pip install "WHEEL[skinny]"``, mlflow-skinny and its dependencies (about 155 MB
      installed; pip's cache makes it 5 to 10 s after the first time);
    * ``no-mlflow``: ``pip install WHEEL``, the base dependencies only.

    ``--no-compile``: byte-compiling all of mlflow-skinny's dependencies would double the install's time;
    each process compiles the little it imports.
    """
    root = tmp_path_factory.mktemp("plugin-index-venvs")

    def install(kind: str, requirement: str) -> Venv:
        venv = make_venv(root, kind)
        pip(venv, "install", "--no-compile", requirement, cwd=root)
        return venv

    with ThreadPoolExecutor(max_workers=2) as executor:
        skinny = executor.submit(install, "skinny", f"{venvs.wheel_file}[skinny]")
        bare = executor.submit(install, "no-mlflow", str(venvs.wheel_file))
        return {"skinny": skinny.result(), "no-mlflow": bare.result()}
