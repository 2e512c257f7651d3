"""MLflow's own ``mlflow`` program with the plugin installed, broken, missing or switched off.

Every process starts MLflow's console script (or ``python -m mlflow``), which imports ``mlflow.cli``: seconds
of CPU each. So the module starts them all at once on the shared :class:`~tests.plugin.conftest.Pool` and
each test checks one result. The baseline is the wheel venv with ``MLFLOW_ALLOWANCE_NO_PLUGIN=1``: MLflow as
if this package were not installed; ``mlflow --help`` must be that, plus one line.
"""

from __future__ import annotations

import importlib.metadata
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest

from .conftest import INSTALLS, SHORT_HELP, Pool, Run, Venvs

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MLFLOW_VERSION = importlib.metadata.version("mlflow")
OFF = {"MLFLOW_ALLOWANCE_NO_PLUGIN": "1"}
BROKEN = ("broken-cli", "missing-package")


@dataclass(frozen=True)
class Case:
    kind: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    python_m: bool = False


#: One process per case, about 5 s of CPU each: so the checks that do not depend on how the package was
#: installed (``--version``, MLflow's sub-commands) are split between the two venvs, not repeated.
CASES: dict[str, Case] = {
    **{f"{kind}-help": Case(kind, ("--help",)) for kind in (*INSTALLS, *BROKEN)},
    **{f"{kind}-version": Case(kind, ("--version",)) for kind in ("wheel", *BROKEN)},
    "wheel-server-help": Case("wheel", ("server", "--help")),
    "editable-experiments-help": Case("editable", ("experiments", "--help")),
    "off-help": Case("wheel", ("--help",), OFF),
    "python-m-help": Case("wheel", ("--help",), python_m=True),
    "broken-cli-allowance": Case("broken-cli", ("allowance", "get", "prod")),
}


@pytest.fixture(scope="module")
def finished(venvs: Venvs, pool: Pool, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Future[Run]]:
    """Every case's process, started side by side, each in an empty directory of its own."""

    def start(case: Case, cwd: Path) -> Future[Run]:
        venv = venvs[case.kind]
        program = (venv.python, "-m", "mlflow") if case.python_m else (venv.bin / "mlflow",)
        return pool.submit(partial(venv.run, *program, *case.args, cwd=cwd, env=case.env))

    return {name: start(case, tmp_path_factory.mktemp(name)) for name, case in CASES.items()}


def result(finished: dict[str, Future[Run]], name: str) -> Run:
    return finished[name].result()


def _without_allowance(help_text: str) -> tuple[list[str], list[str]]:
    """The help's lines without the ``allowance`` entry, and that entry (empty when not listed)."""
    lines = help_text.splitlines()
    entry = [line for line in lines if line.split()[:1] == ["allowance"]]
    return [line for line in lines if line not in entry], entry


def _ok(done: Run) -> Run:
    assert (done.returncode, done.stderr) == (0, ""), done
    return done


def test_baseline_has_no_allowance(finished: dict[str, Future[Run]]) -> None:
    _, entry = _without_allowance(_ok(result(finished, "off-help")).stdout)
    assert entry == []


@pytest.mark.parametrize("kind", [*INSTALLS, "broken-cli"])
def test_help_lists_allowance_and_is_otherwise_mlflows(finished: dict[str, Future[Run]], kind: str) -> None:
    """A broken cli.py still lists the command: the listing never imports it."""
    lines, entry = _without_allowance(_ok(result(finished, f"{kind}-help")).stdout)
    assert [line.split() for line in entry] == [["allowance", *SHORT_HELP.split()]]
    assert lines == result(finished, "off-help").stdout.splitlines()


def test_help_without_the_package_is_mlflows(finished: dict[str, Future[Run]]) -> None:
    done = _ok(result(finished, "missing-package-help"))
    assert done.stdout == result(finished, "off-help").stdout


def test_python_m_mlflow_lists_allowance_too(finished: dict[str, Future[Run]]) -> None:
    done = _ok(result(finished, "python-m-help"))
    assert [line.split() for line in _without_allowance(done.stdout)[1]] == [
        ["allowance", *SHORT_HELP.split()]
    ]


@pytest.mark.parametrize("kind", ["wheel", *BROKEN])
def test_version(finished: dict[str, Future[Run]], kind: str) -> None:
    assert _ok(result(finished, f"{kind}-version")).stdout == f"mlflow, version {MLFLOW_VERSION}\n"


@pytest.mark.parametrize(("kind", "command"), [("wheel", "server"), ("editable", "experiments")])
def test_mlflow_commands_still_work(finished: dict[str, Future[Run]], kind: str, command: str) -> None:
    done = _ok(result(finished, f"{kind}-{command}-help"))
    assert done.stdout.startswith(f"Usage: mlflow {command} [OPTIONS]")
    assert "allowance" not in done.stdout


def test_broken_cli_fails_only_mlflow_allowance_in_one_line(finished: dict[str, Future[Run]]) -> None:
    done = result(finished, "broken-cli-allowance")
    assert (done.returncode, done.stdout) == (1, ""), done
    assert done.error_line().startswith(
        "Error: mlflow-allowance is installed but its command line could not be loaded "
        "(RuntimeError: cli.py broken on purpose by tests/plugin). Set MLFLOW_ALLOWANCE_DEBUG=1 "
    )
