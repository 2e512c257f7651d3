"""The command line's commands, registered on the app of ``_cli_app``: each checks what was typed, calls one
:class:`~mlflow_allowance.AllowanceClient` method and renders the result, aligned plain text for people or
one JSON document on stdout with ``--json``. The table in docs/cli.md pairs each with its API function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeGuard

import typer

# TyperCommand is the documented base for ``app.command(cls=...)`` (see the ``cls`` parameter's docs).
from typer.core import TyperCommand

from mlflow_allowance import report as render
from mlflow_allowance._cli_app import app, client
from mlflow_allowance._cli_options import (
    Data,
    Dataset,
    Env,
    Explain,
    Jobs,
    Json,
    Metric,
    Minimize,
    Pre,
    Reason,
    RequireTag,
    RetryFailed,
    Target,
    VersionRunTag,
    Wait,
    check,
    dataset_ref,
    model_option,
    request,
    warn,
)
from mlflow_allowance._environments import validate_environment
from mlflow_allowance.errors import InputError, NoEligibleCandidateError
from mlflow_allowance.selection import Selection

if TYPE_CHECKING:
    pass

__all__: list[str] = []  # the commands are reached through the app

#: When the deprecated spellings (``tag-version NAME ...``, ``dashboard --env``) stop working.
_DEPRECATED_UNTIL = "0.3.0"

# Allowances -------------------------------------------------------------------------------------------------


@app.command("set")
def set_(
    ctx: typer.Context,
    env: Env,
    spec: Annotated[str, typer.Argument(metavar="SPEC", help="The allowance, e.g. '<=1.0' or '==2.*'.")],
    model: Annotated[
        str | None, model_option("the allowance is for", default="default: every model, workspace-wide")
    ] = None,
    reason: Reason = "",
    wait: Wait = 0.0,
    as_json: Json = False,
) -> None:
    """Set ENV's allowance (workspace-wide, or a model's override) and say how it changed.

    Prints e.g. 'prod: widened <=1.0 → <=2.0' (or narrowed, replaced, unchanged).
    """
    check(env=env, model=model, spec=spec)
    change = client(ctx).set_allowance(env, spec, model=model, reason=reason, wait=wait)
    _emit(as_json, change.to_dict(), change.describe())


@app.command()
def get(
    ctx: typer.Context,
    env: Env,
    model: Annotated[
        str | None, model_option("the allowance applies to", default="default: the workspace-wide one")
    ] = None,
    as_json: Json = False,
) -> None:
    """Print the allowance ENV applies (to a model, with --model); --json adds where it comes from."""
    check(env=env, model=model)
    effective = client(ctx).get_allowance(env, model=model)
    _emit(as_json, effective.to_dict(), effective.allowance.canonical)


@app.command()
def unset(
    ctx: typer.Context,
    env: Env,
    model: Annotated[
        str | None, model_option("whose override to remove", default="default: the workspace-wide allowance")
    ] = None,
    reason: Reason = "",
    wait: Wait = 0.0,
    as_json: Json = False,
) -> None:
    """Remove ENV's workspace-wide allowance, or a model's override of it."""
    check(env=env, model=model)
    change = client(ctx).unset_allowance(env, model=model, reason=reason, wait=wait)
    _emit(as_json, change.to_dict(), change.describe())


@app.command("list")
def list_(
    ctx: typer.Context,
    model: Annotated[
        str | None, model_option("whose overrides to list", default="default: every stored allowance")
    ] = None,
    as_json: Json = False,
) -> None:
    """List the stored allowances: workspace defaults (model '*') and per-model overrides."""
    check(model=model)
    found = client(ctx).list_allowances(model=model)
    if as_json:
        _print_json([a.to_dict() for a in found])
        return
    if not found:
        typer.echo("no allowances set: every environment allows any final version")
        return
    rows = [[a.environment, a.model or "*", a.allowance.canonical, a.source] for a in found]
    typer.echo(render.table(["ENV", "MODEL", "ALLOWANCE", "SOURCE"], rows))


# Selection and promotion ------------------------------------------------------------------------------------

Competing = Annotated[list[str], model_option("whose versions compete", repeat=True)]


@app.command()
def select(
    ctx: typer.Context,
    env: Env,
    model: Competing,
    metric: Metric = None,
    minimize: Minimize = False,
    explain: Explain = False,
    require_tag: RequireTag = None,
    pre: Pre = None,
    version_run_tag: VersionRunTag = None,
    dataset: Dataset = None,
    as_json: Json = False,
) -> None:
    """Show which version ENV would run now; writes nothing.

    Exit status 1 when no candidate is eligible (the JSON document is still printed, winner null).
    """
    environment = validate_environment(env)
    asked = request(model, metric, minimize, require_tag, pre, version_run_tag, dataset)
    selection = client(ctx).select(environment, asked)
    _warn_unscored(selection, as_json)
    data = selection.to_dict()
    if selection.winner is None:
        error = NoEligibleCandidateError(
            f"no eligible candidate for {environment} among {', '.join(asked.models)} "
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
    model: Competing,
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
    pre: Pre = None,
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
    # The flags' own pairing; what evaluating first means (a metric, a pinned dataset) is the client's.
    if evaluate_first and data is None:
        raise InputError("--evaluate needs --data PATH and --target COL to score on")
    if not evaluate_first and (data is not None or target is not None):
        raise InputError("--data and --target go with --evaluate (or use the evaluate command)")
    asked = request(model, metric, minimize, require_tag, pre, version_run_tag, dataset)
    try:
        promotion = client(ctx).promote(
            environment,
            asked,
            dry_run=dry_run,
            stage=stage,
            reason=reason,
            wait=wait,
            data=data,
            target=target,
            jobs=jobs,
            retry_failed=retry_failed,
            progress=_progress(as_json),
        )
    except NoEligibleCandidateError as exc:
        payload: dict[str, Any] = {"environment": environment}
        if _is_selection(exc.selection):
            payload.update(exc.selection.to_dict())
        payload.update(changed=False, dry_run=dry_run, error=str(exc))
        if exc.evaluation is not None:
            payload["evaluation"] = exc.evaluation.to_dict()
            if not as_json:
                typer.echo(render.evaluation(exc.evaluation))
        _report_no_winner(exc, environment, as_json=as_json, explain=explain, data=payload)
    if promotion.evaluation is not None and not as_json:
        typer.echo(render.evaluation(promotion.evaluation))
    if promotion.selection is not None:
        _warn_unscored(promotion.selection, as_json)
    if as_json:
        _print_json(promotion.to_dict())
        return
    if explain and promotion.selection is not None:
        typer.echo(render.explain(environment, promotion.selection))
    typer.echo(render.promotion_line(promotion))


@app.command()
def evaluate(
    ctx: typer.Context,
    env: Env,
    model: Annotated[list[str], model_option("whose versions to score", repeat=True)],
    data: Annotated[
        Path,
        typer.Option(metavar="PATH", help="Evaluation data: a .csv or .parquet file with the target column."),
    ],
    target: Annotated[str, typer.Option(metavar="COL", help="The data's label column.")],
    dataset: Annotated[
        str | None,
        typer.Option(
            metavar="NAME[@DIGEST]",
            help="The name the data is known by (default: the file's stem); @DIGEST: refuse data whose "
            "content has another digest.",
        ),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            metavar="M",
            help="A metric the evaluator must log (F1, accuracy, rmse, ...; repeat for more). Every metric "
            "it logs is recorded; select and promote then judge by one.",
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
    ref = None if dataset is None else dataset_ref(dataset)
    evaluation = client(ctx).evaluate(
        environment,
        model,
        data,
        target=target,
        dataset=ref,
        metrics=metric or [],
        model_type=model_type,
        retry_failed=retry_failed,
        jobs=jobs,
        progress=_progress(as_json),
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
    found = client(ctx).list_datasets()
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
    model: Annotated[str, model_option("whose @ENV to roll back")],
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
    check(env=env, model=model)
    promotion = client(ctx).rollback(env, model, force=force, reason=reason, wait=wait)
    _emit(as_json, promotion.to_dict(), render.promotion_line(promotion, verb="rolled back"))


# Checks, audit, versions ------------------------------------------------------------------------------------


@app.command("check")
def check_(
    ctx: typer.Context,
    env: Annotated[
        str | None, typer.Argument(metavar="ENV", help="Only this environment (default: all).")
    ] = None,
    model: Annotated[list[str] | None, model_option("to check", repeat=True, default="default: all")] = None,
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
    check(env=env, models=model)
    allowance = client(ctx)
    found = allowance.check(env, model or None, fix=fix, dataset=dataset, wait=wait)
    remaining = found.remaining or ()
    if as_json:
        _print_json(found.to_dict())
    elif found.ok:
        checked = _plural(found.checked, "environment alias", "environment aliases")
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
            for v in found.violations
        ]
        typer.echo(render.table(["ENV", "MODEL", "VERSION", "SEMVER", "ALLOWANCE", "PROBLEM"], rows))
        for record in found.repairs:
            typer.echo(f"repaired: {render.record_line(record)}")
        for promotion in found.fixes:
            typer.echo(f"fixed: {render.promotion_line(promotion)}")
        violations = _plural(len(found.violations), "violation", "violations")
        checked = _plural(found.checked, "environment alias", "environment aliases")
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
    model: Annotated[str | None, model_option("the records are about", default="default: all")] = None,
    limit: Annotated[
        int | None, typer.Option(metavar="N", min=0, help="At most N records (default: all).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Show the audit trail, newest first: allowance changes, promotions and rollbacks."""
    check(env=env, model=model)
    records = client(ctx).history(env, model=model, limit=limit)
    if as_json:
        _print_json([r.to_dict() for r in records])
        return
    if not records:
        typer.echo("no audit records")
        return
    typer.echo(render.history_table(records))


