"""The command line's Typer app: its group (errors to one line, connection options on every command), the
global options, and the client they build. The commands register on :data:`app` in ``_cli_commands``.

Start-up is part of the interface: this module imports Typer and the pure core only. MLflow is imported
when a command first needs the registry (:meth:`Settings.client`), with MLflow's HTTP variables set to the
command line's fail-fast values first (see ``_http``). The Python API keeps MLflow's defaults: a program or
a pipeline step usually prefers riding out a restarting or rate-limiting server to failing in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

# TyperGroup is the documented base for ``typer.Typer(cls=...)`` (see the ``cls`` parameter's docs).
from typer.core import TyperGroup

from mlflow_allowance import _http
from mlflow_allowance._cli_errors import fail, is_usage_error, usage_line
from mlflow_allowance.errors import AllowanceError

if TYPE_CHECKING:
    from mlflow_allowance.client import AllowanceClient

__all__ = ["DEBUG_ENV", "PROG_NAME", "Settings", "app", "client", "settings"]

PROG_NAME = "mlflow-allowance"
#: Same switch as the ``mlflow allowance`` hook's: tracebacks without typing ``--debug``.
DEBUG_ENV = "MLFLOW_ALLOWANCE_DEBUG"


@dataclass
class Settings:
    """The global options, and the client built from them on first use.

    Building the client also sets MLflow's HTTP variables (:func:`~mlflow_allowance._http.http_environment`)
    in ``os.environ``, where MLflow reads them on every request, until :meth:`close` puts back what was
    there: this app may run inside a longer-lived process (tests, ``mlflow allowance``, a notebook), whose
    own MLflow calls must not inherit the command line's short timeouts.
    """

    tracking_uri: str | None = None
    registry_uri: str | None = None
    debug: bool = False
    timeout: int | None = None
    retries: int | None = None
    _client: AllowanceClient | None = field(default=None, repr=False)
    _mlflow_log_level: int | None = field(default=None, repr=False)
    _saved_env: dict[str, str | None] = field(default_factory=dict, repr=False)

    def client(self) -> AllowanceClient:
        if self._client is None:
            import os

            from mlflow_allowance.client import AllowanceClient

            # Before MLflow is imported: old versions read the variables at import.
            wanted = _http.http_environment(self.timeout, self.retries, os.environ)
            _http.apply_environment(wanted, os.environ, self._saved_env)
            self._quiet_mlflow()
            self._client = AllowanceClient(self.tracking_uri, self.registry_uri)
        return self._client

    def _quiet_mlflow(self) -> None:
        """Keep MLflow's INFO lines (database set-up) off stderr, unless --debug or MLFLOW_LOGGING_LEVEL."""
        import logging
        import os

        if self.debug or os.environ.get("MLFLOW_LOGGING_LEVEL"):
            return
        try:
            # The seam imports MLflow, which configures its loggers at import; building the client then
            # creates the store, which logs. (Not through the client: it has no quiet switch yet.)
            import mlflow_allowance._registry  # noqa: F401
        except ImportError:
            return  # no MLflow client: AllowanceClient says so, naming the extra

        logger = logging.getLogger("mlflow")
        self._mlflow_log_level = logger.level
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))

    def close(self) -> None:
        """Give MLflow's logger back its level and the environment its HTTP variables (this app may run
        inside a longer-lived process)."""
        if self._mlflow_log_level is not None:
            import logging

            logging.getLogger("mlflow").setLevel(self._mlflow_log_level)
            self._mlflow_log_level = None
        if self._saved_env:
            import os

            _http.restore_environment(self._saved_env, os.environ)


def settings(ctx: typer.Context) -> Settings:
    """The global options of this run (defaults outside one)."""
    found = ctx.find_object(Settings)
    return found if found is not None else Settings()


def client(ctx: typer.Context) -> AllowanceClient:
    """The run's :class:`~mlflow_allowance.AllowanceClient`, built on first use."""
    return settings(ctx).client()


def _program(ctx: Any) -> str:
    """The program's name as it was run: ``mlflow-allowance`` or ``mlflow allowance``."""
    name = ctx.find_root().info_name if ctx is not None else None
    return name or PROG_NAME


