"""Attach ``allowance`` to MLflow's own ``mlflow`` command (see docs/cli-plugin.md).

MLflow has no entry point for command-line plugins: ``mlflow.cli.cli`` is a click group with hard-wired
commands.  ``mlflow_allowance.pth``, installed at the root of site-packages, calls :func:`install` at
interpreter start-up, but only when the process is MLflow's ``mlflow`` console script (or ``python -m
mlflow``) and ``MLFLOW_ALLOWANCE_NO_PLUGIN`` is unset.  :func:`install` puts a one-shot finder on
``sys.meta_path``; when ``mlflow.cli`` has finished importing, the finder removes itself and adds a small
lazy click command named ``allowance`` to ``mlflow.cli.cli``.  The real Typer app in
``mlflow_allowance.cli`` is imported only when ``mlflow allowance ...`` actually runs, and then runs as a
standalone program (Typer vendors its own click, so it cannot be nested in MLflow's click context).

Fail-safe: nothing here lets an exception escape into MLflow.  Whatever goes wrong (our package broken,
MLflow internals changed), ``mlflow`` keeps working exactly as without this package; set
``MLFLOW_ALLOWANCE_DEBUG=1`` to see a one-line note on stderr.  Only the failure to load our own CLI is
reported without that variable, and only when the user asked for ``mlflow allowance``.

At start-up the .pth line loads this *file* by path, without importing the ``mlflow_allowance`` package:
``site`` runs .pth files before every site directory is on ``sys.path`` (user site before the system one,
a venv before ``--system-site-packages``), so the package's own dependencies may not be importable yet.
Hence: standard library only at module level, no relative imports, and nothing here may assume that
``mlflow_allowance`` has been imported or that this module is in ``sys.modules``.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing at start-up costs milliseconds
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any

    import click

__all__ = [
    "COMMAND_NAME",
    "DEBUG_ENV",
    "DISABLE_ENV",
    "attach",
    "install",
    "is_enabled",
    "load_allowance_app",
    "run_allowance_app",
]

COMMAND_NAME = "allowance"
DISABLE_ENV = "MLFLOW_ALLOWANCE_NO_PLUGIN"
DEBUG_ENV = "MLFLOW_ALLOWANCE_DEBUG"

_TARGET_MODULE = "mlflow.cli"
_MAIN_MODULES = ("mlflow.__main__", "mlflow")
_FINDER_MARKER = "_mlflow_allowance_finder"
_SHORT_HELP = "Version allowances per environment (mlflow-allowance)."
_HELP = (
    "Pick, promote and roll back registered model versions by per-environment version allowances. "
    "Provided by the mlflow-allowance package; also available as the `mlflow-allowance` command."
)


def _flag(name: str) -> bool:
    """True when the environment variable ``name`` is set to anything but ``""`` or ``"0"``."""
    return os.environ.get(name, "") not in ("", "0")


def is_enabled() -> bool:
    """False when ``MLFLOW_ALLOWANCE_NO_PLUGIN`` is set (to anything but ``""`` or ``"0"``)."""
    return not _flag(DISABLE_ENV)


def _debug(message: str) -> None:
    if _flag(DEBUG_ENV) and sys.stderr is not None:
        import contextlib

        with contextlib.suppress(Exception):
            print(f"mlflow-allowance: {message}", file=sys.stderr)


def _started_as_module() -> bool:
    """True for ``python -m ...``: at start-up ``sys.argv[0]`` is then the literal ``"-m"``."""
    argv: list[str] = getattr(sys, "argv", None) or [""]
    return argv[0] == "-m"


def _main_is_mlflow() -> bool:
    """True when ``__main__`` is MLflow's own ``python -m mlflow`` entry module."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return bool(getattr(spec, "name", None) in _MAIN_MODULES)


def install() -> None:
    """Arrange for ``allowance`` to be added to ``mlflow.cli.cli``; idempotent, never raises."""
    try:
        if not is_enabled():
            return
        module = sys.modules.get(_TARGET_MODULE)
        if module is not None:
            _attach_module(module)
            return
        # The .pth line runs twice in some venvs (CPython < 3.12 processes site-packages twice), and each
        # run loads this file afresh, so look for the marker attribute rather than for the class.
        if any(getattr(finder, _FINDER_MARKER, False) for finder in sys.meta_path):
            return
        sys.meta_path.insert(0, _MlflowCliFinder(require_mlflow_main=_started_as_module()))
    except Exception as exc:
        _debug(f"hook not installed ({type(exc).__name__}: {exc})")