class _UsageWithoutHidden(TyperCommand):
    """Leaves hidden arguments (a deprecated spelling) out of the usage line, as the help leaves them out."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if not getattr(param, "hidden", False):
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


@app.command("tag-version", cls=_UsageWithoutHidden)
def tag_version(
    ctx: typer.Context,
    registry_version: Annotated[
        str, typer.Argument(metavar="REGISTRY_VERSION", help="The registry's version number, e.g. 3.")
    ],
    semver: Annotated[
        str, typer.Argument(metavar="SEMVER", help="The semantic version, e.g. 2.0 or v2.0.0.")
    ],
    # The spelling before --model: tag-version NAME REGISTRY_VERSION SEMVER (deprecated).
    legacy: Annotated[str | None, typer.Argument(hidden=True, metavar="", show_default=False)] = None,
    model: Annotated[str | None, model_option("whose version to tag")] = None,
    as_json: Json = False,
) -> None:
    """Give an existing model version its semantic version (or change it): tag-version -m NAME 3 2.0."""
    if model is None:
        if legacy is None:
            raise InputError(
                "Missing option '--model' / '-m': name the registered model, e.g. "
                "tag-version -m AImodel 3 2.0"
            )
        model, registry_version, semver = registry_version, semver, legacy
    elif legacy is not None:
        raise InputError(
            f"Got unexpected extra argument {legacy!r}: tag-version --model NAME REGISTRY_VERSION SEMVER"
        )
    check(model=model, semver=semver)
    info = client(ctx).set_version(model, registry_version, semver)
    _emit(as_json, info.to_dict(), f"{info.name}/{info.version}: semantic version {info.semver}")
    if legacy is not None:  # after the result: a failure stays one line
        command = ctx.command_path
        warn(
            f"`{command} NAME REGISTRY_VERSION SEMVER` is deprecated and stops working in "
            f"{_DEPRECATED_UNTIL}: write `{command} --model {model} {registry_version} {semver}`"
        )


# Dashboard --------------------------------------------------------------------------------------------------


@app.command()
def dashboard(
    ctx: typer.Context,
    env: Annotated[
        list[str] | None,
        typer.Argument(metavar="ENV", help="Only these environments (default: all).", show_default=False),
    ] = None,
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
    model: Annotated[list[str] | None, model_option("to show", repeat=True, default="default: all")] = None,
    host: Annotated[
        str, typer.Option(metavar="HOST", help="Serve on this address (other than loopback: with a warning).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", min=0, max=65535, help="Serve on this port.")] = 8765,
    env_option: Annotated[list[str] | None, typer.Option("--env", "-e", metavar="ENV", hidden=True)] = None,
) -> None:
    """Show environments, allowances, holders, metrics, parameters and the audit trail on one page.

    Serves the page on http://HOST:PORT/ until Ctrl-C, reading MLflow afresh on every load, or with
    --output writes it to one HTML file. Read-only. Needs the dashboard extra (Jinja2).
    """
    from mlflow_allowance import _dashboard as board

    environments = [*(env or ()), *(env_option or ())]
    check(envs=environments, models=model)
    if env_option:
        names = " ".join(env_option)
        warn(
            f"`{ctx.command_path} --env ENV` is deprecated and stops working in {_DEPRECATED_UNTIL}: "
            f"name the environments first, `{ctx.command_path} {names}`"
        )
    board.require_extra()
    allowance = client(ctx)
    if output is not None:
        path = board.write(output, allowance, environments=environments or None, models=model or None)
        typer.echo(f"wrote {path}")
        return
    board.serve(
        lambda: allowance, host=host, port=port, environments=environments or None, models=model or None
    )


# Helpers ----------------------------------------------------------------------------------------------------


def _progress(as_json: bool) -> Callable[[int, int, float], None] | None:
    """A progress line on stderr while versions are scored, when it is a terminal and the output is not
    JSON; else none."""
    import sys

    if as_json or not sys.stderr.isatty():
        return None

    def progress(done: int, total: int, elapsed: float) -> None:
        end = "\n" if done == total else ""
        sys.stderr.write(f"\rscored {done}/{total} versions, {elapsed:.1f} s{end}")
        sys.stderr.flush()

    return progress


def _warn_unscored(selection: Selection, as_json: bool) -> None:
    """One stderr line when versions that would compete have no score on the dataset (JSON: unscored)."""
    missing = selection.unscored
    if missing and not as_json:
        keys = ", ".join(v.candidate.key for v in missing[:5]) + (", ..." if len(missing) > 5 else "")
        warn(
            f"{_plural(len(missing), 'version', 'versions')} within the allowance "
            f"{'has' if len(missing) == 1 else 'have'} no {selection.policy.metric} on "
            f"{selection.policy.dataset} ({keys}): score them with evaluate"
        )


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
        raise NoEligibleCandidateError(
            f"{error}; run with --explain to see why", selection, hints=error.hints
        ) from error
    raise error


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