#: The global options a command accepts after its name too: ``get prod --tracking-uri URI``.
_ANYWHERE = ("tracking_uri", "registry_uri", "timeout", "retries")


class _Group(TyperGroup):
    """Turns the package's error tree, and usage errors, into one line on stderr and an exit code.

    Also gives every command a copy of the connection options (:data:`_ANYWHERE`): the same definition,
    help and checks as the group's, storing into the group's :class:`Settings` (a value after the command
    wins over one before it).
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        shared = [param for param in self.params if param.name in _ANYWHERE]
        for command in self.commands.values():
            taken = {opt for param in command.params for opt in getattr(param, "opts", ())}
            taken |= {param.name for param in command.params}
            for param in shared:
                if param.name not in taken and not taken & set(getattr(param, "opts", ())):
                    command.params.append(_after_command(param))

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        if not args:
            # The bare program name: Typer prints the help (no_args_is_help), as it should.
            return super().make_context(info_name, args, parent, **extra)
        try:
            return super().make_context(info_name, args, parent, **extra)
        except typer.TyperException as exc:  # the group's own options: mlflow-allowance --tracking-uri
            if not is_usage_error(exc):
                raise
            typer.echo(usage_line(exc, info_name or PROG_NAME), err=True)
            raise typer.Exit(exc.exit_code) from None

    # Typer hands its commands typer.Context; the base class names the vendored click's Context.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except typer.TyperException as exc:  # a command's arguments and options, an unknown command
            if not is_usage_error(exc):
                raise
            typer.echo(usage_line(exc, _program(ctx)), err=True)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, EOFError):
            raise  # Typer's own: --help, Ctrl-C/D
        except AllowanceError as exc:
            fail(exc, exc.exit_code, debug=settings(ctx).debug, program=_program(ctx))
        except Exception as exc:
            fail(exc, 1, debug=settings(ctx).debug, program=_program(ctx))
        finally:
            settings(ctx).close()


def _after_command(param: Any) -> Any:
    """A copy of the group's option ``param`` for a command: not passed to the command's function, but
    stored into :class:`Settings` when given."""
    import copy

    copied = copy.copy(param)
    copied.expose_value = False
    copied.callback = _store_setting
    return copied


def _store_setting(ctx: typer.Context, param: Any, value: Any) -> Any:
    if value is not None and not ctx.resilient_parsing:
        setattr(settings(ctx), param.name, value)
    return value


app = typer.Typer(
    name=PROG_NAME,
    cls=_Group,
    help=(
        "Version allowances per environment for the MLflow model registry: pick, promote and roll back "
        "the right model version, visibly."
    ),
    epilog=(
        "Exit status: 0 success; 1 when no candidate is eligible, a rollback is refused or check finds "
        "violations; 2 for bad input, an unknown model or an unreachable MLflow server; 3 when another "
        "writer is changing the environment (retry, or wait with --wait SECONDS)."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,  # plain, stable help whether or not Rich is installed
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        from mlflow_allowance import __version__

        typer.echo(f"{PROG_NAME} {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    ctx: typer.Context,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            metavar="URI",
            help="MLflow tracking URI (default: MLFLOW_TRACKING_URI, else MLflow's default).",
            show_default=False,
        ),
    ] = None,
    registry_uri: Annotated[
        str | None,
        typer.Option(
            metavar="URI",
            help="MLflow registry URI (default: MLFLOW_REGISTRY_URI, else the tracking URI).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        int | None,
        typer.Option(
            metavar="SECONDS",
            min=1,
            help=(
                "Wait SECONDS for the MLflow server to accept a connection, and then to answer, on each "
                f"try of a request (default: {_http.HTTP_ENV['timeout']}, else {_http.DEFAULT_TIMEOUT})."
            ),
            show_default=False,
        ),
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=0,
            max=_http.MAX_RETRIES,
            help=(
                "Try a refused, timed-out or failed (HTTP 429, 5xx) request N more times "
                f"(default: {_http.HTTP_ENV['retries']}, else {_http.DEFAULT_RETRIES})."
            ),
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar=DEBUG_ENV, help="Show tracebacks and MLflow's log messages."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    ctx.obj = Settings(tracking_uri, registry_uri, debug, timeout, retries)