class _MlflowCliFinder:
    """One-shot meta path finder: wraps the loader of ``mlflow.cli`` so that :func:`attach` runs after it."""

    _mlflow_allowance_finder = True  # == _FINDER_MARKER; the .pth line looks for this name too

    def __init__(self, *, require_mlflow_main: bool) -> None:
        self._require_mlflow_main = require_mlflow_main

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != _TARGET_MODULE:
            return None
        # Fire once: leave sys.meta_path before anything else, so we can never see ourselves again.
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = None
        try:
            spec = _find_spec_elsewhere(fullname, path, target)
            if spec is None:
                return None
            if self._require_mlflow_main and not _main_is_mlflow():
                return spec
            loader = spec.loader
            if loader is None or not hasattr(loader, "exec_module"):
                return spec
            spec.loader = _AttachingLoader(loader)  # type: ignore[assignment]
        except Exception as exc:
            _debug(f"could not hook {fullname} ({type(exc).__name__}: {exc})")
        return spec


def _find_spec_elsewhere(fullname: str, path: Any, target: ModuleType | None) -> ModuleSpec | None:
    """Ask the remaining meta path finders, in order, as the import system itself would."""
    for finder in list(sys.meta_path):
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        spec: ModuleSpec | None = find_spec(fullname, path, target)
        if spec is not None:
            return spec
    return None


class _AttachingLoader:
    """Delegates to MLflow's real loader, then calls :func:`attach` once ``mlflow.cli`` has executed."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        create: Any = getattr(self._loader, "create_module", None)
        if create is None:
            return None
        module: ModuleType | None = create(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        real = self._loader
        # Put the real loader back so the finished module looks exactly as if we had never been there.
        try:
            module.__loader__ = real
            if module.__spec__ is not None:
                module.__spec__.loader = real
        except Exception as exc:
            _debug(f"could not restore the loader of {module.__name__} ({type(exc).__name__}: {exc})")
        real.exec_module(module)  # MLflow's own errors propagate untouched.
        _attach_module(module)


def _attach_module(module: ModuleType) -> None:
    try:
        attach(getattr(module, "cli", None))
    except Exception as exc:
        _debug(f"`mlflow {COMMAND_NAME}` not added ({type(exc).__name__}: {exc})")


def attach(group: object) -> bool:
    """Add the lazy ``allowance`` command to the click group ``group`` (normally ``mlflow.cli.cli``).

    Returns False, changing nothing, when ``group`` is not a click group or already has a command of
    that name.  Imports click (already imported by MLflow), but not ``mlflow_allowance.cli``.
    """
    import click

    if not isinstance(group, click.Group):
        _debug(f"`mlflow {COMMAND_NAME}` not added: expected a click.Group, got {type(group).__name__}")
        return False
    if COMMAND_NAME in group.commands:
        _debug(f"`mlflow {COMMAND_NAME}` not added: MLflow already has a command of that name")
        return False
    group.add_command(_lazy_command(), COMMAND_NAME)
    return True


def load_allowance_app() -> Any:
    """The Typer app of ``mlflow_allowance.cli``, imported now."""
    import importlib

    return importlib.import_module("mlflow_allowance.cli").app


def run_allowance_app(app: Any, args: list[str], prog_name: str) -> Any:
    """Run the Typer ``app`` on ``args`` as its own (standalone) program.

    Typer vendors its own copy of click, so the Typer command cannot be nested inside MLflow's click
    context: its exceptions and ``Exit`` would not be understood there.  It runs standalone instead and
    ends the process with ``SystemExit``, exactly as the ``mlflow-allowance`` console script does.
    """
    return app(args=args, prog_name=prog_name)


_LAZY_CLASS: Any = None


def _lazy_command() -> click.Command:
    """A click command that stands in for the Typer app until it is needed (its class is built once)."""
    global _LAZY_CLASS
    if _LAZY_CLASS is not None:
        command: click.Command = _LAZY_CLASS()
        return command

    import click

    class LazyAllowanceCommand(click.Command):
        """`mlflow --help` reads only its short help; every argument goes, unparsed, to the Typer app."""

        def __init__(self) -> None:
            super().__init__(
                name=COMMAND_NAME,
                help=_HELP,
                short_help=_SHORT_HELP,
                add_help_option=False,
                context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
            )

        def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
            ctx.args = list(args)  # --help, options, sub-commands: all the Typer app's business
            return ctx.args

        def invoke(self, ctx: click.Context) -> Any:
            try:
                app = load_allowance_app()
            except Exception as exc:
                if _flag(DEBUG_ENV):
                    import traceback

                    traceback.print_exc()
                raise click.ClickException(
                    f"mlflow-allowance is installed but its command line could not be loaded "
                    f"({type(exc).__name__}: {exc}). Set {DEBUG_ENV}=1 for a traceback, or "
                    f"{DISABLE_ENV}=1 to hide `mlflow {COMMAND_NAME}`."
                ) from exc
            return run_allowance_app(app, list(ctx.args), prog_name=ctx.command_path)

    _LAZY_CLASS = LazyAllowanceCommand
    return LazyAllowanceCommand()
