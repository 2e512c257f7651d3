"""The ``mlflow-allowance`` command line (also ``mlflow allowance``): a thin Typer face over the API.

Each command checks what was typed, calls one :class:`~mlflow_allowance.AllowanceClient` method and renders
the result: aligned plain text for people, or one JSON document on stdout with ``--json``. Every error of
the package's tree becomes one line on stderr and its ``exit_code`` (2: bad input, unknown model, MLflow
unreachable; 1: nothing eligible, rollback refused); ``--debug`` adds the traceback.

Start-up is part of the interface: this module imports Typer and the pure core only. MLflow is imported
when a command first needs the registry, and input the core can check on its own is checked before that,
so a typo fails in milliseconds and writes nothing.

A dead server fails fast too: MLflow's HTTP client retries 7 times with a growing backoff (a refused
connection takes about four minutes to report) and waits 120 s for each answer. The command line asks for
:data:`DEFAULT_RETRIES` retries, a backoff factor of :data:`DEFAULT_BACKOFF_FACTOR` and a timeout of
:data:`DEFAULT_TIMEOUT` s instead, through MLflow's own variables (:data:`HTTP_ENV`), each only where the user
has not set it; ``--timeout`` and ``--retries`` win over the variables. An unanswered request thus fails
after at most (retries + 1) x timeout, plus a few seconds of backoff. The Python API
(:class:`~mlflow_allowance.AllowanceClient`) keeps MLflow's defaults: a program or a pipeline step usually
prefers riding out a restarting or rate-limiting server to failing in seconds, and it configures MLflow the
way it configures everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeGuard

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # Typer >= 0.29 vendors click
from typer.core import TyperGroup

from mlflow_allowance import report as render
from mlflow_allowance._environments import validate_environment, validate_model_name
from mlflow_allowance.allowance import VersionAllowance
from mlflow_allowance.errors import AllowanceError, InputError, NoEligibleCandidateError, redact, shown
from mlflow_allowance.request import SelectionRequest
from mlflow_allowance.selection import Selection
from mlflow_allowance.versions import SemanticVersion

if TYPE_CHECKING:
    from mlflow_allowance.client import AllowanceClient
    from mlflow_allowance.outcomes import Evaluation

__all__ = ["PROG_NAME", "app", "main"]

PROG_NAME = "mlflow-allowance"
#: Same switch as the ``mlflow allowance`` hook's: tracebacks without typing ``--debug``.
DEBUG_ENV = "MLFLOW_ALLOWANCE_DEBUG"

# How long the command line waits for an MLflow server (the API keeps MLflow's defaults: see the docstring).
#: Seconds to wait for a connection, and then for each answer (``--timeout``; MLflow's default: 120).
DEFAULT_TIMEOUT = 10
#: Retries of a refused, timed-out or 429/5xx request (``--retries``; MLflow's default: 7).
DEFAULT_RETRIES = 2
#: Retries wait 0, 2, 4... seconds times this, plus up to 1 s of jitter (MLflow's default: 2).
DEFAULT_BACKOFF_FACTOR = 1
#: MLflow's variables for the three, read on every request; the CLI sets each one the user has not set.
HTTP_ENV = {
    "timeout": "MLFLOW_HTTP_REQUEST_TIMEOUT",
    "retries": "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    "backoff_factor": "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
}
#: MLflow refuses more retries than this (its ``_MLFLOW_HTTP_REQUEST_MAX_RETRIES_LIMIT``).
_MAX_RETRIES = 10


def _http_environment(timeout: int | None, retries: int | None, environ: Mapping[str, str]) -> dict[str, str]:
    """MLflow's HTTP variables a command sets: ``--timeout`` and ``--retries`` when given, else the CLI's
    default for each variable unset (or empty, which MLflow ignores too) in ``environ``.

    >>> _http_environment(3, None, {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "5"})
    {'MLFLOW_HTTP_REQUEST_TIMEOUT': '3', 'MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR': '1'}
    >>> _http_environment(None, 0, {"MLFLOW_HTTP_REQUEST_TIMEOUT": "60"})
    {'MLFLOW_HTTP_REQUEST_MAX_RETRIES': '0', 'MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR': '1'}
    """
    given = {"timeout": timeout, "retries": retries, "backoff_factor": None}
    defaults = {
        "timeout": DEFAULT_TIMEOUT,
        "retries": DEFAULT_RETRIES,
        "backoff_factor": DEFAULT_BACKOFF_FACTOR,
    }
    wanted: dict[str, str] = {}
    for key, name in HTTP_ENV.items():
        value = given[key]
        if value is not None:
            wanted[name] = str(value)
        elif not environ.get(name):
            wanted[name] = str(defaults[key])
    return wanted


@dataclass
class _Settings:
    """The global options, and the client built from them on first use.

    Building the client also sets MLflow's HTTP variables (:func:`_http_environment`) in ``os.environ``,
    where MLflow reads them on every request, until :meth:`close` puts back what was there: this app may
    run inside a longer-lived process (tests, ``mlflow allowance``, a notebook), whose own MLflow calls
    must not inherit the command line's short timeouts.
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
            from mlflow_allowance.client import AllowanceClient

            self._fail_fast()  # before MLflow is imported: old versions read the variables at import
            self._quiet_mlflow()
            self._client = AllowanceClient(self.tracking_uri, self.registry_uri)
        return self._client

    def _fail_fast(self) -> None:
        """Set MLflow's HTTP variables for this command, remembering what they were."""
        import os

        for name, value in _http_environment(self.timeout, self.retries, os.environ).items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def _quiet_mlflow(self) -> None:
        """Keep MLflow's INFO lines (database set-up) off stderr, unless --debug or MLFLOW_LOGGING_LEVEL."""
        import logging
        import os

        if self.debug or os.environ.get("MLFLOW_LOGGING_LEVEL"):
            return
        try:
            import mlflow_allowance._registry  # noqa: F401  (imports mlflow, which configures its loggers)
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

            for name, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._saved_env.clear()


