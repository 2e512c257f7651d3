"""Failures: one line on stderr, the error's exit status, nothing written; tracebacks only with --debug."""

from __future__ import annotations

from importlib.metadata import version
from typing import get_args

import pytest
from packaging.version import Version
from typer.testing import CliRunner

from mlflow_allowance import AllowanceClient
from mlflow_allowance._cli_errors import HINTS
from mlflow_allowance.cli import app
from mlflow_allowance.errors import (
    EnvironmentBusyError,
    Hint,
    RegistryError,
    RegistryUnavailableError,
    RollbackRefusedError,
)
from mlflow_allowance.testing import free_port

from .conftest import Cli, Store, error_line

pytestmark = pytest.mark.integration

#: How Typer words a number out of range: from 0.29 "Input should be ...", before "... is not in the range".
_TYPER_SAYS_INPUT_SHOULD = Version(version("typer")) >= Version("0.29")

#: Commands that must fail with exit status 2 (bad input or unknown model) and change nothing.
BAD_INPUT = [
    pytest.param(["set", "prod", "<=abc"], "Error: Invalid allowance '<=abc': expected ", id="allowance"),
    pytest.param(
        ["set", "prod", ">=3,<2"], "Error: Invalid allowance '>=3,<2': no version can", id="empty-allowance"
    ),
    pytest.param(["set", "latest", "<=1.0"], "Error: Invalid environment 'latest': ", id="reserved-env"),
    pytest.param(["get", "pr od"], "Error: Invalid environment 'pr od': ", id="env-with-space"),
    pytest.param(
        ["set", "prod", "<=1.0", "-m", "Nope"], "Error: registered model 'Nope' does not", id="unknown-model"
    ),
    pytest.param(["get", "prod", "-m", " AImodel"], "Error: Invalid model name ' AImodel'", id="model-name"),
    pytest.param(
        ["select", "prod", "-m", "Nope"], "Error: registered model 'Nope' does not", id="select-unknown"
    ),
    pytest.param(["promote", "v1", "-m", "AImodel"], "Error: Invalid environment 'v1': ", id="promote-env"),
    pytest.param(
        ["promote", "prod", "-m", "AImodel", "--stage", "Live"], "Error: Invalid stage 'Live'", id="stage"
    ),
    pytest.param(
        ["promote", "prod", "-m", "AImodel", "--require-tag", "validated"],
        "Error: Invalid --require-tag 'validated': expected KEY=VALUE",
        id="require-tag",
    ),
    pytest.param(
        ["select", "prod", "-m", "AImodel", "--minimize"],
        "Error: minimizing needs a metric: without one the latest semantic version wins (use --metric M)",
        id="minimize",
    ),
    pytest.param(
        ["rollback", "prod", "-m", "Nope"], "Error: registered model 'Nope' does not", id="rollback-unknown"
    ),
    pytest.param(["check", "-m", "Nope"], "Error: registered model 'Nope' does not", id="check-unknown"),
    pytest.param(["history", "Latest"], "Error: Invalid environment 'Latest'", id="history-env"),
    pytest.param(
        ["tag-version", "-m", "AImodel", "4", "abc"], "Error: Invalid version 'abc': expected", id="semver"
    ),
    pytest.param(
        ["tag-version", "-m", "AImodel", "x", "1.0"],
        "Error: Invalid registry version 'x'",
        id="registry-version",
    ),
    pytest.param(["tag-version", "-m", "AImodel", "99", "1.0"], "Error: ", id="unknown-version"),
    pytest.param(
        ["unset", "prod", "-m", "Nope"], "Error: registered model 'Nope' does not", id="unset-unknown"
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    cli: Cli, promoted_store: Store, args: list[str], message: str
) -> None:
    before = promoted_store.state()
    result = cli(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert error_line(result).startswith(message)
    assert promoted_store.state() == before


@pytest.mark.parametrize(
    ("args", "line"),
    [
        pytest.param(
            ["nope"], "Error: No such command 'nope'. (see mlflow-allowance --help)", id="unknown-command"
        ),
        pytest.param(
            ["set", "prod"],
            "Error: Missing argument 'SPEC'. (see mlflow-allowance set --help)",
            id="missing-argument",
        ),
        pytest.param(
            ["select", "prod"],
            "Error: Missing option '--model' / '-m'. (see mlflow-allowance select --help)",
            id="missing-model",
        ),
        pytest.param(
            ["history", "--limit", "-1"],
            "Error: Invalid value for '--limit': "
            + (
                "Input should be greater than or equal to 0 "
                if _TYPER_SAYS_INPUT_SHOULD
                else "-1 is not in the range x>=0. "
            )
            + "(see mlflow-allowance history --help)",
            id="limit-below-0",
        ),
        pytest.param(
            ["get", "prod", "--frobnicate"],
            "Error: No such option: --frobnicate (see mlflow-allowance get --help)",
            id="unknown-option",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(cli: Cli, store: Store, args: list[str], line: str) -> None:
    before = store.state()
    result = cli(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", line + "\n")
    assert store.state() == before


def test_no_command_prints_the_help_and_exits_2(cli: Cli) -> None:
    result = cli()
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: mlflow-allowance [OPTIONS] COMMAND [ARGS]...")


def test_debug_shows_the_traceback_then_the_one_line(cli: Cli) -> None:
    result = cli("--debug", "set", "prod", "<=abc")
    assert result.exit_code == 2
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "mlflow_allowance.errors.InvalidAllowanceError" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: Invalid allowance '<=abc'")


def test_debug_from_the_environment(cli: Cli) -> None:
    result = cli("get", "latest", env={"MLFLOW_ALLOWANCE_DEBUG": "1"})
    assert result.exit_code == 2
    assert "Traceback" in result.stderr


def test_unexpected_error_is_one_line_and_exit_1(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(AllowanceClient, "get_allowance", broken)
    result = cli("get", "prod")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: unexpected ZeroDivisionError: division by zero (run with --debug for the traceback)\n"
    )
    debug = cli("--debug", "get", "prod")
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr
    assert debug.stderr.splitlines()[-1] == "Error: unexpected ZeroDivisionError: division by zero"


def test_registry_failure_message_stays_on_one_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: object, **kwargs: object) -> None:
        raise RegistryError("MLflow failed while reading:\n  line two\n\n  line three")

    monkeypatch.setattr(AllowanceClient, "list_allowances", failing)
    result = cli("list")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: MLflow failed while reading: line two line three\n",
    )


def test_unreachable_server_exits_2_with_one_line(cli: Cli) -> None:
    quick = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "2"}
    result = cli("--tracking-uri", f"http://127.0.0.1:{free_port()}", "get", "prod", env=quick)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    line = error_line(result)
    assert line.startswith("Error: MLflow is unreachable while ")
    assert "--tracking-uri" in line


def test_tracking_and_registry_uri_options_select_the_store(cli: Cli, store: Store) -> None:
    cli.ok("set", "prod", "<=1.0")
    elsewhere = {"MLFLOW_TRACKING_URI": "sqlite:///elsewhere.db"}
    uri = store.uri
    result = cli("--tracking-uri", uri, "--registry-uri", uri, "get", "prod", env=elsewhere)
    assert (result.exit_code, result.stdout) == (0, "<=1.0\n")


class TestHints:
    """An error's hints (settings that would remedy it, named in words below the faces) end its one line with
    the command line's way to give each, from one table."""

    def test_the_table_covers_every_hint(self) -> None:
        assert set(HINTS) == set(get_args(Hint))

    @pytest.mark.parametrize(
        ("hint", "flag"),
        [
            pytest.param("tracking_uri", "--tracking-uri URI or MLFLOW_TRACKING_URI", id="tracking_uri"),
            pytest.param("timeout", "--timeout SECONDS or MLFLOW_HTTP_REQUEST_TIMEOUT", id="timeout"),
            pytest.param("wait", "--wait SECONDS", id="wait"),
            pytest.param("force", "--force", id="force"),
            pytest.param("fix", "`mlflow-allowance check --fix`", id="fix"),
            pytest.param("target", "--target COL", id="target"),
            pytest.param(
                "evaluate",
                "`mlflow-allowance evaluate ENV --model NAME --data PATH --target COL`",
                id="evaluate",
            ),
        ],
    )
    def test_each_hint_renders_its_flag(
        self, cli: Cli, monkeypatch: pytest.MonkeyPatch, hint: Hint, flag: str
    ) -> None:
        def failing(*args: object, **kwargs: object) -> None:
            raise RollbackRefusedError("no going back", hints=(hint,))

        monkeypatch.setattr(AllowanceClient, "rollback", failing)
        result = cli("rollback", "prod", "-m", "AImodel")
        assert (result.exit_code, result.stdout) == (1, "")
        assert error_line(result) == f"Error: no going back (use {flag})"

    def test_several_hints_one_line_in_order_each_once(
        self, cli: Cli, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def unreachable(*args: object, **kwargs: object) -> None:
            raise RegistryUnavailableError(
                "MLflow is unreachable while reading workspace allowances: http://x timed out.\n"
                "Check the tracking URI and that the server is running",
                hints=("tracking_uri", "timeout", "tracking_uri"),
            )

        monkeypatch.setattr(AllowanceClient, "get_allowance", unreachable)
        result = cli("get", "prod")
        assert result.exit_code == 2
        assert error_line(result) == (
            "Error: MLflow is unreachable while reading workspace allowances: http://x timed out. Check the "
            "tracking URI and that the server is running (use --tracking-uri URI or MLFLOW_TRACKING_URI; "
            "--timeout SECONDS or MLFLOW_HTTP_REQUEST_TIMEOUT)"
        )

    def test_a_busy_environment_says_wait_and_exits_3(
        self, cli: Cli, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def busy(*args: object, **kwargs: object) -> None:
            raise EnvironmentBusyError("another writer is changing prod; retry, or wait", hints=("wait",))

        monkeypatch.setattr(AllowanceClient, "set_allowance", busy)
        result = cli("set", "prod", "<=1.0")
        assert result.exit_code == 3
        assert error_line(result) == (
            "Error: another writer is changing prod; retry, or wait (use --wait SECONDS)"
        )

    def test_a_flag_the_message_already_names_is_not_repeated(
        self, cli: Cli, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def busy(*args: object, **kwargs: object) -> None:
            raise EnvironmentBusyError("busy; retry, or wait with --wait SECONDS", hints=("wait",))

        monkeypatch.setattr(AllowanceClient, "set_allowance", busy)
        assert error_line(cli("set", "prod", "<=1.0")) == "Error: busy; retry, or wait with --wait SECONDS"

    def test_commands_are_named_as_the_program_was_run(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def pending(*args: object, **kwargs: object) -> None:
            raise RegistryError("a change is pending", hints=("fix",))

        monkeypatch.setattr(AllowanceClient, "list_allowances", pending)
        result = CliRunner().invoke(app, ["list"], prog_name="mlflow allowance")
        assert result.stderr == "Error: a change is pending (use `mlflow allowance check --fix`)\n"

    def test_an_unknown_hint_is_left_out(self, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
        def failing(*args: object, **kwargs: object) -> None:
            raise RegistryError("failed", hints=("tracking_uri", "telepathy"))  # type: ignore[arg-type]

        monkeypatch.setattr(AllowanceClient, "list_allowances", failing)
        assert error_line(cli("list")) == "Error: failed (use --tracking-uri URI or MLFLOW_TRACKING_URI)"
