"""A dead MLflow server fails the command line fast, and says which server, without its secrets.

MLflow's own HTTP defaults (7 retries with a growing backoff, 120 s per answer) take about four minutes to
report a refused connection; the command line sets MLflow's ``MLFLOW_HTTP_REQUEST_*`` variables to
:data:`~mlflow_allowance._http.DEFAULT_RETRIES` and friends, unless the user set them, for one command, and
puts the environment back afterwards. No test times itself: each counts the connections a loopback
listener saw (one per try) and records the variables in effect while MLflow was connecting, which is what
bounds the time. The seconds measured are in the report of issue 10.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import Result

from mlflow_allowance._http import DEFAULT_BACKOFF_FACTOR, DEFAULT_RETRIES, DEFAULT_TIMEOUT, HTTP_ENV
from mlflow_allowance.testing import free_port

from .conftest import Cli, Store, error_line

pytestmark = pytest.mark.integration

PASSWORD = "s3cr3t"
TIMEOUT, RETRIES, BACKOFF = HTTP_ENV["timeout"], HTTP_ENV["retries"], HTTP_ENV["backoff_factor"]
DEFAULTS = {
    TIMEOUT: str(DEFAULT_TIMEOUT),
    RETRIES: str(DEFAULT_RETRIES),
    BACKOFF: str(DEFAULT_BACKOFF_FACTOR),
}
#: Environment for CliRunner that unsets MLflow's HTTP variables (tests/conftest.py sets some for the suite).
UNSET: dict[str, str | None] = dict.fromkeys(HTTP_ENV.values())


@dataclass
class Listener:
    """A loopback TCP listener that never answers HTTP: each accepted connection is one try of a request.

    ``silent``: keeps the connection open and says nothing (an unresponsive server); otherwise resets it
    at once (a server that drops every request). Records, for each connection, MLflow's HTTP variables in
    this process's environment at that moment: what the in-process command had in effect.
    """

    silent: bool
    port: int = 0
    seen: list[dict[str, str | None]] = field(default_factory=list)
    _sock: socket.socket = field(default_factory=socket.socket)
    _open: list[socket.socket] = field(default_factory=list)

    def start(self) -> None:
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # closed
            self.seen.append({name: os.environ.get(name) for name in HTTP_ENV.values()})
            if self.silent:
                self._open.append(conn)
            else:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()  # a reset, not an answer

    def close(self) -> None:
        self._sock.close()
        for conn in self._open:
            conn.close()

    @property
    def uri(self) -> str:
        return f"http://alice:{PASSWORD}@127.0.0.1:{self.port}"

    @property
    def shown(self) -> str:
        return f"http://alice:***@127.0.0.1:{self.port}"


@pytest.fixture
def dropping() -> Iterator[Listener]:
    listener = Listener(silent=False)
    listener.start()
    yield listener
    listener.close()


@pytest.fixture
def silent() -> Iterator[Listener]:
    listener = Listener(silent=True)
    listener.start()
    yield listener
    listener.close()


def _fails_naming(result: Result, listener: Listener, says: str) -> str:
    line = error_line(result)
    assert result.exit_code == 2, line
    assert line.startswith("Error: MLflow is unreachable while reading workspace allowances: "), line
    assert f"{listener.shown} {says}" in line, line
    assert PASSWORD not in line
    return line


# In-process: the variables in effect, the tries made -------------------------------------------------------


def test_defaults_are_few_short_tries(cli: Cli, dropping: Listener) -> None:
    result = cli("--tracking-uri", dropping.uri, "get", "prod", env=UNSET)
    _fails_naming(result, dropping, "closed the connection without answering")
    assert dropping.seen == [DEFAULTS] * (DEFAULT_RETRIES + 1)


def test_an_unresponsive_server_fails_after_the_timeout(cli: Cli, silent: Listener) -> None:
    result = cli("get", "prod", "--tracking-uri", silent.uri, "--timeout", "2", "--retries", "0", env=UNSET)
    line = _fails_naming(result, silent, "accepted the connection but did not answer within 2 s")
    assert "--timeout SECONDS" in line
    assert silent.seen == [{**DEFAULTS, TIMEOUT: "2", RETRIES: "0"}]


def test_the_users_own_variables_are_respected(cli: Cli, dropping: Listener) -> None:
    result = cli("--tracking-uri", dropping.uri, "get", "prod", env={**UNSET, RETRIES: "1", TIMEOUT: "7"})
    _fails_naming(result, dropping, "closed the connection without answering")
    assert dropping.seen == [{**DEFAULTS, RETRIES: "1", TIMEOUT: "7"}] * 2


def test_options_win_over_the_users_variables(cli: Cli, dropping: Listener) -> None:
    env = {**UNSET, RETRIES: "5", TIMEOUT: "60", BACKOFF: "3"}
    result = cli("--retries", "0", "--timeout", "4", "--tracking-uri", dropping.uri, "get", "prod", env=env)
    _fails_naming(result, dropping, "closed the connection without answering")
    assert dropping.seen == [{RETRIES: "0", TIMEOUT: "4", BACKOFF: "3"}]


def test_connection_options_after_the_command_win(cli: Cli, dropping: Listener) -> None:
    args = ["--retries", "0", "--timeout", "3", "select", "prod", "-m", "AImodel"]
    result = cli(*args, "--tracking-uri", dropping.uri, "--retries", "1", env=UNSET)
    _fails_naming(result, dropping, "closed the connection without answering")
    assert dropping.seen == [{**DEFAULTS, TIMEOUT: "3", RETRIES: "1"}] * 2


def test_the_environment_is_restored(cli: Cli, dropping: Listener, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in HTTP_ENV.values():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(TIMEOUT, "33")
    result = cli("get", "prod", "--tracking-uri", dropping.uri, "--retries", "0")
    assert result.exit_code == 2
    assert dropping.seen == [{**DEFAULTS, TIMEOUT: "33", RETRIES: "0"}]
    assert {name: os.environ.get(name) for name in HTTP_ENV.values()} == {
        TIMEOUT: "33",
        RETRIES: None,
        BACKOFF: None,
    }


def test_the_environment_is_restored_after_a_success(
    cli: Cli, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in HTTP_ENV.values():
        monkeypatch.delenv(name, raising=False)
    cli.ok("set", "prod", "<=1.0")
    cli.ok("get", "prod", "--timeout", "5")
    assert not any(name in os.environ for name in HTTP_ENV.values())


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(["--timeout", "0"], "Invalid value for '--timeout'", id="t0"),
        pytest.param(["--timeout", "1.5"], "Invalid value for '--timeout'", id="t-float"),
        pytest.param(["--retries", "-1"], "Invalid value for '--retries'", id="r-negative"),
        pytest.param(["--retries", "11"], "Invalid value for '--retries'", id="r-above-mlflows-limit"),
    ],
)
def test_bad_connection_options_are_usage_errors(cli: Cli, args: list[str], says: str) -> None:
    for where in (["get", "prod", *args], [*args, "get", "prod"]):
        result = cli(*where)
        assert result.exit_code == 2, result.stderr
        assert says in error_line(result)


# --tracking-uri / --registry-uri after the command ----------------------------------------------------------


def test_tracking_uri_after_the_command(cli: Cli, store: Store, tmp_path: Path) -> None:
    cli.ok("set", "prod", "<=1.0")
    elsewhere = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/missing/x.db"}
    result = cli("get", "prod", "--tracking-uri", store.uri, env=elsewhere)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "<=1.0\n", "")
    result = cli("get", "prod", "--tracking-uri", store.uri, "--registry-uri", store.uri, env=elsewhere)
    assert (result.exit_code, result.stdout) == (0, "<=1.0\n")
    # After the command wins over before it; the missing folder is still an error, not a new database.
    result = cli(
        "--tracking-uri", store.uri, "get", "prod", "--tracking-uri", elsewhere["MLFLOW_TRACKING_URI"]
    )
    assert result.exit_code == 2
    assert "does not exist; create it first" in error_line(result)
    assert not (tmp_path / "missing").exists()


def test_every_command_takes_the_connection_options() -> None:
    import typer

    from mlflow_allowance.cli import app

    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for name, command in group.commands.items():
        opts = {opt for param in command.params for opt in getattr(param, "opts", ())}
        assert {"--tracking-uri", "--registry-uri", "--timeout", "--retries"} <= opts, name


# Real processes ---------------------------------------------------------------------------------------------


def _environ() -> dict[str, str]:
    """This environment without MLflow's variables or pytest's: MLflow's defaults, as a user has them."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTEST_"))}
    environ["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return environ


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=_environ(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_a_refused_connection_fails_at_once_with_one_line(tmp_path: Path) -> None:
    uri = f"http://alice:{PASSWORD}@127.0.0.1:{free_port()}"
    done = _run(["-m", "mlflow_allowance", "--tracking-uri", uri, "get", "prod"], tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("Error: MLflow is unreachable while reading workspace allowances: ")
    assert f"{uri.replace(PASSWORD, '***')} refused the connection" in done.stderr
    assert PASSWORD not in done.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_mlflow_allowance_fails_fast_too(tmp_path: Path, dropping: Listener) -> None:
    purelib = Path(sysconfig.get_paths()["purelib"])
    if not (purelib / "mlflow_allowance.pth").exists():
        pytest.skip("mlflow-allowance is not installed here, so `mlflow allowance` is not attached")
    done = _run(["-m", "mlflow", "allowance", "get", "prod", "--tracking-uri", dropping.uri], tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{dropping.shown} closed the connection without answering" in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    # The listener lives in this process, so it cannot see the child's variables; the tries tell.
    assert len(dropping.seen) == DEFAULT_RETRIES + 1
