"""``_mlflow_hook`` in-process: :func:`attach` on a stand-in for ``mlflow.cli.cli``, and the one-shot finder
importing a stand-in ``mlflow.cli`` (a fake ``mlflow`` package in ``sys.modules``; MLflow itself is never
touched). The real ``mlflow`` program is exercised in the other modules of this directory.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import click
import pytest

from mlflow_allowance import __version__
from mlflow_allowance import _mlflow_hook as hook

from .conftest import SHORT_HELP

TARGET = "mlflow.cli"


def _finders() -> list[Any]:
    return [finder for finder in sys.meta_path if getattr(finder, "_mlflow_allowance_finder", False)]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(hook.DISABLE_ENV, raising=False)
    monkeypatch.delenv(hook.DEBUG_ENV, raising=False)


# attach() ---------------------------------------------------------------------------------------------------


@dataclass
class FakeApp:
    """Stands in for the Typer app: records how the lazy command called it."""

    calls: list[tuple[list[str], str]] = field(default_factory=list)

    def __call__(self, *, args: list[str], prog_name: str) -> str:
        self.calls.append((args, prog_name))
        return "app ran"


@pytest.fixture
def fake_app(monkeypatch: pytest.MonkeyPatch) -> FakeApp:
    app = FakeApp()
    monkeypatch.setattr(hook, "load_allowance_app", lambda: app)
    return app


def _unloadable(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(hook, "load_allowance_app", fail)


class TestAttach:
    def test_adds_a_click_command_named_allowance(self) -> None:
        group = click.Group("mlflow")
        assert hook.attach(group) is True
        command = group.commands["allowance"]
        assert isinstance(command, click.Command)
        assert command.name == "allowance"
        assert command.get_short_help_str(limit=200) == SHORT_HELP

    @pytest.mark.parametrize(
        "group",
        [
            pytest.param(None, id="none"),
            pytest.param(object(), id="object"),
            pytest.param(click.Command("cli"), id="click-command"),
            pytest.param(types.SimpleNamespace(commands={}, add_command=None), id="group-lookalike"),
        ],
    )
    def test_leaves_anything_but_a_click_group_alone(self, group: object) -> None:
        assert hook.attach(group) is False

    def test_mlflows_own_allowance_command_wins(self) -> None:
        theirs = click.Command("allowance")
        group = click.Group("mlflow", commands=[theirs])
        assert hook.attach(group) is False
        assert group.commands == {"allowance": theirs}

    def test_help_lists_it_without_loading_the_app(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        _unloadable(monkeypatch)
        group = click.Group("mlflow", commands=[click.Command("server", help="Run the server.")])
        hook.attach(group)
        assert group.main(["--help"], prog_name="mlflow", standalone_mode=False) == 0
        lines = capsys.readouterr().out.splitlines()
        assert ["allowance", *SHORT_HELP.split()] in [line.split() for line in lines]

    def test_every_argument_goes_unparsed_to_the_app_under_its_mlflow_name(self, fake_app: FakeApp) -> None:
        group = click.Group("mlflow")
        hook.attach(group)
        args = ["--tracking-uri", "x", "get", "--help", "prod", "--json", "-m", "M"]
        assert group.main(["allowance", *args], prog_name="mlflow", standalone_mode=False) == "app ran"
        assert fake_app.calls == [(args, "mlflow allowance")]

    def test_group_options_apply_first(self, fake_app: FakeApp) -> None:
        seen: list[bool] = []
        group = click.Group("mlflow", params=[click.Option(["--flag"], is_flag=True)])
        group.callback = lambda flag: seen.append(flag)
        hook.attach(group)
        group.main(["--flag", "allowance", "--flag"], prog_name="mlflow", standalone_mode=False)
        assert seen == [True]
        assert fake_app.calls == [(["--flag"], "mlflow allowance")]

    def test_an_app_that_cannot_load_is_one_click_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        _unloadable(monkeypatch)
        group = click.Group("mlflow")
        hook.attach(group)
        with pytest.raises(click.ClickException) as raised:
            group.main(["allowance", "get", "prod"], prog_name="mlflow", standalone_mode=False)
        assert raised.value.exit_code == 1
        assert raised.value.message.startswith(
            "mlflow-allowance is installed but its command line could not be loaded (RuntimeError: boom). "
        )
        assert "\n" not in raised.value.message

    @pytest.mark.parametrize(
        ("args", "out"),
        [
            pytest.param(["--version"], f"mlflow-allowance {__version__}\n", id="version"),
            pytest.param(["--help"], "Usage: mlflow allowance [OPTIONS] COMMAND [ARGS]...", id="help"),
        ],
    )
    def test_the_real_app_runs_standalone_and_ends_the_process(
        self, args: list[str], out: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        group = click.Group("mlflow")
        hook.attach(group)
        with pytest.raises(SystemExit) as raised:
            group.main(["allowance", *args], prog_name="mlflow")
        assert raised.value.code == 0
        captured = capsys.readouterr()
        assert (captured.out.startswith(out), captured.err) == (True, ""), captured.out


# install() and the finder -----------------------------------------------------------------------------------


class FakeCliLoader(importlib.abc.Loader):
    """Executes a stand-in ``mlflow.cli``: ``cli = make()``, or raises ``error``."""

    def __init__(
        self, make: Callable[[], object] = lambda: click.Group("mlflow"), error: Exception | None = None
    ) -> None:
        self.make = make
        self.error = error

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        if self.error is not None:
            raise self.error
        module.cli = self.make()  # type: ignore[attr-defined]


class FakeCliFinder(importlib.abc.MetaPathFinder):
    """Finds the stand-in ``mlflow.cli`` and nothing else, as the path finder would find the real one."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def find_spec(
        self, fullname: str, path: Any = None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != TARGET:
            return None
        return importlib.util.spec_from_loader(fullname, self.loader)