#: The global options a command accepts after its name too: ``get prod --tracking-uri URI``.
_ANYWHERE = ("tracking_uri", "registry_uri", "timeout", "retries")


class _Group(TyperGroup):
    """Turns the package's error tree, and usage errors, into one line on stderr and an exit code.

    Also gives every command a copy of the connection options (:data:`_ANYWHERE`): the same definition,
    help and checks as the group's, storing into the group's :class:`_Settings` (a value after the command
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
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageError as exc:  # the group's own options: mlflow-allowance --tracking-uri
            raise _usage_line(exc, info_name) from None

    # Typer hands its commands typer.Context; the base class names the vendored click's private Context.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except UsageError as exc:  # a command's arguments and options, an unknown command
            raise _usage_line(exc) from None
        except (typer.Exit, typer.Abort, typer.TyperException, EOFError):
            raise  # Typer's own: --help, Ctrl-C/D
        except AllowanceError as exc:
            _fail(ctx, exc, exc.exit_code)
        except Exception as exc:
            _fail(ctx, exc, 1)
        finally:
            _settings(ctx).close()


def _after_command(param: Any) -> Any:
    """A copy of the group's option ``param`` for a command: not passed to the command's function, but
    stored into :class:`_Settings` when given."""
    import copy

    copied = copy.copy(param)
    copied.expose_value = False
    copied.callback = _store_setting
    return copied


def _store_setting(ctx: typer.Context, param: Any, value: Any) -> Any:
    if value is not None and not ctx.resilient_parsing:
        setattr(_settings(ctx), param.name, value)
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

# Options several commands share ---------------------------------------------------------------------------

Env = Annotated[str, typer.Argument(metavar="ENV", help="Environment, e.g. prod (its MLflow alias: @prod).")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]
ModelScope = Annotated[
    str | None,
    typer.Option(
        "--model", "-m", metavar="NAME", help="A registered model's override instead of the default."
    ),
]
Models = Annotated[
    list[str],
    typer.Option("--model", "-m", metavar="NAME", help="Registered model competing (repeat for more)."),
]
Metric = Annotated[
    str | None,
    typer.Option(metavar="M", help="Pick the best by this metric of each version's run (else the latest)."),
]
Minimize = Annotated[bool, typer.Option("--minimize", help="Lower metric is better (a loss).")]
Dataset = Annotated[
    str | None,
    typer.Option(
        metavar="NAME[@DIGEST]",
        help="Judge --metric on the scores recorded on this dataset by evaluate (NAME: its current content).",
    ),
]
Data = Annotated[
    Path | None,
    typer.Option(metavar="PATH", help="Evaluation data: a .csv or .parquet file with the target column."),
]
Target = Annotated[str | None, typer.Option(metavar="COL", help="The data's label column.")]
Jobs = Annotated[int, typer.Option(metavar="N", min=1, help="Score in N worker processes.")]
RetryFailed = Annotated[
    bool, typer.Option("--retry-failed", help="Score again the versions that failed on this data before.")
]
Explain = Annotated[bool, typer.Option("--explain", help="Show every candidate and why it won or lost.")]
RequireTag = Annotated[
    list[str] | None,
    typer.Option(
        "--require-tag",
        metavar="KEY=VALUE",
        help="Only versions carrying this model-version tag (repeat for more).",
    ),
]
Pre = Annotated[
    bool, typer.Option("--pre", help="Allow pre-releases (2.0rc1) even if the allowance names none.")
]
VersionRunTag = Annotated[
    str | None,
    typer.Option(metavar="TAG", help="Run tag holding the semantic version of versions that carry none."),
]
Reason = Annotated[str, typer.Option(metavar="TEXT", help="Why, for the audit trail.")]
Wait = Annotated[
    float,
    typer.Option(
        "--wait",
        metavar="SECONDS",
        min=0,
        help="Wait up to SECONDS while another writer changes ENV (default: fail at once, exit 3).",
    ),
]


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
                f"try of a request (default: {HTTP_ENV['timeout']}, else {DEFAULT_TIMEOUT})."
            ),
            show_default=False,
        ),
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=0,
            max=_MAX_RETRIES,
            help=(
                "Try a refused, timed-out or failed (HTTP 429, 5xx) request N more times "
                f"(default: {HTTP_ENV['retries']}, else {DEFAULT_RETRIES})."
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
    ctx.obj = _Settings(tracking_uri, registry_uri, debug, timeout, retries)


# Allowances -------------------------------------------------------------------------------------------------


@app.command("set")
def set_(
    ctx: typer.Context,
    env: Env,
    spec: Annotated[str, typer.Argument(metavar="SPEC", help="The allowance, e.g. '<=1.0' or '==2.*'.")],
    model: ModelScope = None,
    reason: Reason = "",
    wait: Wait = 0.0,
    as_json: Json = False,
) -> None:
    """Set ENV's allowance (workspace-wide, or a model's override) and say how it changed.

    Prints e.g. 'prod: widened <=1.0 → <=2.0' (or narrowed, replaced, unchanged).
    """
    _check(env=env, model=model, spec=spec)
    change = _client(ctx).set_allowance(env, spec, model=model, reason=reason, wait=wait)
    _emit(as_json, change.to_dict(), change.describe())


@app.command()
def get(ctx: typer.Context, env: Env, model: ModelScope = None, as_json: Json = False) -> None:
    """Print the allowance ENV applies (to a model, with --model); --json adds where it comes from."""
    _check(env=env, model=model)
    effective = _client(ctx).get_allowance(env, model=model)
    _emit(as_json, effective.to_dict(), effective.allowance.canonical)


@app.command()
def unset(
    ctx: typer.Context,
    env: Env,
    model: ModelScope = None,
    reason: Reason = "",
    wait: Wait = 0.0,
    as_json: Json = False,
) -> None:
    """Remove ENV's workspace-wide allowance, or a model's override of it."""
    _check(env=env, model=model)
    change = _client(ctx).unset_allowance(env, model=model, reason=reason, wait=wait)
    _emit(as_json, change.to_dict(), change.describe())


@app.command("list")
def list_(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option("--model", "-m", metavar="NAME", help="Only this model's overrides.")
    ] = None,
    as_json: Json = False,
) -> None:
    """List the stored allowances: workspace defaults (model '*') and per-model overrides."""
    _check(model=model)
    found = _client(ctx).list_allowances(model=model)
    if as_json:
        _print_json([a.to_dict() for a in found])
        return
    if not found:
        typer.echo("no allowances set: every environment allows any final version")
        return
    rows = [[a.environment, a.model or "*", a.allowance.canonical, a.source] for a in found]
    typer.echo(render.table(["ENV", "MODEL", "ALLOWANCE", "SOURCE"], rows))


# Selection and promotion ------------------------------------------------------------------------------------


@app.command()
def select(
    ctx: typer.Context,
    env: Env,
    model: Models,
    metric: Metric = None,
    minimize: Minimize = False,
    explain: Explain = False,
    require_tag: RequireTag = None,
    pre: Pre = False,
    version_run_tag: VersionRunTag = None,
    dataset: Dataset = None,
    as_json: Json = False,
) -> None:
    """Show which version ENV would run now; writes nothing.

    Exit status 1 when no candidate is eligible (the JSON document is still printed, winner null).
    """
    environment = validate_environment(env)
    request = _request(model, metric, minimize, require_tag, pre, version_run_tag, dataset)
    selection = _client(ctx).select(environment, request)
    _warn_unscored(selection, as_json)
    data = selection.to_dict()
    if selection.winner is None:
        error = NoEligibleCandidateError(
            f"no eligible candidate for {environment} among {', '.join(request.models)} "
            f"({selection.policy.describe()})",
            selection,
        )
        _report_no_winner(error, environment, as_json=as_json, explain=explain, data=data)
    if as_json:
        _print_json(data)
        return
    if explain:
        typer.echo(render.explain(environment, selection))
        return
    typer.echo(render.winner_line(environment, selection))


@app.command()
def promote(
    ctx: typer.Context,
    env: Env,
    model: Models,
    metric: Metric = None,
    minimize: Minimize = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; write nothing.")] = False,
    stage: Annotated[
        str | None,
        typer.Option(metavar="STAGE", help="Also mirror the legacy registry stage (Production, Staging)."),
    ] = None,
    reason: Reason = "",
    wait: Wait = 0.0,
    explain: Explain = False,
    require_tag: RequireTag = None,
    pre: Pre = False,
    version_run_tag: VersionRunTag = None,
    dataset: Dataset = None,
    evaluate_first: Annotated[
        bool,
        typer.Option(
            "--evaluate",
            help="First score the versions with no score on --data (as evaluate does), then promote on it.",
        ),
    ] = False,
    data: Data = None,
    target: Target = None,
    jobs: Jobs = 1,
    retry_failed: RetryFailed = False,
    as_json: Json = False,
) -> None:
    """Point @ENV at the version select picks, and record it in the audit trail.

    Only the winner's model holds the alias afterwards. Exit status 1, alias unchanged, when no candidate
    is eligible. With --evaluate --data PATH --target COL, the versions within the allowance are first
    scored on that data, and the winner is the best --metric on it.
    """
    environment = validate_environment(env)
    evaluation = None
    if evaluate_first:
        if data is None or metric is None:
            raise InputError("--evaluate needs --data PATH, --target COL and --metric M to promote on")
        if dataset is not None and "@" in dataset:
            raise InputError("--evaluate names the dataset with --dataset NAME; its digest comes from --data")
        evaluation = _evaluate(
            ctx, environment, model, data, target, dataset, [metric], None, retry_failed, jobs, as_json
        )
        dataset = str(evaluation.dataset.ref)  # pinned: the content just scored, whatever comes next
        if not as_json:
            typer.echo(render.evaluation(evaluation))
    elif data is not None or target is not None:
        raise InputError("--data and --target go with --evaluate (or use the evaluate command)")
    request = _request(model, metric, minimize, require_tag, pre, version_run_tag, dataset)
    try:
        promotion = _client(ctx).promote(
            environment, request, dry_run=dry_run, stage=stage, reason=reason, wait=wait
        )
    except NoEligibleCandidateError as exc:
        payload: dict[str, Any] = {"environment": environment}
        if _is_selection(exc.selection):
            payload.update(exc.selection.to_dict())
        payload.update(changed=False, dry_run=dry_run, error=str(exc))
        if evaluation is not None:
            payload["evaluation"] = evaluation.to_dict()
        _report_no_winner(exc, environment, as_json=as_json, explain=explain, data=payload)
    if promotion.selection is not None:
        _warn_unscored(promotion.selection, as_json)
    if as_json:
        document = promotion.to_dict()
        if evaluation is not None:
            document["evaluation"] = evaluation.to_dict()
        _print_json(document)
        return
    if explain and promotion.selection is not None:
        typer.echo(render.explain(environment, promotion.selection))
    typer.echo(render.promotion_line(promotion))


@app.command()
def evaluate(
    ctx: typer.Context,
    env: Env,
    model: Models,
    data: Annotated[
        Path,
        typer.Option(metavar="PATH", help="Evaluation data: a .csv or .parquet file with the target column."),
    ],
    target: Annotated[str, typer.Option(metavar="COL", help="The data's label column.")],
    dataset: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="The name the data is known by (default: the file's stem)."),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            metavar="M", help="A metric to check MLflow's evaluator logs (F1, accuracy, rmse, ...; repeat)."
        ),
    ] = None,
    model_type: Annotated[
        str | None,
        typer.Option(metavar="TYPE", help="classifier or regressor (default: from the target column)."),
    ] = None,
    retry_failed: RetryFailed = False,
    jobs: Jobs = 1,
    as_json: Json = False,
) -> None:
    """Score the versions within ENV's allowance on fixed data, with MLflow's own evaluator.

    Each version with no score yet on this data (identified by MLflow's digest of it) is loaded as
    models:/NAME/VERSION and scored by mlflow.models.evaluate; the scores are recorded in MLflow, so a
    second run scores nothing. A version that cannot be loaded or scored is recorded as failed and never
    wins. Then select/promote --dataset NAME --metric F1 judge on these scores. Needs the evaluate extra.
    Exit status 1 when a version within the allowance has failed on this data (now or before).
    """
    environment = validate_environment(env)
    evaluation = _evaluate(
        ctx, environment, model, data, target, dataset, metric or [], model_type, retry_failed, jobs, as_json
    )
    if as_json:
        _print_json(evaluation.to_dict())
    else:
        typer.echo(render.evaluation(evaluation))
    if evaluation.failures:
        raise typer.Exit(1)


@app.command()
def datasets(ctx: typer.Context, as_json: Json = False) -> None:
    """List the datasets evaluate recorded: name, digest of the current content, rows, source."""
    found = _client(ctx).list_datasets()
    if as_json:
        _print_json([info.to_dict() for info in found])
        return
    if not found:
        typer.echo("no datasets recorded: score versions with evaluate first")
        return
    rows = [[i.ref.name, str(i.ref.digest), str(i.rows), i.target, i.model_type, i.source] for i in found]
    typer.echo(render.table(["DATASET", "DIGEST", "ROWS", "TARGET", "TYPE", "SOURCE"], rows))


@app.command()
def rollback(
    ctx: typer.Context,
    env: Env,
    model: Annotated[str, typer.Option("--model", "-m", metavar="NAME", help="The registered model.")],
    force: Annotated[
        bool, typer.Option("--force", help="Roll back even if the target is outside the allowance.")
    ] = False,
    reason: Reason = "",
    wait: Wait = 0.0,
    as_json: Json = False,
) -> None:
    """Point @ENV back at its previous holder, as recorded by the last promotion or rollback.

    Exit status 1, nothing written, when there is nothing to go back to or the previous holder is outside
    the current allowance (unless --force).
    """
    _check(env=env, model=model)
    promotion = _client(ctx).rollback(env, model, force=force, reason=reason, wait=wait)
    _emit(as_json, promotion.to_dict(), render.promotion_line(promotion, verb="rolled back"))


# Checks, audit, versions ------------------------------------------------------------------------------------


@app.command()
def check(
    ctx: typer.Context,
    env: Annotated[
        str | None, typer.Argument(metavar="ENV", help="Only this environment (default: all).")
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model", "-m", metavar="NAME", help="Only this model (repeat for more; default: all)."
        ),
    ] = None,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Settle unfinished changes, repair drift (recorded), then re-promote each environment "
            "outside its allowance as its last promotion did.",
        ),
    ] = False,
    dataset: Annotated[
        str | None,
        typer.Option(
            metavar="NAME[@DIGEST]",
            help="With --fix: re-promote judging the recorded metric on this dataset's scores.",
        ),
    ] = None,
    wait: Wait = 0.0,
    as_json: Json = False,
) -> None:
    """Reconcile the registry with the audit trail and the allowances.

    Finds aliases outside their allowance, changes left unfinished, aliases or allowances changed outside
    mlflow-allowance, two models holding one alias and stages behind their alias. Exit status 1 when a
    violation remains (with --fix: when one could not be fixed), else 0.
    """
    _check(env=env, models=model)
    client = _client(ctx)
    report = client.check(env, model or None, fix=fix, dataset=dataset, wait=wait)
    remaining = report.violations
    if fix and report.violations:
        remaining = client.check(env, model or None).violations
    if as_json:
        _print_json(report.to_dict())
    elif report.ok:
        checked = _plural(report.checked, "environment alias", "environment aliases")
        typer.echo(f"ok: {checked} checked, none outside its allowance")
    else:
        rows = [
            [
                v.environment,
                v.model or "*",
                "-" if v.version is None else str(v.version),
                v.semver or "-",
                v.allowance.canonical,
                v.problem,
            ]
            for v in report.violations
        ]
        typer.echo(render.table(["ENV", "MODEL", "VERSION", "SEMVER", "ALLOWANCE", "PROBLEM"], rows))
        for record in report.repairs:
            typer.echo(f"repaired: {render.record_line(record)}")
        for promotion in report.fixes:
            typer.echo(f"fixed: {render.promotion_line(promotion)}")
        violations = _plural(len(report.violations), "violation", "violations")
        checked = _plural(report.checked, "environment alias", "environment aliases")
        summary = f"{violations} in {checked} checked"
        if fix:
            summary += f"; {len(remaining)} remain after --fix"
        else:
            summary += "; run check --fix to re-promote"
        typer.echo(summary)
    if remaining:
        raise typer.Exit(1)


@app.command()
def history(
    ctx: typer.Context,
    env: Annotated[
        str | None, typer.Argument(metavar="ENV", help="Only this environment (default: all).")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", metavar="NAME", help="Only records about this model.")
    ] = None,
    limit: Annotated[int | None, typer.Option(metavar="N", min=1, help="At most N records.")] = None,
    as_json: Json = False,
) -> None:
    """Show the audit trail, newest first: allowance changes, promotions and rollbacks."""
    _check(env=env, model=model)
    records = _client(ctx).history(env, model=model, limit=limit)
    if as_json:
        _print_json([r.to_dict() for r in records])
        return
    if not records:
        typer.echo("no audit records")
        return
    typer.echo(render.history_table(records))


@app.command("tag-version")
def tag_version(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The registered model.")],
    registry_version: Annotated[
        str, typer.Argument(metavar="REGISTRY_VERSION", help="The registry's version number, e.g. 3.")
    ],
    semver: Annotated[
        str, typer.Argument(metavar="SEMVER", help="The semantic version, e.g. 2.0 or v2.0.0.")
    ],
    as_json: Json = False,
) -> None:
    """Give an existing model version its semantic version (or change it)."""
    _check(model=name, semver=semver)
    info = _client(ctx).set_version(name, registry_version, semver)
    _emit(as_json, info.to_dict(), f"{info.name}/{info.version}: semantic version {info.semver}")


# Dashboard --------------------------------------------------------------------------------------------------


@app.command()
def dashboard(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH.html",
            dir_okay=False,
            help="Write the page to this one self-contained HTML file (opens with no network) and exit.",
        ),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env", "-e", metavar="ENV", help="Only this environment (repeat for more; default: all)."
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model", "-m", metavar="NAME", help="Only this model (repeat for more; default: all)."
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(metavar="HOST", help="Serve on this address (other than loopback: with a warning).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", min=0, max=65535, help="Serve on this port.")] = 8765,
) -> None:
    """Show environments, allowances, holders, metrics, parameters and the audit trail on one page.

    Serves the page on http://HOST:PORT/ until Ctrl-C, reading MLflow afresh on every load, or with
    --output writes it to one HTML file. Read-only. Needs the dashboard extra (Jinja2).
    """
    from mlflow_allowance import _dashboard as board

    _check(models=model)
    for name in env or ():
        _check(env=name)
    board.require_extra()
    client = _client(ctx)
    if output is not None:
        path = board.write(output, client, environments=env or None, models=model or None)
        typer.echo(f"wrote {path}")
        return
    board.serve(lambda: client, host=host, port=port, environments=env or None, models=model or None)


# Entry points -----------------------------------------------------------------------------------------------


def main(prog_name: str = PROG_NAME) -> None:
    """Run the command line (the ``mlflow-allowance`` console script); exits the process."""
    app(prog_name=prog_name)


# Helpers ----------------------------------------------------------------------------------------------------


def _client(ctx: typer.Context) -> AllowanceClient:
    return _settings(ctx).client()


def _settings(ctx: typer.Context) -> _Settings:
    found = ctx.find_object(_Settings)
    return found if found is not None else _Settings()


def _check(
    *,
    env: str | None = None,
    model: str | None = None,
    models: Sequence[str] | None = None,
    spec: str | None = None,
    semver: str | None = None,
) -> None:
    """Reject what the pure core can judge on its own, before MLflow is imported (the API checks again)."""
    if env is not None:
        validate_environment(env)
    for name in ([model] if model is not None else []) + list(models or ()):
        validate_model_name(name)
    if spec is not None:
        VersionAllowance.parse(spec)
    if semver is not None:
        SemanticVersion.parse(semver)


def _request(
    models: Sequence[str],
    metric: str | None,
    minimize: bool,
    require_tag: Iterable[str] | None,
    pre: bool,
    version_run_tag: str | None,
    dataset: str | None = None,
) -> SelectionRequest:
    """The one selection request ``select`` and ``promote`` build from their shared options."""
    if minimize and metric is None:
        raise InputError("--minimize needs --metric M: without a metric the latest semantic version wins")
    if dataset is not None and metric is None:
        raise InputError(f"--dataset needs --metric M: the metric to judge on {dataset}, e.g. --metric F1")
    return SelectionRequest(
        models,
        metric=metric,
        maximize=not minimize,
        required_tags=_tags(require_tag),
        prereleases=True if pre else None,
        version_run_tag=version_run_tag,
        dataset=dataset,
    )


def _evaluate(
    ctx: typer.Context,
    environment: str,
    models: Sequence[str],
    data: Path,
    target: str | None,
    dataset: str | None,
    metrics: Sequence[str],
    model_type: str | None,
    retry_failed: bool,
    jobs: int,
    as_json: bool,
) -> Evaluation:
    """Run ``evaluate`` with progress on stderr (when it is a terminal and the output is not JSON)."""
    import sys

    client = _client(ctx)
    shown_progress = not as_json and sys.stderr.isatty()

    def progress(done: int, total: int, elapsed: float) -> None:
        end = "\n" if done == total else ""
        sys.stderr.write(f"\rscored {done}/{total} versions, {elapsed:.1f} s{end}")
        sys.stderr.flush()

    return client.evaluate(
        environment,
        models,
        data,
        target=target,
        dataset=dataset,
        metrics=metrics,
        model_type=model_type,
        retry_failed=retry_failed,
        jobs=jobs,
        progress=progress if shown_progress else None,
    )


def _warn_unscored(selection: Selection, as_json: bool) -> None:
    """One stderr line when versions that would compete have no score on the dataset (JSON: unscored)."""
    missing = selection.unscored
    if missing and not as_json:
        keys = ", ".join(v.candidate.key for v in missing[:5]) + (", ..." if len(missing) > 5 else "")
        dataset = selection.policy.dataset
        typer.echo(
            f"warning: {_plural(len(missing), 'version', 'versions')} within the allowance "
            f"{'has' if len(missing) == 1 else 'have'} no {selection.policy.metric} on {dataset} ({keys}): "
            f"score them with evaluate",
            err=True,
        )


def _tags(pairs: Iterable[str] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"Invalid --require-tag {shown(pair)}: expected KEY=VALUE, e.g. validated=true")
        tags[key.strip()] = value
    return tags


def _is_selection(value: object) -> TypeGuard[Selection]:
    return isinstance(value, Selection)


def _report_no_winner(
    error: NoEligibleCandidateError, environment: str, *, as_json: bool, explain: bool, data: dict[str, Any]
) -> NoReturn:
    """Still show the candidates (JSON, or the table with --explain), then fail with exit status 1."""
    selection = error.selection
    if as_json:
        _print_json(data)
    elif explain and _is_selection(selection):
        typer.echo(render.explain(environment, selection))
    elif not explain:
        raise NoEligibleCandidateError(f"{error}; run with --explain to see why", selection) from error
    raise error


def _fail(ctx: typer.Context, exc: Exception, code: int) -> NoReturn:
    debug = _settings(ctx).debug
    if debug:
        import traceback

        # Redacted too: the frames' exception messages name the tracking URI.
        typer.echo(redact("".join(traceback.format_exception(exc))), err=True, nl=False)
    message = render.one_line(str(exc)) or type(exc).__name__
    if not isinstance(exc, AllowanceError):
        hint = "" if debug else " (run with --debug for the traceback)"
        message = f"unexpected {type(exc).__name__}: {message}{hint}"
    typer.echo(_error_line(message), err=True)
    raise typer.Exit(code)


#: Longest run of non-blank characters an error line repeats; longer ones (huge input) are cut.
_WORD_LIMIT = 200


def _error_line(message: str) -> str:
    """``Error: <message>`` on one line: secrets redacted, each overlong word cut (the last line of defence
    against echoing huge input)."""
    import re

    def cut(found: re.Match[str]) -> str:
        word = found.group()
        return f"{word[: _WORD_LIMIT - 50]}...{word[-10:]} ({len(word)} chars)"

    line = re.sub(rf"\S{{{_WORD_LIMIT + 1},}}", cut, render.one_line(redact(message)))
    return f"Error: {line}"


class _UsageLine(UsageError):
    """A usage error shown as the one line every other error is, with where to read the usage."""

    def __init__(self, line: str, original: UsageError) -> None:
        super().__init__(line, original.ctx)
        self.line = line

    def show(self, file: Any = None) -> None:
        typer.echo(self.line, err=True)


def _usage_line(exc: UsageError, program: str | None = None) -> UsageError:
    """``exc`` (Typer's usage error: several lines of usage and hints) as one line; ``--help`` unchanged."""
    if isinstance(exc, NoArgsIsHelpError | _UsageLine):
        return exc  # the bare program name prints its help, as it should
    command = exc.ctx.command_path if exc.ctx is not None else program or PROG_NAME
    return _UsageLine(f"{_error_line(exc.format_message())} (see {command} --help)", exc)


def _emit(as_json: bool, data: Mapping[str, Any], text: str) -> None:
    if as_json:
        _print_json(data)
    else:
        typer.echo(text)


def _print_json(data: object) -> None:
    import json

    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"
