"""The app itself, without a store: help, version, entry points, shell completion, plain tables."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from mlflow_allowance import __version__
from mlflow_allowance.cli import app, main

runner = CliRunner()

COMMANDS = ["set", "get", "unset", "list", "select", "promote", "rollback", "check", "history", "tag-version"]


def test_help_lists_every_command_and_the_global_options() -> None:
    result = runner.invoke(app, ["-h"], prog_name="mlflow-allowance")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: mlflow-allowance [OPTIONS] COMMAND [ARGS]...")
    for word in [*COMMANDS, "--tracking-uri", "--registry-uri", "--debug", "--install-completion"]:
        assert word in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], prog_name="mlflow-allowance")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: mlflow-allowance {command} [OPTIONS]")


def test_reporting_commands_take_json() -> None:
    for command in COMMANDS:
        assert "--json" in runner.invoke(app, [command, "--help"]).stdout, command


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"mlflow-allowance {__version__}\n")


def test_main_names_the_program(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["/somewhere/bin/mlflow-allowance", "get", "--help"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("Usage: mlflow-allowance get [OPTIONS] {ENV}")


def test_shell_completion_completes_commands_and_options() -> None:
    commands = runner.invoke(
        app,
        [],
        prog_name="mlflow-allowance",
        env={
            "_MLFLOW_ALLOWANCE_COMPLETE": "complete_bash",
            "COMP_WORDS": "mlflow-allowance pro",
            "COMP_CWORD": "1",
        },
    )
    assert (commands.exit_code, commands.stdout) == (0, "promote\n")
    options = runner.invoke(
        app,
        [],
        prog_name="mlflow-allowance",
        env={
            "_MLFLOW_ALLOWANCE_COMPLETE": "complete_bash",
            "COMP_WORDS": "mlflow-allowance promote prod --dry",
            "COMP_CWORD": "3",
        },
    )
    assert options.stdout == "--dry-run\n"


def test_completion_script_for_bash() -> None:
    result = runner.invoke(app, ["--show-completion", "bash"], prog_name="mlflow-allowance")
    assert result.exit_code == 0
    assert "_MLFLOW_ALLOWANCE_COMPLETE=complete_bash" in result.stdout


def test_model_means_one_thing_in_every_command() -> None:
    """``--model/-m NAME`` is always the registered model (or models) the command is about."""
    import typer

    group = typer.main.get_command(app)
    found = 0
    for name, command in getattr(group, "commands", {}).items():
        for param in command.params:
            opts = set(getattr(param, "opts", ()))
            if opts & {"--model", "-m"}:
                found += 1
                assert opts == {"--model", "-m"}, name
                assert param.metavar == "NAME", name
                assert str(getattr(param, "help", "")).startswith("The registered model "), name
    assert found == 12


def test_the_http_settings_need_no_typer() -> None:
    """``_http`` is ground floor: the API can take its timeouts without the command line's dependencies."""
    import subprocess

    code = (
        "import sys, mlflow_allowance._http\n"
        "print(sorted(m for m in sys.modules if m.startswith(('typer', 'click', 'mlflow.'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