@dataclass
class FakeMlflow:
    """A stand-in ``mlflow`` package whose ``cli`` submodule :class:`FakeCliFinder` provides."""

    monkeypatch: pytest.MonkeyPatch
    loader: FakeCliLoader = field(default_factory=FakeCliLoader)

    def serve(self, loader: FakeCliLoader) -> None:
        self.loader = loader
        sys.meta_path.insert(len(_finders()), FakeCliFinder(loader))

    def import_cli(self) -> types.ModuleType:
        self.monkeypatch.delitem(sys.modules, TARGET, raising=False)
        return importlib.import_module(TARGET)


@pytest.fixture
def fake_mlflow(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMlflow]:
    package = types.ModuleType("mlflow")
    package.__path__ = []
    monkeypatch.setitem(sys.modules, "mlflow", package)
    monkeypatch.delitem(sys.modules, TARGET, raising=False)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))  # every change undone with the list
    fake = FakeMlflow(monkeypatch)
    fake.serve(FakeCliLoader())
    yield fake
    monkeypatch.delitem(sys.modules, TARGET, raising=False)


def _commands(module: types.ModuleType) -> list[str]:
    return sorted(module.cli.commands)


class TestInstall:
    def test_finder_attaches_when_mlflow_cli_is_imported_and_leaves(self, fake_mlflow: FakeMlflow) -> None:
        hook.install()
        assert len(_finders()) == 1
        module = fake_mlflow.import_cli()
        assert _commands(module) == ["allowance"]
        assert _finders() == [], "one-shot: off sys.meta_path once mlflow.cli is found"

    def test_module_keeps_mlflows_own_loader(self, fake_mlflow: FakeMlflow) -> None:
        hook.install()
        module = fake_mlflow.import_cli()
        assert module.__loader__ is fake_mlflow.loader
        assert module.__spec__ is not None
        assert module.__spec__.loader is fake_mlflow.loader

    def test_is_idempotent(self, fake_mlflow: FakeMlflow) -> None:
        hook.install()
        hook.install()
        assert len(_finders()) == 1

    def test_attaches_at_once_when_mlflow_cli_is_already_imported(self, fake_mlflow: FakeMlflow) -> None:
        module = fake_mlflow.import_cli()
        assert _commands(module) == []
        hook.install()
        assert (_commands(module), _finders()) == (["allowance"], [])

    @pytest.mark.parametrize(
        ("value", "enabled"), [("", True), ("0", True), ("1", False), ("yes", False), ("false", False)]
    )
    def test_no_plugin_switch(
        self, fake_mlflow: FakeMlflow, monkeypatch: pytest.MonkeyPatch, value: str, enabled: bool
    ) -> None:
        monkeypatch.setenv(hook.DISABLE_ENV, value)
        assert hook.is_enabled() is enabled
        hook.install()
        assert _commands(fake_mlflow.import_cli()) == (["allowance"] if enabled else [])

    def test_ignores_every_other_import(self, fake_mlflow: FakeMlflow) -> None:
        hook.install()
        (finder,) = _finders()
        assert finder.find_spec("json") is None
        importlib.import_module("email.mime.text")
        assert len(_finders()) == 1

    def test_mlflows_own_import_error_propagates_unchanged(self, fake_mlflow: FakeMlflow) -> None:
        error = ImportError("mlflow.cli is broken")
        fake_mlflow.serve(FakeCliLoader(error=error))
        hook.install()
        with pytest.raises(ImportError) as raised:
            fake_mlflow.import_cli()
        assert raised.value is error
        assert _finders() == []

    def test_a_cli_that_is_not_a_click_group_is_left_alone_silently(
        self, fake_mlflow: FakeMlflow, capsys: pytest.CaptureFixture[str]
    ) -> None:
        theirs = object()
        fake_mlflow.serve(FakeCliLoader(make=lambda: theirs))
        hook.install()
        assert fake_mlflow.import_cli().cli is theirs
        assert capsys.readouterr() == ("", "")

    def test_an_allowance_command_of_mlflows_own_is_kept_silently(
        self, fake_mlflow: FakeMlflow, capsys: pytest.CaptureFixture[str]
    ) -> None:
        theirs = click.Command("allowance")
        fake_mlflow.serve(FakeCliLoader(make=lambda: click.Group("mlflow", commands=[theirs])))
        hook.install()
        assert fake_mlflow.import_cli().cli.commands == {"allowance": theirs}
        assert capsys.readouterr() == ("", "")

    def test_a_failing_attach_step_is_swallowed(
        self, fake_mlflow: FakeMlflow, capsys: pytest.CaptureFixture[str]
    ) -> None:
        class Exploding(click.Group):
            def add_command(self, cmd: click.Command, name: str | None = None) -> None:
                raise RuntimeError("add_command exploded")

        fake_mlflow.serve(FakeCliLoader(make=lambda: Exploding("mlflow")))
        hook.install()
        assert _commands(fake_mlflow.import_cli()) == []
        assert capsys.readouterr() == ("", "")

    def test_debug_switch_says_why_in_one_line(
        self, fake_mlflow: FakeMlflow, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv(hook.DEBUG_ENV, "1")
        fake_mlflow.serve(FakeCliLoader(make=object))
        hook.install()
        fake_mlflow.import_cli()
        assert capsys.readouterr() == (
            "",
            "mlflow-allowance: `mlflow allowance` not added: expected a click.Group, got object\n",
        )

    @pytest.mark.parametrize(("main", "attached"), [("mlflow.__main__", True), ("pytest.__main__", False)])
    def test_under_python_m_only_mlflows_own_main(
        self, fake_mlflow: FakeMlflow, monkeypatch: pytest.MonkeyPatch, main: str, attached: bool
    ) -> None:
        fake_main = types.ModuleType("__main__")
        fake_main.__spec__ = importlib.machinery.ModuleSpec(main, None)
        monkeypatch.setitem(sys.modules, "__main__", fake_main)
        monkeypatch.setattr(sys, "argv", ["-m", "server", "--help"])  # what `python -m X` has at start-up
        hook.install()
        assert _commands(fake_mlflow.import_cli()) == (["allowance"] if attached else [])
        assert _finders() == []
